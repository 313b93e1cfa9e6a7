"""Login sessions (token families) for refresh-token rotation and server-side logout, and
the attempts being checked per username, so that concurrent logins cannot overrun the lock."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("hub", "0002_search_trigram")]

    initial = False

    operations = [
        ops.CreateModel(
            name="LoginSession",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "version",
                    fields.IntField(default=1, description="Optimistic-concurrency version"),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "hub.User",
                        source_field="user_id",
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="sessions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("channel", fields.CharField(description="api or console", max_length=10)),
                (
                    "generation",
                    fields.IntField(default=1, description="Number of the valid refresh token"),
                ),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("revoked_reason", fields.CharField(default="", max_length=20)),
                ("address", fields.CharField(default="", max_length=64)),
            ],
            options={
                "table": "login_session",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "One sign-in: the family of refresh tokens it issues, or a console session.",
            },
            bases=["Record"],
        ),
        ops.AddField(
            model_name="LoginThrottle",
            name="pending",
            field=fields.IntField(default=0, description="Attempts being checked now"),
        ),
    ]
