"""Trusted documents: the GraphQL operations a frontend registered at build time."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class TrustedDocument(Model):
    """A registered GraphQL document, named by the SHA-256 of its text.

    Its request and error counts are flushed from the processes now and then (not per
    request), so they trail the Prometheus counters by a few seconds.
    """

    id = fields.CharField(max_length=64, primary_key=True, description="SHA-256 of the text, hex")
    text = fields.TextField(description="The document as the client sends it")
    operation_names: fields.JSONField[list[str]] = fields.JSONField(
        default=list, description="Its named operations"
    )
    client_name = fields.CharField(max_length=100, db_index=True)
    client_version = fields.CharField(max_length=50, default="")
    registered_by = fields.CharField(max_length=50, default="")
    registered_at = fields.DatetimeField(auto_now_add=True)
    retired_at = fields.DatetimeField(null=True, db_index=True)
    request_count = fields.BigIntField(default=0)
    error_count = fields.BigIntField(default=0)
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "trusted_document"
        ordering = ["client_name", "registered_at"]

    def __str__(self) -> str:
        return f"{self.client_name} sha256:{self.id[:12]}"
