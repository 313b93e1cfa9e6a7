"""The generated dataset: one plain row type per table, fields named as the columns.

Rows carry their final primary keys and foreign keys (the generator numbers them
from a base per table), so the loader can insert them as they are. ``created_at``,
``updated_at`` and ``version`` are added by the loader.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Any

from hub.enums import (
    ActivityCategory,
    AgreementStatus,
    AssigneeKind,
    DeliveryMode,
    Duty,
    Gender,
    MeetingLevel,
    MemberCategory,
    MemberStatus,
    Representative,
    RequestAction,
    RequestCategory,
    RequestChannel,
    RequestStatus,
    RoomKind,
    SeatBackground,
    SeatRole,
    ServiceForce,
    StreetKind,
    UnitKind,
)


@dataclass(slots=True)
class DistrictRow:
    id: int
    name: str
    code: str | None
    search_text: str


@dataclass(slots=True)
class StreetRow:
    id: int
    district_id: int
    name: str
    kind: StreetKind
    committee_name: str
    search_text: str


@dataclass(slots=True)
class CommunityRow:
    id: int
    street_id: int
    name: str
    is_provincial_model: bool
    search_text: str


@dataclass(slots=True)
class PropertyCompanyRow:
    id: int
    name: str
    credit_code: str
    contact_name: str
    contact_phone: str
    has_party_organisation: bool
    under_industry_committee: bool
    search_text: str


@dataclass(slots=True)
class CompoundRow:
    id: int
    community_id: int
    name: str
    address: str
    households: int
    built_year: int | None
    is_old: bool
    property_company_id: int | None
    search_text: str


@dataclass(slots=True)
class BranchRow:
    id: int
    community_id: int
    name: str
    instructor_name: str
    star_rating: int
    is_demonstration: bool
    work_method: str
    founded_on: dt.date | None
    search_text: str


@dataclass(slots=True)
class PartyGroupRow:
    id: int
    branch_id: int
    name: str
    leader_id: int | None  # inserted as NULL, set once the members exist


@dataclass(slots=True)
class MemberRow:
    id: int
    name: str
    gender: Gender | None
    birth_date: dt.date | None
    phone: str | None
    category: MemberCategory
    status: MemberStatus
    branch_id: int
    party_group_id: int | None
    home_compound_id: int | None
    work_unit: str | None
    joined_party_on: dt.date | None
    is_demonstration_post: bool
    representative: Representative | None
    registered_on: dt.date | None
    search_text: str


@dataclass(slots=True)
class MemberDutyRow:
    id: int
    member_id: int
    duty: Duty


@dataclass(slots=True)
class CommitteeSeatRow:
    id: int
    branch_id: int
    role: SeatRole
    background: SeatBackground
    person_name: str
    member_id: int | None
    started_on: dt.date | None


@dataclass(slots=True)
class BuildingRow:
    id: int
    compound_id: int
    name: str
    floors: int
    households: int
    head_name: str
    head_member_id: int | None


@dataclass(slots=True)
class OwnersCommitteeRow:
    id: int
    compound_id: int
    director_name: str
    director_member_id: int | None
    is_party_led: bool
    term_start: dt.date | None
    term_end: dt.date | None
    seats: int


@dataclass(slots=True)
class CoBuildingUnitRow:
    id: int
    name: str
    kind: UnitKind
    credit_code: str | None
    address: str
    contact_name: str
    contact_phone: str
    search_text: str


@dataclass(slots=True)
class CoBuildingAgreementRow:
    id: int
    unit_id: int
    branch_id: int
    title: str
    signed_on: dt.date
    ends_on: dt.date | None
    commitments: str
    resources: str
    status: AgreementStatus


@dataclass(slots=True)
class VenueRow:
    id: int
    name: str
    compound_id: int
    branch_id: int | None
    address: str
    area_sqm: int
    opened_on: dt.date | None


@dataclass(slots=True)
class VenueRoomRow:
    id: int
    venue_id: int
    kind: RoomKind
    name: str


@dataclass(slots=True)
class ServiceActivityRow:
    id: int
    title: str
    branch_id: int
    compound_id: int | None
    venue_id: int | None
    category: ActivityCategory
    delivery_mode: DeliveryMode
    service_force: ServiceForce
    held_at: dt.datetime
    residents_served: int
    description: str


@dataclass(slots=True)
class WeChatGroupRow:
    id: int
    compound_id: int
    name: str
    size: int
    admin_name: str
    created_on: dt.date | None


@dataclass(slots=True)
class JointMeetingRow:
    id: int
    level: MeetingLevel
    held_on: dt.date
    title: str
    topics: str
    decisions: str
    attendees: str
    district_id: int | None
    street_id: int | None
    community_id: int | None
    compound_id: int | None


@dataclass(slots=True)
class ResidentRequestRow:
    id: int
    compound_id: int
    category: RequestCategory
    channel: RequestChannel
    status: RequestStatus
    description: str
    reporter_name: str
    reporter_contact: str
    assignee_kind: AssigneeKind | None
    assignee_name: str
    assignee_member_id: int | None
    assignee_company_id: int | None
    assignee_committee_id: int | None
    collected_at: dt.datetime
    assigned_at: dt.datetime | None
    responded_at: dt.datetime | None
    resolved_at: dt.datetime | None
    due_at: dt.datetime | None
    resolution: str
    satisfaction: int | None


@dataclass(slots=True)
class RequestEventRow:
    id: int
    request_id: int
    action: RequestAction
    from_status: RequestStatus | None
    to_status: RequestStatus
    actor_id: int | None
    actor_name: str
    at: dt.datetime
    note: str


@dataclass
class Dataset:
    """One district's records, table by table, in an order that satisfies every FK."""

    districts: list[DistrictRow] = field(default_factory=list)
    streets: list[StreetRow] = field(default_factory=list)
    communities: list[CommunityRow] = field(default_factory=list)
    property_companies: list[PropertyCompanyRow] = field(default_factory=list)
    compounds: list[CompoundRow] = field(default_factory=list)
    branches: list[BranchRow] = field(default_factory=list)
    branch_compounds: list[tuple[int, int]] = field(default_factory=list)
    party_groups: list[PartyGroupRow] = field(default_factory=list)
    members: list[MemberRow] = field(default_factory=list)
    member_duties: list[MemberDutyRow] = field(default_factory=list)
    committee_seats: list[CommitteeSeatRow] = field(default_factory=list)
    buildings: list[BuildingRow] = field(default_factory=list)
    party_group_buildings: list[tuple[int, int]] = field(default_factory=list)
    owners_committees: list[OwnersCommitteeRow] = field(default_factory=list)
    co_building_units: list[CoBuildingUnitRow] = field(default_factory=list)
    co_building_agreements: list[CoBuildingAgreementRow] = field(default_factory=list)
    venues: list[VenueRow] = field(default_factory=list)
    venue_rooms: list[VenueRoomRow] = field(default_factory=list)
    service_activities: list[ServiceActivityRow] = field(default_factory=list)
    activity_participants: list[tuple[int, int]] = field(default_factory=list)
    activity_units: list[tuple[int, int]] = field(default_factory=list)
    wechat_groups: list[WeChatGroupRow] = field(default_factory=list)
    joint_meetings: list[JointMeetingRow] = field(default_factory=list)
    resident_requests: list[ResidentRequestRow] = field(default_factory=list)
    request_events: list[RequestEventRow] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Rows per table name."""
        return {spec.table: len(getattr(self, spec.attr)) for spec in TABLES}


@dataclass(frozen=True)
class TableSpec:
    attr: str  # Dataset attribute
    table: str
    columns: tuple[str, ...]
    record: bool  # has id / version / created_at / updated_at (not an M2M through table)
    deferred: tuple[str, ...] = ()  # FK columns inserted as NULL and set afterwards


def _columns(row_type: type[Any]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(row_type))


TABLES: tuple[TableSpec, ...] = (
    TableSpec("districts", "district", _columns(DistrictRow), True),
    TableSpec("streets", "street", _columns(StreetRow), True),
    TableSpec("communities", "community", _columns(CommunityRow), True),
    TableSpec("property_companies", "property_company", _columns(PropertyCompanyRow), True),
    TableSpec("compounds", "compound", _columns(CompoundRow), True),
    TableSpec("branches", "branch", _columns(BranchRow), True),
    TableSpec("branch_compounds", "branch_compound", ("branch_id", "compound_id"), False),
    TableSpec("party_groups", "party_group", _columns(PartyGroupRow), True, ("leader_id",)),
    TableSpec("members", "member", _columns(MemberRow), True),
    TableSpec("member_duties", "member_duty", _columns(MemberDutyRow), True),
    TableSpec("committee_seats", "committee_seat", _columns(CommitteeSeatRow), True),
    TableSpec("buildings", "building", _columns(BuildingRow), True),
    TableSpec(
        "party_group_buildings", "party_group_building", ("party_group_id", "building_id"), False
    ),
    TableSpec("owners_committees", "owners_committee", _columns(OwnersCommitteeRow), True),
    TableSpec("co_building_units", "co_building_unit", _columns(CoBuildingUnitRow), True),
    TableSpec(
        "co_building_agreements",
        "co_building_agreement",
        _columns(CoBuildingAgreementRow),
        True,
    ),
    TableSpec("venues", "venue", _columns(VenueRow), True),
    TableSpec("venue_rooms", "venue_room", _columns(VenueRoomRow), True),
    TableSpec("service_activities", "service_activity", _columns(ServiceActivityRow), True),
    TableSpec(
        "activity_participants",
        "activity_participant",
        ("service_activity_id", "member_id"),
        False,
    ),
    TableSpec(
        "activity_units", "activity_unit", ("service_activity_id", "cobuildingunit_id"), False
    ),
    TableSpec("wechat_groups", "wechat_group", _columns(WeChatGroupRow), True),
    TableSpec("joint_meetings", "joint_meeting", _columns(JointMeetingRow), True),
    TableSpec("resident_requests", "resident_request", _columns(ResidentRequestRow), True),
    TableSpec("request_events", "request_event", _columns(RequestEventRow), True),
)
RECORD_TABLES = tuple(spec.table for spec in TABLES if spec.record)
