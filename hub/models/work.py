"""Service and governance work: venues, activities, WeChat groups, joint meetings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint, UniqueConstraint

from hub.enums import ActivityCategory, DeliveryMode, MeetingLevel, RoomKind, ServiceForce
from hub.models.base import NAME_LENGTH, Record

if TYPE_CHECKING:  # the targets of relations, for annotations only
    from hub.models.geography import Community, Compound, District, Street
    from hub.models.partners import CoBuildingUnit
    from hub.models.party import Branch, Member


class Venue(Record):
    """阵地 — e.g. 幸福邻聚里居民活动中心."""

    name = fields.CharField(max_length=NAME_LENGTH)
    compound: fields.ForeignKeyRelation[Compound] = fields.ForeignKeyField(
        "hub.Compound", related_name="venues", on_delete=fields.CASCADE, db_index=True
    )
    compound_id: int
    branch: fields.ForeignKeyNullableRelation[Branch] = fields.ForeignKeyField(
        "hub.Branch", related_name="venues", null=True, on_delete=fields.SET_NULL, db_index=True
    )
    branch_id: int | None
    address = fields.CharField(max_length=200, default="")
    area_sqm = fields.IntField(default=0, description="面积（平方米）")
    opened_on = fields.DateField(null=True)

    class Meta:
        table = "venue"
        ordering = ["id"]
        constraints = (
            UniqueConstraint(fields=("compound", "name"), name="uq_venue_name"),
            CheckConstraint(check="area_sqm >= 0", name="ck_venue_area"),
        )


class VenueRoom(Record):
    """A function room of a venue (支部工作室, 议事厅, 便民服务站, 图书角, 党员驿站)."""

    venue: fields.ForeignKeyRelation[Venue] = fields.ForeignKeyField(
        "hub.Venue", related_name="rooms", on_delete=fields.CASCADE, db_index=True
    )
    venue_id: int
    kind = fields.CharEnumField(RoomKind, db_index=True)
    name = fields.CharField(max_length=NAME_LENGTH, default="")

    class Meta:
        table = "venue_room"
        ordering = ["id"]


class ServiceActivity(Record):
    """服务活动 — one service event run under a branch."""

    title = fields.CharField(max_length=NAME_LENGTH)
    branch: fields.ForeignKeyRelation[Branch] = fields.ForeignKeyField(
        "hub.Branch", related_name="activities", on_delete=fields.RESTRICT, db_index=True
    )
    branch_id: int
    compound: fields.ForeignKeyNullableRelation[Compound] = fields.ForeignKeyField(
        "hub.Compound",
        related_name="activities",
        null=True,
        on_delete=fields.SET_NULL,
        db_index=True,
    )
    compound_id: int | None
    venue: fields.ForeignKeyNullableRelation[Venue] = fields.ForeignKeyField(
        "hub.Venue", related_name="activities", null=True, on_delete=fields.SET_NULL, db_index=True
    )
    venue_id: int | None
    category = fields.CharEnumField(ActivityCategory, db_index=True)
    delivery_mode = fields.CharEnumField(DeliveryMode, db_index=True)
    service_force = fields.CharEnumField(ServiceForce, db_index=True)
    held_at = fields.DatetimeField(db_index=True)
    residents_served = fields.IntField(default=0)
    description = fields.TextField(default="")
    participants: fields.ManyToManyRelation[Member] = fields.ManyToManyField(
        "hub.Member", related_name="activities", through="activity_participant"
    )
    co_building_units: fields.ManyToManyRelation[CoBuildingUnit] = fields.ManyToManyField(
        "hub.CoBuildingUnit", related_name="activities", through="activity_unit"
    )

    class Meta:
        table = "service_activity"
        ordering = ["id"]
        constraints = (CheckConstraint(check="residents_served >= 0", name="ck_activity_served"),)


class WeChatGroup(Record):
    """小区微信群."""

    compound: fields.ForeignKeyRelation[Compound] = fields.ForeignKeyField(
        "hub.Compound", related_name="wechat_groups", on_delete=fields.CASCADE, db_index=True
    )
    compound_id: int
    name = fields.CharField(max_length=NAME_LENGTH)
    size = fields.IntField(default=0)
    admin_name = fields.CharField(max_length=50, default="")
    created_on = fields.DateField(null=True)

    class Meta:
        table = "wechat_group"
        ordering = ["id"]
        constraints = (CheckConstraint(check="size >= 0 AND size <= 500", name="ck_wechat_size"),)


class JointMeeting(Record):
    """联席会议 of the four-level linkage (its level says which place it belongs to)."""

    level = fields.CharEnumField(MeetingLevel, db_index=True)
    held_on = fields.DateField(db_index=True)
    title = fields.CharField(max_length=NAME_LENGTH)
    topics = fields.TextField(default="")
    decisions = fields.TextField(default="")
    attendees = fields.TextField(default="", description="出席人员/单位，每行一个")
    district: fields.ForeignKeyNullableRelation[District] = fields.ForeignKeyField(
        "hub.District",
        related_name="joint_meetings",
        null=True,
        on_delete=fields.SET_NULL,
        db_index=True,
    )
    district_id: int | None
    street: fields.ForeignKeyNullableRelation[Street] = fields.ForeignKeyField(
        "hub.Street",
        related_name="joint_meetings",
        null=True,
        on_delete=fields.SET_NULL,
        db_index=True,
    )
    street_id: int | None
    community: fields.ForeignKeyNullableRelation[Community] = fields.ForeignKeyField(
        "hub.Community",
        related_name="joint_meetings",
        null=True,
        on_delete=fields.SET_NULL,
        db_index=True,
    )
    community_id: int | None
    compound: fields.ForeignKeyNullableRelation[Compound] = fields.ForeignKeyField(
        "hub.Compound",
        related_name="joint_meetings",
        null=True,
        on_delete=fields.SET_NULL,
        db_index=True,
    )
    compound_id: int | None

    class Meta:
        table = "joint_meeting"
        ordering = ["id"]
