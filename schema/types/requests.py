"""Resident requests (居民诉求) and the steps of their workflow."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Annotated, Any

import strawberry
from strawberry.dataloader import DataLoader

from hub import models as m
from hub.access import row_scope
from hub.services.requests import OVERDUE, is_overdue
from schema.enums import AssigneeKind, RequestAction, RequestCategory, RequestChannel, RequestStatus
from schema.fields import DEADLINE, ROW_LIST, personal, related, to_one
from schema.info import Info
from schema.node import Node, node_type
from schema.types import refs as r
from schema.types.record import RecordFields


def _overdue(root: Any, info: Info) -> bool:
    # The services' one rule (also behind the statistics' overdue count), at request time.
    now = info.context.extra.setdefault("now", dt.datetime.now(dt.UTC))
    return is_overdue(root, now)


def _history_loader(info: Info) -> DataLoader[int, list[Any]]:
    """One query for the histories of every request in the response (per request)."""
    loader = info.context.extra.get("request_history")
    if loader is None:
        viewer = info.context.viewer

        async def load(request_ids: Sequence[int]) -> list[list[Any]]:
            rows = await m.RequestEvent.filter(
                row_scope(viewer, m.RequestEvent), request_id__in=list(request_ids)
            ).order_by("at", "id")
            grouped: dict[int, list[Any]] = defaultdict(list)
            for row in rows:
                grouped[row.request_id].append(row)
            return [grouped[key] for key in request_ids]

        loader = info.context.extra["request_history"] = DataLoader(load_fn=load)
    return loader


async def _history(
    root: Any, info: Info
) -> list[Annotated[RequestEvent, strawberry.lazy("schema.types.requests")]]:
    return await _history_loader(info).load(root.pk)


@node_type(
    m.ResidentRequest,
    description="居民诉求 Resident request: 问题收集 → 及时交办 → 快速反应 → 有效解决",
)
class ResidentRequest(Node, RecordFields):
    category: RequestCategory = strawberry.field(description="类别 Category")
    channel: RequestChannel = strawberry.field(description="来源渠道 Channel")
    status: RequestStatus = strawberry.field(description="状态 Status")
    description: str = strawberry.field(description="诉求内容 What the resident asks")
    reporter_name: str = personal(
        m.ResidentRequest,
        "reporter_name",
        null=False,
        description="反映人 Reporter's name (personal data)",
    )
    reporter_contact: str = personal(
        m.ResidentRequest,
        "reporter_contact",
        null=False,
        description="联系方式 Reporter's contact (personal data)",
    )
    assignee_kind: AssigneeKind | None = strawberry.field(description="承办方类型 Assignee kind")
    assignee_name: str = strawberry.field(description="承办方 Assignee")
    collected_at: dt.datetime = strawberry.field(description="收集时间 Collected at (UTC)")
    assigned_at: dt.datetime | None = strawberry.field(description="交办时间 Assigned at")
    responded_at: dt.datetime | None = strawberry.field(description="反应时间 Responded at")
    resolved_at: dt.datetime | None = strawberry.field(description="解决时间 Resolved at")
    due_at: dt.datetime | None = strawberry.field(description="办理时限 Due at")
    resolution: str = strawberry.field(description="办理结果 Resolution")
    satisfaction: int | None = strawberry.field(description="居民满意度 Satisfaction, 1–5")
    compound = to_one(m.Compound, "compound_id", r.Compound, description="所在小区")
    assignee_member = to_one(
        m.Member, "assignee_member_id", r.Member, description="承办党员 Assigned member"
    )
    assignee_company = to_one(
        m.PropertyCompany,
        "assignee_company_id",
        r.PropertyCompany,
        description="承办物业企业 Assigned property company",
    )
    assignee_committee = to_one(
        m.OwnersCommittee,
        "assignee_committee_id",
        r.OwnersCommittee,
        description="承办业委会 Assigned owners' committee",
    )
    events = related(
        m.ResidentRequest, "events", r.RequestEvent, description="办理过程 Workflow steps"
    )
    overdue: bool = strawberry.field(
        resolver=_overdue,
        metadata={DEADLINE: OVERDUE},
        description="已超期：过了办理时限仍未解决 Past its due time and not resolved",
    )
    history = strawberry.field(
        resolver=_history,
        metadata={ROW_LIST: (m.RequestEvent, "request_id", ("at", "id"))},
        description="办理历史，按时间先后 Every workflow step — who, when, what, note — oldest "
        "first",
    )


@node_type(m.RequestEvent, description="诉求办理步骤 One step of a request: who did what, when")
class RequestEvent(Node, RecordFields):
    action: RequestAction = strawberry.field(description="动作 Action")
    from_status: RequestStatus | None = strawberry.field(description="原状态 Status before")
    to_status: RequestStatus = strawberry.field(description="新状态 Status after")
    actor_name: str = personal(
        m.RequestEvent,
        "actor_name",
        null=False,
        description="经办人 Who did it: an account, a grid worker or the rating resident "
        "(personal data)",
    )
    at: dt.datetime = strawberry.field(description="时间 When (UTC)")
    note: str = strawberry.field(description="备注 Note")
    request = to_one(m.ResidentRequest, "request_id", r.ResidentRequest, description="所属诉求")
