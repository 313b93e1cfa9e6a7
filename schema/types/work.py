"""Service and governance work: 阵地, 服务活动, 小区微信群, 联席会议."""

from __future__ import annotations

import datetime as dt

import strawberry

from hub import models as m
from schema.enums import ActivityCategory, DeliveryMode, MeetingLevel, RoomKind, ServiceForce
from schema.fields import related, to_one
from schema.node import Node, node_type
from schema.types import refs as r
from schema.types.record import RecordFields


@node_type(m.Venue, description="阵地 Venue, e.g. 幸福邻聚里居民活动中心")
class Venue(Node, RecordFields):
    name: str = strawberry.field(description="名称 Name")
    address: str = strawberry.field(description="地址 Address")
    area_sqm: int = strawberry.field(description="面积（平方米）Floor area in m²")
    opened_on: dt.date | None = strawberry.field(description="启用日期 Opened on")
    compound = to_one(m.Compound, "compound_id", r.Compound, description="所在小区")
    branch = to_one(m.Branch, "branch_id", r.Branch, description="所属支部 Branch")
    rooms = related(m.Venue, "rooms", r.VenueRoom, description="功能室 Function rooms")
    activities = related(
        m.Venue, "activities", r.ServiceActivity, description="在此举办的活动 Activities held here"
    )


@node_type(m.VenueRoom, description="阵地功能室 Function room of a venue (支部工作室, 议事厅 …)")
class VenueRoom(Node, RecordFields):
    kind: RoomKind = strawberry.field(description="功能 Kind")
    name: str = strawberry.field(description="名称 Name")
    venue = to_one(m.Venue, "venue_id", r.Venue, description="所属阵地 Venue")


@node_type(m.ServiceActivity, description="服务活动 Service activity run under a branch")
class ServiceActivity(Node, RecordFields):
    title: str = strawberry.field(description="标题 Title")
    category: ActivityCategory = strawberry.field(description="类别 Category")
    delivery_mode: DeliveryMode = strawberry.field(description="服务方式 Delivery mode")
    service_force: ServiceForce = strawberry.field(description="服务力量 Service force (515)")
    held_at: dt.datetime = strawberry.field(description="举办时间 Held at (UTC)")
    residents_served: int = strawberry.field(description="服务居民人次 Resident visits served")
    description: str = strawberry.field(description="说明 Description")
    branch = to_one(m.Branch, "branch_id", r.Branch, description="主办支部 Branch")
    compound = to_one(m.Compound, "compound_id", r.Compound, description="所在小区 Compound")
    venue = to_one(m.Venue, "venue_id", r.Venue, description="阵地 Venue")
    participants = related(
        m.ServiceActivity, "participants", r.Member, description="参加的党员 Members taking part"
    )
    co_building_units = related(
        m.ServiceActivity,
        "co_building_units",
        r.CoBuildingUnit,
        description="参与的共建单位 Co-building units taking part",
    )


@node_type(m.WeChatGroup, description="小区微信群 Compound WeChat group")
class WeChatGroup(Node, RecordFields):
    name: str = strawberry.field(description="群名 Name")
    size: int = strawberry.field(description="人数 Members in the group")
    admin_name: str = strawberry.field(description="群主 Administrator")
    created_on: dt.date | None = strawberry.field(description="建群日期 Created on")
    compound = to_one(m.Compound, "compound_id", r.Compound, description="所属小区")


@node_type(m.JointMeeting, description="联席会议 Joint meeting of the four-level linkage")
class JointMeeting(Node, RecordFields):
    level: MeetingLevel = strawberry.field(description="层级 Level")
    held_on: dt.date = strawberry.field(description="召开日期 Held on")
    title: str = strawberry.field(description="标题 Title")
    topics: str = strawberry.field(description="议题 Topics")
    decisions: str = strawberry.field(description="决定事项 Decisions")
    attendees: str = strawberry.field(description="出席人员/单位，每行一个 Attendees, one a line")
    district = to_one(m.District, "district_id", r.District, description="区 District")
    street = to_one(m.Street, "street_id", r.Street, description="街道 Street")
    community = to_one(m.Community, "community_id", r.Community, description="社区 Community")
    compound = to_one(m.Compound, "compound_id", r.Compound, description="小区 Compound")
