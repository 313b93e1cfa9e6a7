"""Every record a write references lies inside the writer's scope (issue 14, finding 9).

A community curator could link a member of another community (``createCommitteeSeat``
with a foreign ``memberId``, ``assignRequest`` to a foreign member). Now every foreign
key and id list of every write is checked in one place (hub.services.references), for
the API, the console and the roster import alike: an id the writer may read but not
link to is FORBIDDEN, one it may not read (or that does not exist) NOT_FOUND.

Expected outcomes are the README's rules, written out here: a curator links records
of its own street or community (a community curator: never a street, even its own);
the district-wide registers — property companies and co-building units — it may name
wherever it may read them; a district is the district office's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from tortoise.models import Model
from tortoise.transactions import in_transaction

from hub import models as m
from hub.db import PRIMARY
from hub.enums import AssigneeKind, MemberCategory, RequestStatus, UnitKind
from hub.services import records, requests
from hub.services.errors import ServiceError
from hub.services.fields import Kind
from hub.services.roster import parse_roster, validate_roster
from hub.services.specs import SPECS
from hub.settings import Settings
from schema.node import encode_global_id
from tests.admin_support import Server, console_server, make_account, signed_in
from tests.api_data import gid
from tests.mutation_calls import codes, mutate, ok
from tests.service_world import World, build_world

__all__ = ["console_server"]

pytestmark = pytest.mark.usefixtures("orm")

REGISTERS = {m.PropertyCompany, m.CoBuildingUnit}


@pytest.fixture
async def w(unique_name: str) -> World:
    return await build_world(unique_name)


async def _records_in(community: m.Community, branch: m.Branch, compound: m.Compound) -> dict:
    """One record of every referenced model inside ``community``."""
    member = await m.Member.create(name="李四", category=MemberCategory.DIRECT, branch=branch)
    building = await m.Building.create(compound=compound, name=f"{compound.pk}栋")
    return {
        m.Street: await m.Street.get(id=community.street_id),  # type: ignore[attr-defined]
        m.Community: community,
        m.Compound: compound,
        m.Branch: branch,
        m.Member: member,
        m.Building: building,
        m.PartyGroup: await m.PartyGroup.create(branch=branch, name=f"{branch.pk}组"),
        m.Venue: await m.Venue.create(compound=compound, name=f"{compound.pk}阵地"),
    }


def _allowed(role: str, model: type[Model], where: str) -> bool:
    """May a curator of ``role`` (street / community) link a record of ``model`` lying in
    ``where`` (own community / sibling community of its street / another street)?"""
    if model in REGISTERS:
        return True
    if model is m.District:
        return False
    if model is m.Street:
        return role == "street" and where != "other street"
    if role == "community":
        return where == "own community"
    return where != "other street"


async def test_every_reference_of_every_write_is_scoped(w: World) -> None:
    sibling_branch = await m.Branch.create(community=w.sibling_community, name="丙支部")
    sibling_compound = await m.Compound.create(community=w.sibling_community, name="丙小区")
    places = {
        "own community": await _records_in(w.community, w.branch, w.compound),
        "sibling community": await _records_in(
            w.sibling_community, sibling_branch, sibling_compound
        ),
        "other street": await _records_in(w.other_community, w.other_branch, w.other_compound),
    }
    unit = await m.CoBuildingUnit.create(name=f"{w.name}单位", kind=UnitKind.ENTERPRISE)
    shared: dict[type[Model], Model] = {
        m.District: w.district,
        m.PropertyCompany: w.company,
        m.CoBuildingUnit: unit,
    }
    checked = 0
    wrong = []
    for spec in SPECS.values():
        for field in spec.fields:
            if field.model is None:
                continue
            for where, found in places.items():
                record = shared.get(field.model) or found[field.model]
                value = [record.pk] if field.kind is Kind.M2M else record.pk
                for role, actor in (("street", w.street_curator), ("community", w.curator)):
                    if role == "community" and spec.name == "Street":
                        continue  # a community curator writes no street at all
                    got = await _code(actor, spec.name, field.key, value)
                    want = "" if _allowed(role, field.model, where) else "FORBIDDEN"
                    if got != want:
                        wrong.append((spec.name, field.key, where, role, want, got))
                    checked += 1
                # An ADMIN links anything; nobody links what does not exist.
                assert await _code(w.admin, spec.name, field.key, value) == ""
            missing = [2_000_000_000] if field.kind is Kind.M2M else 2_000_000_000
            assert await _code(w.admin, spec.name, field.key, missing) == "NOT_FOUND"
            assert await _code(w.street_curator, spec.name, field.key, missing) == "NOT_FOUND"
    assert not wrong, wrong
    assert checked > 100


class _Undo(Exception):
    """Rolls back a create that succeeded with the one key given."""


async def _code(actor: Any, entity: str, key: str, value: Any) -> str:
    """The code of the error on ``key`` when creating ``entity`` with only ``key`` given
    ("" when that key is fine; nothing is kept either way)."""
    try:
        async with in_transaction(PRIMARY):
            await records.create(actor=actor, entity=entity, data={key: value})
            raise _Undo
    except _Undo:
        return ""
    except ServiceError as refused:
        found = {str(e.code) for e in refused.for_field(key)}
        assert len(found) <= 1, refused.errors
        return found.pop() if found else ""


SEAT = """mutation($input: CreateCommitteeSeatInput!) {
  createCommitteeSeat(input: $input) { committeeSeat { id } errors { field code message } } }"""
ASSIGN = """mutation($input: AssignRequestInput!) {
  assignRequest(input: $input) { request { id } errors { field code message } } }"""
PARTICIPANTS = """mutation($input: AddActivityParticipantsInput!) {
  addActivityParticipants(input: $input) { added { id } errors { field code } } }"""


async def test_the_issues_examples_over_graphql(orm: Settings, w: World) -> None:
    foreign = await m.Member.create(
        name="王五", category=MemberCategory.DIRECT, branch=w.other_branch
    )
    seat = {"branchId": gid(w.branch), "role": "SECRETARY", "personName": "王五"}
    refused = await mutate(orm, SEAT, w.curator, input={**seat, "memberId": gid(foreign)})
    assert codes(refused) == {"memberId": "FORBIDDEN"}
    assert "维护范围" in refused["errors"][0]["message"]
    assert not await m.CommitteeSeat.exists(member_id=foreign.pk)
    ok(await mutate(orm, SEAT, w.curator, input={**seat, "memberId": gid(w.member)}))
    ok(await mutate(orm, SEAT, w.admin, input={**seat, "memberId": gid(foreign)}))

    request = await m.ResidentRequest.create(
        compound=w.compound,
        category="PARKING",
        channel="PHONE",
        description="停车难",
        collected_at=dt.datetime(2024, 3, 1, tzinfo=dt.UTC),
    )
    step = {"id": gid(request), "version": 1, "assigneeKind": "MEMBER"}
    refused = await mutate(orm, ASSIGN, w.curator, input={**step, "assigneeId": gid(foreign)})
    assert codes(refused) == {"assigneeId": "FORBIDDEN"}
    missing = await mutate(
        orm,
        ASSIGN,
        w.curator,
        input={**step, "assigneeId": encode_global_id("Member", 2_000_000_000)},
    )
    assert codes(missing) == {"assigneeId": "NOT_FOUND"}
    await request.refresh_from_db()
    assert request.status is RequestStatus.COLLECTED and request.assignee_member_id is None  # type: ignore[attr-defined]
    ok(await mutate(orm, ASSIGN, w.curator, input={**step, "assigneeId": gid(w.member)}))

    activity = await m.ServiceActivity.create(
        title="义诊",
        branch=w.branch,
        category="CLINIC",
        delivery_mode="MENU",
        service_force="PARTY_MEMBERS",
        held_at=dt.datetime(2024, 5, 1, tzinfo=dt.UTC),
    )
    add = {"activityId": gid(activity), "memberIds": [gid(w.member), gid(foreign)]}
    refused = await mutate(orm, PARTICIPANTS, w.curator, input=add)
    assert codes(refused) == {"memberIds": "FORBIDDEN"}
    assert not await activity.participants.all().exists()


async def test_assignees_of_every_kind_are_scoped(w: World) -> None:
    """A company is a district register (any the curator reads); a committee must be the
    request's compound's own; a member one of the curator's."""
    foreign = await m.Member.create(
        name="王五", category=MemberCategory.DIRECT, branch=w.other_branch
    )
    own_committee = await m.OwnersCommittee.create(compound=w.compound)
    other_committee = await m.OwnersCommittee.create(compound=w.other_compound)
    cases = [
        (AssigneeKind.MEMBER, foreign.pk, "FORBIDDEN"),
        (AssigneeKind.OWNERS_COMMITTEE, other_committee.pk, "FORBIDDEN"),
        (AssigneeKind.PROPERTY_COMPANY, 2_000_000_000, "NOT_FOUND"),
        (AssigneeKind.MEMBER, w.member.pk, ""),
        (AssigneeKind.PROPERTY_COMPANY, w.company.pk, ""),
        (AssigneeKind.OWNERS_COMMITTEE, own_committee.pk, ""),
    ]
    for kind, assignee, want in cases:
        request = await m.ResidentRequest.create(
            compound=w.compound,
            category="PARKING",
            channel="PHONE",
            description="停车难",
            collected_at=dt.datetime(2024, 3, 1, tzinfo=dt.UTC),
        )
        try:
            await requests.assign(
                actor=w.curator,
                request_id=request.pk,
                version=1,
                assignee_kind=kind,
                assignee_id=assignee,
            )
            got = ""
        except ServiceError as exc:
            got = str(exc.for_field("assignee_id")[0].code)
        assert got == want, (kind, assignee)


async def test_a_roster_names_only_the_curators_compounds(w: World) -> None:
    header = "姓名,性别,出生日期,手机号码,党员类别,所属支部,入党日期,工作单位,居住小区"
    lines = [
        header,
        f"{w.name}甲,男,,,直管党员,{w.branch.id},,,{w.compound.id}",
        f"{w.name}乙,男,,,直管党员,{w.branch.id},,,{w.other_compound.id}",
    ]
    rows = parse_roster(("\r\n".join(lines) + "\r\n").encode(), "roster.csv")
    report = await validate_roster(actor=w.curator, rows=rows)
    assert [(e.line, e.column) for e in report.errors] == [(3, "居住小区")]
    assert "维护范围" in report.errors[0].message
    admin = await validate_roster(actor=w.admin, rows=rows)
    assert admin.errors == []


async def test_the_console_checks_references_too(console_server: Server, w: World) -> None:
    foreign = await m.Member.create(
        name="王五", category=MemberCategory.DIRECT, branch=w.other_branch
    )
    await make_account(f"{w.name}-console", community=w.community, role=w.curator.role)
    console = await signed_in(console_server, f"{w.name}-console")
    try:
        page = "/admin/committeeseat/new/"
        data = {
            "branch_id": str(w.branch.id),
            "role": "SECRETARY",
            "person_name": "王五",
            "member_id": str(foreign.id),
        }
        refused = await console.submit(page, page, data)
        assert refused.status_code == 200
        assert not await m.CommitteeSeat.exists(member_id=foreign.pk)
    finally:
        await console.close()
