"""The write-permission matrix: every writable entity × create / update / delete (and the
request and activity workflows) × every role, inside and outside a curator's scope,
over GraphQL and through the console.

The expected outcome of each cell comes from ``expected`` below, written from the
README's role rules, not from hub.access:

- ADMIN writes everything;
- a CURATOR writes records inside its street (a street curator) or its community (a
  community curator): its street or community itself and what lies below it — never
  a district's record (a street, the registers of property companies and co-building
  units), never a new street or (for a community curator) a new community;
- READERs and PARTNERs write nothing; anonymous callers are asked to log in.

A refusal is FORBIDDEN, except that a record the caller may not even read answers
NOT_FOUND (README, "Writes and live updates"): a PARTNER reads its unit's agreements
but none of the fresh records written here otherwise. Each cell also checks the
database: a refused write changed nothing, an allowed one did what it said.

"home" is the curators' street and community, "away" another street's; each role
writes its own fresh records, so one cell never depends on another.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tortoise.models import Model

from hub import models as m
from hub.access import ANONYMOUS
from hub.credit_code import make_credit_code
from hub.enums import MemberCategory, MemberStatus, RequestStatus, Role, UnitKind
from hub.passwords import hash_password
from hub.services.auth import viewer_for
from hub.settings import Settings
from tests.admin_support import PASSWORD, Console, Server, console_server, csrf_token
from tests.api_data import gid
from tests.mutation_calls import mutate

__all__ = ["console_server"]

pytestmark = pytest.mark.usefixtures("orm")

ROLES = ("admin", "street", "community", "reader", "partner", "anonymous")
CONSOLE_ROLES = ("admin", "street", "community")
# READERs and PARTNERs are refused at the console's login (checked when signing in):
# what they can then send is what an anonymous client sends.
CONSOLE_TRIED = (*CONSOLE_ROLES, "anonymous")
SIDES = ("home", "away")
REGISTERS = frozenset({"PropertyCompany", "CoBuildingUnit"})
OK = "OK"
SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
_serial = itertools.count()


# --- the expected outcomes (from the README's role rules) ---------------------------------


def may_write(role: str, entity: str, side: str, op: str) -> bool:
    if role == "admin":
        return True
    if role not in ("street", "community") or entity in REGISTERS or side == "away":
        return False
    if entity == "Street":  # a street curator keeps its own street; nobody adds streets
        return role == "street" and op != "create"
    if entity == "Community":  # a community curator keeps its own; a street curator adds
        return role == "street" or op != "create"
    return True


def partner_reads(entity: str) -> bool:
    """Of the records written here, a PARTNER reads only its own unit's agreements."""
    return entity == "CoBuildingAgreement"


def expected(role: str, entity: str, side: str, op: str) -> str:
    if role == "anonymous":
        return "UNAUTHENTICATED"
    if may_write(role, entity, side, op):
        if op == "delete" and (role, entity) in (("street", "Street"), ("community", "Community")):
            return "VALIDATION"  # allowed, but the curator's own account still points at it
        return OK
    if op != "create" and role == "partner" and not partner_reads(entity):
        return "NOT_FOUND"
    return "FORBIDDEN"


# --- the world ------------------------------------------------------------------------------


@dataclass
class Side:
    street: m.Street
    community: m.Community
    compound: m.Compound
    branch: m.Branch
    member: m.Member
    venue: m.Venue


@dataclass
class World:
    name: str
    district: m.District
    unit: m.CoBuildingUnit  # the partner's unit, co-building with the home branch
    sides: dict[str, Side] = field(default_factory=dict)


async def _side(district: m.District, tag: str) -> Side:
    street = await m.Street.create(district=district, name=f"{tag}街道")
    community = await m.Community.create(street=street, name=f"{tag}社区")
    compound = await m.Compound.create(community=community, name=f"{tag}小区")
    branch = await m.Branch.create(community=community, name=f"{tag}支部")
    await branch.compounds.add(compound)
    member = await m.Member.create(name=f"{tag}党员", category=MemberCategory.DIRECT, branch=branch)
    venue = await m.Venue.create(compound=compound, name=f"{tag}阵地")
    return Side(street, community, compound, branch, member, venue)


async def build_world(name: str) -> World:
    district = await m.District.create(name=f"{name}区")
    unit = await m.CoBuildingUnit.create(name=f"{name}共建", kind=UnitKind.ENTERPRISE)
    w = World(name, district, unit)
    for side in SIDES:
        w.sides[side] = await _side(district, f"{name}{side}")
    await m.CoBuildingAgreement.create(
        unit=unit, branch=w.sides["home"].branch, signed_on=dt.date(2020, 1, 1)
    )
    return w


_PASSWORD_HASH: list[str] = []


async def account(w: World, role: str, street: m.Street, community: m.Community) -> m.User:
    """An account of ``role``; curators are scoped to ``street`` / ``community``."""
    if not _PASSWORD_HASH:
        _PASSWORD_HASH.append(hash_password(PASSWORD))
    scope: dict[str, Any] = {
        "street": {"role": Role.CURATOR, "street": street},
        "community": {"role": Role.CURATOR, "community": community},
        "admin": {"role": Role.ADMIN},
        "reader": {"role": Role.READER},
        "partner": {"role": Role.PARTNER, "partner_unit": w.unit},
    }[role]
    return await m.User.create(
        username=f"{w.name}-{role}-{next(_serial)}", password_hash=_PASSWORD_HASH[0], **scope
    )


# --- the entities -----------------------------------------------------------------------------

Data = Callable[[World, Side, str], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Entity:
    name: str
    model: type[Model]
    data: Data  # a valid create input, by service key (records for references)
    rename: str  # a text key an update changes
    create: str = ""
    update: str = ""
    delete: str | None = ""  # "" → delete<Name>; None → no deletion

    def mutation(self, op: str) -> str:
        named = {"create": self.create, "update": self.update, "delete": self.delete}[op]
        return named or f"{op}{self.name}"

    @property
    def endpoint(self) -> str:
        return self.name.lower()


async def _fresh_compound(w: World, side: Side, tag: str) -> m.Compound:
    return await m.Compound.create(community=side.community, name=f"{tag}委小区")


def _entities() -> list[Entity]:
    def simple(**values: Any) -> Data:
        async def data(w: World, side: Side, tag: str) -> dict[str, Any]:
            return {
                key: (value(w, side, tag) if callable(value) else value)
                for key, value in values.items()
            }

        return data

    async def committee(w: World, side: Side, tag: str) -> dict[str, Any]:
        return {"compound_id": await _fresh_compound(w, side, tag), "director_name": tag}

    return [
        Entity(
            "Street",
            m.Street,
            simple(district_id=lambda w, s, t: w.district, name=lambda w, s, t: f"{t}街道"),
            "name",
        ),
        Entity(
            "Community",
            m.Community,
            simple(street_id=lambda w, s, t: s.street, name=lambda w, s, t: f"{t}社区"),
            "name",
        ),
        Entity(
            "Compound",
            m.Compound,
            simple(community_id=lambda w, s, t: s.community, name=lambda w, s, t: f"{t}小区"),
            "name",
        ),
        Entity(
            "Building",
            m.Building,
            simple(compound_id=lambda w, s, t: s.compound, name=lambda w, s, t: f"{t}栋"),
            "name",
        ),
        Entity(
            "Branch",
            m.Branch,
            simple(community_id=lambda w, s, t: s.community, name=lambda w, s, t: f"{t}支部"),
            "name",
        ),
        Entity(
            "CommitteeSeat",
            m.CommitteeSeat,
            simple(
                branch_id=lambda w, s, t: s.branch, role="SECRETARY", person_name=lambda w, s, t: t
            ),
            "person_name",
        ),
        Entity(
            "PartyGroup",
            m.PartyGroup,
            simple(branch_id=lambda w, s, t: s.branch, name=lambda w, s, t: f"{t}组"),
            "name",
        ),
        Entity(
            "Member",
            m.Member,
            simple(name=lambda w, s, t: t, category="DIRECT", branch_id=lambda w, s, t: s.branch),
            "name",
            delete="archiveMember",
        ),
        Entity(
            "PropertyCompany",
            m.PropertyCompany,
            simple(
                name=lambda w, s, t: f"{t}物业",
                credit_code=lambda w, s, t: make_credit_code(f"91430211{next(_serial):09d}"),
                contact_phone="0731-22334455",
            ),
            "name",
        ),
        Entity("OwnersCommittee", m.OwnersCommittee, committee, "director_name"),
        Entity(
            "CoBuildingUnit",
            m.CoBuildingUnit,
            simple(
                name=lambda w, s, t: f"{t}单位", kind="ENTERPRISE", contact_phone="0731-22334455"
            ),
            "name",
        ),
        Entity(
            "CoBuildingAgreement",
            m.CoBuildingAgreement,
            simple(
                unit_id=lambda w, s, t: w.unit,
                branch_id=lambda w, s, t: s.branch,
                signed_on=dt.date(2020, 1, 1),
                title=lambda w, s, t: t,
            ),
            "title",
        ),
        Entity(
            "Venue",
            m.Venue,
            simple(compound_id=lambda w, s, t: s.compound, name=lambda w, s, t: f"{t}阵地"),
            "name",
        ),
        Entity(
            "VenueRoom",
            m.VenueRoom,
            simple(venue_id=lambda w, s, t: s.venue, kind="BOOK_CORNER", name=lambda w, s, t: t),
            "name",
        ),
        Entity(
            "WeChatGroup",
            m.WeChatGroup,
            simple(compound_id=lambda w, s, t: s.compound, name=lambda w, s, t: f"{t}群"),
            "name",
        ),
        Entity(
            "ServiceActivity",
            m.ServiceActivity,
            simple(
                title=lambda w, s, t: t,
                branch_id=lambda w, s, t: s.branch,
                category="CLINIC",
                delivery_mode="MENU",
                service_force="PARTY_MEMBERS",
                held_at=dt.datetime(2024, 5, 1, 2, 0, tzinfo=UTC),
            ),
            "title",
            create="recordActivity",
            update="updateActivity",
            delete=None,
        ),
    ]


ENTITIES = {entity.name: entity for entity in _entities()}


def tag() -> str:
    return f"写{next(_serial)}"


async def make(entity: Entity, data: dict[str, Any]) -> Any:
    """The record ``data`` describes, created directly (the cell's target)."""
    values = {}
    for key, value in data.items():
        column = entity.model._meta.fields_map.get(key)
        enum_type = getattr(column, "enum_type", None)
        if isinstance(value, Model):
            value = value.pk
        elif enum_type is not None:
            value = enum_type(value)
        values[key] = value
    return await entity.model.create(**values)


def scope_of(entity: str, home: Side, target: Any) -> tuple[m.Street, m.Community]:
    """The curators' street and community: the home side's, or the target itself when the
    entity is a street or community (a curator keeps its own)."""
    street = target if entity == "Street" else home.street
    community = target if entity == "Community" else home.community
    return street, community


# --- GraphQL --------------------------------------------------------------------------------


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.capitalize() for part in rest)


def api_input(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Model):
            value = gid(value)
        elif isinstance(value, dt.date):  # also datetimes
            value = value.isoformat()
        out[_camel(key)] = value
    return out


async def call(settings: Settings, name: str, user: m.User | None, data: dict[str, Any]) -> str:
    """OK, or the one error code of the mutation's payload."""
    query = (
        f"mutation($input: {name[0].upper()}{name[1:]}Input!) "
        f"{{ {name}(input: $input) {{ errors {{ field code }} }} }}"
    )
    who = viewer_for(user) if user is not None else ANONYMOUS
    payload = await mutate(settings, query, who, input=data)
    found = {str(error["code"]) for error in payload["errors"]}
    assert len(found) <= 1, (name, payload["errors"])
    return found.pop() if found else OK


async def _check_write(
    entity: Entity, op: str, want: str, target: Any, data: dict[str, Any], new_name: str
) -> None:
    """The database after one cell: the write happened exactly when it was allowed."""
    where = f"{entity.name} {op}"
    if op == "create":
        assert await entity.model.exists(**{entity.rename: data[entity.rename]}) == (want == OK)
        return
    row = await entity.model.get_or_none(id=target.pk)
    if op == "update":
        assert row is not None, where
        assert (getattr(row, entity.rename) == new_name) == (want == OK), where
    elif entity.model is m.Member:
        assert row is not None and (row.status is MemberStatus.ARCHIVED) == (want == OK), where
    else:
        assert (row is None) == (want == OK), where
    if want != OK and row is not None:
        assert row.version == target.version, where


@pytest.fixture
async def world(unique_name: str) -> World:
    return await build_world(unique_name)


@pytest.mark.parametrize("name", list(ENTITIES))
async def test_graphql_writes(settings: Settings, world: World, name: str) -> None:
    entity = ENTITIES[name]
    home = world.sides["home"]
    wrong: list[tuple[str, str, str, str, str]] = []
    for role in ROLES:
        targets = {
            s: await make(entity, await entity.data(world, world.sides[s], tag())) for s in SIDES
        }
        street, community = scope_of(name, home, targets["home"])
        user = None if role == "anonymous" else await account(world, role, street, community)
        for side in SIDES:
            target = targets[side]
            data = await entity.data(world, world.sides[side], tag())
            want = expected(role, name, side, "create")
            got = await call(settings, entity.mutation("create"), user, api_input(data))
            await _check_write(entity, "create", want, None, data, "")
            if got != want:
                wrong.append((role, side, "create", want, got))
            new_name = tag()
            update = {"id": gid(target), "version": target.version, _camel(entity.rename): new_name}
            want = expected(role, name, side, "update")
            got = await call(settings, entity.mutation("update"), user, update)
            await _check_write(entity, "update", want, target, data, new_name)
            if got != want:
                wrong.append((role, side, "update", want, got))
            if entity.delete is None:
                continue
            await target.refresh_from_db()
            want = expected(role, name, side, "delete")
            gone = {"id": gid(target), "version": target.version}
            got = await call(settings, entity.mutation("delete"), user, gone)
            await _check_write(entity, "delete", want, target, data, "")
            if got != want:
                wrong.append((role, side, "delete", want, got))
    assert not wrong, wrong


# --- the workflows: resident requests and activities ---------------------------------------

STEPS: dict[str, tuple[RequestStatus, str, dict[str, Any], RequestStatus]] = {
    # mutation: (status it starts from, console action, input, status it leads to)
    "assignRequest": (
        RequestStatus.COLLECTED,
        "ASSIGN",
        {"assigneeKind": "GRID_WORKER", "assigneeName": "王五"},
        RequestStatus.ASSIGNED,
    ),
    "respondToRequest": (RequestStatus.ASSIGNED, "RESPOND", {}, RequestStatus.RESPONDED),
    "resolveRequest": (
        RequestStatus.RESPONDED,
        "RESOLVE",
        {"resolution": "已解决"},
        RequestStatus.RESOLVED,
    ),
    "rateRequest": (RequestStatus.RESOLVED, "RATE", {"satisfaction": 5}, RequestStatus.RESOLVED),
    "returnRequest": (RequestStatus.ASSIGNED, "RETURN", {"note": "补充"}, RequestStatus.COLLECTED),
    "reopenRequest": (RequestStatus.RESOLVED, "REOPEN", {"to": "ASSIGNED"}, RequestStatus.ASSIGNED),
}


async def _request(side: Side, status: RequestStatus) -> m.ResidentRequest:
    return await m.ResidentRequest.create(
        compound=side.compound,
        category="PARKING",
        channel="PHONE",
        status=status,
        description="停车难",
        collected_at=dt.datetime(2024, 3, 1, tzinfo=UTC),
    )


def _moved(request: m.ResidentRequest, step: str) -> bool:
    start, _, _, end = STEPS[step]
    if step == "rateRequest":
        return request.satisfaction is not None
    return request.status is end and (start is not end)


async def test_graphql_request_workflow(settings: Settings, world: World) -> None:
    home = world.sides["home"]
    wrong = []
    for role in ROLES:
        user = None
        if role != "anonymous":
            user = await account(world, role, home.street, home.community)
        for side in SIDES:
            report = {
                "compound_id": world.sides[side].compound,
                "category": "PARKING",
                "channel": "PHONE",
                "description": tag(),
            }
            want = expected(role, "ResidentRequest", side, "create")
            got = await call(settings, "reportRequest", user, api_input(report))
            made = await m.ResidentRequest.exists(description=report["description"])
            assert made == (want == OK)
            if got != want:
                wrong.append((role, side, "reportRequest", want, got))
            for step, (start, _, extra, _) in STEPS.items():
                request = await _request(world.sides[side], start)
                # Of requests, a partner reads none.
                want = expected(role, "ResidentRequest", side, "workflow")
                data = {"id": gid(request), "version": request.version, **extra}
                got = await call(settings, step, user, data)
                await request.refresh_from_db()
                assert _moved(request, step) == (want == OK), (role, side, step)
                if got != want:
                    wrong.append((role, side, step, want, got))
    assert not wrong, wrong


async def test_graphql_activity_participants(settings: Settings, world: World) -> None:
    entity = ENTITIES["ServiceActivity"]
    home = world.sides["home"]
    wrong = []
    for role in ROLES:
        user = None
        if role != "anonymous":
            user = await account(world, role, home.street, home.community)
        for side in SIDES:
            activity = await make(entity, await entity.data(world, world.sides[side], tag()))
            member = world.sides[side].member
            data = {"activityId": gid(activity), "memberIds": [gid(member)]}
            want = expected(role, "ServiceActivity", side, "workflow")
            got = await call(settings, "addActivityParticipants", user, data)
            added = await activity.participants.filter(id=member.pk).exists()
            assert added == (want == OK), (role, side)
            if got != want:
                wrong.append((role, side, want, got))
    assert not wrong, wrong


# --- the console -----------------------------------------------------------------------------


def form_data(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Model):
            value = str(value.pk)
        elif isinstance(value, dt.datetime):
            value = value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
        elif isinstance(value, dt.date):
            value = value.isoformat()
        out[key] = str(value)
    return out


class Session:
    """A console client signed in as one account, with its CSRF token."""

    def __init__(self, console: Console, token: str) -> None:
        self.console = console
        self.token = token

    async def post(self, path: str, data: dict[str, Any]) -> int:
        response = await self.console.post(path, {"csrf_token": self.token, **data})
        return response.status_code


async def sign_in(server: Server, user: m.User | None) -> Session:
    console = Console(server.url)
    if user is not None:
        response = await console.login(user.username)
        if user.role in (Role.ADMIN, Role.CURATOR):
            assert response.status_code == 302, response.text[:300]
        else:
            assert response.status_code == 400  # the console admits ADMINs and CURATORs
    login = await console.get("/admin/login/")
    return Session(console, csrf_token(login.text))


@dataclass
class Consoles:
    world: World
    sessions: dict[str, Session]


@pytest.fixture(scope="module")
async def consoles(console_server: Server) -> AsyncIterator[Consoles]:
    """One world and one signed-in console per role for the module (signing in is slow)."""
    w = await build_world(f"测试{uuid.uuid4().hex[:8]}")
    home = w.sides["home"]
    sessions = {}
    for role in ROLES:
        user = None if role == "anonymous" else await account(w, role, home.street, home.community)
        sessions[role] = await sign_in(console_server, user)
    yield Consoles(w, sessions)
    for session in sessions.values():
        await session.console.close()


async def _console_target(
    entity: Entity, w: World, side: str, role: str
) -> tuple[Any, dict[str, Any]]:
    """The record a console role edits and deletes, and its form data. A curator's own
    street or community is the shared one its account is bound to."""
    home = w.sides["home"]
    if side == "home" and (entity.name, role) == ("Street", "street"):
        return home.street, {"district_id": w.district, "name": home.street.name}
    if side == "home" and (entity.name, role) == ("Community", "community"):
        return home.community, {"street_id": home.street, "name": home.community.name}
    data = await entity.data(w, w.sides[side], tag())
    return await make(entity, data), data


@pytest.mark.parametrize("name", list(ENTITIES))
async def test_console_writes(consoles: Consoles, name: str) -> None:
    entity = ENTITIES[name]
    world = consoles.world
    base = f"/admin/{entity.endpoint}"
    for role in CONSOLE_TRIED:
        session = consoles.sessions[role]
        for side in SIDES:
            # Signed out, every write is refused before it is tried.
            def want(op: str, role: str = role, side: str = side) -> str:
                outcome = expected(role, name, side, op)
                return outcome if role in CONSOLE_ROLES else "REFUSED"

            data = await entity.data(world, world.sides[side], tag())
            await session.post(f"{base}/new/", form_data(data))
            await _check_write(entity, "create", want("create"), None, data, "")

            target, target_data = await _console_target(entity, world, side, role)
            await target.refresh_from_db()
            new_name = tag()
            edit = {
                **form_data(target_data),
                entity.rename: new_name,
                "version": str(target.version),
            }
            await session.post(f"{base}/edit/?id={target.pk}", edit)
            await _check_write(entity, "update", want("update"), target, data, new_name)

            if entity.delete is None:
                continue
            await target.refresh_from_db()
            await session.post(f"{base}/delete/", {"id": str(target.pk)})
            await _check_write(entity, "delete", want("delete"), target, data, "")


async def test_console_request_workflow(consoles: Consoles) -> None:
    world = consoles.world
    for role in CONSOLE_TRIED:
        session = consoles.sessions[role]
        console_role = role in CONSOLE_ROLES
        for side in SIDES:
            description = tag()
            report = {
                "compound_id": world.sides[side].compound,
                "category": "PARKING",
                "channel": "PHONE",
                "description": description,
            }
            await session.post("/admin/residentrequest/new/", form_data(report))
            want = expected(role, "ResidentRequest", side, "create")
            made = await m.ResidentRequest.exists(description=description)
            assert made == (console_role and want == OK), (role, side)
            for step, (start, action, extra, _) in STEPS.items():
                request = await _request(world.sides[side], start)
                names = {"assigneeKind": "assignee_kind", "assigneeName": "assignee_name"}
                data = {names.get(k, k): str(v) for k, v in extra.items()}
                data["version"] = str(request.version)
                await session.post(f"/admin/residentrequest/step/{request.pk}/{action}/", data)
                await request.refresh_from_db()
                want = expected(role, "ResidentRequest", side, "workflow")
                assert _moved(request, step) == (console_role and want == OK), (role, side, step)


def test_the_matrix_covers_every_writable_entity() -> None:
    from hub.services.specs import SPECS

    assert set(ENTITIES) == set(SPECS)
