"""Limits refuse abusive queries before any SQL runs; unexpected errors are masked.

A small throwaway schema: ``compounds`` is a connection read from the database (so a
query that is let through does run SQL), ``Item.children`` a nested connection,
``Item.tags`` a plain list, ``Item.parent`` a single object for depth.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace

import pytest
import strawberry
from graphql import GraphQLError, get_introspection_query
from strawberry.extensions import SchemaExtension

from hub.models import Compound
from hub.settings import Settings
from resolvers.errors import ErrorCode, user_error
from schema.extensions import extensions_for
from tests.conftest import count_statements

pytestmark = pytest.mark.usefixtures("orm")


@strawberry.type
class Item:
    name: str

    @strawberry.field
    def parent(self) -> Item:
        return Item(name=f"{self.name}^")

    @strawberry.field
    def tags(self) -> list[Item]:
        return [Item(name="tag")]

    @strawberry.field
    def children(self, first: int | None = None, last: int | None = None) -> ItemConnection:
        return ItemConnection(edges=[ItemEdge(node=Item(name=f"{self.name}/1"))])


@strawberry.type
class ItemEdge:
    node: Item


@strawberry.type
class ItemConnection:
    edges: list[ItemEdge]

    @strawberry.field
    def nodes(self) -> list[Item]:
        return [edge.node for edge in self.edges]


@strawberry.type
class Query:
    @strawberry.field
    async def compounds(self, first: int | None = None) -> ItemConnection:
        names = await Compound.all().limit(first or 1).values_list("name", flat=True)
        return ItemConnection(edges=[ItemEdge(node=Item(name=name)) for name in names])

    @strawberry.field
    async def boom(self) -> str | None:
        raise RuntimeError("password=hunter2 at db.internal:5432")

    @strawberry.field
    def uncoded(self) -> str | None:
        raise GraphQLError("KeyError in loader for table member")

    @strawberry.field
    def forbidden(self) -> str | None:
        raise user_error("Partner units read only their own agreements", ErrorCode.FORBIDDEN)

    @strawberry.field
    def hello(self) -> str:
        return "你好"


LIMITS = {"max_depth": 6, "max_aliases": 3, "max_tokens": 200, "max_cost": 5_000}


def _schema(settings: Settings, **changes: object) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query, extensions=extensions_for(replace(settings, **{**LIMITS, **changes}))
    )


@pytest.fixture(scope="module")
def schema(orm: Settings) -> strawberry.Schema:
    return _schema(orm)


async def _refused(
    schema: strawberry.Schema, query: str, variables: dict | None = None, *, single: bool = True
) -> dict:
    """Run a query that must be refused without touching the database; its (first) error."""
    with count_statements() as counter:
        result = await schema.execute(query, variable_values=variables)
    assert counter.count == 0, counter.statements
    assert result.data is None
    assert result.errors, result
    assert len(result.errors) == 1 or not single, result.errors
    return result.errors[0].formatted


ALLOWED = "{ compounds(first: 2) { edges { node { name parent { name } } } } }"


async def test_reasonable_query_runs_sql(schema: strawberry.Schema) -> None:
    with count_statements() as counter:
        result = await schema.execute(ALLOWED)
    assert result.errors is None
    assert counter.count == 1


def _nested(levels: int) -> str:
    return (
        "{ compounds(first: 1) { edges { node { "
        + "parent { " * levels
        + "name"
        + " }" * levels
        + " } } } }"
    )


async def test_query_at_the_depth_limit_runs(schema: strawberry.Schema) -> None:
    result = await schema.execute(_nested(3))  # compounds, edges, node + 3 = 6 levels
    assert result.errors is None


async def test_query_over_the_depth_limit_is_refused(schema: strawberry.Schema) -> None:
    error = await _refused(schema, _nested(4))
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "7 levels deep" in error["message"] and "limit of 6" in error["message"]


async def test_depth_through_fragments_counts(schema: strawberry.Schema) -> None:
    query = (
        "{ compounds { edges { node { ...Up } } } } "
        "fragment Up on Item { parent { parent { parent { parent { name } } } } }"
    )
    error = await _refused(schema, query)
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_too_many_aliases_are_refused(schema: strawberry.Schema) -> None:
    assert (await schema.execute("{ a: hello b: hello c: hello }")).errors is None
    error = await _refused(schema, "{ a: hello b: hello c: hello d: hello }")
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "4 aliases" in error["message"] and "limit of 3" in error["message"]


async def test_too_many_tokens_are_refused(schema: strawberry.Schema) -> None:
    query = "{ " + " ".join(["hello"] * 250) + " }"
    error = await _refused(schema, query)
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "200 tokens" in error["message"]


async def test_comments_count_as_tokens(schema: strawberry.Schema) -> None:
    query = "{ hello " + "\n".join(["# padding"] * 300) + "\n}"
    error = await _refused(schema, query)
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"


COSTLY = """
query($outer: Int, $inner: Int) {
  compounds(first: $outer) {
    edges { node { children(first: $inner) { edges { node { name } } } } }
  }
}
"""


async def test_cost_is_estimated_from_page_sizes(schema: strawberry.Schema) -> None:
    # 100 compounds + 100 × 100 children = 10,100 records, over 5,000
    error = await _refused(schema, COSTLY, {"outer": 100, "inner": 100})
    assert error["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "estimatedCost": 10_100,
        "maxCost": 5_000,
    }
    assert "10,100" in error["message"] and "5,000" in error["message"]
    # 40 + 40 × 100 = 4,040: let through
    with count_statements() as counter:
        result = await schema.execute(COSTLY, variable_values={"outer": 40, "inner": 100})
    assert result.errors is None
    assert counter.count == 1


async def test_absent_page_size_counts_as_the_default(orm: Settings) -> None:
    schema = _schema(orm, page_size_default=80)
    # 80 + 80 × 80 = 6,480
    error = await _refused(schema, COSTLY, {})
    assert error["extensions"]["estimatedCost"] == 6_480


async def test_page_size_is_capped_at_the_maximum(orm: Settings) -> None:
    schema = _schema(orm, page_size_max=60, max_cost=3_000)
    # first: 1000 is read as the 60 a page can hold: 60 + 60 × 60 = 3,660
    error = await _refused(schema, COSTLY, {"outer": 1000, "inner": 1000})
    assert error["extensions"]["estimatedCost"] == 3_660


async def test_plain_lists_and_fragments_count(schema: strawberry.Schema) -> None:
    query = """
    { compounds(first: 10) { nodes { ...Deep } } }
    fragment Deep on Item { tags { children(last: 20) { nodes { tags { name } } } } }
    """
    # 10 compounds × 50 tags (default page) × 20 children × 50 tags
    # = 10 + 500 + 10,000 + 500,000
    error = await _refused(schema, query)
    assert error["extensions"]["estimatedCost"] == 510_510


def _fragment_bomb(levels: int) -> str:
    """Fragments that each spread the two before: 2^levels paths in a few hundred tokens."""
    fragments = ["fragment A0 on Item { a: name }", "fragment B0 on Item { b: name }"]
    for n in range(1, levels):
        body = f"...A{n - 1} ...B{n - 1} parent {{ name }}"
        fragments += [f"fragment A{n} on Item {{ {body} }}", f"fragment B{n} on Item {{ {body} }}"]
    top = f"...A{levels - 1} ...B{levels - 1}"
    return f"{{ compounds(first: 1) {{ nodes {{ {top} }} }} }} " + " ".join(fragments)


async def test_fragment_bomb_is_measured_without_expanding_it(orm: Settings) -> None:
    schema = _schema(orm, max_tokens=5_000, max_aliases=1_000_000)
    # Walking every path would take 2^40 steps (this test would never end); each fragment
    # is measured once instead. How long that takes: `python -m bench.timings`.
    with count_statements() as counter:
        result = await schema.execute(_fragment_bomb(40))
    assert counter.count == 0  # refused before any database work
    assert result.errors and result.errors[0].extensions["code"] == "QUERY_TOO_COMPLEX"
    assert "aliases" in result.errors[0].message  # 2^40 of them once expanded


async def test_fragment_bomb_within_limits_still_runs(orm: Settings) -> None:
    schema = _schema(orm, max_tokens=5_000, max_aliases=10_000)
    result = await schema.execute(_fragment_bomb(8))  # 512 aliases once expanded
    assert result.errors is None, result.errors


async def test_wide_query_with_many_connections_is_refused(schema: strawberry.Schema) -> None:
    wide = "compounds(first: 500) { nodes { name tags { name } } }"
    error = await _refused(schema, f"{{ a: {wide} b: {wide} }}")
    # twice 500 compounds + 500 × 50 tags
    assert error["extensions"]["estimatedCost"] == 2 * (500 + 500 * 50)


# --- errors ---------------------------------------------------------------------


async def test_unexpected_error_is_masked_and_logged_with_its_id(
    schema: strawberry.Schema, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="linju.graphql"):
        result = await schema.execute("{ hello boom }")
    assert result.data == {"hello": "你好", "boom": None}  # the rest of the answer stands
    (error,) = result.errors or []
    formatted = error.formatted
    match = re.fullmatch(r"Internal server error \(error id ([0-9a-f]{12})\)", formatted["message"])
    assert match, formatted
    error_id = match.group(1)
    assert formatted["extensions"] == {"code": "INTERNAL", "errorId": error_id}
    assert "hunter2" not in json.dumps(formatted)
    records = [
        r for r in caplog.records if r.name == "linju.graphql" and error_id in r.getMessage()
    ]
    assert len(records) == 1
    assert records[0].exc_info and "hunter2" in str(records[0].exc_info[1])


async def test_each_masked_error_gets_its_own_id(schema: strawberry.Schema) -> None:
    first = (await schema.execute("{ boom }")).errors
    second = (await schema.execute("{ boom }")).errors
    assert first and second
    assert first[0].extensions["errorId"] != second[0].extensions["errorId"]


async def test_graphql_error_without_code_is_masked(schema: strawberry.Schema) -> None:
    result = await schema.execute("{ uncoded }")
    (error,) = result.errors or []
    assert error.extensions["code"] == "INTERNAL"
    assert "member" not in error.message


async def test_user_error_keeps_its_message_and_code(schema: strawberry.Schema) -> None:
    result = await schema.execute("{ hello forbidden }")
    assert result.data == {"hello": "你好", "forbidden": None}
    (error,) = result.errors or []
    assert error.message == "Partner units read only their own agreements"
    assert error.extensions == {"code": "FORBIDDEN"}
    assert error.path == ["forbidden"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ hello colour }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ hello(loud: true) }", "GRAPHQL_VALIDATION_FAILED"),
        ('{ compounds(first: "ten") { nodes { name } } }', "GRAPHQL_VALIDATION_FAILED"),
        ("{ hello ", "GRAPHQL_PARSE_FAILED"),
        ("mutation { hello }", "GRAPHQL_VALIDATION_FAILED"),
    ],
)
async def test_request_errors_carry_a_code(
    schema: strawberry.Schema, query: str, code: str
) -> None:
    error = await _refused(schema, query)
    assert error["extensions"]["code"] == code
    assert "Traceback" not in error["message"]


async def test_wrong_typed_variable_is_bad_user_input(schema: strawberry.Schema) -> None:
    query = "query($n: Int) { compounds(first: $n) { nodes { name } } }"
    error = await _refused(schema, query, {"n": "ten"})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "$n" in error["message"]


# --- introspection and set-up ---------------------------------------------------


async def test_introspection_is_served_by_default_despite_the_limits(
    schema: strawberry.Schema,
) -> None:
    result = await schema.execute(get_introspection_query())
    assert result.errors is None
    assert result.data and result.data["__schema"]["queryType"]["name"] == "Query"


async def test_introspection_can_be_switched_off(orm: Settings) -> None:
    schema = _schema(orm, introspection=False)
    error = await _refused(schema, "{ __schema { types { name } } }", single=False)
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "introspection" in error["message"].lower()
    error = await _refused(schema, '{ __type(name: "Query") { name } }')
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    result = await schema.execute("{ __typename hello }")  # not introspection of the schema
    assert result.errors is None


def test_extensions_are_factories_not_instances(settings: Settings) -> None:
    factories = extensions_for(settings)
    assert not any(isinstance(factory, SchemaExtension) for factory in factories)
    first = [factory() for factory in factories]
    second = [factory() for factory in factories]
    assert all(isinstance(ext, SchemaExtension) for ext in first)
    assert all(a is not b for a, b in zip(first, second, strict=True))


def test_limits_of_zero_are_off(settings: Settings) -> None:
    on = extensions_for(settings)
    off = extensions_for(replace(settings, max_depth=0, max_aliases=0, max_tokens=0, max_cost=0))
    assert len(on) - len(off) == 4
    assert len(extensions_for(replace(settings, introspection=False))) == len(on) + 1
