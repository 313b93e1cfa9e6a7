"""Party organisation: 小区党支部 → 支委 / 楼栋党小组 → 党员."""

from __future__ import annotations

import datetime as dt

import strawberry

from hub import models as m
from schema.enums import (
    Duty,
    Gender,
    MemberCategory,
    MemberStatus,
    Representative,
    SeatBackground,
    SeatRole,
)
from schema.fields import ENUM_LIST, personal, related, to_one
from schema.info import Info
from schema.node import Node, node_type
from schema.types import refs as r
from schema.types.record import RecordFields


@node_type(m.Branch, description="小区党支部 Compound party branch — covers one or more compounds")
class Branch(Node, RecordFields):
    name: str = strawberry.field(description="名称 Name")
    instructor_name: str = strawberry.field(description="指导员 Instructor sent by the street")
    star_rating: int = strawberry.field(description="星级 Star rating, 0–5")
    is_demonstration: bool = strawberry.field(description="示范点 Demonstration site")
    work_method: str = strawberry.field(description="工作法 Work method, e.g. 515党建工作法")
    founded_on: dt.date | None = strawberry.field(description="成立日期 Founded on")
    community = to_one(m.Community, "community_id", r.Community, description="所属社区 Community")
    compounds = related(
        m.Branch, "compounds", r.Compound, description="覆盖的小区 Compounds the branch covers"
    )
    members = related(m.Branch, "members", r.Member, description="党员 Members")
    committee_seats = related(
        m.Branch, "committee_seats", r.CommitteeSeat, description="支委 Committee seats"
    )
    party_groups = related(
        m.Branch, "party_groups", r.PartyGroup, description="楼栋党小组 Building party groups"
    )
    venues = related(m.Branch, "venues", r.Venue, description="阵地 Venues")
    activities = related(
        m.Branch, "activities", r.ServiceActivity, description="服务活动 Service activities"
    )
    agreements = related(
        m.Branch, "agreements", r.CoBuildingAgreement, description="共建协议 Co-building agreements"
    )


async def _duties(root: m.Member, info: Info) -> list[Duty]:
    return await info.context.loaders.member_duties.load(root.pk)


@node_type(m.Member, description="党员 Party member — never deleted: status records transfers")
class Member(Node, RecordFields):
    name: str = strawberry.field(description="姓名 Name")
    gender: Gender | None = strawberry.field(description="性别 Gender")
    birth_date: dt.date | None = personal(
        m.Member, "birth_date", description="出生日期 Birth date (personal data)"
    )
    phone: str | None = personal(m.Member, "phone", description="联系电话 Phone (personal data)")
    category: MemberCategory = strawberry.field(description="党员类别 Category")
    status: MemberStatus = strawberry.field(description="状态 Status")
    work_unit: str | None = strawberry.field(description="工作单位 Work unit (in-service)")
    joined_party_on: dt.date | None = strawberry.field(description="入党日期 Joined the party on")
    is_demonstration_post: bool = strawberry.field(description="党员示范岗 Demonstration post")
    representative: Representative | None = strawberry.field(
        description="两代表一委员 Deputy or CPPCC member status"
    )
    registered_on: dt.date | None = strawberry.field(
        description="到小区报到日期 Day an in-service member registered in the home compound"
    )
    duties = strawberry.field(
        resolver=_duties,
        description="亮身份职责 Duties shown on 亮身份",
        metadata={ENUM_LIST: (m.MemberDuty, "member_id", "duty")},
    )
    branch = to_one(m.Branch, "branch_id", r.Branch, description="所属支部 Branch")
    party_group = to_one(
        m.PartyGroup, "party_group_id", r.PartyGroup, description="楼栋党小组 Party group"
    )
    home_compound = to_one(
        m.Compound, "home_compound_id", r.Compound, description="居住小区 Home compound"
    )
    committee_seats = related(
        m.Member, "committee_seats", r.CommitteeSeat, description="担任的支委 Committee seats held"
    )
    led_groups = related(
        m.Member, "led_groups", r.PartyGroup, description="任组长的党小组 Party groups led"
    )
    directed_committees = related(
        m.Member,
        "directed_committees",
        r.OwnersCommittee,
        description="任主任的业委会 Owners' committees directed (cross-appointment)",
    )
    headed_buildings = related(
        m.Member, "headed_buildings", r.Building, description="任楼栋长的楼栋 Buildings headed"
    )
    activities = related(
        m.Member, "activities", r.ServiceActivity, description="参加的服务活动 Activities joined"
    )
    assigned_requests = related(
        m.Member,
        "assigned_requests",
        r.ResidentRequest,
        description="交办的居民诉求 Resident requests assigned to the member",
    )


@node_type(m.CommitteeSeat, description="支委 / 兼职委员 A seat on a branch committee")
class CommitteeSeat(Node, RecordFields):
    role: SeatRole = strawberry.field(description="职务 Role")
    background: SeatBackground = strawberry.field(description="来源 Background")
    person_name: str = strawberry.field(description="姓名 Holder's name")
    started_on: dt.date | None = strawberry.field(description="任职日期 Started on")
    branch = to_one(m.Branch, "branch_id", r.Branch, description="所属支部 Branch")
    member = to_one(m.Member, "member_id", r.Member, description="党员 The holder, if a member")


@node_type(m.PartyGroup, description="楼栋党小组 Building party group under a branch")
class PartyGroup(Node, RecordFields):
    name: str = strawberry.field(description="名称 Name")
    branch = to_one(m.Branch, "branch_id", r.Branch, description="所属支部 Branch")
    leader = to_one(m.Member, "leader_id", r.Member, description="组长 Leader")
    buildings = related(m.PartyGroup, "buildings", r.Building, description="负责的楼栋 Buildings")
    members = related(m.PartyGroup, "members", r.Member, description="党员 Members")
