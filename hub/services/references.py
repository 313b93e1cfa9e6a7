"""The records a write points at: each must exist, be readable and lie in the writer's scope.

Every foreign key and id list of every write — the curated records (``records``), the
request workflow's assignee, activity participants, a roster's branches and compounds —
is checked here, for the API and the console alike. The answer follows the rule of
the whole API: an id the writer may not read is NOT_FOUND (as if it did not exist);
one it may read but not link to is FORBIDDEN.

Which rows a write may point at is ``hub.access.policy.link_scope`` unless a field
declares otherwise: the writer's write scope for records that lie in a street or
community, its read scope for the district-wide registers (companies, units).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tortoise.expressions import Q
from tortoise.models import Model

from hub.access import Viewer, link_scope, row_scope, write_scope
from hub.access.policy import EVERYTHING
from hub.services.errors import FORBIDDEN, NOT_FOUND, ErrorBag
from hub.services.specs import READ, WRITE


def reference_scope(actor: Viewer, model: type[Model], scope: str | None) -> Q:
    """The rows of ``model`` a reference declared with ``scope`` may name (None: the
    link scope)."""
    if scope == WRITE:
        return write_scope(actor, model)
    if scope == READ:
        return row_scope(actor, model)
    return link_scope(actor, model)


async def check_links(
    actor: Viewer,
    model: type[Model],
    ids: Sequence[int],
    *,
    key: str,
    label: str,
    errors: ErrorBag,
    scope: str | None = None,
) -> bool:
    """Add NOT_FOUND / FORBIDDEN errors on ``key`` for ids that may not be referenced;
    True when every id may be."""
    if not ids:
        return True
    wanted = list(dict.fromkeys(ids))
    readable = await _existing(model, row_scope(actor, model), wanted)
    missing = [i for i in wanted if i not in readable]
    if missing:
        errors.add(key, f"{label}不存在（编号 {_ids(missing)}）(not found)", NOT_FOUND)
    allowed_scope = reference_scope(actor, model, scope)
    present = [i for i in wanted if i in readable]
    if allowed_scope is EVERYTHING or not present:
        return not missing
    allowed = await _existing(model, allowed_scope, present)
    outside = [i for i in present if i not in allowed]
    if outside:
        errors.add(
            key,
            f"{label}不在您的维护范围内（编号 {_ids(outside)}）(outside your scope)",
            FORBIDDEN,
        )
    return not missing and not outside


async def _existing(model: type[Model], scope: Q, ids: list[int]) -> set[int]:
    rows = await model.filter(scope, id__in=ids).values_list("id")
    return {pk for (pk,) in rows}


def _ids(ids: Iterable[int]) -> str:
    return "、".join(str(i) for i in ids)
