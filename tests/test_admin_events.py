"""Console writes are announced to live subscribers exactly as the GraphQL mutations are.

Each test listens on the broker the app publishes to (``current_broker()``: the server
runs in this process, on this loop) and drives the console over HTTP. The console
answers only after the coroutine that wrote and published has finished, so once the
response is in, the message is either in the subscription's queue or was never sent.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from hub import events
from hub import models as m
from hub.broker import Subscription, current_broker
from hub.enums import RequestStatus, Role
from hub.services import requests as workflow
from tests.admin_support import Console, Server, console_server, make_account, signed_in
from tests.service_world import World, build_world

__all__ = ["console_server"]


@dataclass
class Place:
    world: World
    curator: Console


@pytest.fixture
async def place(console_server: Server, unique_name: str) -> AsyncIterator[Place]:
    world = await build_world(unique_name)
    user = await make_account(f"{unique_name}-c", Role.CURATOR, community=world.community)
    curator = await signed_in(console_server, user.username)
    yield Place(world, curator)
    await curator.close()


@pytest.fixture
async def request_events() -> AsyncIterator[Subscription]:
    async with current_broker().subscribe(events.REQUESTS) as messages:
        yield messages


@pytest.fixture
async def activity_events() -> AsyncIterator[Subscription]:
    async with current_broker().subscribe(events.ACTIVITIES) as messages:
        yield messages


def received(messages: Subscription, id: int) -> list[dict[str, Any]]:
    """The messages about record ``id`` waiting in the queue (others are dropped)."""
    found = []
    while not messages.queue.empty():
        message = messages.queue.get_nowait()
        if message["id"] == id:
            found.append({k: v for k, v in message.items() if k != "at"})
    return found


def form_version(page: str) -> str:
    found = re.search(r'<input[^>]*name="version"[^>]*value="(\d+)"', page)
    assert found, "the form carries the record's version"
    return found.group(1)


async def test_a_console_workflow_step_is_announced(
    place: Place, request_events: Subscription
) -> None:
    # Given a request reported through the service (which announces nothing itself)
    w = place.world
    request = await workflow.report(
        actor=w.curator,
        data={
            "compound_id": w.compound.id,
            "category": "PARKING",
            "channel": "VISIT",
            "description": "停车难",
        },
    )
    details = f"/admin/residentrequest/details/?id={request.id}"
    assert received(request_events, request.id) == []

    # When a curator assigns it in the console
    assigned = await place.curator.submit(
        details,
        f"/admin/residentrequest/step/{request.id}/ASSIGN/",
        {"version": "1", "assignee_kind": "GRID_WORKER", "assignee_name": "网格员甲"},
    )

    # Then subscribers hear what assignRequest would have told them
    assert assigned.status_code == 302
    await request.refresh_from_db()
    assert request.status is RequestStatus.ASSIGNED
    assert received(request_events, request.id) == [
        {"id": request.id, "action": "ASSIGN", "version": request.version}
    ]

    # And a refused step (stale version) announces nothing
    stale = await place.curator.submit(
        details,
        f"/admin/residentrequest/step/{request.id}/RESPOND/",
        {"version": "1"},
    )
    assert stale.status_code == 302
    await request.refresh_from_db()
    assert request.status is RequestStatus.ASSIGNED
    assert received(request_events, request.id) == []

    # And the next step is announced with its own action and version
    responded = await place.curator.submit(
        details,
        f"/admin/residentrequest/step/{request.id}/RESPOND/",
        {"version": str(request.version)},
    )
    assert responded.status_code == 302
    await request.refresh_from_db()
    assert request.status is RequestStatus.RESPONDED
    assert received(request_events, request.id) == [
        {"id": request.id, "action": "RESPOND", "version": request.version}
    ]


async def test_a_request_reported_in_the_console_is_announced(
    place: Place, request_events: Subscription
) -> None:
    w = place.world
    page = "/admin/residentrequest/new/"
    description = f"{w.name}楼道灯坏了"
    data = {
        "compound_id": str(w.compound.id),
        "category": "PARKING",
        "channel": "VISIT",
        "description": description,
    }

    created = await place.curator.submit(page, page, data)

    assert created.status_code == 302, created.text[-2000:]
    request = await m.ResidentRequest.get(description=description)
    assert received(request_events, request.id) == [
        {"id": request.id, "action": "REPORT", "version": request.version}
    ]


async def test_activities_recorded_and_changed_in_the_console_are_announced(
    place: Place, activity_events: Subscription
) -> None:
    w = place.world
    page = "/admin/serviceactivity/new/"
    data = {
        "title": f"{w.name}义诊",
        "branch_id": str(w.branch.id),
        "category": "CLINIC",
        "delivery_mode": "MENU",
        "service_force": "PARTY_MEMBERS",
        "held_at": "2020-05-01 09:30:00",
        "residents_served": "40",
    }

    # When an activity is recorded in the console
    created = await place.curator.submit(page, page, data)
    assert created.status_code == 302, created.text[-2000:]
    activity = await m.ServiceActivity.get(title=f"{w.name}义诊")
    # Then recordActivity's event is published
    assert received(activity_events, activity.id) == [
        {"id": activity.id, "change": "RECORDED", "version": activity.version}
    ]

    # When it is edited
    edit = f"/admin/serviceactivity/edit/?id={activity.id}"
    loaded = await place.curator.get(edit)
    version = form_version(loaded.text)
    saved = await place.curator.submit(
        edit, edit, {**data, "residents_served": "55", "version": version}
    )
    assert saved.status_code == 302, saved.text[-2000:]
    await activity.refresh_from_db()
    assert activity.residents_served == 55
    # Then updateActivity's event is published with the new version
    assert received(activity_events, activity.id) == [
        {"id": activity.id, "change": "UPDATED", "version": activity.version}
    ]

    # And a stale edit, refused, announces nothing
    refused = await place.curator.submit(
        edit, edit, {**data, "residents_served": "99", "version": version}
    )
    assert refused.status_code == 200
    assert received(activity_events, activity.id) == []
