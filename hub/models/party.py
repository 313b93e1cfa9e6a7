"""Party organisation: 小区党支部 → 支委 / 楼栋党小组 → 党员."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint, UniqueConstraint

from hub.enums import (
    Duty,
    Gender,
    MemberCategory,
    MemberStatus,
    Representative,
    SeatBackground,
    SeatRole,
)
from hub.models.base import NAME_LENGTH, Record, Searchable

if TYPE_CHECKING:  # the targets of relations, for annotations only
    from hub.models.geography import Building, Community, Compound


class Branch(Searchable):
    """小区党支部 — belongs to a community, covers one or more compounds."""

    community: fields.ForeignKeyRelation[Community] = fields.ForeignKeyField(
        "hub.Community", related_name="branches", on_delete=fields.RESTRICT, db_index=True
    )
    community_id: int
    name = fields.CharField(max_length=NAME_LENGTH)
    compounds: fields.ManyToManyRelation[Compound] = fields.ManyToManyField(
        "hub.Compound",
        related_name="branches",
        through="branch_compound",
        description="Compounds the branch covers",
    )
    instructor_name = fields.CharField(max_length=50, default="", description="指导员 (street)")
    star_rating = fields.SmallIntField(default=0, db_index=True, description="星级 0–5")
    is_demonstration = fields.BooleanField(default=False, db_index=True, description="示范点")
    work_method = fields.CharField(max_length=NAME_LENGTH, default="", description="工作法")
    founded_on = fields.DateField(null=True, db_index=True)

    class Meta:
        table = "branch"
        ordering = ["id"]
        constraints = (
            UniqueConstraint(fields=("community", "name"), name="uq_branch_name"),
            CheckConstraint(check="star_rating >= 0 AND star_rating <= 5", name="ck_branch_star"),
        )


class Member(Searchable):
    """党员 — never hard-deleted: ``status`` records transfers and archiving."""

    name = fields.CharField(max_length=50)
    gender = fields.CharEnumField(Gender, null=True)
    birth_date = fields.DateField(null=True, description="Personal data")
    phone = fields.CharField(max_length=20, null=True, db_index=True, description="Personal data")
    category = fields.CharEnumField(MemberCategory, db_index=True)
    status = fields.CharEnumField(MemberStatus, default=MemberStatus.ACTIVE, db_index=True)
    branch: fields.ForeignKeyRelation[Branch] = fields.ForeignKeyField(
        "hub.Branch", related_name="members", on_delete=fields.RESTRICT, db_index=True
    )
    branch_id: int
    party_group: fields.ForeignKeyNullableRelation[PartyGroup] = fields.ForeignKeyField(
        "hub.PartyGroup",
        related_name="members",
        null=True,
        on_delete=fields.SET_NULL,
        db_index=True,
    )
    party_group_id: int | None
    home_compound: fields.ForeignKeyNullableRelation[Compound] = fields.ForeignKeyField(
        "hub.Compound",
        related_name="residents",
        null=True,
        on_delete=fields.SET_NULL,
        db_index=True,
    )
    home_compound_id: int | None
    work_unit = fields.CharField(max_length=NAME_LENGTH, null=True, description="In-service")
    joined_party_on = fields.DateField(null=True)
    is_demonstration_post = fields.BooleanField(
        default=False, db_index=True, description="党员示范岗"
    )
    representative = fields.CharEnumField(
        Representative, null=True, db_index=True, description="两代表一委员"
    )
    registered_on = fields.DateField(
        null=True,
        db_index=True,
        description="Day an in-service member or cadre registered in the home compound",
    )

    class Meta:
        table = "member"
        ordering = ["id"]


class MemberDuty(Record):
    """A duty a member shows on 亮身份 (宣传员, 勤务兵, 监督员, 和事佬)."""

    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "hub.Member", related_name="duties", on_delete=fields.CASCADE, db_index=True
    )
    member_id: int
    duty = fields.CharEnumField(Duty, db_index=True)

    class Meta:
        table = "member_duty"
        ordering = ["id"]
        constraints = (UniqueConstraint(fields=("member", "duty"), name="uq_member_duty"),)


class CommitteeSeat(Record):
    """支委 / 兼职委员 — a seat on a branch committee."""

    branch: fields.ForeignKeyRelation[Branch] = fields.ForeignKeyField(
        "hub.Branch", related_name="committee_seats", on_delete=fields.CASCADE, db_index=True
    )
    branch_id: int
    role = fields.CharEnumField(SeatRole, db_index=True)
    background = fields.CharEnumField(SeatBackground, default=SeatBackground.RESIDENT_MEMBER)
    person_name = fields.CharField(max_length=50)
    member: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "hub.Member",
        related_name="committee_seats",
        null=True,
        on_delete=fields.SET_NULL,
        db_index=True,
    )
    member_id: int | None
    started_on = fields.DateField(null=True)

    class Meta:
        table = "committee_seat"
        ordering = ["id"]


class PartyGroup(Record):
    """楼栋党小组 — under a branch, for one or more buildings."""

    branch: fields.ForeignKeyRelation[Branch] = fields.ForeignKeyField(
        "hub.Branch", related_name="party_groups", on_delete=fields.CASCADE, db_index=True
    )
    branch_id: int
    name = fields.CharField(max_length=NAME_LENGTH)
    leader: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "hub.Member",
        related_name="led_groups",
        null=True,
        on_delete=fields.SET_NULL,
        db_index=True,
    )
    leader_id: int | None
    buildings: fields.ManyToManyRelation[Building] = fields.ManyToManyField(
        "hub.Building", related_name="party_groups", through="party_group_building"
    )

    class Meta:
        table = "party_group"
        ordering = ["id"]
        constraints = (UniqueConstraint(fields=("branch", "name"), name="uq_party_group_name"),)
