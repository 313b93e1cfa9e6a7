"""The hub's own records as the API shows them: accounts and the audit log (ADMIN only)."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.scalars import JSON

from hub import models as m
from schema.enums import AuditAction, Role
from schema.fields import to_one
from schema.node import Node, node_type
from schema.types import refs as r


@node_type(m.User, description="账号 An account of the hub")
class User(Node):
    username: str = strawberry.field(description="用户名 Username")
    display_name: str = strawberry.field(description="姓名 Display name")
    role: Role = strawberry.field(description="角色 Role")
    is_active: bool = strawberry.field(description="启用 Active")
    last_login_at: dt.datetime | None = strawberry.field(description="最近登录 Last login (UTC)")
    street = to_one(m.Street, "street_id", r.Street, description="维护范围：街道 Curator's street")
    community = to_one(
        m.Community, "community_id", r.Community, description="维护范围：社区 Curator's community"
    )
    partner_unit = to_one(
        m.CoBuildingUnit,
        "partner_unit_id",
        r.CoBuildingUnit,
        description="所属共建单位 The partner's co-building unit",
    )


@node_type(m.AuditLog, description="审计记录 Who changed what, when (ADMIN only)")
class AuditLog(Node):
    at: dt.datetime = strawberry.field(description="时间 When (UTC)")
    actor_name: str = strawberry.field(description="操作人 Who (as typed at login for failures)")
    action: AuditAction = strawberry.field(description="动作 What was done")
    entity: str = strawberry.field(description="对象类型 Which kind of record")
    entity_id: str | None = strawberry.field(description="对象ID Its primary key")
    before: JSON | None = strawberry.field(description="修改前 Values before")
    after: JSON | None = strawberry.field(description="修改后 Values after")
    address: str = strawberry.field(description="来源地址 Client address")
    user = to_one(m.User, "user_id", User, description="操作账号 The account, if any")
