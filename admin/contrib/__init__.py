"""Model backends for flask-admin written for the hub (flask-admin ships peewee and sqla)."""
