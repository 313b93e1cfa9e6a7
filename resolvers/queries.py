"""Connection SQL: one page of a root list, or one page per parent in one statement.

Filters come in as Tortoise ``Q`` objects, so Tortoise builds the WHERE clause
(and any joins a filter needs); this module then takes the built query and sets
the ordering, the limit and, for relations, a window function:

    SELECT * FROM (
        SELECT member.*, ROW_NUMBER() OVER (PARTITION BY branch_id ORDER BY ...) AS _rn
        FROM member WHERE branch_id IN (...) AND <where> AND <cursor>
    ) WHERE _rn <= :limit + 1

so ``branches { members(first: 20) }`` costs one statement for all branches on
the page. Many-to-many relations partition by the through table's parent column.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pypika_tortoise import Order, Table
from pypika_tortoise.analytics import RowNumber
from pypika_tortoise.functions import Count
from pypika_tortoise.queries import QueryBuilder
from pypika_tortoise.terms import Field as SqlField
from pypika_tortoise.terms import Term
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.fields.relational import BackwardFKRelation, ManyToManyFieldInstance
from tortoise.models import Model

from hub.orm_sql import built_unordered, read_connection
from resolvers.pagination import (
    OrderSpec,
    PageRequest,
    cursor_values,
    encode_cursor,
    keyset_q,
    ordering_tag,
)

# Aliases of the columns the window query adds; no model has such a field.
PARENT = "_parent"
ROW_NUMBER = "_rn"
RELATION = "_rel"
ROW_KEY = "_row"  # the counted row's key, in count_related


@dataclass(frozen=True)
class Listing:
    """What a connection lists: a model, a filter and an ordering.

    ``signature`` is the canonical text of the arguments that built ``q``; two
    listings with the same signature select the same rows, so their loads batch.
    """

    model: type[Model]
    order: OrderSpec
    signature: str
    q: Q = field(compare=False, hash=False, default_factory=Q)


@dataclass
class Page:
    """One page of rows in the connection's order; cursors are made on demand."""

    rows: list[Model]
    has_next: bool
    has_previous: bool
    tag: str = ""
    order: OrderSpec = ()

    def cursor(self, row: Model) -> str:
        """The opaque cursor of one of this page's rows."""
        return encode_cursor(self.tag, cursor_values(row, self.order))


@dataclass(frozen=True)
class Relation:
    """A to-many relation, through a foreign key or a many-to-many table."""

    parent: type[Model]
    name: str
    target: type[Model]
    fk: str | None = None  # target's field holding the parent id (e.g. "branch_id")
    through: str | None = None  # many-to-many table
    through_parent: str | None = None  # its column holding the parent id
    through_target: str | None = None  # its column holding the target id

    @classmethod
    def of(cls, parent: type[Model], name: str) -> Relation:
        """Read the relation ``parent.name`` from the Tortoise model."""
        meta_field = parent._meta.fields_map[name]
        if isinstance(meta_field, ManyToManyFieldInstance):
            return cls(
                parent=parent,
                name=name,
                target=meta_field.related_model,
                through=meta_field.through,
                through_parent=meta_field.backward_key,
                through_target=meta_field.forward_key,
            )
        if isinstance(meta_field, BackwardFKRelation):
            return cls(
                parent=parent,
                name=name,
                target=meta_field.related_model,
                fk=meta_field.relation_field,
            )
        raise TypeError(f"{parent.__name__}.{name} is not a to-many relation")


# --- root connections -----------------------------------------------------------------


async def fetch_page(listing: Listing, request: PageRequest) -> Page:
    """One page of a root connection: one statement."""
    db, query = _select(listing.model, _page_filter(listing, request))
    table = listing.model._meta.basetable
    for term, order in _order_terms(listing, table, reverse=request.backward):
        query = query.orderby(term, order=order)
    query = query.limit(request.limit + 1)
    rows = await _rows(db, listing.model, query)
    return _page(rows, listing, request)


async def count(listing: Listing) -> int:
    """How many rows the listing holds, whatever the page: one COUNT."""
    return await listing.model.filter(listing.q).count()


# --- relation connections -------------------------------------------------------------


async def fetch_related_pages(
    relation: Relation, listing: Listing, request: PageRequest, parent_ids: Iterable[int]
) -> dict[int, Page]:
    """The same page of ``relation`` for every parent, in one statement."""
    ids = sorted(set(parent_ids))
    model = listing.model
    db, inner = _select(model, _page_filter(listing, request))
    inner, parent_column = _restrict_to_parents(relation, inner, ids)
    window = RowNumber().over(parent_column)
    for term, order in _order_terms(listing, model._meta.basetable, reverse=request.backward):
        window = window.orderby(term, order=order)
    inner = inner.select(parent_column.as_(PARENT), window.as_(ROW_NUMBER))
    outer = (
        db.query_class.from_(inner)
        .select("*")
        .where(SqlField(ROW_NUMBER) <= request.limit + 1)
        .orderby(SqlField(PARENT))
        .orderby(SqlField(ROW_NUMBER))
    )
    grouped: dict[int, list[Model]] = defaultdict(list)
    for row in await _rows(db, model, outer, (PARENT,)):
        grouped[getattr(row, PARENT)].append(row)
    return {pid: _page(grouped.get(pid, []), listing, request) for pid in ids}


async def count_related(
    relation: Relation, listing: Listing, parent_ids: Iterable[int]
) -> dict[int, int]:
    """How many rows of ``relation`` each parent has: one grouped COUNT."""
    ids = sorted(set(parent_ids))
    model = listing.model
    # Tortoise's FROM, joins and WHERE selecting only the key, the parent's id added;
    # counted per parent outside (a derived table without ORDER BY: flattened).
    queryset = model.filter(listing.q).values(**{ROW_KEY: model._meta.pk_attr})
    inner = built_unordered(queryset)
    db = read_connection(model)
    inner, parent_column = _restrict_to_parents(relation, inner, ids)
    inner = inner.select(parent_column.as_(PARENT))
    query = (
        db.query_class.from_(inner.as_("_rows"))
        .select(SqlField(PARENT), Count(SqlField(ROW_KEY), alias="_n").distinct())
        .groupby(SqlField(PARENT))
    )
    _, rows = await db.execute_query(*query.get_parameterized_sql())
    counts = {int(row[PARENT]): int(row["_n"]) for row in rows}
    return {pid: counts.get(pid, 0) for pid in ids}


def _restrict_to_parents(
    relation: Relation, query: QueryBuilder, ids: list[int]
) -> tuple[QueryBuilder, Term]:
    """Keep the rows of these parents; return the query and its parent-id column."""
    model = relation.target
    table = model._meta.basetable
    if relation.fk is not None:
        column = table[model._meta.fields_db_projection[relation.fk]]
        return query.where(column.isin(ids)), column
    assert relation.through and relation.through_parent and relation.through_target
    link = Table(relation.through).as_(RELATION)
    query = query.join(link).on(link[relation.through_target] == table[model._meta.db_pk_column])
    column = link[relation.through_parent]
    return query.where(column.isin(ids)), column


# --- shared ---------------------------------------------------------------------------


def _page_filter(listing: Listing, request: PageRequest) -> Q:
    q = listing.q
    if request.after is not None:
        q = q & keyset_q(listing.model, listing.order, request.after, after=True)
    if request.before is not None:
        q = q & keyset_q(listing.model, listing.order, request.before, after=False)
    return q


def _select(model: type[Model], q: Q) -> tuple[BaseDBAsyncClient, QueryBuilder]:
    """Let Tortoise build SELECT model.* FROM ... WHERE q, without its ordering."""
    return read_connection(model), built_unordered(model.filter(q))


class _NotNull(Term):
    """``(column IS NOT NULL)``: sorts NULL first (as the smallest value) on any database."""

    def __init__(self, column: Term) -> None:
        super().__init__()
        self.column = column

    def get_sql(self, ctx: Any) -> str:
        return f"({self.column.get_sql(ctx)} IS NOT NULL)"


def _order_terms(listing: Listing, table: Table, *, reverse: bool) -> list[tuple[Term, Order]]:
    model = listing.model
    fields = model._meta.fields_map
    terms: list[tuple[Term, Order]] = []
    for name, desc in listing.order:
        order = Order.desc if desc != reverse else Order.asc
        column = table[model._meta.fields_db_projection[name]]
        if fields[name].null:
            terms.append((_NotNull(column), order))
        terms.append((column, order))
    return terms


async def _rows(
    db: BaseDBAsyncClient, model: type[Model], query: QueryBuilder, extra: tuple[str, ...] = ()
) -> list[Model]:
    """Run ``query`` and build its rows as a queryset would: through the client's executor
    (Tortoise's own row-to-model conversion); ``extra`` columns are set on each row."""
    executor = db.executor_class(model=model, db=db)
    sql, params = query.get_parameterized_sql()
    return await executor.execute_select(sql, params, custom_fields=list(extra) or None)


def _page(rows: list[Model], listing: Listing, request: PageRequest) -> Page:
    """Trim the one extra row fetched to learn whether more follow; restore order."""
    more = len(rows) > request.limit
    rows = rows[: request.limit]
    if request.backward:
        rows.reverse()
    tag = ordering_tag(listing.model, listing.order)
    if request.backward:
        # Rows after ``before`` exist when it was given: at least its own row.
        has_next, has_previous = request.before is not None, more
    else:
        has_next, has_previous = more, request.after is not None
    return Page(rows, has_next, has_previous, tag=tag, order=listing.order)
