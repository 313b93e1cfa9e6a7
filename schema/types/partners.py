"""Governance partners: 物业企业, 业委会, 共建单位 and 共建协议."""

from __future__ import annotations

import datetime as dt

import strawberry

from hub import models as m
from schema.enums import AgreementStatus, UnitKind
from schema.fields import personal, related, to_one
from schema.node import Node, node_type
from schema.types import refs as r
from schema.types.record import RecordFields


@node_type(
    m.PropertyCompany, description="物业企业 Property company (物业行业党委 leads its party work)"
)
class PropertyCompany(Node, RecordFields):
    name: str = strawberry.field(description="名称 Name")
    credit_code: str = strawberry.field(description="统一社会信用代码 Unified social credit code")
    contact_name: str = strawberry.field(description="联系人 Contact person")
    contact_phone: str = personal(
        m.PropertyCompany,
        "contact_phone",
        null=False,
        description="联系电话 Contact phone (personal data: a contact person's number)",
    )
    has_party_organisation: bool = strawberry.field(description="建有党组织 Has a party body")
    under_industry_committee: bool = strawberry.field(
        description="物业行业党委领导 Led by the property-industry party committee"
    )
    compounds = related(
        m.PropertyCompany, "compounds", r.Compound, description="服务的小区 Compounds it manages"
    )
    assigned_requests = related(
        m.PropertyCompany,
        "assigned_requests",
        r.ResidentRequest,
        description="交办的居民诉求 Resident requests assigned to it",
    )


@node_type(m.OwnersCommittee, description="业委会 Owners' committee — one per compound")
class OwnersCommittee(Node, RecordFields):
    director_name: str = strawberry.field(description="主任 Director")
    is_party_led: bool = strawberry.field(description="党建主导型 Party-led")
    term_start: dt.date | None = strawberry.field(description="任期开始 Term starts")
    term_end: dt.date | None = strawberry.field(description="任期结束 Term ends")
    seats: int = strawberry.field(description="委员人数 Number of seats")
    compound = to_one(m.Compound, "compound_id", r.Compound, description="所属小区")
    director_member = to_one(
        m.Member,
        "director_member_id",
        r.Member,
        description="主任（党员）The director, if a party member (交叉任职)",
    )
    assigned_requests = related(
        m.OwnersCommittee,
        "assigned_requests",
        r.ResidentRequest,
        description="交办的居民诉求 Resident requests assigned to it",
    )


@node_type(m.CoBuildingUnit, description="共建单位 Co-building unit: enterprise or institution")
class CoBuildingUnit(Node, RecordFields):
    name: str = strawberry.field(description="名称 Name")
    kind: UnitKind = strawberry.field(description="单位类型 Kind")
    credit_code: str | None = strawberry.field(description="统一社会信用代码 Credit code")
    address: str = strawberry.field(description="地址 Address")
    contact_name: str = strawberry.field(description="联系人 Contact person")
    contact_phone: str = personal(
        m.CoBuildingUnit,
        "contact_phone",
        null=False,
        description="联系电话 Contact phone (personal data: a contact person's number)",
    )
    agreements = related(
        m.CoBuildingUnit, "agreements", r.CoBuildingAgreement, description="共建协议 Agreements"
    )
    activities = related(
        m.CoBuildingUnit,
        "activities",
        r.ServiceActivity,
        description="参与的服务活动 Service activities it took part in",
    )


@node_type(m.CoBuildingAgreement, description="共建协议 Agreement between a unit and a branch")
class CoBuildingAgreement(Node, RecordFields):
    title: str = strawberry.field(description="标题 Title")
    signed_on: dt.date = strawberry.field(description="签订日期 Signed on")
    ends_on: dt.date | None = strawberry.field(description="到期日期 Ends on")
    commitments: str = strawberry.field(description="共建承诺 Commitments")
    resources: str = strawberry.field(description="资源清单 Resources offered")
    status: AgreementStatus = strawberry.field(description="状态 Status")
    unit = to_one(m.CoBuildingUnit, "unit_id", r.CoBuildingUnit, description="共建单位 Unit")
    branch = to_one(m.Branch, "branch_id", r.Branch, description="党支部 Branch")
