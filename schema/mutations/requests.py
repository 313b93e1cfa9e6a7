"""The resident-request workflow (居民诉求): 问题收集 → 及时交办 → 快速反应 → 有效解决.

One mutation per transition of ``hub.services.requests.TRANSITIONS``; the service
refuses an illegal one with INVALID_TRANSITION (on ``status``), a stale ``version``
with CONFLICT. Each committed step is a RequestEvent (``ResidentRequest.history``) and
is announced to ``requestChanged`` subscribers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from hub import events
from hub import models as m
from hub.access import Viewer
from hub.enums import AssigneeKind as AssigneeKindEnum
from hub.enums import RequestAction as Action
from hub.services import requests as workflow
from hub.services.errors import VALIDATION
from schema.enums import AssigneeKind, RequestCategory, RequestChannel, RequestStatus
from schema.mutations.base import client_address, perform, refuse, row_id
from schema.mutations.crud import make_payload
from schema.types.requests import ResidentRequest

NOTE = "备注 Note for this step (kept in the request's history)"
AT = "办理时间，缺省为现在 When the step happened (default: now)"
ID = "诉求的全局ID Global id of the request"
VERSION = "读取时的版本号 The version you read: a stale one is refused with CONFLICT"

# Which record an assignee's global id must name, by kind (grid workers are people
# without a record: a name is enough).
ASSIGNEE_MODELS = {
    AssigneeKindEnum.MEMBER: m.Member,
    AssigneeKindEnum.PROPERTY_COMPANY: m.PropertyCompany,
    AssigneeKindEnum.OWNERS_COMMITTEE: m.OwnersCommittee,
}


def _payload(name: str, description: str) -> Any:
    return make_payload(
        name, description, [("request", ResidentRequest | None, "诉求 The resident request")]
    )


ReportRequestPayload = _payload("ReportRequestPayload", "收集诉求的结果 Result of reporting")
AssignRequestPayload = _payload("AssignRequestPayload", "交办的结果 Result of assigning")
RespondToRequestPayload = _payload("RespondToRequestPayload", "反应的结果 Result of responding")
ResolveRequestPayload = _payload("ResolveRequestPayload", "解决的结果 Result of resolving")
RateRequestPayload = _payload("RateRequestPayload", "评价的结果 Result of rating")
ReturnRequestPayload = _payload("ReturnRequestPayload", "退回的结果 Result of sending back")
ReopenRequestPayload = _payload("ReopenRequestPayload", "重新打开的结果 Result of reopening")


@strawberry.input(description="收集一条居民诉求 A resident's request, as collected")
class ReportRequestInput:
    compound_id: strawberry.ID = strawberry.field(
        description="小区的全局ID Global id of the compound"
    )
    category: RequestCategory = strawberry.field(description="诉求类别 Category")
    channel: RequestChannel = strawberry.field(description="收集渠道 Channel it came through")
    description: str = strawberry.field(description="诉求内容 What the resident asks")
    reporter_name: str | None = strawberry.field(default=None, description="反映人 Reporter")
    reporter_contact: str | None = strawberry.field(
        default=None, description="联系方式 Reporter's contact (personal data)"
    )
    collected_at: dt.datetime | None = strawberry.field(
        default=None, description="收集时间，缺省为现在 When it was collected (default: now)"
    )


@strawberry.input(description="交办 Assign a collected request, with a due time")
class AssignRequestInput:
    id: strawberry.ID = strawberry.field(description=ID)
    version: int = strawberry.field(description=VERSION)
    assignee_kind: AssigneeKind = strawberry.field(description="承办方类型 Kind of assignee")
    assignee_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="承办党员、物业企业或业委会的全局ID（物业、业委会缺省为本小区的）Global id "
        "of the Member, PropertyCompany or OwnersCommittee (default: the compound's own)",
    )
    assignee_name: str | None = strawberry.field(
        default=None,
        description="承办人姓名（网格员必填）Assignee's name (required for grid workers)",
    )
    due_at: dt.datetime | None = strawberry.field(
        default=None, description="办结时限 Due time: past it, the request is overdue"
    )
    note: str | None = strawberry.field(default=None, description=NOTE)
    at: dt.datetime | None = strawberry.field(default=None, description=AT)


@strawberry.input(description="快速反应 The assignee has taken the request up")
class RespondToRequestInput:
    id: strawberry.ID = strawberry.field(description=ID)
    version: int = strawberry.field(description=VERSION)
    note: str | None = strawberry.field(default=None, description=NOTE)
    at: dt.datetime | None = strawberry.field(default=None, description=AT)


@strawberry.input(description="有效解决 The request is resolved: say how")
class ResolveRequestInput:
    id: strawberry.ID = strawberry.field(description=ID)
    version: int = strawberry.field(description=VERSION)
    resolution: str = strawberry.field(description="解决情况 How it was resolved")
    note: str | None = strawberry.field(default=None, description=NOTE)
    at: dt.datetime | None = strawberry.field(default=None, description=AT)


@strawberry.input(description="居民评价 The resident's satisfaction with a resolved request")
class RateRequestInput:
    id: strawberry.ID = strawberry.field(description=ID)
    version: int = strawberry.field(description=VERSION)
    satisfaction: int = strawberry.field(description="满意度 1–5 Satisfaction, 1 (low) to 5")
    note: str | None = strawberry.field(default=None, description=NOTE)
    at: dt.datetime | None = strawberry.field(default=None, description=AT)


@strawberry.input(description="退回 Send an assigned request back for more information")
class ReturnRequestInput:
    id: strawberry.ID = strawberry.field(description=ID)
    version: int = strawberry.field(description=VERSION)
    note: str = strawberry.field(description="退回原因（必填）Why it is sent back (required)")
    at: dt.datetime | None = strawberry.field(default=None, description=AT)


@strawberry.input(description="重新打开 Reopen a resolved request")
class ReopenRequestInput:
    id: strawberry.ID = strawberry.field(description=ID)
    version: int = strawberry.field(description=VERSION)
    to: RequestStatus = strawberry.field(
        default=RequestStatus.ASSIGNED,
        description="回到：ASSIGNED（原承办方）或 COLLECTED（重新交办）Back to the assignee "
        "(ASSIGNED) or to be assigned anew (COLLECTED)",
    )
    note: str | None = strawberry.field(default=None, description=NOTE)
    at: dt.datetime | None = strawberry.field(default=None, description=AT)


Step = Callable[[Viewer, int, str], Awaitable[Any]]


async def _step(info: Info, global_id: Any, action: Action, step: Step) -> tuple[Any, list[Any]]:
    """Run one transition on the request ``global_id`` names, and announce it."""

    async def work(viewer: Viewer) -> Any:
        pk = row_id(global_id, m.ResidentRequest, "id")
        return await step(viewer, pk, client_address(info))

    target = _target(global_id)
    request, errors = await perform(info, work, target=target)
    if request is not None:
        await events.request_changed(request, action)
    return request, errors


def _target(global_id: Any) -> tuple[Any, int] | None:
    try:
        return m.ResidentRequest, row_id(global_id, m.ResidentRequest, "id")
    except Exception:
        return None


def _assignee_id(kind: AssigneeKindEnum, global_id: Any) -> int | None:
    if global_id is None:
        return None
    model = ASSIGNEE_MODELS.get(kind)
    if model is None:
        raise refuse(
            "assigneeId", "网格员按姓名交办，不需要编号 (grid workers take a name)", VALIDATION
        )
    return row_id(global_id, model, "assigneeId")


def _input(description: str) -> Any:
    return strawberry.argument(description=description)


@strawberry.type
class RequestMutation:
    @strawberry.mutation(description="问题收集：登记一条居民诉求（状态 COLLECTED）Report a request")
    async def report_request(
        self, info: Info, input: Annotated[ReportRequestInput, _input("诉求 The request")]
    ) -> ReportRequestPayload:  # type: ignore[valid-type]
        async def work(viewer: Viewer) -> Any:
            data: dict[str, Any] = {
                "compound_id": row_id(input.compound_id, m.Compound, "compoundId"),
                "category": input.category,
                "channel": input.channel,
                "description": input.description,
            }
            for key in ("reporter_name", "reporter_contact", "collected_at"):
                if getattr(input, key) is not None:
                    data[key] = getattr(input, key)
            return await workflow.report(actor=viewer, data=data, address=client_address(info))

        request, errors = await perform(info, work)
        if request is not None:
            await events.request_changed(request, Action.REPORT)
        return ReportRequestPayload(request=request, errors=errors)

    @strawberry.mutation(description="及时交办：COLLECTED → ASSIGNED Assign a request")
    async def assign_request(
        self, info: Info, input: Annotated[AssignRequestInput, _input("交办 The assignment")]
    ) -> AssignRequestPayload:  # type: ignore[valid-type]
        async def step(viewer: Viewer, pk: int, address: str) -> Any:
            return await workflow.assign(
                actor=viewer,
                request_id=pk,
                version=input.version,
                assignee_kind=input.assignee_kind,
                assignee_id=_assignee_id(input.assignee_kind, input.assignee_id),
                assignee_name=input.assignee_name or "",
                due_at=input.due_at,
                note=input.note or "",
                at=input.at,
                address=address,
            )

        request, errors = await _step(info, input.id, Action.ASSIGN, step)
        return AssignRequestPayload(request=request, errors=errors)

    @strawberry.mutation(description="快速反应：ASSIGNED → RESPONDED Respond to a request")
    async def respond_to_request(
        self, info: Info, input: Annotated[RespondToRequestInput, _input("反应 The response")]
    ) -> RespondToRequestPayload:  # type: ignore[valid-type]
        async def step(viewer: Viewer, pk: int, address: str) -> Any:
            return await workflow.respond(
                actor=viewer,
                request_id=pk,
                version=input.version,
                note=input.note or "",
                at=input.at,
                address=address,
            )

        request, errors = await _step(info, input.id, Action.RESPOND, step)
        return RespondToRequestPayload(request=request, errors=errors)

    @strawberry.mutation(description="有效解决：RESPONDED → RESOLVED Resolve a request")
    async def resolve_request(
        self, info: Info, input: Annotated[ResolveRequestInput, _input("解决 The resolution")]
    ) -> ResolveRequestPayload:  # type: ignore[valid-type]
        async def step(viewer: Viewer, pk: int, address: str) -> Any:
            return await workflow.resolve(
                actor=viewer,
                request_id=pk,
                version=input.version,
                resolution=input.resolution,
                note=input.note or "",
                at=input.at,
                address=address,
            )

        request, errors = await _step(info, input.id, Action.RESOLVE, step)
        return ResolveRequestPayload(request=request, errors=errors)

    @strawberry.mutation(description="居民评价（1–5，仅一次）Rate a resolved request, once")
    async def rate_request(
        self, info: Info, input: Annotated[RateRequestInput, _input("评价 The rating")]
    ) -> RateRequestPayload:  # type: ignore[valid-type]
        async def step(viewer: Viewer, pk: int, address: str) -> Any:
            return await workflow.rate(
                actor=viewer,
                request_id=pk,
                version=input.version,
                satisfaction=input.satisfaction,
                note=input.note or "",
                at=input.at,
                address=address,
            )

        request, errors = await _step(info, input.id, Action.RATE, step)
        return RateRequestPayload(request=request, errors=errors)

    @strawberry.mutation(
        description="退回补充信息：ASSIGNED/RESPONDED → COLLECTED Send a request back"
    )
    async def return_request(
        self, info: Info, input: Annotated[ReturnRequestInput, _input("退回 Sending back")]
    ) -> ReturnRequestPayload:  # type: ignore[valid-type]
        async def step(viewer: Viewer, pk: int, address: str) -> Any:
            return await workflow.return_request(
                actor=viewer,
                request_id=pk,
                version=input.version,
                note=input.note,
                at=input.at,
                address=address,
            )

        request, errors = await _step(info, input.id, Action.RETURN, step)
        return ReturnRequestPayload(request=request, errors=errors)

    @strawberry.mutation(
        description="重新打开：RESOLVED → ASSIGNED 或 COLLECTED Reopen a resolved request"
    )
    async def reopen_request(
        self, info: Info, input: Annotated[ReopenRequestInput, _input("重新打开 Reopening")]
    ) -> ReopenRequestPayload:  # type: ignore[valid-type]
        async def step(viewer: Viewer, pk: int, address: str) -> Any:
            return await workflow.reopen(
                actor=viewer,
                request_id=pk,
                version=input.version,
                to=input.to,
                note=input.note or "",
                at=input.at,
                address=address,
            )

        request, errors = await _step(info, input.id, Action.REOPEN, step)
        return ReopenRequestPayload(request=request, errors=errors)
