"""``Query.statistics`` in the compiled read path: the document → one statement.

The arguments are settled with the resolver's own rules (``schema.statistics``: who may
read, ``decode_scope``; ``hub.services.statistics``: ``check_year``, ``seen_by``, the
scope's row): a request the resolver refuses is never compiled, and the resolvers
answer it with their error. The record queries are the service's, rendered to SQL by
Tortoise exactly as the service runs them; the viewer's unit, the scope's id and the
year are bind parameters. A scope the viewer may not read (or that does not exist)
makes the statement NULL, and the resolvers answer with their NOT_FOUND error.
"""

from __future__ import annotations

import datetime as dt
import re

from graphql import FieldNode, GraphQLError, GraphQLObjectType, get_named_type
from strawberry.relay import to_base64
from tortoise.queryset import AwaitableQuery

from hub.orm_sql import built
from hub.services import statistics as service
from hub.services.statistics import MAX_PK, SCOPE_MODELS, ScopeLevel, StatisticsError
from resolvers.compiler.plan import CLOCK, Statement, ViewerValue
from resolvers.compiler.sql import Compiler
from resolvers.compiler.statistics import Sources, StatisticsCompiler, StatisticsRequest
from resolvers.compiler.tree import Fragment, Selection
from schema.compiled.selection import UNIT_SENTINEL, Fallback, Walk
from schema.statistics import decode_scope

FIELD = "statistics"
# "Now" in a plan (overdue requests): replaced by the time of each execution.
NOW_SENTINEL = dt.datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=dt.UTC)
_PG_PARAMETER = re.compile(r"\$\d+")


def statistics_statement(
    walk: Walk, compiler: Compiler, key: str, nodes: list[FieldNode]
) -> Statement:
    """The statement of one ``statistics`` root field (``Fallback`` for a request the
    resolver refuses: they answer it)."""
    query_type = walk.schema.query_type
    assert query_type is not None
    args = walk.arguments(query_type, nodes[0])
    scope_input, year = args.get("scope"), args.get("year")
    viewer = walk.viewer  # the role is the real one; a partner's unit is a placeholder
    public = not viewer.is_authenticated and (
        walk.settings.public_statistics
        and (scope_input is None or scope_input.level is ScopeLevel.DISTRICT)
    )
    if not (viewer.is_authenticated or public):
        raise Fallback(FIELD)  # UNAUTHENTICATED
    reader = None if public else viewer
    try:
        service.check_year(year)
        decoded = decode_scope(scope_input) if scope_input is not None else None
    except (StatisticsError, GraphQLError):
        raise Fallback(FIELD) from None
    level: ScopeLevel | None = None
    global_id: str | None = None
    scope_row: Fragment | None = None
    if decoded is None:
        place = service.EVERYTHING
    else:
        level, pk = decoded
        if not 0 < pk <= MAX_PK:
            raise Fallback(FIELD)  # not found, without a look-up (find_scope)
        place = service.Scope(level=level, id=pk)
        global_id = to_base64(SCOPE_MODELS[level].__name__, pk)
        scope_row = sql_of(
            service.scope_rows(level=level, id=pk, viewer=reader).limit(1).values("name")
        )
    if reader is not None:
        place = service.seen_by(place, reader)
    timezone = str(walk.settings.timezone)
    sources = Sources(
        scope=scope_row,
        branches=sql_of(service.branch_rows(scope=place)),
        compounds=sql_of(service.compound_row(scope=place)),
        members=sql_of(service.member_rows(scope=place, year=year)),
        activities=sql_of(service.activity_rows(scope=place, year=year, timezone=timezone)),
        requests=sql_of(service.request_rows(scope=place, year=year, timezone=timezone)),
        resolved=sql_of(
            service.resolved_requests(scope=place, year=year, timezone=timezone)
            .annotate(hours=service.hours_to_resolve())
            .values("hours")
        ),
        overdue=sql_of(service.overdue_requests(scope=place, now=NOW_SENTINEL).values("id")),
        committees=sql_of(service.committee_row(scope=place)),
        wechat=sql_of(service.wechat_row(scope=place)),
    )
    request = StatisticsRequest(
        sources=sources,
        level=level.name if level is not None else None,
        global_id=global_id,
        year=year,
    )
    runtime = walk.schema.type_map["Statistics"]
    assert isinstance(runtime, GraphQLObjectType)
    selection = Selection(key=key, name=FIELD, children=_children(walk, runtime, nodes))
    return StatisticsCompiler(compiler, request).root(selection)


def _children(
    walk: Walk, runtime: GraphQLObjectType, nodes: list[FieldNode]
) -> tuple[Selection, ...]:
    """The merged selection of an object of the statistics (none takes arguments)."""
    out: list[Selection] = []
    for key, group in walk.collect(runtime, nodes).items():
        name = group[0].name.value
        if name == "__typename":
            out.append(Selection(key=key, name=name, literal=runtime.name))
            continue
        named = get_named_type(runtime.fields[name].type)
        children = _children(walk, named, group) if isinstance(named, GraphQLObjectType) else ()
        out.append(Selection(key=key, name=name, children=children))
    return tuple(out)


def sql_of(query: AwaitableQuery) -> Fragment:
    """The SQL Tortoise runs for ``query`` (``?`` placeholders), the viewer's unit and
    "now" left as parameters filled at execution."""
    sql, params = built(query).get_parameterized_sql()
    return Fragment(sql=_PG_PARAMETER.sub("?", sql), params=tuple(map(_parameter, params)))


def _parameter(value: object) -> object:
    if value == UNIT_SENTINEL:
        return ViewerValue("unit_id")
    if value == NOW_SENTINEL:
        return CLOCK  # one reading per request, shared with the other root fields
    return value
