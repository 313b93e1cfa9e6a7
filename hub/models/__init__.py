"""The one domain model: every table of the hub, as Tortoise models (app label ``hub``)."""
# Tortoise splits migration SQL on ";": model docstrings and descriptions must not hold one.

from __future__ import annotations

from hub.models.accounts import ApiToken, AuditLog, LoginSession, LoginThrottle, User
from hub.models.base import Record, Searchable
from hub.models.documents import TrustedDocument
from hub.models.geography import Building, Community, Compound, District, Street
from hub.models.partners import (
    CoBuildingAgreement,
    CoBuildingUnit,
    OwnersCommittee,
    PropertyCompany,
)
from hub.models.party import Branch, CommitteeSeat, Member, MemberDuty, PartyGroup
from hub.models.requests import RequestEvent, ResidentRequest
from hub.models.work import JointMeeting, ServiceActivity, Venue, VenueRoom, WeChatGroup

__models__ = [
    District,
    Street,
    Community,
    Compound,
    Building,
    Branch,
    Member,
    MemberDuty,
    CommitteeSeat,
    PartyGroup,
    PropertyCompany,
    OwnersCommittee,
    CoBuildingUnit,
    CoBuildingAgreement,
    Venue,
    VenueRoom,
    ServiceActivity,
    WeChatGroup,
    JointMeeting,
    ResidentRequest,
    RequestEvent,
    User,
    LoginThrottle,
    LoginSession,
    ApiToken,
    AuditLog,
    TrustedDocument,
]

__all__ = [
    "ApiToken",
    "AuditLog",
    "Branch",
    "Building",
    "CoBuildingAgreement",
    "CoBuildingUnit",
    "CommitteeSeat",
    "Community",
    "Compound",
    "District",
    "JointMeeting",
    "LoginSession",
    "LoginThrottle",
    "Member",
    "MemberDuty",
    "OwnersCommittee",
    "PartyGroup",
    "PropertyCompany",
    "Record",
    "RequestEvent",
    "ResidentRequest",
    "Searchable",
    "ServiceActivity",
    "Street",
    "TrustedDocument",
    "User",
    "Venue",
    "VenueRoom",
    "WeChatGroup",
]
