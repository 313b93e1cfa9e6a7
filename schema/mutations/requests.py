"""The resident-request workflow (居民诉求): 问题收集 → 及时交办 → 快速反应 → 有效解决.

One mutation per transition of ``hub.services.requests.TRANSITIONS``; the service
refuses an illegal one with INVALID_TRANSITION (on ``status``), a stale ``version``
with CONFLICT. Each committed step is a RequestEvent (``ResidentRequest.history``) and
is announced to ``requestChanged`` subscribers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import strawberry

from hub import events
from hub import models as m
from hub.access import Viewer
from hub.enums import AssigneeKind as AssigneeKindEnum
from hub.enums import RequestAction as Action
from hub.services import requests as workflow
from hub.services.errors import VALIDATION
from schema.enums import AssigneeKind, RequestCategory, RequestChannel, RequestStatus
from schema.info import Info
from schema.mutations.base import acted_on, client_address, perform, refuse, row_id
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


def note_field() -> Any:
    """A step's optional note (kept in the request's history)."""
    return strawberry.field(default=None, description=NOTE)


def at_field() -> Any:
    """When a step happened, if not now."""
    return strawberry.field(default=None, description=AT)


# Not in the schema itself: the fields every step's input starts with.
@strawberry.input(name="OnRequest")
class OnRequest:
    id: strawberry.ID = strawberry.field(description=ID)
    version: int = strawberry.field(description=VERSION)


@strawberry.input(description="交办 Assign a collected request, with a due time")
class AssignRequestInput(OnRequest):
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
    note: str | None = note_field()
    at: dt.datetime | None = at_field()


@strawberry.input(description="快速反应 The assignee has taken the request up")
class RespondToRequestInput(OnRequest):
    note: str | None = note_field()
    at: dt.datetime | None = at_field()


@strawberry.input(description="有效解决 The request is resolved: say how")
class ResolveRequestInput(OnRequest):
    resolution: str = strawberry.field(description="解决情况 How it was resolved")
    note: str | None = note_field()
    at: dt.datetime | None = at_field()


@strawberry.input(description="居民评价 The resident's satisfaction with a resolved request")
class RateRequestInput(OnRequest):
    satisfaction: int = strawberry.field(description="满意度 1–5 Satisfaction, 1 (low) to 5")
    note: str | None = note_field()
    at: dt.datetime | None = at_field()


@strawberry.input(description="退回 Send an assigned request back for more information")
class ReturnRequestInput(OnRequest):
    note: str = strawberry.field(description="退回原因（必填）Why it is sent back (required)")
    at: dt.datetime | None = at_field()


@strawberry.input(description="重新打开 Reopen a resolved request")
class ReopenRequestInput(OnRequest):
    to: RequestStatus = strawberry.field(
        default=RequestStatus.ASSIGNED,
        description="回到：ASSIGNED（原承办方）或 COLLECTED（重新交办）Back to the assignee "
        "(ASSIGNED) or to be assigned anew (COLLECTED)",
    )
    note: str | None = note_field()
    at: dt.datetime | None = at_field()


# What a step runs: the service call, as the signed-in viewer, for the input, from the
# client's address.
Run = Callable[[Viewer, Any, str], Awaitable[Any]]


@dataclass(frozen=True)
class WorkflowStep:
    """One workflow mutation: its field, its input and payload types, and what it runs."""

    action: Action
    name: str  # the GraphQL field; its payload type is <Name>Payload
    description: str
    input: type
    argument: str  # the description of the ``input`` argument
    result: str  # the description of the payload type
    run: Run


def _report(viewer: Viewer, given: ReportRequestInput, address: str) -> Awaitable[Any]:
    data: dict[str, Any] = {
        "compound_id": row_id(given.compound_id, m.Compound, "compoundId"),
        "category": given.category,
        "channel": given.channel,
        "description": given.description,
    }
    for key in ("reporter_name", "reporter_contact", "collected_at"):
        if getattr(given, key) is not None:
            data[key] = getattr(given, key)
    return workflow.report(actor=viewer, data=data, address=address)


def _on_request(
    service: Callable[..., Awaitable[Any]], extra: Callable[[Any], dict[str, Any]] | None = None
) -> Run:
    """Run a transition on the request the input's ``id`` names, at the ``version`` read;
    ``extra`` gives the service's keywords of that step from the input."""

    def run(viewer: Viewer, given: Any, address: str) -> Awaitable[Any]:
        return service(
            actor=viewer,
            request_id=row_id(given.id, m.ResidentRequest, "id"),
            version=given.version,
            note=given.note or "",
            at=given.at,
            address=address,
            **(extra(given) if extra else {}),
        )

    return run


def _assignment(given: AssignRequestInput) -> dict[str, Any]:
    return {
        "assignee_kind": given.assignee_kind,
        "assignee_id": _assignee_id(given.assignee_kind, given.assignee_id),
        "assignee_name": given.assignee_name or "",
        "due_at": given.due_at,
    }


def _assignee_id(kind: AssigneeKindEnum, global_id: Any) -> int | None:
    if global_id is None:
        return None
    model = ASSIGNEE_MODELS.get(kind)
    if model is None:
        raise refuse(
            "assigneeId", "网格员按姓名交办，不需要编号 (grid workers take a name)", VALIDATION
        )
    return row_id(global_id, model, "assigneeId")


# In the order of the Mutation type's fields.
STEPS = (
    WorkflowStep(
        Action.REPORT,
        "reportRequest",
        "问题收集：登记一条居民诉求（状态 COLLECTED）Report a request",
        ReportRequestInput,
        "诉求 The request",
        "收集诉求的结果 Result of reporting",
        _report,
    ),
    WorkflowStep(
        Action.ASSIGN,
        "assignRequest",
        "及时交办：COLLECTED → ASSIGNED Assign a request",
        AssignRequestInput,
        "交办 The assignment",
        "交办的结果 Result of assigning",
        _on_request(workflow.assign, _assignment),
    ),
    WorkflowStep(
        Action.RESPOND,
        "respondToRequest",
        "快速反应：ASSIGNED → RESPONDED Respond to a request",
        RespondToRequestInput,
        "反应 The response",
        "反应的结果 Result of responding",
        _on_request(workflow.respond),
    ),
    WorkflowStep(
        Action.RESOLVE,
        "resolveRequest",
        "有效解决：RESPONDED → RESOLVED Resolve a request",
        ResolveRequestInput,
        "解决 The resolution",
        "解决的结果 Result of resolving",
        _on_request(workflow.resolve, lambda given: {"resolution": given.resolution}),
    ),
    WorkflowStep(
        Action.RATE,
        "rateRequest",
        "居民评价（1–5，仅一次）Rate a resolved request, once",
        RateRequestInput,
        "评价 The rating",
        "评价的结果 Result of rating",
        _on_request(workflow.rate, lambda given: {"satisfaction": given.satisfaction}),
    ),
    WorkflowStep(
        Action.RETURN,
        "returnRequest",
        "退回补充信息：ASSIGNED/RESPONDED → COLLECTED Send a request back",
        ReturnRequestInput,
        "退回 Sending back",
        "退回的结果 Result of sending back",
        _on_request(workflow.return_request),
    ),
    WorkflowStep(
        Action.REOPEN,
        "reopenRequest",
        "重新打开：RESOLVED → ASSIGNED 或 COLLECTED Reopen a resolved request",
        ReopenRequestInput,
        "重新打开 Reopening",
        "重新打开的结果 Result of reopening",
        _on_request(workflow.reopen, lambda given: {"to": given.to}),
    ),
)


def workflow_mutation(step: WorkflowStep) -> Any:
    """The mutation for one step: run it as the signed-in caller, answer
    ``{ request errors }``, and announce a committed step to ``requestChanged``."""
    payload = make_payload(
        f"{step.name[0].upper()}{step.name[1:]}Payload",
        step.result,
        [("request", ResidentRequest | None, "诉求 The resident request")],
    )

    async def resolve(info: Info, input: Any) -> Any:
        async def work(viewer: Viewer) -> Any:
            return await step.run(viewer, input, client_address(info))

        # The request a step acts on (a report names none yet).
        global_id = getattr(input, "id", None)
        existing = None if global_id is None else acted_on(m.ResidentRequest, global_id)
        request, errors = await perform(info, work, target=existing)
        if request is not None:
            await events.request_changed(request, step.action)
        return payload(request=request, errors=errors)

    resolve.__annotations__ = {
        "info": Info,
        "input": Annotated[step.input, strawberry.argument(description=step.argument)],
        "return": payload,
    }
    return strawberry.mutation(resolver=resolve, name=step.name, description=step.description)


RequestMutation = strawberry.type(
    type(
        "RequestMutation",
        (),
        {"__module__": __name__, **{step.name: workflow_mutation(step) for step in STEPS}},
    )
)
