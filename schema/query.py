"""The root query: ``node`` / ``nodes`` and a connection over every entity."""

from __future__ import annotations

from typing import Annotated, cast

import strawberry
from strawberry.tools import merge_types
from tortoise.models import Model

from hub import models as m
from schema.auth import AuthQuery
from schema.fields import root_connection
from schema.info import Info
from schema.node import Node, resolve_node, resolve_nodes
from schema.statistics import StatisticsQuery
from schema.types.geography import Building, Community, Compound, District, Street
from schema.types.partners import (
    CoBuildingAgreement,
    CoBuildingUnit,
    OwnersCommittee,
    PropertyCompany,
)
from schema.types.party import Branch, CommitteeSeat, Member, PartyGroup
from schema.types.requests import RequestEvent, ResidentRequest
from schema.types.work import JointMeeting, ServiceActivity, Venue, VenueRoom, WeChatGroup


async def _node(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="全局ID Global id")],
) -> Node | None:
    # A row stands for its node type (strawberry resolves the type by the row's model).
    return cast("Node | None", await resolve_node(info, id))


async def _nodes(
    info: Info,
    ids: Annotated[list[strawberry.ID], strawberry.argument(description="全局ID列表 Global ids")],
) -> list[Node | None]:
    return cast("list[Node | None]", await resolve_nodes(info, list(ids)))


def _all(model: type[Model], node: type, description: str) -> object:
    return root_connection(model, node, description=description)


DESCRIPTION = "邻聚 Hub 查询 Linju Hub: read the district's party-building data"


@strawberry.type(name="Query", description=DESCRIPTION)
class ReadQuery:
    node = strawberry.field(
        resolver=_node,
        description="按全局ID取一条记录；ID无效或记录不存在时为 null "
        "The record with this global id, or null if there is none",
    )
    nodes = strawberry.field(
        resolver=_nodes,
        description="按全局ID批量取记录，顺序与 ids 一致 The records with these global ids, "
        "in the same order (null where there is none)",
    )
    districts = _all(m.District, District, "区 Districts")
    streets = _all(m.Street, Street, "街道/镇 Streets and towns")
    communities = _all(m.Community, Community, "社区 Communities")
    compounds = _all(m.Compound, Compound, "小区 Compounds")
    buildings = _all(m.Building, Building, "楼栋 Buildings")
    branches = _all(m.Branch, Branch, "小区党支部 Compound party branches")
    members = _all(m.Member, Member, "党员 Party members")
    committee_seats = _all(m.CommitteeSeat, CommitteeSeat, "支委 Branch committee seats")
    party_groups = _all(m.PartyGroup, PartyGroup, "楼栋党小组 Building party groups")
    property_companies = _all(m.PropertyCompany, PropertyCompany, "物业企业 Property companies")
    owners_committees = _all(m.OwnersCommittee, OwnersCommittee, "业委会 Owners' committees")
    co_building_units = _all(m.CoBuildingUnit, CoBuildingUnit, "共建单位 Co-building units")
    co_building_agreements = _all(
        m.CoBuildingAgreement, CoBuildingAgreement, "共建协议 Co-building agreements"
    )
    venues = _all(m.Venue, Venue, "阵地 Venues")
    venue_rooms = _all(m.VenueRoom, VenueRoom, "阵地功能室 Venue rooms")
    service_activities = _all(m.ServiceActivity, ServiceActivity, "服务活动 Service activities")
    wechat_groups = _all(m.WeChatGroup, WeChatGroup, "小区微信群 WeChat groups")
    joint_meetings = _all(m.JointMeeting, JointMeeting, "联席会议 Joint meetings")
    resident_requests = _all(m.ResidentRequest, ResidentRequest, "居民诉求 Resident requests")
    request_events = _all(m.RequestEvent, RequestEvent, "诉求办理步骤 Request workflow steps")


def merge(types: tuple[type, ...]) -> type:
    """``strawberry.tools.merge_types``, keeping the root type's description."""
    merged = merge_types("Query", types)
    merged.__strawberry_definition__.description = DESCRIPTION  # type: ignore[attr-defined]
    return merged


# The read API, the district dashboards (统计) and the caller's account under one root.
Query = merge((ReadQuery, StatisticsQuery, AuthQuery))
