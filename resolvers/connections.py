"""Resolving connections: GraphQL arguments → a checked listing and page → loaders/SQL.

Schema fields stay thin: they hand their arguments here and wrap the resulting
:class:`~resolvers.queries.Page` in a ``Connection``. Root connections query
directly (one statement per page, one COUNT if ``totalCount`` is selected);
relation connections go through the per-request loaders so that all parents
asking the same question share one statement.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from enum import Enum
from typing import Any

from strawberry.types.unset import UnsetType
from tortoise.expressions import Q
from tortoise.models import Model

from hub.access import Viewer, row_scope
from resolvers.context import ContextInfo
from resolvers.filters import to_q
from resolvers.loaders import RelationCountKey, RelationPageKey
from resolvers.ordering import to_order
from resolvers.pagination import PageRequest, page_request
from resolvers.queries import Listing, Page, Relation, count, fetch_page
from resolvers.search import search_q

PageFn = Callable[[], Awaitable[Page]]
CountFn = Callable[[], Awaitable[int]]

__all__ = ["CountFn", "PageFn", "Relation", "make_listing", "resolve_relation", "resolve_root"]


def make_listing(
    model: type[Model],
    *,
    viewer: Viewer,
    where: Any = None,
    order_by: Any = None,
    search: str | None = None,
) -> Listing:
    """The rows a connection lists: the viewer's row scope, then where / orderBy / search.

    The signature leaves the viewer out: one request has one viewer.
    """
    q = row_scope(viewer, model) & to_q(
        model, where, scope=lambda related: row_scope(viewer, related)
    )
    if search is not None:
        q = q & search_q(model, search)
    order = tuple((name, bool(desc)) for name, desc in to_order(model, order_by))
    signature = json.dumps(
        [_canonical(where), _canonical(order_by), search], sort_keys=True, ensure_ascii=False
    )
    return Listing(model=model, order=order, signature=signature, q=q if q is not None else Q())


def _canonical(value: Any) -> Any:
    """Plain JSON data for an input value, so equal arguments give equal signatures."""
    if isinstance(value, UnsetType) or value is None:
        return None
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.date | Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = ((f.name, _canonical(getattr(value, f.name))) for f in dataclasses.fields(value))
        return {name: item for name, item in items if item is not None}
    return value


def _request(info: ContextInfo, listing: Listing, args: dict[str, Any]) -> PageRequest:
    return page_request(info.context.settings, listing.model, listing.order, **args)


def resolve_root(
    info: ContextInfo,
    model: type[Model],
    *,
    where: Any,
    order_by: Any,
    search: str | None = None,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> tuple[PageFn, CountFn]:
    """Check a root connection's arguments; functions fetching its page and its count.

    Nothing is fetched here: the connection fetches what its selection asks for.
    """
    listing = make_listing(
        model, viewer=info.context.viewer, where=where, order_by=order_by, search=search
    )
    request = _request(
        info, listing, {"first": first, "after": after, "last": last, "before": before}
    )
    return (lambda: fetch_page(listing, request)), (lambda: count(listing))


def resolve_relation(
    info: ContextInfo,
    relation: Relation,
    parent_id: int,
    *,
    where: Any,
    order_by: Any,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> tuple[PageFn, CountFn]:
    """Check a relation connection's arguments; functions loading one parent's page
    and count, batched (through the request's loaders) with every sibling parent's."""
    listing = make_listing(
        relation.target, viewer=info.context.viewer, where=where, order_by=order_by
    )
    request = _request(
        info, listing, {"first": first, "after": after, "last": last, "before": before}
    )
    loaders = info.context.loaders

    def page() -> Awaitable[Page]:
        return loaders.relation_page.load(RelationPageKey(relation, listing, request, parent_id))

    def total() -> Awaitable[int]:
        return loaders.relation_count.load(RelationCountKey(relation, listing, parent_id))

    return page, total
