"""Resident requests (居民诉求): 问题收集 → 及时交办 → 快速反应 → 有效解决.

The workflow is the table ``TRANSITIONS``: for each action, the statuses it may start
from and where it leads. Every step is one transaction: a compare-and-set on the
request's version, the step's time stamp, a RequestEvent naming who did it, and an
audit entry. ``overdue_q`` is the one definition of "overdue" for queries and statistics.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from hub import models as m
from hub.access import Viewer, row_scope
from hub.access.policy import EVERYTHING
from hub.db_routing import PRIMARY
from hub.enums import (
    AssigneeKind,
    AuditAction,
    RequestAction,
    RequestCategory,
    RequestChannel,
    RequestStatus,
)
from hub.lookups import lookup
from hub.services import audit
from hub.services.errors import (
    INVALID_TRANSITION,
    NOT_FOUND,
    REQUIRED,
    VALIDATION,
    ErrorBag,
    ServiceError,
)
from hub.services.fields import (
    Invalid,
    choice,
    datetime,
    fk,
    is_blank,
    parse_all,
    parse_datetime,
    parse_enum,
    parse_id,
    parse_int,
    text,
)
from hub.services.records import (
    check_version,
    compare_and_set,
    ensure_in_scope,
    integrity_as_errors,
    load,
    require_writer,
    validate,
)
from hub.services.references import check_links
from hub.services.specs import WRITE, spec

A, S = RequestAction, RequestStatus

# action → {status it may start from: statuses it may lead to (the first is the default)}
TRANSITIONS: dict[RequestAction, dict[RequestStatus | None, tuple[RequestStatus, ...]]] = {
    A.REPORT: {None: (S.COLLECTED,)},
    A.ASSIGN: {S.COLLECTED: (S.ASSIGNED,)},
    A.RESPOND: {S.ASSIGNED: (S.RESPONDED,)},
    A.RESOLVE: {S.RESPONDED: (S.RESOLVED,)},
    A.RATE: {S.RESOLVED: (S.RESOLVED,)},
    A.RETURN: {S.ASSIGNED: (S.COLLECTED,), S.RESPONDED: (S.COLLECTED,)},
    A.REOPEN: {S.RESOLVED: (S.ASSIGNED, S.COLLECTED)},
}
ORDER = (S.COLLECTED, S.ASSIGNED, S.RESPONDED, S.RESOLVED)
STAMPS = {
    S.COLLECTED: "collected_at",
    S.ASSIGNED: "assigned_at",
    S.RESPONDED: "responded_at",
    S.RESOLVED: "resolved_at",
}
ASSIGNMENT = {
    "assignee_kind": None,
    "assignee_name": "",
    "assignee_member_id": None,
    "assignee_company_id": None,
    "assignee_committee_id": None,
    "due_at": None,
}
# A step may be dated a little ahead of the server's clock (a phone's clock), not more.
CLOCK_SKEW = dt.timedelta(minutes=5)

REQUEST = spec(
    "ResidentRequest",
    m.ResidentRequest,
    fk("compound_id", "小区", m.Compound, required=True, scope=WRITE),
    choice("category", "诉求类别", RequestCategory, required=True),
    choice("channel", "收集渠道", RequestChannel, required=True),
    text("description", "诉求内容", required=True),
    text("reporter_name", "反映人"),
    text("reporter_contact", "联系方式"),
    datetime("collected_at", "收集时间"),
)


def next_status(
    action: RequestAction, current: RequestStatus | None, to: RequestStatus | None = None
) -> RequestStatus:
    """Where ``action`` leads from ``current`` (optionally asking for ``to``), or
    INVALID_TRANSITION naming both states."""
    targets = TRANSITIONS[action].get(current, ())
    wanted = to or (targets[0] if targets else None)
    if wanted is not None and wanted in targets:
        return wanted
    shown = wanted or (next(iter(TRANSITIONS[action].values()))[0])
    sources = "、".join(f"「{s.label}」" for s in TRANSITIONS[action] if s is not None)
    here = f"「{current.label}」" if current else "（新诉求）"
    raise ServiceError.single(
        "status",
        f"当前状态{here}不能转为「{shown.label}」：「{action.label}」只适用于{sources}的诉求"
        f" (cannot {action.value}: {current} → {shown})",
        INVALID_TRANSITION,
    )


# --- the steps --------------------------------------------------------------------------


async def report(*, actor: Viewer | None, data: dict[str, Any], address: str = "") -> Any:
    """问题收集: record a new request (COLLECTED) and its first event."""
    actor = require_writer(actor, m.ResidentRequest, REQUEST.label)
    with integrity_as_errors(REQUEST):
        async with in_transaction(PRIMARY) as conn:
            errors = ErrorBag()
            values = parse_all(REQUEST.fields, data, errors, creating=True)
            now = _now()
            when = values.pop("collected_at", None) or now
            if when > now + CLOCK_SKEW:
                errors.add("collected_at", "收集时间不能晚于现在 (in the future)")
            await validate(actor, REQUEST, values, values, set(values), errors, conn)
            errors.raise_if_any()
            target = next_status(A.REPORT, None)
            request = await m.ResidentRequest.create(**values, status=target, collected_at=when)
            await ensure_in_scope(actor, REQUEST, request.id)
            await _event(request.id, A.REPORT, None, target, actor, when, "")
            await audit.record(
                actor=actor,
                action=AuditAction.CREATE,
                entity=REQUEST.name,
                entity_id=request.id,
                after=audit.snapshot(request),
                address=address,
            )
            return request


async def assign(
    *,
    actor: Viewer | None,
    request_id: int,
    version: int,
    assignee_kind: AssigneeKind | str | None,
    assignee_id: int | None = None,
    assignee_name: str = "",
    due_at: dt.datetime | str | None = None,
    note: str = "",
    at: dt.datetime | None = None,
    address: str = "",
) -> Any:
    """及时交办: COLLECTED → ASSIGNED, to a member, a grid worker, the property company or the
    owners' committee (the last two default to the compound's own)."""

    async def prepare(request: Any, when: dt.datetime, errors: ErrorBag) -> dict[str, Any]:
        columns: dict[str, Any] = dict(ASSIGNMENT)
        if is_blank(assignee_kind):
            errors.add("assignee_kind", "交办对象类型不能为空 (required)", REQUIRED)
            return columns
        try:
            kind = cast(AssigneeKind, parse_enum(assignee_kind, AssigneeKind))
        except Invalid as exc:
            errors.add("assignee_kind", f"交办对象类型：{exc.message}")
            return columns
        columns["assignee_kind"] = kind
        name = (assignee_name or "").strip()[:100]
        columns["assignee_name"] = name
        columns.update(await _assignee(actor, kind, request, assignee_id, name, errors))
        if due_at is not None and due_at != "":
            try:
                deadline = parse_datetime(due_at)
            except Invalid as exc:
                errors.add("due_at", f"办结时限：{exc.message}")
            else:
                if deadline <= when:
                    errors.add("due_at", "办结时限须晚于交办时间 (due before assignment)")
                columns["due_at"] = deadline
        return columns

    return await _step(actor, request_id, version, A.ASSIGN, note, at, address, prepare)


async def respond(
    *,
    actor: Viewer | None,
    request_id: int,
    version: int,
    note: str = "",
    at: dt.datetime | None = None,
    address: str = "",
) -> Any:
    """快速反应: ASSIGNED → RESPONDED."""
    return await _step(actor, request_id, version, A.RESPOND, note, at, address)


async def resolve(
    *,
    actor: Viewer | None,
    request_id: int,
    version: int,
    resolution: str,
    note: str = "",
    at: dt.datetime | None = None,
    address: str = "",
) -> Any:
    """有效解决: RESPONDED → RESOLVED, saying how."""

    async def prepare(request: Any, when: dt.datetime, errors: ErrorBag) -> dict[str, Any]:
        if is_blank(resolution):
            errors.add("resolution", "解决情况不能为空 (required)", REQUIRED)
        return {"resolution": (resolution or "").strip()}

    return await _step(actor, request_id, version, A.RESOLVE, note, at, address, prepare)


async def rate(
    *,
    actor: Viewer | None,
    request_id: int,
    version: int,
    satisfaction: int | str | None,
    note: str = "",
    at: dt.datetime | None = None,
    address: str = "",
) -> Any:
    """The resident's satisfaction (1–5) with a resolved request, once."""

    async def prepare(request: Any, when: dt.datetime, errors: ErrorBag) -> dict[str, Any]:
        if request.satisfaction is not None:
            raise ServiceError.single(
                "satisfaction", "该诉求已评价，不能重复评价 (already rated)", INVALID_TRANSITION
            )
        if is_blank(satisfaction):
            errors.add("satisfaction", "满意度不能为空 (required)", REQUIRED)
            return {}
        try:
            return {"satisfaction": parse_int(satisfaction, min_value=1, max_value=5)}
        except Invalid as exc:
            errors.add("satisfaction", f"满意度：{exc.message}")
            return {}

    return await _step(actor, request_id, version, A.RATE, note, at, address, prepare)


async def return_request(
    *,
    actor: Viewer | None,
    request_id: int,
    version: int,
    note: str,
    at: dt.datetime | None = None,
    address: str = "",
) -> Any:
    """退回: ASSIGNED or RESPONDED → COLLECTED, sent back for more information (note required)."""

    async def prepare(request: Any, when: dt.datetime, errors: ErrorBag) -> dict[str, Any]:
        if is_blank(note):
            errors.add("note", "退回须说明原因 (a note is required)", REQUIRED)
        return {}

    return await _step(actor, request_id, version, A.RETURN, note, at, address, prepare)


async def reopen(
    *,
    actor: Viewer | None,
    request_id: int,
    version: int,
    to: RequestStatus = RequestStatus.ASSIGNED,
    note: str = "",
    at: dt.datetime | None = None,
    address: str = "",
) -> Any:
    """重新打开: RESOLVED → ASSIGNED (back to the assignee) or COLLECTED (to assign anew)."""
    return await _step(actor, request_id, version, A.REOPEN, note, at, address, to=to)


# --- reading -------------------------------------------------------------------------------


async def history(*, request_id: int, actor: Viewer | None = None) -> list[Any]:
    """The request's events, oldest first (checked against ``actor``'s read scope if given)."""
    if actor is not None:
        scope = row_scope(actor, m.ResidentRequest)
        if (
            scope is not EVERYTHING
            and not await m.ResidentRequest.filter(scope, id=request_id).exists()
        ):
            # Outside what the actor may read: as if it did not exist.
            raise ServiceError.single(
                "id", f"诉求不存在（编号 {request_id}）(not found)", NOT_FOUND
            )
    return await m.RequestEvent.filter(request_id=request_id).order_by("at", "id")


@dataclass(frozen=True)
class Deadline:
    """A record is overdue when its ``due`` time has passed and its ``status`` is not
    ``done``. As data, so the compiled read path can write the same rule in SQL."""

    due: str
    status: str
    done: RequestStatus


OVERDUE = Deadline(due="due_at", status="status", done=RequestStatus.RESOLVED)


def overdue_q(now: dt.datetime) -> Q:
    """Requests past their deadline and not resolved: ``ResidentRequest.filter(overdue_q(now))``."""
    return lookup(f"{OVERDUE.due}__lt", now) & ~lookup(OVERDUE.status, OVERDUE.done)


def is_overdue(request: Any, now: dt.datetime) -> bool:
    """The same rule as ``overdue_q``, for a loaded request."""
    due = getattr(request, OVERDUE.due)
    return due is not None and due < now and getattr(request, OVERDUE.status) is not OVERDUE.done


# --- machinery -------------------------------------------------------------------------------

Prepare = Callable[[Any, dt.datetime, ErrorBag], Awaitable[dict[str, Any]]]


async def _step(
    actor: Viewer | None,
    request_id: int,
    version: int,
    action: RequestAction,
    note: str,
    at: dt.datetime | None,
    address: str,
    prepare: Prepare | None = None,
    *,
    to: RequestStatus | None = None,
) -> Any:
    actor = require_writer(actor, m.ResidentRequest, REQUEST.label)
    with integrity_as_errors(REQUEST):
        async with in_transaction(PRIMARY):
            request = await load(actor, REQUEST, request_id)
            check_version(REQUEST, request, version)
            target = next_status(action, request.status, to)
            errors = ErrorBag()
            when = await _step_time(request, at, errors)
            columns = _effects(request.status, target, when)
            if prepare is not None:
                columns.update(await prepare(request, when, errors))
            errors.raise_if_any()
            before = audit.snapshot(request)
            await compare_and_set(REQUEST, request_id, version, columns)
            await _event(request_id, action, request.status, target, actor, when, note)
            after = await m.ResidentRequest.get(id=request_id)
            await audit.record(
                actor=actor,
                action=AuditAction.TRANSITION,
                entity=REQUEST.name,
                entity_id=request_id,
                before=before,
                after={"event": action.value, **audit.snapshot(after)},
                address=address,
            )
            return after


def _effects(current: RequestStatus, target: RequestStatus, when: dt.datetime) -> dict[str, Any]:
    """Time stamps (and cleared fields) for a move from ``current`` to ``target``."""
    columns: dict[str, Any] = {"status": target}
    if target is not S.COLLECTED and target is not current:
        columns[STAMPS[target]] = when
    # Going back undoes the later steps: their stamps, and a resolution and its rating.
    for later in ORDER[ORDER.index(target) + 1 :]:
        columns[STAMPS[later]] = None
    if current is S.RESOLVED and target is not S.RESOLVED:
        columns.update(resolution="", satisfaction=None)
    if target is S.COLLECTED:
        columns.update(ASSIGNMENT)
    return columns


async def _step_time(request: Any, at: dt.datetime | None, errors: ErrorBag) -> dt.datetime:
    now = when = _now()
    if at is not None:
        try:
            when = parse_datetime(at)
        except Invalid as exc:
            errors.add("at", f"办理时间：{exc.message}")
    if when > now + CLOCK_SKEW:
        errors.add("at", "办理时间不能晚于现在 (in the future)")
    last = await m.RequestEvent.filter(request_id=request.id).order_by("-at").first()
    if last is not None and when < last.at:
        errors.add("at", "办理时间不能早于上一步 (before the previous step)")
    return when


async def _assignee(
    actor: Viewer | None,
    kind: AssigneeKind,
    request: Any,
    raw_id: Any,
    name: str,
    errors: ErrorBag,
) -> dict[str, Any]:
    """The FK and display name of the assignee; errors on ``assignee_id``/``assignee_name``.

    The assignee must be one the actor may link to (hub.services.references): a member of
    its street or community, a company it may read, the compound's own committee."""
    assert actor is not None
    if kind is AssigneeKind.GRID_WORKER:
        if not name:
            errors.add("assignee_name", "请填写网格员姓名 (grid worker's name required)", REQUIRED)
        return {}
    target_id: int | None = None
    if not is_blank(raw_id):
        try:
            target_id = parse_id(raw_id)
        except Invalid as exc:
            errors.add("assignee_id", exc.message)
            return {}
    compound = await m.Compound.get(id=request.compound_id)
    if kind is AssigneeKind.MEMBER:
        if target_id is None:
            errors.add("assignee_id", "请选择交办的党员 (member required)", REQUIRED)
            return {}
        if not await _linkable(actor, m.Member, target_id, "党员", errors):
            return {}
        member = await m.Member.get(id=target_id)
        return {"assignee_member_id": member.id, "assignee_name": name or member.name}
    if kind is AssigneeKind.PROPERTY_COMPANY:
        target_id = target_id or compound.property_company_id
        if not target_id:
            errors.add(
                "assignee_id", "请指定物业企业：该小区未登记物业企业 (company required)", REQUIRED
            )
            return {}
        if not await _linkable(actor, m.PropertyCompany, target_id, "物业企业", errors):
            return {}
        company = await m.PropertyCompany.get(id=target_id)
        return {"assignee_company_id": company.id, "assignee_name": name or company.name}
    if target_id is None:
        committee = await m.OwnersCommittee.get_or_none(compound_id=compound.id)
        if committee is None:
            errors.add("assignee_id", "请指定业委会：该小区未成立业委会 (committee)", REQUIRED)
            return {}
        target_id = committee.id
    if not await _linkable(actor, m.OwnersCommittee, target_id, "业委会", errors):
        return {}
    committee = await m.OwnersCommittee.get(id=target_id)
    if committee.compound_id != compound.id:
        errors.add("assignee_id", "业委会须是诉求所在小区的业委会 (another compound's)", VALIDATION)
    shown = name or committee.director_name or f"{compound.name}业委会"
    return {"assignee_committee_id": committee.id, "assignee_name": shown}


async def _linkable(
    actor: Viewer, model: type[Any], target_id: int, label: str, errors: ErrorBag
) -> bool:
    return await check_links(
        actor, model, [target_id], key="assignee_id", label=label, errors=errors
    )


async def _event(
    request_id: int,
    action: RequestAction,
    source: RequestStatus | None,
    target: RequestStatus,
    actor: Viewer,
    when: dt.datetime,
    note: str,
) -> Any:
    return await m.RequestEvent.create(
        request_id=request_id,
        action=action,
        from_status=source,
        to_status=target,
        actor_id=actor.user_id,
        actor_name=actor.username[:50],
        at=when,
        note=(note or "").strip(),
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
