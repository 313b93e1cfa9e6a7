"""The hub's own records: users, login sessions, API tokens and the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields

from hub.enums import AuditAction, Role
from hub.models.base import Record

if TYPE_CHECKING:  # the targets of relations, for annotations only
    from hub.models.geography import Community, Street
    from hub.models.partners import CoBuildingUnit


class User(Record):
    """An account: ADMIN, CURATOR (street or community scope), READER or PARTNER."""

    username = fields.CharField(max_length=50, unique=True)
    display_name = fields.CharField(max_length=50, default="")
    password_hash = fields.CharField(max_length=255, description="argon2")
    role = fields.CharEnumField(Role, db_index=True)
    street: fields.ForeignKeyNullableRelation[Street] = fields.ForeignKeyField(
        "hub.Street", related_name="curators", null=True, on_delete=fields.RESTRICT, db_index=True
    )
    street_id: int | None
    community: fields.ForeignKeyNullableRelation[Community] = fields.ForeignKeyField(
        "hub.Community",
        related_name="curators",
        null=True,
        on_delete=fields.RESTRICT,
        db_index=True,
    )
    community_id: int | None
    partner_unit: fields.ForeignKeyNullableRelation[CoBuildingUnit] = fields.ForeignKeyField(
        "hub.CoBuildingUnit",
        related_name="accounts",
        null=True,
        on_delete=fields.RESTRICT,
        db_index=True,
    )
    partner_unit_id: int | None
    is_active = fields.BooleanField(default=True)
    # Bumped to revoke every access and refresh token issued before.
    token_version = fields.IntField(default=1)
    last_login_at = fields.DatetimeField(null=True)
    language = fields.CharField(max_length=10, default="zh_Hans_CN")

    class Meta:
        table = "hub_user"
        ordering = ["id"]


class LoginThrottle(Record):
    """Failed logins per username (existing or not, so that both behave alike)."""

    key = fields.CharField(max_length=100, unique=True, description="Folded username")
    # Attempts counted in this window: confirmed failures plus those still being checked
    # (an attempt is reserved before its password is verified, so that concurrent
    # logins cannot check more passwords than the limit allows).
    failures = fields.IntField(default=0)
    pending = fields.IntField(default=0, description="Attempts being checked now")
    window_started_at = fields.DatetimeField(null=True)
    locked_until = fields.DatetimeField(null=True)

    class Meta:
        table = "login_throttle"
        ordering = ["id"]


class LoginSession(Record):
    """One sign-in: the family of refresh tokens it issues, or a console session.

    Access and refresh tokens carry its id. A refresh token is good once (its
    ``generation`` must be the current one), and a spent one presented again revokes
    the whole session. Logging out revokes it.
    """

    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "hub.User", related_name="sessions", on_delete=fields.CASCADE, db_index=True
    )
    user_id: int
    channel = fields.CharField(max_length=10, description="api or console")
    generation = fields.IntField(default=1, description="Number of the valid refresh token")
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    revoked_reason = fields.CharField(max_length=20, default="")
    address = fields.CharField(max_length=64, default="")

    class Meta:
        table = "login_session"
        ordering = ["id"]


class ApiToken(Record):
    """A named token for a service client, stored only as a hash."""

    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "hub.User", related_name="api_tokens", on_delete=fields.CASCADE, db_index=True
    )
    user_id: int
    name = fields.CharField(max_length=100)
    prefix = fields.CharField(max_length=12, db_index=True, description="Shown to identify it")
    token_hash = fields.CharField(max_length=128, unique=True)
    expires_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_token"
        ordering = ["id"]


class AuditLog(Record):
    """Who did what to which record, with the values before and after."""

    at = fields.DatetimeField(auto_now_add=True, db_index=True)
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "hub.User",
        related_name="audit_entries",
        null=True,
        on_delete=fields.SET_NULL,
        db_index=True,
    )
    user_id: int | None
    actor_name = fields.CharField(max_length=50, default="")
    action = fields.CharEnumField(AuditAction, db_index=True)
    entity = fields.CharField(max_length=50, db_index=True)
    entity_id = fields.CharField(max_length=50, null=True, db_index=True)
    before: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    after: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    address = fields.CharField(max_length=64, default="")

    class Meta:
        table = "audit_log"
        ordering = ["-id"]
