"""requestChanged and activityRecorded in one process: events follow committed mutations,
and each subscriber sees only what its viewer may read, under the scope it asked for."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from hub import events
from hub import models as m
from hub.access import Viewer
from hub.broker import current_broker
from hub.enums import Role, UnitKind
from hub.services.auth import viewer_for
from hub.settings import Settings
from resolvers.context import build_context
from tests.api_data import gid, schema_for
from tests.mutation_calls import codes, mutate, ok
from tests.service_world import World, build_world

pytestmark = pytest.mark.usefixtures("orm")

REQUESTS = """subscription($scope: ID) {
  requestChanged(scope: $scope) {
    action at request { id status version compound { name } history { action } }
  }
}"""
ACTIVITIES = """subscription($scope: ID) {
  activityRecorded(scope: $scope) { change activity { id title participants { totalCount } } }
}"""
REPORT = """mutation($input: ReportRequestInput!) {
  reportRequest(input: $input) { request { id version } errors { field code } } }"""
ASSIGN = """mutation($input: AssignRequestInput!) {
  assignRequest(input: $input) { request { id version } errors { field code } } }"""
RECORD = """mutation($input: RecordActivityInput!) {
  recordActivity(input: $input) { activity { id } errors { field code } } }"""
ADD = """mutation($input: AddActivityParticipantsInput!) {
  addActivityParticipants(input: $input) { added { id } errors { field code } } }"""
WAIT = 5.0  # seconds an expected event may take
QUIET = 0.3  # seconds to listen for an event that must not come


@pytest.fixture
async def w(unique_name: str) -> World:
    return await build_world(unique_name)


class Listener:
    """One subscription, its results collected as they arrive."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.results: asyncio.Queue[Any] = asyncio.Queue()
        self.task = asyncio.create_task(self._pump())

    async def _pump(self) -> None:
        async for result in self.stream:
            await self.results.put(result)

    async def next(self) -> dict[str, Any]:
        result = await asyncio.wait_for(self.results.get(), WAIT)
        assert result.errors is None, result.errors
        (value,) = result.data.values()
        return value

    async def nothing(self) -> None:
        await asyncio.sleep(QUIET)
        assert self.results.empty(), self.results.get_nowait()


@asynccontextmanager
async def listening(
    settings: Settings, query: str, viewer: Viewer, channel: str, **variables: Any
) -> AsyncIterator[Listener]:
    """Subscribe as ``viewer`` and wait until the subscription is registered."""
    broker = current_broker()
    before = broker.subscriber_count(channel)
    context = build_context(settings=settings, viewer=viewer)
    stream = await schema_for(settings).subscribe(
        query, variable_values=variables, context_value=context
    )
    listener = Listener(stream)
    for _ in range(200):
        if broker.subscriber_count(channel) > before or listener.task.done():
            break
        await asyncio.sleep(0.01)
    try:
        yield listener
    finally:
        listener.task.cancel()
        await asyncio.gather(listener.task, return_exceptions=True)
        await stream.aclose()


def report_input(compound: m.Compound) -> dict[str, Any]:
    return {
        "compoundId": gid(compound),
        "category": "SURVEILLANCE",
        "channel": "PHONE",
        "description": "监控探头损坏",
    }


async def partner_of(w: World) -> Viewer:
    """A partner whose unit co-builds with ``w.branch``."""
    unit = await m.CoBuildingUnit.create(name=f"{w.name}共建单位", kind=UnitKind.ENTERPRISE)
    await m.CoBuildingAgreement.create(unit=unit, branch=w.branch, signed_on="2020-01-01")
    user = await m.User.create(
        username=f"{w.name}-partner", password_hash="-", role=Role.PARTNER, partner_unit=unit
    )
    return viewer_for(user)


async def test_request_changes_arrive_after_each_committed_step(orm: Settings, w: World) -> None:
    async with listening(orm, REQUESTS, w.reader, events.REQUESTS) as listener:
        # when a request is reported
        reported = ok(await mutate(orm, REPORT, w.admin, input=report_input(w.compound)))
        request_id = reported["request"]["id"]

        # then the subscriber hears it, with the request as it stands
        first = await listener.next()
        assert first["action"] == "REPORT" and first["request"]["id"] == request_id
        assert first["request"]["compound"] == {"name": "甲小区"}
        assert [step["action"] for step in first["request"]["history"]] == ["REPORT"]

        # when a stale assignment is refused, then the request assigned
        assignment = {"id": request_id, "assigneeKind": "GRID_WORKER", "assigneeName": "甲"}
        refused = await mutate(orm, ASSIGN, w.admin, input={**assignment, "version": 9})
        assert codes(refused) == {"version": "CONFLICT"}
        ok(await mutate(orm, ASSIGN, w.admin, input={**assignment, "version": 1}))

        # then only the committed step is heard, read afresh (nothing cached from before)
        second = await listener.next()
        assert second["action"] == "ASSIGN"
        assert second["request"]["status"] == "ASSIGNED" and second["request"]["version"] == 2
        assert [step["action"] for step in second["request"]["history"]] == ["REPORT", "ASSIGN"]
        await listener.nothing()


async def test_scopes_filter_the_events(orm: Settings, w: World) -> None:
    async with (
        listening(orm, REQUESTS, w.admin, events.REQUESTS, scope=gid(w.street)) as street,
        listening(orm, REQUESTS, w.admin, events.REQUESTS, scope=gid(w.branch)) as branch,
        listening(orm, REQUESTS, w.admin, events.REQUESTS, scope=gid(w.other_compound)) as other,
    ):
        ok(await mutate(orm, REPORT, w.admin, input=report_input(w.compound)))

        assert (await street.next())["action"] == "REPORT"
        assert (await branch.next())["action"] == "REPORT"  # the branch covers the compound
        await other.nothing()


async def test_subscribers_see_only_what_they_may_read(orm: Settings, w: World) -> None:
    partner = await partner_of(w)
    other_unit = await m.CoBuildingUnit.create(name=f"{w.name}别的单位", kind=UnitKind.SCHOOL)
    activity = {
        "title": "义诊",
        "branchId": gid(w.branch),
        "category": "CLINIC",
        "deliveryMode": "MENU",
        "serviceForce": "PARTY_MEMBERS",
        "heldAt": "2020-05-01T09:00:00+08:00",
    }
    async with (
        listening(orm, REQUESTS, partner, events.REQUESTS) as partner_requests,
        listening(orm, ACTIVITIES, partner, events.ACTIVITIES) as partner_activities,
    ):
        # a partner reads no resident requests, and only activities its unit joined
        ok(await mutate(orm, REPORT, w.admin, input=report_input(w.compound)))
        ok(
            await mutate(
                orm, RECORD, w.admin, input={**activity, "coBuildingUnitIds": [gid(other_unit)]}
            )
        )
        unit = await m.CoBuildingUnit.get(id=partner.unit_id)
        joined = ok(
            await mutate(
                orm,
                RECORD,
                w.admin,
                input={**activity, "title": "共建义诊", "coBuildingUnitIds": [gid(unit)]},
            )
        )

        seen = await partner_activities.next()
        assert seen["activity"] == {
            "id": joined["activity"]["id"],
            "title": "共建义诊",
            "participants": {"totalCount": 0},
        }
        await partner_activities.nothing()
        await partner_requests.nothing()


async def test_activity_events_for_recording_and_adding_participants(
    orm: Settings, w: World
) -> None:
    async with listening(
        orm, ACTIVITIES, w.curator, events.ACTIVITIES, scope=gid(w.community)
    ) as listener:
        recorded = ok(
            await mutate(
                orm,
                RECORD,
                w.curator,
                input={
                    "title": "四点半课堂",
                    "branchId": gid(w.branch),
                    "category": "AFTER_SCHOOL",
                    "deliveryMode": "LIST",
                    "serviceForce": "VOLUNTEERS",
                    "heldAt": "2020-09-01T16:30:00+08:00",
                },
            )
        )
        activity_id = recorded["activity"]["id"]
        first = await listener.next()
        assert (first["change"], first["activity"]["participants"]["totalCount"]) == ("RECORDED", 0)

        add = {"activityId": activity_id, "memberIds": [gid(w.member)]}
        ok(await mutate(orm, ADD, w.curator, input=add))

        # each event re-reads the activity as it stands: now with its participant
        second = await listener.next()
        assert (second["change"], second["activity"]["participants"]["totalCount"]) == (
            "PARTICIPANTS_ADDED",
            1,
        )


@pytest.mark.parametrize(
    ("viewer_name", "scope", "code"),
    [
        ("anonymous", None, "UNAUTHENTICATED"),
        ("reader", "bm90LWFuLWlk", "BAD_USER_INPUT"),  # not a global id
        ("reader", "member", "BAD_USER_INPUT"),  # a Member is not a scope
        ("partner", "street", "NOT_FOUND"),  # a street the partner may not read
    ],
)
async def test_refused_subscriptions(
    orm: Settings, w: World, viewer_name: str, scope: str | None, code: str
) -> None:
    viewers = {"anonymous": Viewer(), "reader": w.reader, "partner": await partner_of(w)}
    scopes = {"member": gid(w.member), "street": gid(w.street)}
    context = build_context(settings=orm, viewer=viewers[viewer_name])

    stream = await schema_for(orm).subscribe(
        REQUESTS, variable_values={"scope": scopes.get(scope or "", scope)}, context_value=context
    )
    result = stream if not hasattr(stream, "__anext__") else await anext(stream)

    assert result.data is None
    assert result.errors and result.errors[0].extensions["code"] == code


async def test_memory_broker_fans_out_and_forgets_closed_subscriptions() -> None:
    from hub.broker import MemoryBroker

    broker = MemoryBroker()
    with_a, with_b = broker.subscribe("c"), broker.subscribe("c")
    await broker.publish("c", {"id": 1})
    await broker.publish("other", {"id": 2})

    assert await with_a.__anext__() == {"id": 1}
    assert await with_b.__anext__() == {"id": 1}
    with_a.close()
    with_b.close()
    assert broker.subscriber_count("c") == 0
