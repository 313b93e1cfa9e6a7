"""The four-level geography: 区 → 街道/镇 → 社区 → 小区, and buildings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint, UniqueConstraint

from hub.enums import StreetKind
from hub.models.base import NAME_LENGTH, Record, Searchable

if TYPE_CHECKING:  # the targets of relations, for annotations only
    from hub.models.partners import PropertyCompany
    from hub.models.party import Member


class District(Searchable):
    """区 — top of the tree (the hub can hold several)."""

    name = fields.CharField(max_length=NAME_LENGTH, unique=True)
    code = fields.CharField(max_length=12, null=True, unique=True, description="行政区划代码")

    class Meta:
        table = "district"
        ordering = ["id"]


class Street(Searchable):
    """街道 or 镇, with its party working committee (党工委)."""

    district: fields.ForeignKeyRelation[District] = fields.ForeignKeyField(
        "hub.District", related_name="streets", on_delete=fields.RESTRICT, db_index=True
    )
    district_id: int
    name = fields.CharField(max_length=NAME_LENGTH)
    kind = fields.CharEnumField(StreetKind, default=StreetKind.STREET, db_index=True)
    committee_name = fields.CharField(max_length=NAME_LENGTH, default="", description="党工委")

    class Meta:
        table = "street"
        ordering = ["id"]
        constraints = (UniqueConstraint(fields=("district", "name"), name="uq_street_name"),)


class Community(Searchable):
    """社区 — belongs to a street."""

    street: fields.ForeignKeyRelation[Street] = fields.ForeignKeyField(
        "hub.Street", related_name="communities", on_delete=fields.RESTRICT, db_index=True
    )
    street_id: int  # the key Tortoise sets beside the relation
    name = fields.CharField(max_length=NAME_LENGTH)
    is_provincial_model = fields.BooleanField(default=False, description="全省基层党建示范点")

    class Meta:
        table = "community"
        ordering = ["id"]
        constraints = (UniqueConstraint(fields=("street", "name"), name="uq_community_name"),)


class Compound(Searchable):
    """小区 — a residential compound of a community."""

    community: fields.ForeignKeyRelation[Community] = fields.ForeignKeyField(
        "hub.Community", related_name="compounds", on_delete=fields.RESTRICT, db_index=True
    )
    community_id: int
    name = fields.CharField(max_length=NAME_LENGTH)
    address = fields.CharField(max_length=200, default="")
    households = fields.IntField(default=0)
    built_year = fields.IntField(null=True, db_index=True)
    is_old = fields.BooleanField(default=False, db_index=True, description="老旧小区")
    property_company: fields.ForeignKeyNullableRelation[PropertyCompany] = fields.ForeignKeyField(
        "hub.PropertyCompany",
        related_name="compounds",
        null=True,
        on_delete=fields.SET_NULL,
        db_index=True,
    )
    property_company_id: int | None

    class Meta:
        table = "compound"
        ordering = ["id"]
        constraints = (
            UniqueConstraint(fields=("community", "name"), name="uq_compound_name"),
            CheckConstraint(check="households >= 0", name="ck_compound_households"),
            CheckConstraint(
                check="built_year IS NULL OR (built_year >= 1900 AND built_year <= 2100)",
                name="ck_compound_built_year",
            ),
        )


class Building(Record):
    """楼栋 — with its building head (楼栋长)."""

    compound: fields.ForeignKeyRelation[Compound] = fields.ForeignKeyField(
        "hub.Compound", related_name="buildings", on_delete=fields.CASCADE, db_index=True
    )
    compound_id: int
    name = fields.CharField(max_length=NAME_LENGTH)
    floors = fields.IntField(default=0)
    households = fields.IntField(default=0)
    head_name = fields.CharField(max_length=50, default="", description="楼栋长")
    head_member: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "hub.Member",
        related_name="headed_buildings",
        null=True,
        on_delete=fields.SET_NULL,
        db_index=True,
    )
    head_member_id: int | None

    class Meta:
        table = "building"
        ordering = ["id"]
        constraints = (
            UniqueConstraint(fields=("compound", "name"), name="uq_building_name"),
            CheckConstraint(check="floors >= 0 AND households >= 0", name="ck_building_counts"),
        )
