"""Helpers for the compiled read path's tests: run one operation both ways and compare."""

from __future__ import annotations

from typing import Any

import orjson

from hub.access import Viewer
from hub.settings import Settings
from resolvers.compiler.plan import Plan
from schema.compiled import ReadPath, build_catalog
from tests.api_data import execute, read_path_for, schema_for


def read_path(settings: Settings) -> ReadPath:
    return read_path_for(settings)


def plan_for(settings: Settings, query: str, viewer: Viewer, **variables: Any) -> Plan | None:
    return read_path(settings).plan(query, variables, None, viewer)


async def both(settings: Settings, query: str, viewer: Viewer, **variables: Any) -> tuple[Any, Any]:
    """The resolvers' and the compiled answer (decoded), asserting the query compiled."""
    path = read_path(settings)
    plan = path.plan(query, variables, None, viewer)
    assert plan is not None, "not compiled (an error or not a query)"
    assert plan.fallback is None, f"falls back: {plan.fallback} ({plan.detail})"
    expected = await execute(settings, query, viewer=viewer, **variables)
    got = await path.run(plan, viewer, variables)
    want = orjson.loads(orjson.dumps({"data": expected.data, "errors": _errors(expected)}))
    have = orjson.loads(orjson.dumps({"data": got.data, "errors": None}))
    return want, have


def _errors(result: Any) -> Any:
    return [e.formatted for e in result.errors] if result.errors else None


def full_selection(settings: Settings, type_name: str, depth: int) -> str:
    """Every compiled field of a node type; relations ``depth`` levels down."""
    schema = schema_for(settings)._schema
    catalog = build_catalog(schema)
    node = catalog[type_name]
    fields = schema.type_map[type_name].fields  # type: ignore[union-attr]
    parts = ["__typename", "id", *(["rowId"] if "rowId" in fields else []), *node.scalars]
    parts += list(node.enum_lists)
    for name, rows in node.row_lists.items():
        parts.append(f"{name} {{ __typename id at }}" if rows.target == "RequestEvent" else name)
    if depth > 0:
        for name, relation in node.to_one.items():
            parts.append(f"{name} {{ {full_selection(settings, relation.target, depth - 1)} }}")
        for name, relation in node.to_many.items():
            inner = full_selection(settings, relation.target, depth - 1)
            parts.append(
                f"{name}(first: 2) {{ totalCount pageInfo {{ hasNextPage hasPreviousPage "
                f"startCursor endCursor }} edges {{ cursor node {{ {inner} }} }} }}"
            )
    else:
        for name in list(node.to_one)[:1]:
            parts.append(f"{name} {{ id }}")
        for name in list(node.to_many)[:1]:
            parts.append(f"{name}(first: 2) {{ totalCount nodes {{ id }} }}")
    return " ".join(parts)
