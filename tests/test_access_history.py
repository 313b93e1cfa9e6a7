"""Personal data in request history and in partners' contacts (issue 14, findings 6 and 9).

Who did a step of a request is a person — the resident who rated it, a grid worker, an
account — so READERs and PARTNERs see ``actorName`` masked like ``reporterName``, on
every path (the request's history and events, the root connection, node, a
subscription's re-read), and nobody can filter or sort on it. The contact phone of a
property company or co-building unit is a contact person's mobile: masked likewise.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from hub import events
from hub import models as m
from hub.access import Viewer
from hub.enums import RequestAction, RequestStatus, Role, UnitKind
from hub.services.auth import viewer_for
from hub.settings import Settings
from tests.api_data import execute, gid
from tests.mutation_calls import mutate, ok
from tests.service_world import World, build_world
from tests.test_subscriptions import listening

pytestmark = pytest.mark.usefixtures("orm")

RESIDENT = "肖美丽"
UTC = dt.UTC

HISTORY = """
query($id: ID!) {
  node(id: $id) {
    ... on ResidentRequest {
      reporterName
      history { action actorName }
      events(first: 10) { edges { node { action actorName } } }
    }
  }
  requestEvents(where: {request: {id: {eq: $id}}}, first: 10) {
    totalCount edges { node { id action actorName } }
  }
}"""


@pytest.fixture
async def w(unique_name: str) -> World:
    return await build_world(unique_name)


async def _partner(w: World, phone: str) -> tuple[Viewer, m.CoBuildingUnit]:
    unit = await m.CoBuildingUnit.create(
        name=f"{w.name}共建单位", kind=UnitKind.ENTERPRISE, contact_phone=phone
    )
    await m.CoBuildingAgreement.create(unit=unit, branch=w.branch, signed_on="2020-01-01")
    user = await m.User.create(
        username=f"{w.name}-partner", password_hash="-", role=Role.PARTNER, partner_unit=unit
    )
    return viewer_for(user), unit


async def _rated_request(w: World) -> m.ResidentRequest:
    """A resolved request rated by its reporter, as the demo data holds 2,152 of them."""
    request = await m.ResidentRequest.create(
        compound=w.compound,
        category="PARKING",
        channel="PHONE",
        status=RequestStatus.RESOLVED,
        description="停车难",
        reporter_name=RESIDENT,
        reporter_contact="13912345678",
        collected_at=dt.datetime(2024, 3, 1, tzinfo=UTC),
        satisfaction=5,
    )
    steps = [
        (RequestAction.REPORT, None, RequestStatus.COLLECTED, w.curator.username),
        (RequestAction.RESOLVE, RequestStatus.COLLECTED, RequestStatus.RESOLVED, "网格员王五"),
        (RequestAction.RATE, RequestStatus.RESOLVED, RequestStatus.RESOLVED, RESIDENT),
    ]
    for day, (action, before, after, actor) in enumerate(steps, start=1):
        await m.RequestEvent.create(
            request=request,
            action=action,
            from_status=before,
            to_status=after,
            actor_name=actor,
            at=dt.datetime(2024, 3, day, tzinfo=UTC),
        )
    return request


async def _answer(settings: Settings, who: Viewer, **variables: Any) -> dict[str, Any]:
    result = await execute(settings, HISTORY, viewer=who, **variables)
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


def _masked(name: str) -> str:
    return name[0] + "*" * (len(name) - 1)


async def test_request_history_masks_every_actor_for_readers(orm: Settings, w: World) -> None:
    request = await _rated_request(w)
    actors = [w.curator.username, "网格员王五", RESIDENT]
    partner, _ = await _partner(w, "")
    for who, shown in (
        (w.admin, actors),
        (w.street_curator, actors),
        (w.curator, actors),
        (w.reader, [_masked(a) for a in actors]),
    ):
        answer = await _answer(orm, who, id=gid(request))
        node = answer["node"]
        assert [e["actorName"] for e in node["history"]] == shown, who.role
        assert [e["node"]["actorName"] for e in node["events"]["edges"]] == shown
        listed = [e["node"]["actorName"] for e in answer["requestEvents"]["edges"]]
        assert listed == shown
        rate_id = answer["requestEvents"]["edges"][-1]["node"]["id"]
        query = "query($id: ID!) { node(id: $id) { ... on RequestEvent { actorName } } }"
        by_node = await execute(orm, query, viewer=who, id=rate_id)
        assert by_node.data == {"node": {"actorName": shown[-1]}}
    reader = (await _answer(orm, w.reader, id=gid(request)))["node"]
    assert reader["reporterName"] == "肖**"
    assert [e["actorName"] for e in reader["history"]][-1] == "肖**"
    # A partner reads no requests at all: nothing to mask, nothing listed.
    answer = await _answer(orm, partner, id=gid(request))
    assert answer == {"node": None, "requestEvents": {"totalCount": 0, "edges": []}}


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ('{ requestEvents(where: {actorName: {eq: "%s"}}) { totalCount } }', "actorName"),
        ('{ requestEvents(where: {actorName: {startsWith: "%.1s"}}) { totalCount } }', "actorName"),
        (
            '{ residentRequests(where: {events: {actorName: {eq: "%s"}}}) { totalCount } }',
            "actorName",
        ),
        ("{ requestEvents(orderBy: [{field: ACTOR_NAME}]) { totalCount } } # %s", "ACTOR_NAME"),
        ('{ propertyCompanies(where: {contactPhone: {eq: "%s"}}) { totalCount } }', "contactPhone"),
        ('{ coBuildingUnits(where: {contactPhone: {eq: "%s"}}) { totalCount } }', "contactPhone"),
        ("{ coBuildingUnits(orderBy: [{field: CONTACT_PHONE}]) { totalCount } } # %s", "CONTACT"),
    ],
)
async def test_personal_columns_are_no_oracle(
    orm: Settings, w: World, query: str, named: str
) -> None:
    # Not for anyone: a filter or a sort order reads the value it compares.
    await _rated_request(w)
    partner, _ = await _partner(w, "13700001111")
    for who in (w.reader, partner, w.curator, w.admin):
        result = await execute(orm, query % RESIDENT, viewer=who)
        assert result.data is None and result.errors, who.role
        assert named in result.errors[0].message


async def test_contact_phones_of_companies_and_units_are_masked(orm: Settings, w: World) -> None:
    w.company.contact_phone = "13812345678"
    await w.company.save()
    partner, unit = await _partner(w, "0731-22334455")
    query = """
    query($company: ID!, $unit: ID!) {
      company: node(id: $company) { ... on PropertyCompany { contactName contactPhone } }
      unit: node(id: $unit) { ... on CoBuildingUnit { contactPhone } }
    }"""
    ids = {"company": gid(w.company), "unit": gid(unit)}
    seen = {}
    for who in (w.admin, w.curator, w.reader, partner):
        result = await execute(orm, query, viewer=who, **ids)
        assert result.errors is None, result.errors
        seen[who.role, who.community_id] = result.data
    full = {"company": {"contactName": "", "contactPhone": "13812345678"}}
    assert seen[Role.ADMIN, None] == {**full, "unit": {"contactPhone": "0731-22334455"}}
    assert seen[Role.CURATOR, w.community.pk] == seen[Role.ADMIN, None]
    masked_company = {"company": {"contactName": "", "contactPhone": "138****5678"}}
    assert seen[Role.READER, None] == {**masked_company, "unit": {"contactPhone": "073****4455"}}
    # The partner reads its own unit (masked like everyone without personal data), no company.
    assert seen[Role.PARTNER, None] == {"company": None, "unit": {"contactPhone": "073****4455"}}


SUBSCRIBE = """subscription {
  requestChanged { action request { reporterName history { action actorName } } }
}"""
ASSIGN = """mutation($input: AssignRequestInput!) {
  assignRequest(input: $input) { request { id version } errors { field code } } }"""


async def test_a_subscription_rereads_history_masked(orm: Settings, w: World) -> None:
    request = await m.ResidentRequest.create(
        compound=w.compound,
        category="PARKING",
        channel="PHONE",
        description="停车难",
        reporter_name=RESIDENT,
        collected_at=dt.datetime(2024, 3, 1, tzinfo=UTC),
    )
    await m.RequestEvent.create(
        request=request,
        action=RequestAction.REPORT,
        to_status=RequestStatus.COLLECTED,
        actor_name=RESIDENT,
        at=dt.datetime(2024, 3, 1, tzinfo=UTC),
    )
    assignment = {
        "id": gid(request),
        "version": 1,
        "assigneeKind": "GRID_WORKER",
        "assigneeName": "王五",
    }
    async with (
        listening(orm, SUBSCRIBE, w.reader, events.REQUESTS) as reader,
        listening(orm, SUBSCRIBE, w.admin, events.REQUESTS) as admin,
    ):
        ok(await mutate(orm, ASSIGN, w.curator, input=assignment))
        heard = (await reader.next())["request"]
        full = (await admin.next())["request"]
    assert [e["actorName"] for e in full["history"]] == [RESIDENT, w.curator.username]
    assert heard["reporterName"] == "肖**"
    assert [e["actorName"] for e in heard["history"]] == ["肖**", _masked(w.curator.username)]


async def test_the_demo_datas_rating_residents_are_masked(settings: Settings, demo: Any) -> None:
    # The finding: 2,152 RATE events named the resident in full for a READER.
    reader = Viewer(role=Role.READER)
    query = """
    query($after: String) {
      requestEvents(where: {action: {eq: RATE}}, first: 500, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { actorName request { reporterName } } }
      }
    }"""
    rated = await m.RequestEvent.filter(action=RequestAction.RATE).count()
    assert rated >= 2000
    names = set(
        await m.ResidentRequest.exclude(reporter_name="").values_list("reporter_name", flat=True)
    )
    seen, after = 0, None
    while True:
        result = await execute(settings, query, viewer=reader, after=after)
        assert result.errors is None and result.data is not None, result.errors
        page = result.data["requestEvents"]
        for edge in page["edges"]:
            node = edge["node"]
            assert node["actorName"] not in names
            assert node["actorName"] == node["request"]["reporterName"]  # both masked
            seen += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == rated == page["totalCount"]
