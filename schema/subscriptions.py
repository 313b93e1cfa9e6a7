"""Live updates over WebSocket (graphql-transport-ws): requestChanged and activityRecorded.

A subscription listens on the broker (hub.broker: in-process, Redis or PostgreSQL
NOTIFY, so a write served by any process reaches it). Messages carry ids only; for each
one the subscriber re-reads the record through its own viewer's row scope and the
scope it asked for (a street, community, compound or branch), and skips what it may
not see. Nested fields resolve through fresh DataLoaders for every event, so an
event never shows what an earlier one cached.

Subscribers with the same view of the data (``Viewer.scope_key``) and the same scope
share one read of the record, and one set of DataLoaders, per event
(hub.broker.fanout): a hundred subscriptions of one reader cost one read, not a
hundred. Before each event the connection's credential is checked again
(resolvers.context.current_viewer): a subscriber logged out, revoked or deactivated
hears nothing more.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator, Hashable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import strawberry
from tortoise.expressions import Q
from tortoise.models import Model

from hub import events
from hub import models as m
from hub.access import Viewer, row_scope
from hub.broker import current_broker
from hub.broker.fanout import EventMemo, event_key
from hub.enums import RequestAction as RequestActionEnum
from hub.events import ActivityChange
from hub.observability import subscription_open
from resolvers.context import current_viewer
from resolvers.errors import ErrorCode, user_error
from resolvers.loaders import DataLoaders
from schema.enums import RequestAction
from schema.info import Info
from schema.node import decode_global_id
from schema.types.requests import ResidentRequest
from schema.types.work import ServiceActivity

# Path from a request / an activity to each kind of scope a subscriber may ask for.
REQUEST_SCOPES: dict[type[Model], str] = {
    m.Street: "compound__community__street_id",
    m.Community: "compound__community_id",
    m.Compound: "compound_id",
    m.Branch: "compound__branches__id",  # the compounds the branch covers
}
ACTIVITY_SCOPES: dict[type[Model], str] = {
    m.Street: "branch__community__street_id",
    m.Community: "branch__community_id",
    m.Compound: "compound_id",
    m.Branch: "branch_id",
}

ActivityChangeKind = strawberry.enum(
    ActivityChange,
    name="ActivityChangeKind",
    description="服务活动的变动 What happened to an activity",
)


@strawberry.type(description="居民诉求的一步办理 A resident request moved through its workflow")
class RequestChange:
    action: RequestAction = strawberry.field(description="动作 The workflow step")
    at: dt.datetime = strawberry.field(description="时间 When it was committed (UTC)")
    request: ResidentRequest = strawberry.field(description="诉求（当前状态）The request now")


@strawberry.type(description="服务活动的变动 A service activity was recorded or changed")
class ActivityRecorded:
    change: ActivityChangeKind = strawberry.field(  # type: ignore[valid-type]
        description="变动 What happened"
    )
    at: dt.datetime = strawberry.field(description="时间 When it was committed (UTC)")
    activity: ServiceActivity = strawberry.field(description="服务活动（当前）The activity now")


SCOPE_ARGUMENT = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="范围：街道、社区、小区或党支部的全局ID；缺省为可见的全部 Only events under "
        "this Street, Community, Compound or Branch (global id); null: all you may see"
    ),
]


def _subscriber(info: Info) -> Viewer:
    viewer: Viewer = info.context.viewer
    if not viewer.is_authenticated:
        raise user_error(
            "请在 connection_init 中提供 Authorization 令牌 (log in: send Authorization in "
            "connection_init)",
            ErrorCode.UNAUTHENTICATED,
        )
    return viewer


@dataclass(frozen=True)
class EventScope:
    """The asked-for scope: the condition, and a key naming it (None: everything)."""

    where: Q
    key: Hashable = None


async def _scope(viewer: Viewer, scope: str | None, paths: Mapping[type[Model], str]) -> EventScope:
    """The condition for the asked-for scope; it must be one the viewer may read."""
    if scope is None:
        return EventScope(Q())
    target = decode_global_id(str(scope))
    if target is None or target[0] not in paths:
        raise user_error(
            "scope 应为街道、社区、小区或党支部的全局ID (scope must be the global id of a "
            "Street, Community, Compound or Branch)",
            ErrorCode.BAD_USER_INPUT,
            field="scope",
        )
    model, pk = target
    if not await model.filter(row_scope(viewer, model), id=pk).exists():
        raise user_error("该范围不存在 (scope not found)", ErrorCode.NOT_FOUND, field="scope")
    return EventScope(Q(**{paths[model]: pk}), (model.__name__, pk))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Delivery:
    """An event's record as one view sees it, and the loaders its fields resolve with."""

    record: Any
    loaders: DataLoaders


# Shared by the subscribers of this process; see hub.broker.fanout.
_deliveries: EventMemo[Delivery | None] = EventMemo()


async def _visible(
    viewer: Viewer, model: type[Model], message: Mapping[str, Any], scope: EventScope
) -> Delivery | None:
    """The record a message names, if this viewer may see it and it lies in scope."""
    pk = message.get("id")
    if not isinstance(pk, int):
        return None

    async def read() -> Delivery | None:
        record = await model.filter(row_scope(viewer, model), scope.where, id=pk).first()
        return None if record is None else Delivery(record, DataLoaders(viewer))

    key = (model.__name__, event_key(message), viewer.scope_key, scope.key)
    return await _deliveries.get(key, read)


def _at(message: Mapping[str, Any]) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(str(message.get("at")))
    except ValueError:
        return dt.datetime.now(dt.UTC)


def _fresh_loaders(info: Info, delivery: Delivery) -> None:
    # A long-lived connection must not serve an event's nested fields from the caches
    # an earlier event filled: each event resolves like a request of its own (the
    # DataLoaders, and what resolvers keep in ``extra``: the history loader, the clock).
    # The loaders are this event's, shared with the subscribers of the same view.
    info.context.loaders = delivery.loaders
    info.context.extra.clear()


@strawberry.type(description="邻聚 Hub 实时更新 Linju Hub: live updates over WebSocket")
class Subscription:
    @strawberry.subscription(
        description="居民诉求的每一步办理（按权限和范围筛选）Every workflow step of the "
        "resident requests you may see, optionally under one scope"
    )
    async def request_changed(
        self, info: Info, scope: SCOPE_ARGUMENT = None
    ) -> AsyncGenerator[RequestChange, None]:
        viewer = _subscriber(info)
        return _request_changes(info, await _scope(viewer, scope, REQUEST_SCOPES))

    @strawberry.subscription(
        description="服务活动的记录与变动（按权限和范围筛选）Activities recorded or changed "
        "that you may see, optionally under one scope"
    )
    async def activity_recorded(
        self, info: Info, scope: SCOPE_ARGUMENT = None
    ) -> AsyncGenerator[ActivityRecorded, None]:
        viewer = _subscriber(info)
        return _activity_changes(info, await _scope(viewer, scope, ACTIVITY_SCOPES))


async def _request_changes(info: Info, scope: EventScope) -> AsyncGenerator[RequestChange, None]:
    async with subscription_open(), current_broker().subscribe(events.REQUESTS) as messages:
        async for message in messages:
            now = await current_viewer(info.context)
            if now is None:
                return  # the credential is no longer valid: the connection is closing
            delivery = await _visible(now, m.ResidentRequest, message, scope)
            if delivery is None:
                continue
            _fresh_loaders(info, delivery)
            yield RequestChange(
                action=RequestActionEnum[message["action"]],
                at=_at(message),
                request=delivery.record,
            )


async def _activity_changes(
    info: Info, scope: EventScope
) -> AsyncGenerator[ActivityRecorded, None]:
    async with subscription_open(), current_broker().subscribe(events.ACTIVITIES) as messages:
        async for message in messages:
            now = await current_viewer(info.context)
            if now is None:
                return
            delivery = await _visible(now, m.ServiceActivity, message, scope)
            if delivery is None:
                continue
            _fresh_loaders(info, delivery)
            yield ActivityRecorded(
                change=ActivityChange(message["change"]),
                at=_at(message),
                activity=delivery.record,
            )
