"""Fan-out: subscribers with the same view of the data and the same scope share one read
per event; subscribers with another view still read through their own permissions.

Statements are counted with hub.db_observe's statement observers, not timed.
"""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack
from typing import Any

import pytest

from hub import events
from hub import models as m
from hub.access import Viewer, tokens
from hub.enums import Role
from hub.services.auth import viewer_for
from hub.settings import Settings
from tests.api_data import gid
from tests.mutation_calls import mutate, ok
from tests.orm_context import observers
from tests.service_world import World, build_world
from tests.socket_clients import Served, hub_server, socket
from tests.test_subscriptions import Listener, listening, partner_of, report_input

pytestmark = pytest.mark.usefixtures("orm")

SUBSCRIBE = """subscription($scope: ID) {
  requestChanged(scope: $scope) { action request { id status reporterName compound { name } } }
}"""
REPORT = """mutation($input: ReportRequestInput!) {
  reportRequest(input: $input) { request { id } errors { field code } } }"""


@pytest.fixture
async def w(unique_name: str) -> World:
    return await build_world(unique_name)


async def viewers(role: Role, count: int) -> list[Viewer]:
    return [
        viewer_for(
            await m.User.create(
                username=f"fan-{uuid.uuid4().hex[:8]}", password_hash="-", role=role
            )
        )
        for _ in range(count)
    ]


async def deliver_one_event(
    settings: Settings, w: World, request_id: int, subscribers: list[Viewer]
) -> tuple[int, list[dict[str, Any] | None]]:
    """Subscribe every viewer under ``w.compound``, publish one event for the request:
    (the SQL statements run while it was delivered, what each subscriber got)."""
    statements: list[str] = []
    async with AsyncExitStack() as stack:
        listeners: list[Listener] = [
            await stack.enter_async_context(
                listening(settings, SUBSCRIBE, viewer, events.REQUESTS, scope=gid(w.compound))
            )
            for viewer in subscribers
        ]
        stop = observers().on_statement(lambda sql, seconds, connection: statements.append(sql))
        try:
            await events.publish(events.REQUESTS, {"id": request_id, "action": "ASSIGN"})
            got: list[dict[str, Any] | None] = []
            for listener, viewer in zip(listeners, subscribers, strict=True):
                if viewer.role is Role.PARTNER:
                    await listener.nothing()  # a partner reads no resident requests
                    got.append(None)
                else:
                    got.append(await listener.next())
        finally:
            stop()
    return len(statements), got


async def _reported(settings: Settings, w: World) -> int:
    report = {**report_input(w.compound), "reporterName": "王五"}
    payload = ok(await mutate(settings, REPORT, w.admin, input=report))
    (request,) = await m.ResidentRequest.filter(compound_id=w.compound.id)
    assert payload["request"]["id"] == gid(request)
    return request.id


async def test_subscribers_of_one_view_share_one_read_per_event(orm: Settings, w: World) -> None:
    request_id = await _reported(orm, w)
    one, _ = await deliver_one_event(orm, w, request_id, await viewers(Role.READER, 1))
    many, got = await deliver_one_event(orm, w, request_id, await viewers(Role.READER, 20))
    # twenty readers (twenty accounts, one view) cost what one costs: O(1) per event
    assert 0 < one == many
    assert all(g is not None and g["request"]["compound"] == {"name": "甲小区"} for g in got)
    assert all(g is not None and g["request"]["reporterName"] != "王五" for g in got)


async def test_each_view_still_reads_with_its_own_permissions(orm: Settings, w: World) -> None:
    request_id = await _reported(orm, w)
    reader, _ = await deliver_one_event(orm, w, request_id, await viewers(Role.READER, 1))
    admin, _ = await deliver_one_event(orm, w, request_id, await viewers(Role.ADMIN, 1))
    partner = await partner_of(w)
    mixed = [*await viewers(Role.READER, 5), *await viewers(Role.ADMIN, 5), partner]
    both, got = await deliver_one_event(orm, w, request_id, mixed)
    partner_alone, _ = await deliver_one_event(orm, w, request_id, [partner])
    # one read per view: the readers', the admins', the partner's (who sees nothing)
    assert both == reader + admin + partner_alone
    names = [g["request"]["reporterName"] for g in got if g is not None]
    assert names[5:] == ["王五"] * 5  # in full for the admins
    assert len(set(names[:5])) == 1 and names[0] != "王五"  # masked for the readers
    assert got[-1] is None


async def _statements_over_one_socket(
    settings: Settings, served: Served, w: World, request_id: int, subscriptions: int
) -> int:
    user = await m.User.create(
        username=f"fan-{uuid.uuid4().hex[:8]}", password_hash="-", role=Role.READER
    )
    token, _ = tokens.issue(settings, user_id=user.id, token_version=1, kind="access")
    statements: list[str] = []
    async with socket(served, token) as client:
        for n in range(subscriptions):
            await client.subscribe(str(n), SUBSCRIBE, scope=gid(w.compound))
        await client.nothing()  # every subscription is registered
        stop = observers().on_statement(lambda sql, seconds, connection: statements.append(sql))
        try:
            await events.publish(events.REQUESTS, {"id": request_id, "action": "ASSIGN"})
            heard = {(await client.receive())["id"] for _ in range(subscriptions)}
        finally:
            stop()
    assert heard == {str(n) for n in range(subscriptions)}
    return len(statements)


async def test_subscriptions_of_one_connection_check_its_token_once_per_event(
    orm: Settings, w: World
) -> None:
    # forty subscriptions of one connection: one token check and one read per event
    request_id = await _reported(orm, w)
    async with hub_server(orm) as served:
        one = await _statements_over_one_socket(orm, served, w, request_id, 1)
        many = await _statements_over_one_socket(orm, served, w, request_id, 40)
    assert 0 < one == many
