"""Trusted documents: the GraphQL operations frontends register (issue 15)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("hub", "0003_login_sessions")]

    initial = False

    operations = [
        ops.CreateModel(
            name="TrustedDocument",
            fields=[
                (
                    "id",
                    fields.CharField(
                        primary_key=True,
                        unique=True,
                        db_index=True,
                        description="SHA-256 of the text, hex",
                        max_length=64,
                    ),
                ),
                (
                    "text",
                    fields.TextField(
                        description="The document as the client sends it", unique=False
                    ),
                ),
                (
                    "operation_names",
                    fields.JSONField(
                        default=list,
                        description="Its named operations",
                        encoder=JSON_DUMPS,
                        decoder=loads,
                    ),
                ),
                ("client_name", fields.CharField(db_index=True, max_length=100)),
                ("client_version", fields.CharField(default="", max_length=50)),
                ("registered_by", fields.CharField(default="", max_length=50)),
                ("registered_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                (
                    "retired_at",
                    fields.DatetimeField(
                        null=True, db_index=True, auto_now=False, auto_now_add=False
                    ),
                ),
                ("request_count", fields.BigIntField(default=0)),
                ("error_count", fields.BigIntField(default=0)),
                (
                    "last_used_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "trusted_document",
                "app": "hub",
                "pk_attr": "id",
                "table_description": "A registered GraphQL document, named by the SHA-256 of its text.",
            },
            bases=["Model"],
        ),
    ]
