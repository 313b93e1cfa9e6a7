"""Resident requests (居民诉求) and the events of their workflow."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint

from hub.enums import AssigneeKind, RequestAction, RequestCategory, RequestChannel, RequestStatus
from hub.models.base import NAME_LENGTH, Record

if TYPE_CHECKING:  # the targets of relations, for annotations only
    from hub.models.accounts import User
    from hub.models.geography import Compound
    from hub.models.partners import OwnersCommittee, PropertyCompany
    from hub.models.party import Member


class ResidentRequest(Record):
    """问题收集 → 及时交办 → 快速反应 → 有效解决, each step time-stamped."""

    compound: fields.ForeignKeyRelation[Compound] = fields.ForeignKeyField(
        "hub.Compound", related_name="requests", on_delete=fields.RESTRICT, db_index=True
    )
    compound_id: int
    category = fields.CharEnumField(RequestCategory, db_index=True)
    channel = fields.CharEnumField(RequestChannel, db_index=True)
    status = fields.CharEnumField(RequestStatus, default=RequestStatus.COLLECTED, db_index=True)
    description = fields.TextField()
    reporter_name = fields.CharField(max_length=50, default="", description="Personal data")
    reporter_contact = fields.CharField(max_length=50, default="", description="Personal data")
    assignee_kind = fields.CharEnumField(AssigneeKind, null=True)
    assignee_name = fields.CharField(max_length=NAME_LENGTH, default="")
    assignee_member: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "hub.Member",
        related_name="assigned_requests",
        null=True,
        on_delete=fields.SET_NULL,
        db_index=True,
    )
    assignee_member_id: int | None
    assignee_company: fields.ForeignKeyNullableRelation[PropertyCompany] = fields.ForeignKeyField(
        "hub.PropertyCompany",
        related_name="assigned_requests",
        null=True,
        on_delete=fields.SET_NULL,
        db_index=True,
    )
    assignee_company_id: int | None
    assignee_committee: fields.ForeignKeyNullableRelation[OwnersCommittee] = fields.ForeignKeyField(
        "hub.OwnersCommittee",
        related_name="assigned_requests",
        null=True,
        on_delete=fields.SET_NULL,
        db_index=True,
    )
    assignee_committee_id: int | None
    collected_at = fields.DatetimeField(db_index=True)
    assigned_at = fields.DatetimeField(null=True)
    responded_at = fields.DatetimeField(null=True)
    resolved_at = fields.DatetimeField(null=True, db_index=True)
    due_at = fields.DatetimeField(null=True, db_index=True)
    resolution = fields.TextField(default="")
    satisfaction = fields.SmallIntField(null=True, description="居民满意度 1–5")

    class Meta:
        table = "resident_request"
        ordering = ["id"]
        constraints = (
            CheckConstraint(
                check="satisfaction IS NULL OR (satisfaction >= 1 AND satisfaction <= 5)",
                name="ck_request_satisfaction",
            ),
        )


class RequestEvent(Record):
    """One step of a request's workflow: who did what, when, from which status."""

    request: fields.ForeignKeyRelation[ResidentRequest] = fields.ForeignKeyField(
        "hub.ResidentRequest", related_name="events", on_delete=fields.CASCADE, db_index=True
    )
    request_id: int
    action = fields.CharEnumField(RequestAction, db_index=True)
    from_status = fields.CharEnumField(RequestStatus, null=True)
    to_status = fields.CharEnumField(RequestStatus)
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "hub.User",
        related_name="request_events",
        null=True,
        on_delete=fields.SET_NULL,
        db_index=True,
    )
    actor_id: int | None
    actor_name = fields.CharField(max_length=50, default="")
    at = fields.DatetimeField(db_index=True)
    note = fields.TextField(default="")

    class Meta:
        table = "request_event"
        ordering = ["id"]
