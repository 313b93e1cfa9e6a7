"""The resident-request workflow (hub.services.requests): every step and every illegal one."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from hub import models as m
from hub.enums import AssigneeKind, AuditAction, RequestAction, RequestStatus
from hub.services import requests
from hub.services.errors import ErrorCode, ServiceError
from tests.service_world import World, build_world, codes, error, refused

pytestmark = pytest.mark.usefixtures("orm")
A, S = RequestAction, RequestStatus
NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
async def w(unique_name: str) -> World:
    world = await build_world(unique_name)
    world.compound.property_company = world.company
    await world.compound.save()
    return world


async def report(w: World, compound: m.Compound | None = None, **extra: Any) -> Any:
    data = {
        "compound_id": (compound or w.compound).id,
        "category": "停车问题",
        "channel": "WECHAT_GROUP",
        "description": "晚上车位不够，消防通道被占",
        "reporter_name": "刘阿姨",
        "reporter_contact": "13900001111",
        **extra,
    }
    return await requests.report(actor=w.curator, data=data)


async def act(w: World, action: RequestAction, request: Any, **extra: Any) -> Any:
    """Take ``action`` on ``request`` with valid arguments (so only the state can be wrong)."""
    common = {"actor": w.curator, "request_id": request.id, "version": request.version}
    call, defaults = STEPS[action]
    return await call(**common, **{**defaults, **extra})


STEPS: dict[RequestAction, tuple[Any, dict[str, Any]]] = {
    A.ASSIGN: (requests.assign, {"assignee_kind": "GRID_WORKER", "assignee_name": "网格员小李"}),
    A.RESPOND: (requests.respond, {"note": "已到现场"}),
    A.RESOLVE: (requests.resolve, {"resolution": "划定临时车位"}),
    A.RATE: (requests.rate, {"satisfaction": 5}),
    A.RETURN: (requests.return_request, {"note": "请补充具体楼栋"}),
    A.REOPEN: (requests.reopen, {}),
}


PATH = {S.ASSIGNED: A.ASSIGN, S.RESPONDED: A.RESPOND, S.RESOLVED: A.RESOLVE}


async def request_in(w: World, status: RequestStatus) -> Any:
    """A fresh request brought to ``status`` along the legal path."""
    request = await report(w)
    for step in (S.ASSIGNED, S.RESPONDED, S.RESOLVED)[: requests.ORDER.index(status)]:
        request = await act(w, PATH[step], request)
    assert request.status is status
    return request


async def test_the_whole_workflow_is_stamped_and_logged(w: World) -> None:
    # given a request collected from the compound's WeChat group
    request = await report(w)
    assert (request.status, request.version) == (S.COLLECTED, 1)
    assert request.collected_at is not None
    # when it is assigned to the compound's property company, answered, resolved and rated
    request = await requests.assign(
        actor=w.curator,
        request_id=request.id,
        version=1,
        assignee_kind=AssigneeKind.PROPERTY_COMPANY,
        due_at=NOW + dt.timedelta(days=3),
    )
    assert (request.assignee_company_id, request.assignee_name) == (w.company.id, w.company.name)
    request = await act(w, A.RESPOND, request)
    request = await act(w, A.RESOLVE, request)
    request = await act(w, A.RATE, request)
    # then every step has its time, the version moved on each time, and the history is complete
    assert (request.status, request.version, request.satisfaction) == (S.RESOLVED, 5, 5)
    assert request.resolution == "划定临时车位"
    assert (
        request.collected_at <= request.assigned_at <= request.responded_at <= request.resolved_at
    )
    events = await requests.history(request_id=request.id)
    assert [(e.action, e.from_status, e.to_status) for e in events] == [
        (A.REPORT, None, S.COLLECTED),
        (A.ASSIGN, S.COLLECTED, S.ASSIGNED),
        (A.RESPOND, S.ASSIGNED, S.RESPONDED),
        (A.RESOLVE, S.RESPONDED, S.RESOLVED),
        (A.RATE, S.RESOLVED, S.RESOLVED),
    ]
    assert {(e.actor_id, e.actor_name) for e in events} == {(w.curator.user_id, w.curator.username)}
    assert events[2].note == "已到现场"
    audit = await m.AuditLog.filter(entity="ResidentRequest", entity_id=str(request.id))
    assert sorted(a.action for a in audit) == sorted(
        [AuditAction.CREATE] + [AuditAction.TRANSITION] * 4
    )
    resolved = next(a for a in audit if a.after.get("event") == "RESOLVE")
    assert (resolved.before["status"], resolved.after["status"]) == ("RESPONDED", "RESOLVED")


ILLEGAL = [
    (action, status)
    for action, sources in requests.TRANSITIONS.items()
    if action is not A.REPORT
    for status in RequestStatus
    if status not in sources
]


def test_the_illegal_list_covers_the_table() -> None:
    legal = sum(len(sources) for a, sources in requests.TRANSITIONS.items() if a is not A.REPORT)
    assert len(ILLEGAL) + legal == (len(requests.TRANSITIONS) - 1) * len(RequestStatus)


@pytest.mark.parametrize(("action", "status"), ILLEGAL, ids=lambda x: x.value)
async def test_every_illegal_transition_is_refused(
    w: World, action: RequestAction, status: RequestStatus
) -> None:
    # given a request in a status the action may not start from
    request = await request_in(w, status)
    # when the action is taken with otherwise valid arguments
    exc = await refused(act(w, action, request))
    # then it is an INVALID_TRANSITION naming both states, and nothing changed
    found = error(exc, "status")
    target = requests.TRANSITIONS[action][next(iter(requests.TRANSITIONS[action]))][0]
    assert found.code is ErrorCode.INVALID_TRANSITION
    assert status.label in found.message and target.label in found.message
    stored = await m.ResidentRequest.get(id=request.id)
    assert (stored.status, stored.version) == (status, request.version)
    assert len(await requests.history(request_id=request.id)) == requests.ORDER.index(status) + 1


@pytest.mark.parametrize("to", [S.RESPONDED, S.RESOLVED])
async def test_reopen_only_to_assigned_or_collected(w: World, to: RequestStatus) -> None:
    request = await request_in(w, S.RESOLVED)
    exc = await refused(act(w, A.REOPEN, request, to=to))
    assert error(exc, "status").code is ErrorCode.INVALID_TRANSITION


async def test_rating_only_once_and_within_range(w: World) -> None:
    request = await request_in(w, S.RESOLVED)
    for bad, code in [
        (0, ErrorCode.VALIDATION),
        (6, ErrorCode.VALIDATION),
        (None, ErrorCode.REQUIRED),
    ]:
        exc = await refused(act(w, A.RATE, request, satisfaction=bad))
        assert codes(exc) == {"satisfaction": code}
    rated = await requests.rate(
        actor=w.curator, request_id=request.id, version=request.version, satisfaction="4"
    )
    again = await refused(act(w, A.RATE, rated))
    assert codes(again) == {"satisfaction": ErrorCode.INVALID_TRANSITION}


async def test_steps_that_need_a_reason(w: World) -> None:
    assigned = await request_in(w, S.ASSIGNED)
    no_note = await refused(
        requests.return_request(
            actor=w.curator, request_id=assigned.id, version=assigned.version, note="  "
        )
    )
    assert codes(no_note) == {"note": ErrorCode.REQUIRED}
    responded = await act(w, A.RESPOND, assigned)
    no_resolution = await refused(
        requests.resolve(
            actor=w.curator, request_id=responded.id, version=responded.version, resolution=""
        )
    )
    assert codes(no_resolution) == {"resolution": ErrorCode.REQUIRED}


async def test_assignment_errors_are_collected(w: World) -> None:
    request = await report(w)
    exc = await refused(
        requests.assign(
            actor=w.curator,
            request_id=request.id,
            version=1,
            assignee_kind="MEMBER",
            assignee_id=10**9,
            due_at=NOW - dt.timedelta(days=1),
        )
    )
    assert codes(exc) == {"assignee_id": ErrorCode.NOT_FOUND, "due_at": ErrorCode.VALIDATION}
    no_committee = await refused(
        requests.assign(actor=w.curator, request_id=request.id, version=1, assignee_kind="业委会")
    )
    assert codes(no_committee) == {"assignee_id": ErrorCode.REQUIRED}
    bad_kind = await refused(
        requests.assign(actor=w.curator, request_id=request.id, version=1, assignee_kind="街道办")
    )
    assert codes(bad_kind) == {"assignee_kind": ErrorCode.VALIDATION}
    member = await requests.assign(
        actor=w.curator,
        request_id=request.id,
        version=1,
        assignee_kind="党员",
        assignee_id=w.member.id,
    )
    assert (member.assignee_member_id, member.assignee_name) == (w.member.id, "张三")


async def test_going_back_undoes_the_later_steps(w: World) -> None:
    responded = await request_in(w, S.RESPONDED)
    returned = await act(w, A.RETURN, responded)
    assert returned.status is S.COLLECTED
    assert (returned.assigned_at, returned.responded_at, returned.assignee_kind) == (
        None,
        None,
        None,
    )
    rated = await act(w, A.RATE, await request_in(w, S.RESOLVED))
    reopened = await act(w, A.REOPEN, rated, note="车位又被占了")
    assert reopened.status is S.ASSIGNED and reopened.assignee_name == "网格员小李"
    assert (reopened.resolved_at, reopened.resolution, reopened.satisfaction) == (None, "", None)
    to_collected = await act(w, A.REOPEN, await request_in(w, S.RESOLVED), to=S.COLLECTED)
    assert to_collected.status is S.COLLECTED and to_collected.assignee_kind is None
    events = await requests.history(request_id=reopened.id)
    assert events[-1].action is A.REOPEN and events[-1].note == "车位又被占了"


async def test_report_errors_and_scope(w: World) -> None:
    exc = await refused(
        requests.report(
            actor=w.curator, data={"compound_id": w.compound.id, "category": "噪音", "channel": ""}
        )
    )
    assert codes(exc) == {
        "category": ErrorCode.VALIDATION,
        "channel": ErrorCode.REQUIRED,
        "description": ErrorCode.REQUIRED,
    }
    outside = await refused(report(w, w.other_compound))
    assert codes(outside) == {"compound_id": ErrorCode.FORBIDDEN}
    theirs = await requests.report(
        actor=w.admin,
        data={
            "compound_id": w.other_compound.id,
            "category": "OTHER",
            "channel": "VISIT",
            "description": "路灯不亮",
        },
    )
    foreign = await refused(act(w, A.ASSIGN, theirs))
    assert codes(foreign) == {"id": ErrorCode.FORBIDDEN}
    reader = await refused(requests.respond(actor=w.reader, request_id=theirs.id, version=1))
    assert codes(reader) == {"": ErrorCode.FORBIDDEN}


async def test_stale_and_concurrent_steps_conflict(w: World) -> None:
    request = await report(w)
    assigned = await act(w, A.ASSIGN, request)
    stale = await refused(act(w, A.RETURN, request))  # still holds version 1
    assert codes(stale) == {"version": ErrorCode.CONFLICT}

    async def attempt(action: RequestAction) -> Any:
        try:
            return await act(w, action, assigned)
        except ServiceError as exc:
            return exc

    results = await asyncio.gather(attempt(A.RESPOND), attempt(A.RETURN))
    winners = [r for r in results if not isinstance(r, ServiceError)]
    losers = [r for r in results if isinstance(r, ServiceError)]
    assert len(winners) == 1 and codes(losers[0]) == {"version": ErrorCode.CONFLICT}
    stored = await m.ResidentRequest.get(id=request.id)
    assert stored.status is winners[0].status and stored.version == 3
    assert len(await requests.history(request_id=request.id)) == 3


async def test_overdue_rule_for_objects_and_queries(w: World) -> None:
    # given one request past its deadline, one within it, and one resolved late
    late = await report(w, collected_at=NOW - dt.timedelta(days=12))
    late = await act(
        w, A.ASSIGN, late, at=NOW - dt.timedelta(days=10), due_at=NOW - dt.timedelta(days=3)
    )
    fine = await act(w, A.ASSIGN, await report(w), due_at=NOW + dt.timedelta(days=3))
    done = await report(w, collected_at=(NOW - dt.timedelta(days=12)).replace(tzinfo=None))
    done = await act(
        w, A.ASSIGN, done, at=NOW - dt.timedelta(days=10), due_at=NOW - dt.timedelta(days=3)
    )
    done = await act(w, A.RESOLVE, await act(w, A.RESPOND, done))
    # then only the first is overdue, by the object rule and by the query alike
    assert [requests.is_overdue(r, NOW) for r in (late, fine, done)] == [True, False, False]
    overdue = m.ResidentRequest.filter(requests.overdue_q(NOW), compound_id=w.compound.id)
    assert await overdue.values_list("id", flat=True) == [late.id]
    # a step may not be dated before the previous one, nor in the future
    exc = await refused(act(w, A.RESPOND, fine, at=NOW - dt.timedelta(days=30)))
    future = await refused(act(w, A.RESPOND, fine, at=NOW + dt.timedelta(days=1)))
    assert codes(exc) == codes(future) == {"at": ErrorCode.VALIDATION}
