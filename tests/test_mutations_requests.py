"""The resident-request workflow through GraphQL: every transition, every illegal one,
the history of events, overdue requests, and each error code."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from hub import models as m
from hub.access import Viewer
from hub.enums import RequestAction, RequestCategory, RequestChannel, RequestStatus
from hub.services import requests as workflow
from hub.services.requests import ORDER, TRANSITIONS
from hub.settings import Settings
from schema.node import decode_global_id
from tests.api_data import execute, gid
from tests.mutation_calls import codes, mutate, ok
from tests.service_world import World, build_world

pytestmark = pytest.mark.usefixtures("orm")

REQUEST_FIELDS = """
  request {
    id version status overdue assigneeKind assigneeName dueAt resolution satisfaction
    assigneeMember { name }
    history { action fromStatus toStatus actorName at note }
  }
  errors { field message code }
"""
REPORT = f"""mutation($input: ReportRequestInput!) {{
  reportRequest(input: $input) {{ {REQUEST_FIELDS} }} }}"""
ASSIGN = f"""mutation($input: AssignRequestInput!) {{
  assignRequest(input: $input) {{ {REQUEST_FIELDS} }} }}"""
RESPOND = f"""mutation($input: RespondToRequestInput!) {{
  respondToRequest(input: $input) {{ {REQUEST_FIELDS} }} }}"""
RESOLVE = f"""mutation($input: ResolveRequestInput!) {{
  resolveRequest(input: $input) {{ {REQUEST_FIELDS} }} }}"""
RATE = f"""mutation($input: RateRequestInput!) {{
  rateRequest(input: $input) {{ {REQUEST_FIELDS} }} }}"""
RETURN = f"""mutation($input: ReturnRequestInput!) {{
  returnRequest(input: $input) {{ {REQUEST_FIELDS} }} }}"""
REOPEN = f"""mutation($input: ReopenRequestInput!) {{
  reopenRequest(input: $input) {{ {REQUEST_FIELDS} }} }}"""
READ = """query($id: ID!) { node(id: $id) { ... on ResidentRequest {
  status version overdue history { action toStatus note } } } }"""

# For each action: its mutation and the extra input it needs to be otherwise valid.
STEPS: dict[RequestAction, tuple[str, dict[str, Any]]] = {
    RequestAction.ASSIGN: (ASSIGN, {"assigneeKind": "GRID_WORKER", "assigneeName": "网格员甲"}),
    RequestAction.RESPOND: (RESPOND, {}),
    RequestAction.RESOLVE: (RESOLVE, {"resolution": "已清理"}),
    RequestAction.RATE: (RATE, {"satisfaction": 5}),
    RequestAction.RETURN: (RETURN, {"note": "请补充楼栋号"}),
    RequestAction.REOPEN: (REOPEN, {}),
}


@pytest.fixture
async def w(unique_name: str) -> World:
    return await build_world(unique_name)


def report_input(w: World, **extra: Any) -> dict[str, Any]:
    return {
        "compoundId": gid(w.compound),
        "category": "PARKING",
        "channel": "WECHAT_GROUP",
        "description": "小区停车位不足，消防通道被占",
        "reporterName": "居民甲",
        "reporterContact": "13900139000",
        **extra,
    }


async def _request_in(w: World, status: RequestStatus, *, rated: bool = False) -> Any:
    """A request brought to ``status`` through the services (the steps are tested below)."""
    request = await workflow.report(
        actor=w.admin,
        data={
            "compound_id": w.compound.id,
            "category": RequestCategory.ENVIRONMENT,
            "channel": RequestChannel.VISIT,
            "description": "楼道堆放杂物",
        },
    )
    path: list[Callable[[Any], Awaitable[Any]]] = [
        lambda r: workflow.assign(
            actor=w.admin,
            request_id=r.id,
            version=r.version,
            assignee_kind="GRID_WORKER",
            assignee_name="网格员甲",
        ),
        lambda r: workflow.respond(actor=w.admin, request_id=r.id, version=r.version),
        lambda r: workflow.resolve(
            actor=w.admin, request_id=r.id, version=r.version, resolution="已清理"
        ),
    ]
    for step in path[: ORDER.index(status)]:
        request = await step(request)
    if rated:
        request = await workflow.rate(
            actor=w.admin, request_id=request.id, version=request.version, satisfaction=4
        )
    return request


async def test_the_whole_workflow_with_its_history(orm: Settings, w: World) -> None:
    # 问题收集: a curator of the compound's community reports a request
    reported = ok(await mutate(orm, REPORT, w.curator, input=report_input(w)))["request"]
    assert reported["status"] == "COLLECTED" and reported["version"] == 1
    request_id = reported["id"]

    # 及时交办: assigned to a member, due in three days
    due = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
    assigned = ok(
        await mutate(
            orm,
            ASSIGN,
            w.curator,
            input={
                "id": request_id,
                "version": 1,
                "assigneeKind": "MEMBER",
                "assigneeId": gid(w.member),
                "dueAt": due,
                "note": "请张三跟进",
            },
        )
    )["request"]
    assert assigned["status"] == "ASSIGNED" and assigned["assigneeMember"] == {"name": "张三"}
    assert assigned["assigneeKind"] == "MEMBER" and assigned["overdue"] is False

    # 快速反应, 有效解决, and the resident's rating
    responded = ok(await mutate(orm, RESPOND, w.curator, input={"id": request_id, "version": 2}))
    assert responded["request"]["status"] == "RESPONDED"
    resolved = ok(
        await mutate(
            orm,
            RESOLVE,
            w.curator,
            input={"id": request_id, "version": 3, "resolution": "划定临时停车区，清出消防通道"},
        )
    )["request"]
    assert resolved["status"] == "RESOLVED" and resolved["resolution"].startswith("划定")
    rated = ok(
        await mutate(
            orm, RATE, w.curator, input={"id": request_id, "version": 4, "satisfaction": 5}
        )
    )["request"]
    assert rated["satisfaction"] == 5 and rated["version"] == 5

    # then the history holds every step, oldest first, with who, when and the note
    history = rated["history"]
    assert [(e["action"], e["fromStatus"], e["toStatus"]) for e in history] == [
        ("REPORT", None, "COLLECTED"),
        ("ASSIGN", "COLLECTED", "ASSIGNED"),
        ("RESPOND", "ASSIGNED", "RESPONDED"),
        ("RESOLVE", "RESPONDED", "RESOLVED"),
        ("RATE", "RESOLVED", "RESOLVED"),
    ]
    assert {e["actorName"] for e in history} == {f"{w.name}-community"}
    assert history[1]["note"] == "请张三跟进"
    times = [dt.datetime.fromisoformat(e["at"]) for e in history]
    assert times == sorted(times)
    pk = _pk(request_id)
    assert await m.AuditLog.filter(entity="ResidentRequest", entity_id=str(pk)).count() == 5


async def test_return_and_reopen(orm: Settings, w: World) -> None:
    # returned: back to COLLECTED, the assignment cleared
    assigned = await _request_in(w, RequestStatus.ASSIGNED)
    back = ok(
        await mutate(
            orm,
            RETURN,
            w.admin,
            input={"id": gid(assigned), "version": assigned.version, "note": "请补充楼栋号"},
        )
    )["request"]
    assert back["status"] == "COLLECTED"
    assert back["assigneeKind"] is None and back["assigneeName"] == ""
    assert back["history"][-1] == {
        **back["history"][-1],
        "action": "RETURN",
        "fromStatus": "ASSIGNED",
        "note": "请补充楼栋号",
    }

    # reopened: back to the assignee (default), or to be assigned anew
    resolved = await _request_in(w, RequestStatus.RESOLVED, rated=True)
    again = ok(
        await mutate(orm, REOPEN, w.admin, input={"id": gid(resolved), "version": resolved.version})
    )["request"]
    assert (
        again["status"] == "ASSIGNED"
        and again["resolution"] == ""
        and again["satisfaction"] is None
    )
    other = await _request_in(w, RequestStatus.RESOLVED)
    fresh = ok(
        await mutate(
            orm,
            REOPEN,
            w.admin,
            input={"id": gid(other), "version": other.version, "to": "COLLECTED"},
        )
    )["request"]
    assert fresh["status"] == "COLLECTED"


def _illegal() -> list[tuple[RequestAction, RequestStatus, bool]]:
    """(action, status, rated) for every move the workflow table does not allow."""
    cases = []
    for action in STEPS:
        for status in RequestStatus:
            for rated in (False, True) if status is RequestStatus.RESOLVED else (False,):
                allowed = status in TRANSITIONS[action]
                if action is RequestAction.RATE and rated:
                    allowed = False  # a request is rated once
                if not allowed:
                    cases.append((action, status, rated))
    return cases


@pytest.mark.parametrize(
    ("action", "status", "rated"),
    _illegal(),
    ids=lambda v: v.value if hasattr(v, "value") else ("rated" if v else ""),
)
async def test_every_illegal_transition_is_refused(
    orm: Settings, w: World, action: RequestAction, status: RequestStatus, rated: bool
) -> None:
    # given a request in ``status``
    request = await _request_in(w, status, rated=rated)
    events = await m.RequestEvent.filter(request_id=request.id).count()
    mutation, extra = STEPS[action]

    # when the action is attempted
    payload = await mutate(
        orm, mutation, w.admin, input={"id": gid(request), "version": request.version, **extra}
    )

    # then it is refused as an invalid transition, and nothing changed
    assert payload["request"] is None
    (error,) = payload["errors"]
    assert error["code"] == "INVALID_TRANSITION" and error["message"]
    assert error["field"] == (
        "satisfaction" if rated and action is RequestAction.RATE else "status"
    )
    after = await m.ResidentRequest.get(id=request.id)
    assert after.status is status and after.version == request.version
    assert await m.RequestEvent.filter(request_id=request.id).count() == events


async def test_reopen_to_a_later_status_is_an_invalid_transition(orm: Settings, w: World) -> None:
    resolved = await _request_in(w, RequestStatus.RESOLVED)
    payload = await mutate(
        orm,
        REOPEN,
        w.admin,
        input={"id": gid(resolved), "version": resolved.version, "to": "RESPONDED"},
    )
    assert codes(payload) == {"status": "INVALID_TRANSITION"}


async def test_overdue_requests_are_flagged_until_resolved(orm: Settings, w: World) -> None:
    # given a request collected five days ago, assigned three days ago, due yesterday
    now = dt.datetime.now(dt.UTC)
    reported = ok(
        await mutate(
            orm,
            REPORT,
            w.admin,
            input=report_input(w, collectedAt=(now - dt.timedelta(days=5)).isoformat()),
        )
    )["request"]
    assigned = ok(
        await mutate(
            orm,
            ASSIGN,
            w.admin,
            input={
                "id": reported["id"],
                "version": 1,
                "assigneeKind": "PROPERTY_COMPANY",
                "assigneeId": gid(w.company),
                "at": (now - dt.timedelta(days=3)).isoformat(),
                "dueAt": (now - dt.timedelta(days=1)).isoformat(),
            },
        )
    )["request"]

    # then it reads as overdue, like the services' rule says
    assert assigned["overdue"] is True and assigned["assigneeName"] == w.company.name
    pk = _pk(reported["id"])
    assert await m.ResidentRequest.filter(workflow.overdue_q(now), id=pk).exists()

    # and once resolved it is not overdue any more
    ok(await mutate(orm, RESPOND, w.admin, input={"id": reported["id"], "version": 2}))
    resolved = ok(
        await mutate(
            orm,
            RESOLVE,
            w.admin,
            input={"id": reported["id"], "version": 3, "resolution": "已修复"},
        )
    )["request"]
    assert resolved["overdue"] is False


async def test_step_errors_carry_their_codes(orm: Settings, w: World) -> None:
    request = await _request_in(w, RequestStatus.COLLECTED)
    rid, version = gid(request), request.version

    # CONFLICT: a stale version
    stale = await mutate(
        orm,
        ASSIGN,
        w.admin,
        input={"id": rid, "version": version + 1, **STEPS[RequestAction.ASSIGN][1]},
    )
    assert codes(stale) == {"version": "CONFLICT"}

    # NOT_FOUND: an assignee id of the wrong type for its kind, and a foreign request id
    wrong = await mutate(
        orm,
        ASSIGN,
        w.admin,
        input={
            "id": rid,
            "version": version,
            "assigneeKind": "MEMBER",
            "assigneeId": gid(w.company),
        },
    )
    assert codes(wrong) == {"assigneeId": "NOT_FOUND"}
    foreign = await mutate(orm, RESPOND, w.admin, input={"id": gid(w.compound), "version": 1})
    assert codes(foreign) == {"id": "NOT_FOUND"}

    # REQUIRED and VALIDATION: a grid worker without a name, a due time before the assignment
    nameless = await mutate(
        orm, ASSIGN, w.admin, input={"id": rid, "version": version, "assigneeKind": "GRID_WORKER"}
    )
    assert codes(nameless) == {"assigneeName": "REQUIRED"}
    early = await mutate(
        orm,
        ASSIGN,
        w.admin,
        input={
            "id": rid,
            "version": version,
            "assigneeKind": "GRID_WORKER",
            "assigneeName": "网格员乙",
            "dueAt": "2001-01-01T00:00:00+08:00",
        },
    )
    assert codes(early) == {"dueAt": "VALIDATION"}

    # a satisfaction out of 1–5, and a resolution left blank
    resolved = await _request_in(w, RequestStatus.RESOLVED)
    six = await mutate(
        orm,
        RATE,
        w.admin,
        input={"id": gid(resolved), "version": resolved.version, "satisfaction": 6},
    )
    assert codes(six) == {"satisfaction": "VALIDATION"}
    responded = await _request_in(w, RequestStatus.RESPONDED)
    blank = await mutate(
        orm,
        RESOLVE,
        w.admin,
        input={"id": gid(responded), "version": responded.version, "resolution": " "},
    )
    assert codes(blank) == {"resolution": "REQUIRED"}
    assert (await m.ResidentRequest.get(id=request.id)).version == version


async def test_who_may_report(orm: Settings, w: World) -> None:
    anonymous = await mutate(orm, REPORT, Viewer(), input=report_input(w))
    reader = await mutate(orm, REPORT, w.reader, input=report_input(w))
    outside = await mutate(
        orm, REPORT, w.curator, input=report_input(w, compoundId=gid(w.other_compound))
    )
    bad_category = await execute(
        orm, REPORT, viewer=w.admin, input=report_input(w, category="NOPE")
    )

    assert codes(anonymous) == {None: "UNAUTHENTICATED"}
    assert codes(reader) == {None: "FORBIDDEN"}
    assert codes(outside) == {"compoundId": "FORBIDDEN"}
    assert bad_category.errors and bad_category.errors[0].extensions == {"code": "BAD_USER_INPUT"}
    assert not await m.ResidentRequest.exists(compound_id=w.other_compound.id)


async def test_history_is_read_through_the_viewers_scope(orm: Settings, w: World) -> None:
    request = await _request_in(w, RequestStatus.RESPONDED)
    result = await execute(orm, READ, viewer=w.reader, id=gid(request))
    assert result.errors is None and result.data is not None
    node = result.data["node"]
    assert [e["action"] for e in node["history"]] == ["REPORT", "ASSIGN", "RESPOND"]
    assert node["status"] == "RESPONDED" and node["overdue"] is False


def _pk(global_id: str) -> int:
    target = decode_global_id(global_id)
    assert target is not None and target[0] is m.ResidentRequest
    return target[1]
