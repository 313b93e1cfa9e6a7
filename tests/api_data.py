"""A small world of records for the read-API tests, and a way to run queries.

Everything hangs under a fresh District named after ``unique_name``, so tests can
start from that district (or filter by it) whatever else the shared database holds.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

import strawberry
from strawberry.types import ExecutionResult

from hub import models as m
from hub.access import Viewer
from hub.credit_code import ALPHABET, make_credit_code
from hub.enums import (
    ActivityCategory,
    AuditAction,
    DeliveryMode,
    Duty,
    MeetingLevel,
    MemberCategory,
    RequestAction,
    RequestCategory,
    RequestChannel,
    RequestStatus,
    Role,
    RoomKind,
    SeatRole,
    ServiceForce,
    UnitKind,
)
from hub.settings import Settings
from resolvers.context import build_context
from schema.build import build_schema
from schema.compiled import ReadPath
from schema.node import encode_global_id

UTC = dt.UTC


@lru_cache(maxsize=4)
def schema_for(settings: Settings) -> strawberry.Schema:
    return build_schema(settings)


ADMIN = Viewer(user_id=None, username="test-admin", role=Role.ADMIN)


async def execute(
    settings: Settings, query: str, *, viewer: Viewer = ADMIN, **variables: Any
) -> ExecutionResult:
    """Run one operation the way the app does: a fresh context per request (as an ADMIN
    unless told otherwise: these tests are about the API, the access tests about roles)."""
    schema = schema_for(settings)

    async def resolve() -> ExecutionResult:
        return await schema.execute(
            query,
            variable_values=variables,
            context_value=build_context(settings=settings, viewer=viewer),
        )

    if settings.read_path != "differential":
        return await resolve()
    # The suite's differential run (LINJU_TEST_READ_PATH): the app's own read path runs
    # both and logs any difference, which fails the test (tests/read_path_support.py).
    return await read_path_for(settings).execute(
        resolve, query=query, variables=variables, operation_name=None, viewer=viewer
    )


@cache
def read_path_for(settings: Settings) -> ReadPath:
    """One compiled read path per settings, as the app keeps one per process."""
    return ReadPath(schema_for(settings), settings)


async def data(settings: Settings, query: str, **variables: Any) -> dict[str, Any]:
    """Run an operation that must succeed; its ``data``."""
    result = await execute(settings, query, **variables)
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


def gid(row: m.Record) -> str:
    return encode_global_id(type(row).__name__, row.pk)


def credit_code(seed: str) -> str:
    rng = random.Random(seed)
    return make_credit_code("".join(rng.choice(ALPHABET) for _ in range(17)))


@dataclass
class World:
    """The records of one test's district; lists keep creation order."""

    district: m.District
    street: m.Street
    community: m.Community
    compounds: list[m.Compound] = field(default_factory=list)
    buildings: list[m.Building] = field(default_factory=list)
    branches: list[m.Branch] = field(default_factory=list)
    members: list[m.Member] = field(default_factory=list)
    seats: list[m.CommitteeSeat] = field(default_factory=list)
    groups: list[m.PartyGroup] = field(default_factory=list)
    companies: list[m.PropertyCompany] = field(default_factory=list)
    committees: list[m.OwnersCommittee] = field(default_factory=list)
    units: list[m.CoBuildingUnit] = field(default_factory=list)
    agreements: list[m.CoBuildingAgreement] = field(default_factory=list)
    venues: list[m.Venue] = field(default_factory=list)
    rooms: list[m.VenueRoom] = field(default_factory=list)
    activities: list[m.ServiceActivity] = field(default_factory=list)
    wechat_groups: list[m.WeChatGroup] = field(default_factory=list)
    meetings: list[m.JointMeeting] = field(default_factory=list)
    requests: list[m.ResidentRequest] = field(default_factory=list)
    events: list[m.RequestEvent] = field(default_factory=list)
    accounts: list[m.User] = field(default_factory=list)
    audit: list[m.AuditLog] = field(default_factory=list)

    def all_rows(self) -> list[m.Record]:
        rows: list[m.Record] = [self.district, self.street, self.community]
        for value in vars(self).values():
            if isinstance(value, list):
                rows.extend(value)
        return rows


async def build_world(
    name: str, *, branches: int = 2, compounds: int = 3, members_per_branch: int = 3
) -> World:
    """A district with one street, one community and everything below it.

    Branch i covers compounds i and i+1 (so compound 1 has two branches); each
    compound has a property company, an owners' committee and one building.
    """
    district = await m.District.create(name=f"{name}区")
    street = await m.Street.create(district=district, name=f"{name}街道", committee_name="党工委")
    community = await m.Community.create(street=street, name=f"{name}社区")
    w = World(district=district, street=street, community=community)
    for i in range(compounds):
        company = await m.PropertyCompany.create(
            name=f"{name}物业{i}", credit_code=credit_code(f"{name}-{i}")
        )
        w.companies.append(company)
        compound = await m.Compound.create(
            community=community,
            name=f"{name}小区{i}",
            households=100 + i,
            built_year=1990 + i if i % 2 == 0 else None,
            is_old=i % 2 == 0,
            property_company=company,
        )
        w.compounds.append(compound)
        w.buildings.append(await m.Building.create(compound=compound, name=f"{i}栋", floors=6))
    for b in range(branches):
        branch = await m.Branch.create(
            community=community, name=f"{name}支部{b}", star_rating=b % 6
        )
        await branch.compounds.add(*w.compounds[b : b + 2])
        w.branches.append(branch)
        group = await m.PartyGroup.create(branch=branch, name=f"{b}组")
        await group.buildings.add(w.buildings[b % len(w.buildings)])
        w.groups.append(group)
        for k in range(members_per_branch):
            member = await m.Member.create(
                name=f"党员{b}-{k:03d}",
                category=list(MemberCategory)[k % 4],
                branch=branch,
                party_group=group if k % 2 == 0 else None,
                home_compound=w.compounds[(b + 1) % len(w.compounds)],
                phone=f"1380000{k:04d}" if k % 3 else None,
            )
            w.members.append(member)
        first = w.members[-members_per_branch] if members_per_branch else None
        w.seats.append(
            await m.CommitteeSeat.create(
                branch=branch, role=SeatRole.SECRETARY, person_name="书记", member=first
            )
        )
        if first is not None:
            group.leader = first
            await group.save(update_fields=["leader_id"])
            await m.MemberDuty.create(member=first, duty=Duty.SUPERVISOR)
            await m.MemberDuty.create(member=first, duty=Duty.PROPAGANDIST)
    for i, compound in enumerate(w.compounds):
        director = w.members[0] if w.members and i == 0 else None
        w.committees.append(
            await m.OwnersCommittee.create(
                compound=compound, director_name=f"主任{i}", director_member=director
            )
        )
    if w.members:
        w.buildings[0].head_member = w.members[0]
        await w.buildings[0].save(update_fields=["head_member_id"])
    if w.branches:
        await _work(w, name)
    return w


async def _work(w: World, name: str) -> None:
    branch, compound = w.branches[0], w.compounds[0]
    unit = await m.CoBuildingUnit.create(name=f"{name}共建单位", kind=UnitKind.HOSPITAL)
    w.units.append(unit)
    w.agreements.append(
        await m.CoBuildingAgreement.create(
            unit=unit, branch=branch, title="共建", signed_on=dt.date(2020, 3, 1)
        )
    )
    venue = await m.Venue.create(name="幸福邻聚里", compound=compound, branch=branch)
    w.venues.append(venue)
    w.rooms.append(await m.VenueRoom.create(venue=venue, kind=RoomKind.BOOK_CORNER, name="书"))
    activity = await m.ServiceActivity.create(
        title="义诊",
        branch=branch,
        compound=compound,
        venue=venue,
        category=ActivityCategory.CLINIC,
        delivery_mode=DeliveryMode.MENU,
        service_force=ServiceForce.PARTY_MEMBERS,
        held_at=dt.datetime(2020, 6, 1, 2, 0, tzinfo=UTC),
        residents_served=30,
    )
    if w.members:
        await activity.participants.add(*w.members[:2])
    await activity.co_building_units.add(unit)
    w.activities.append(activity)
    w.wechat_groups.append(await m.WeChatGroup.create(compound=compound, name="群", size=200))
    w.meetings.append(
        await m.JointMeeting.create(
            level=MeetingLevel.COMPOUND,
            held_on=dt.date(2020, 7, 1),
            title="联席会",
            district=w.district,
            street=w.street,
            community=w.community,
            compound=compound,
        )
    )
    request = await m.ResidentRequest.create(
        compound=compound,
        category=RequestCategory.PARKING,
        channel=RequestChannel.WECHAT_GROUP,
        status=RequestStatus.ASSIGNED,
        description="停车难",
        reporter_name="居民",
        reporter_contact="13900000000",
        assignee_member=w.members[0] if w.members else None,
        assignee_company=w.companies[0],
        assignee_committee=w.committees[0],
        collected_at=dt.datetime(2020, 8, 1, tzinfo=UTC),
    )
    w.requests.append(request)
    account = await m.User.create(
        username=f"{name}-curator",
        password_hash="-",
        role=Role.CURATOR,
        street=w.street,
        community=w.community,
        partner_unit=unit,
    )
    w.accounts.append(account)
    w.audit.append(
        await m.AuditLog.create(
            user=account,
            actor_name=account.username,
            action=AuditAction.UPDATE,
            entity="Compound",
            entity_id=str(compound.pk),
            before={"households": 100},
            after={"households": 120},
        )
    )
    w.events.append(
        await m.RequestEvent.create(
            request=request,
            action=RequestAction.ASSIGN,
            from_status=RequestStatus.COLLECTED,
            to_status=RequestStatus.ASSIGNED,
            actor_name="社区",
            at=dt.datetime(2020, 8, 2, tzinfo=UTC),
        )
    )
