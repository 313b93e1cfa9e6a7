"""Every domain enum as a GraphQL enum; each value's description is its Chinese label."""

from __future__ import annotations

import strawberry

from hub import enums as domain

ENUM_DESCRIPTIONS: dict[type[domain.LabeledEnum], str] = {
    domain.StreetKind: "街道或镇",
    domain.MemberCategory: "党员类别（四类党员）",
    domain.MemberStatus: "党员状态（党员不删除，只改状态）",
    domain.Gender: "性别",
    domain.Duty: "亮身份职责",
    domain.Representative: "两代表一委员",
    domain.SeatRole: "支委职务",
    domain.SeatBackground: "支委来源",
    domain.UnitKind: "共建单位类型",
    domain.AgreementStatus: "共建协议状态",
    domain.RoomKind: "阵地功能室",
    domain.ActivityCategory: "服务活动类别",
    domain.DeliveryMode: "服务方式",
    domain.ServiceForce: "五支服务力量（515工作法）",
    domain.RequestStatus: "居民诉求状态：收集→交办→反应→解决",
    domain.RequestCategory: "居民诉求类别",
    domain.RequestChannel: "诉求来源渠道",
    domain.AssigneeKind: "诉求承办方类型",
    domain.RequestAction: "诉求流转动作",
    domain.MeetingLevel: "联席会议层级",
    domain.Role: "账号角色",
    domain.AuditAction: "审计动作",
}


def _register(cls: type[domain.LabeledEnum], description: str) -> None:
    strawberry.enum(cls, name=cls.__name__, description=description)
    for value in cls.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = cls[value.name].label


for _cls, _description in ENUM_DESCRIPTIONS.items():
    _register(_cls, _description)

StreetKind = domain.StreetKind
MemberCategory = domain.MemberCategory
MemberStatus = domain.MemberStatus
Gender = domain.Gender
Duty = domain.Duty
Representative = domain.Representative
SeatRole = domain.SeatRole
SeatBackground = domain.SeatBackground
UnitKind = domain.UnitKind
AgreementStatus = domain.AgreementStatus
RoomKind = domain.RoomKind
ActivityCategory = domain.ActivityCategory
DeliveryMode = domain.DeliveryMode
ServiceForce = domain.ServiceForce
RequestStatus = domain.RequestStatus
RequestCategory = domain.RequestCategory
RequestChannel = domain.RequestChannel
AssigneeKind = domain.AssigneeKind
RequestAction = domain.RequestAction
MeetingLevel = domain.MeetingLevel
Role = domain.Role
AuditAction = domain.AuditAction
