"""Every domain enum as a GraphQL enum; each value's description is its Chinese label."""

from __future__ import annotations

import strawberry

from hub import enums as domain

ENUM_DESCRIPTIONS = domain.ENUM_DESCRIPTIONS


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
