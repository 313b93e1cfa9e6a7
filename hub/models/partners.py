"""Governance partners: property companies, owners' committees, co-building units."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint

from hub.credit_code import validate_credit_code
from hub.enums import AgreementStatus, UnitKind
from hub.models.base import NAME_LENGTH, Record, Searchable

if TYPE_CHECKING:  # the targets of relations, for annotations only
    from hub.models.geography import Compound
    from hub.models.party import Branch, Member


class PropertyCompany(Searchable):
    """物业企业, led by the district property-industry party committee (物业行业党委)."""

    name = fields.CharField(max_length=NAME_LENGTH, unique=True)
    credit_code = fields.CharField(
        max_length=18,
        unique=True,
        validators=[validate_credit_code],
        description="统一社会信用代码",
    )
    contact_name = fields.CharField(max_length=50, default="")
    contact_phone = fields.CharField(max_length=20, default="")
    has_party_organisation = fields.BooleanField(default=False, description="建有党组织")
    under_industry_committee = fields.BooleanField(default=True, description="物业行业党委领导")

    class Meta:
        table = "property_company"
        ordering = ["id"]


class OwnersCommittee(Record):
    """业委会 — one per compound."""

    compound: fields.OneToOneRelation[Compound] = fields.OneToOneField(
        "hub.Compound", related_name="owners_committee", on_delete=fields.CASCADE
    )
    compound_id: int
    director_name = fields.CharField(max_length=50, default="", description="主任")
    director_member: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "hub.Member",
        related_name="directed_committees",
        null=True,
        on_delete=fields.SET_NULL,
        db_index=True,
        description="The director, when a party member (for cross-appointment)",
    )
    director_member_id: int | None
    is_party_led = fields.BooleanField(default=False, db_index=True, description="党建主导型")
    term_start = fields.DateField(null=True)
    term_end = fields.DateField(null=True)
    seats = fields.IntField(default=5)

    class Meta:
        table = "owners_committee"
        ordering = ["id"]
        constraints = (
            CheckConstraint(
                check="term_end IS NULL OR term_start IS NULL OR term_end > term_start",
                name="ck_owners_committee_term",
            ),
        )


class CoBuildingUnit(Searchable):
    """共建单位 — an enterprise or institution co-building with branches."""

    name = fields.CharField(max_length=NAME_LENGTH, unique=True)
    kind = fields.CharEnumField(UnitKind, db_index=True)
    credit_code = fields.CharField(
        max_length=18,
        unique=True,
        null=True,
        validators=[validate_credit_code],
        description="统一社会信用代码",
    )
    address = fields.CharField(max_length=200, default="")
    contact_name = fields.CharField(max_length=50, default="")
    contact_phone = fields.CharField(max_length=20, default="")

    class Meta:
        table = "co_building_unit"
        ordering = ["id"]


class CoBuildingAgreement(Record):
    """共建协议 between a unit and a branch — what partner units read."""

    unit: fields.ForeignKeyRelation[CoBuildingUnit] = fields.ForeignKeyField(
        "hub.CoBuildingUnit", related_name="agreements", on_delete=fields.RESTRICT, db_index=True
    )
    unit_id: int
    branch: fields.ForeignKeyRelation[Branch] = fields.ForeignKeyField(
        "hub.Branch", related_name="agreements", on_delete=fields.RESTRICT, db_index=True
    )
    branch_id: int
    title = fields.CharField(max_length=NAME_LENGTH, default="")
    signed_on = fields.DateField(db_index=True)
    ends_on = fields.DateField(null=True, db_index=True)
    commitments = fields.TextField(default="", description="共建承诺")
    resources = fields.TextField(default="", description="资源清单")
    status = fields.CharEnumField(AgreementStatus, default=AgreementStatus.ACTIVE, db_index=True)

    class Meta:
        table = "co_building_agreement"
        ordering = ["id"]
        constraints = (
            CheckConstraint(
                check="ends_on IS NULL OR ends_on > signed_on", name="ck_agreement_period"
            ),
        )
