"""The four-level geography: 区 → 街道/镇 → 社区 → 小区, and 楼栋."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

from hub import models as m
from schema.enums import StreetKind
from schema.fields import REVERSE_ONE, related, to_one
from schema.info import Info
from schema.node import Node, node_type
from schema.types import refs as r
from schema.types.record import RecordFields

if TYPE_CHECKING:
    pass


@node_type(m.District, description="区 District — top of the four-level linkage (e.g. 天元区)")
class District(Node, RecordFields):
    name: str = strawberry.field(description="名称 Name")
    code: str | None = strawberry.field(description="行政区划代码 Administrative division code")
    streets = related(m.District, "streets", r.Street, description="街道/镇 Streets and towns")
    joint_meetings = related(
        m.District, "joint_meetings", r.JointMeeting, description="区级联席会议 Joint meetings"
    )


@node_type(
    m.Street, description="街道/镇 Street or town, with its party working committee (党工委)"
)
class Street(Node, RecordFields):
    name: str = strawberry.field(description="名称 Name")
    kind: StreetKind = strawberry.field(description="街道或镇 Street or town")
    committee_name: str = strawberry.field(description="党工委 Party working committee")
    district = to_one(m.District, "district_id", r.District, description="所属区 District")
    communities = related(m.Street, "communities", r.Community, description="社区 Communities")
    joint_meetings = related(
        m.Street, "joint_meetings", r.JointMeeting, description="街道级联席会议 Joint meetings"
    )


@node_type(m.Community, description="社区 Community — belongs to a street")
class Community(Node, RecordFields):
    name: str = strawberry.field(description="名称 Name")
    is_provincial_model: bool = strawberry.field(
        description="全省基层党建示范点 Provincial model site of grassroots party building"
    )
    street = to_one(m.Street, "street_id", r.Street, description="所属街道 Street")
    compounds = related(m.Community, "compounds", r.Compound, description="小区 Compounds")
    branches = related(m.Community, "branches", r.Branch, description="小区党支部 Party branches")
    joint_meetings = related(
        m.Community, "joint_meetings", r.JointMeeting, description="社区级联席会议 Joint meetings"
    )


async def _owners_committee(root: m.Compound, info: Info) -> m.OwnersCommittee | None:
    return await info.context.loaders.owners_committee_by_compound.load(root.pk)


@node_type(m.Compound, description="小区 Residential compound of a community")
class Compound(Node, RecordFields):
    name: str = strawberry.field(description="名称 Name")
    address: str = strawberry.field(description="地址 Address")
    households: int = strawberry.field(description="户数 Households")
    built_year: int | None = strawberry.field(description="建成年份 Year built")
    is_old: bool = strawberry.field(description="老旧小区 Old compound (due for renovation)")
    community = to_one(m.Community, "community_id", r.Community, description="所属社区 Community")
    property_company = to_one(
        m.PropertyCompany, "property_company_id", r.PropertyCompany, description="物业企业"
    )
    owners_committee = strawberry.field(
        resolver=_owners_committee,
        graphql_type=r.OwnersCommittee | None,
        description="业委会 Owners' committee (one per compound)",
        metadata={REVERSE_ONE: (m.OwnersCommittee, "compound_id")},
    )
    branches = related(
        m.Compound, "branches", r.Branch, description="覆盖本小区的党支部 Branches covering it"
    )
    buildings = related(m.Compound, "buildings", r.Building, description="楼栋 Buildings")
    residents = related(
        m.Compound, "residents", r.Member, description="居住在此的党员 Members living here"
    )
    venues = related(m.Compound, "venues", r.Venue, description="阵地 Venues")
    activities = related(
        m.Compound, "activities", r.ServiceActivity, description="服务活动 Service activities"
    )
    wechat_groups = related(
        m.Compound, "wechat_groups", r.WeChatGroup, description="小区微信群 WeChat groups"
    )
    requests = related(
        m.Compound, "requests", r.ResidentRequest, description="居民诉求 Resident requests"
    )
    joint_meetings = related(
        m.Compound, "joint_meetings", r.JointMeeting, description="小区级联席会议 Joint meetings"
    )


@node_type(m.Building, description="楼栋 Building of a compound, with its building head (楼栋长)")
class Building(Node, RecordFields):
    name: str = strawberry.field(description="名称 Name")
    floors: int = strawberry.field(description="层数 Floors")
    households: int = strawberry.field(description="户数 Households")
    head_name: str = strawberry.field(description="楼栋长 Building head")
    compound = to_one(m.Compound, "compound_id", r.Compound, description="所属小区")
    head_member = to_one(
        m.Member, "head_member_id", r.Member, description="楼栋长（党员）Building head, if a member"
    )
    party_groups = related(
        m.Building, "party_groups", r.PartyGroup, description="楼栋党小组 Party groups"
    )
