"""The flask-admin console, mounted at /admin."""
