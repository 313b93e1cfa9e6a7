"""The compiled read path, shape by shape: arguments, fragments, directives, paging,
errors, and the list of fields that fall back. Each answer equals the resolvers' as
every role (tests/compiled_support.py runs both)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from hub.settings import Settings
from schema.compiled import build_catalog
from schema.compiled.selection import ACCOUNT_FIELD
from schema.compiled.statistics import FIELD as STATISTICS
from tests import test_permissions
from tests.api_data import ADMIN, gid, schema_for
from tests.compiled_support import both, plan_for
from tests.conftest import BACKEND
from tests.test_permissions import ROLES, Fixture, viewer

fixture = test_permissions.fixture
pytestmark = pytest.mark.usefixtures("orm")

BRANCHES = """query($prefix: String!, $first: Int, $after: String, $last: Int, $before: String,
                  $withMembers: Boolean!) {
  list: branches(where: {name: {startsWith: $prefix}}, first: $first, after: $after,
                 last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { ...B } }
  }
  again: branches(where: {name: {startsWith: $prefix}}, orderBy: [{field: NAME, direction: DESC}]) {
    nodes { name starRating }
  }
}
fragment B on Branch {
  id name
  members(orderBy: [{field: NAME, direction: DESC}], first: 2) @include(if: $withMembers) {
    totalCount nodes { name phone birthDate category status ... on Node { id } }
  }
  community @skip(if: $withMembers) { name street { name } }
}"""


async def _same(settings: Settings, f: Fixture, query: str, **variables: Any) -> None:
    for role in ROLES:
        want, have = await both(settings, query, viewer(role, f), **variables)
        assert want == have, role


async def test_filters_orderings_fragments_and_directives(settings: Settings, fixture: Fixture):
    prefix = fixture.world.branches[0].name[:-1]
    for with_members in (True, False):
        await _same(settings, fixture, BRANCHES, prefix=prefix, withMembers=with_members)


async def test_forward_and_backward_paging(settings: Settings, fixture: Fixture) -> None:
    prefix = fixture.world.branches[0].name[:-1]
    admin = viewer("admin", fixture)
    want, _ = await both(settings, BRANCHES, admin, prefix=prefix, first=1, withMembers=False)
    cursor = want["data"]["list"]["pageInfo"]["endCursor"]
    for args in (
        {"first": 1},
        {"first": 1, "after": cursor},
        {"first": 0},
        {"last": 1},
        {"last": 1, "before": want["data"]["list"]["edges"][0]["cursor"]},
        {"last": 5, "after": cursor},
    ):
        await _same(settings, fixture, BRANCHES, prefix=prefix, withMembers=True, **args)


async def test_backward_pages_without_page_info(settings: Settings, fixture: Fixture) -> None:
    query = """query($prefix: String!) {
      branches(where: {name: {startsWith: $prefix}}, last: 1) {
        nodes { name members(last: 2, orderBy: [{field: NAME}]) { nodes { name } }
                compounds(last: 1) { edges { cursor node { name } } } } } }"""
    await _same(settings, fixture, query, prefix=fixture.world.branches[0].name[:-1])


async def test_search_through_the_compiled_path(settings: Settings, fixture: Fixture) -> None:
    name = fixture.world.branches[0].name
    query = """query($q: String) { branches(search: $q, first: 5) { totalCount nodes { name } }
                 members(search: "党员", first: 3) { totalCount nodes { name phone } } }"""
    await _same(settings, fixture, query, q=name)


async def test_nodes_by_id(settings: Settings, fixture: Fixture) -> None:
    w = fixture.world
    forged = base64.b64encode(b"Member:99999999").decode()
    ids = [gid(w.members[0]), gid(w.branches[1]), "not-an-id", forged, gid(fixture.other_unit)]
    query = """query($ids: [ID!]!, $one: ID!) {
      __typename
      nodes(ids: $ids) { __typename id ... on Member { name phone branch { name } }
                         ... on Branch { name compounds(first: 1) { nodes { name } } }
                         ... on CoBuildingUnit { name } }
      one: node(id: $one) { id ... on Branch { name } }
    }"""
    for one in ids:
        await _same(settings, fixture, query, ids=ids, one=one)


@pytest.mark.parametrize(
    "query",
    [
        "{ branches(first: -1) { totalCount } }",
        "{ branches(first: 100000) { totalCount } }",
        '{ branches(after: "bad") { totalCount } }',
        "{ branches(first: 1, last: 1) { totalCount } }",
        '{ branches(where: {id: {eq: "bad"}}) { totalCount } }',
        "{ branches { nope } }",
        "mutation { logout }",
    ],
)
def test_errors_are_left_to_the_resolvers(settings: Settings, query: str) -> None:
    """An argument the resolvers refuse is never compiled: they answer with their error."""
    assert plan_for(settings, query, ADMIN) is None


# Fields the compiler does not write in SQL: a query selecting one of them is answered
# by the resolvers (counted in linju_read_fallback_total). Keep this list short.
FALLS_BACK: set[str] = set()


def test_the_fields_that_fall_back(settings: Settings) -> None:
    schema = schema_for(settings)._schema
    catalog = build_catalog(schema)
    missing = set()
    for type_name, node in catalog.items():
        for name in schema.type_map[type_name].fields:  # type: ignore[union-attr]
            compiled = (
                name in ("id", "rowId")
                or name in node.scalars
                or name in node.to_one
                or name in node.to_many
                or name in node.row_lists
                or name in node.enum_lists
                or name in node.deadlines
            )
            if not compiled:
                missing.add(f"{type_name}.{name}")
    query = schema.query_type
    assert query is not None
    for name, field in query.fields.items():
        if name in ("node", "nodes", ACCOUNT_FIELD, STATISTICS) or "first" in field.args:
            continue
        missing.add(f"Query.{name}")
    assert missing == FALLS_BACK


def test_the_plan_cache_is_bounded_by_sql_size() -> None:
    from resolvers.compiler.plan import Plan, PlanCache, Statement

    cache = PlanCache(size=100, budget=10_000)
    for i in range(10):
        cache.put(i, Plan(statements=(Statement(key="a", sql="x" * 3_000, params=()),)))
    assert len(cache) == 3 and cache.get(9) is not None and cache.get(0) is None


def test_a_value_like_the_partner_placeholder_is_not_compiled(settings: Settings) -> None:
    from hub.access import Viewer
    from hub.enums import Role

    partner = Viewer(role=Role.PARTNER, unit_id=1)
    query = "query($n: Int) { branches(where: {starRating: {eq: $n}}) { totalCount } }"
    assert plan_for(settings, query, partner, n=-2_000_000_017) is None
    assert plan_for(settings, query, partner, n=3) is not None


async def test_one_plan_serves_every_id_of_a_type(settings: Settings, fixture: Fixture) -> None:
    """``node(id: $id)``: the plan depends on the type the id names, not on its key."""
    query = "query($id: ID!) { node(id: $id) { id ... on Member { name phone } } }"
    admin = viewer("admin", fixture)
    members = fixture.world.members
    plans = {id(plan_for(settings, query, admin, id=gid(member))) for member in members[:3]}
    assert len(plans) == 1
    other = plan_for(settings, query, admin, id=gid(fixture.world.branches[0]))
    assert id(other) not in plans
    for row in (*members[:3], fixture.world.branches[0]):
        await _same(settings, fixture, query, id=gid(row))
    await _same(settings, fixture, query, id="forged")


# Found by the property-based differential run: a connection whose selection reads none
# of its page's rows (only pageInfo.hasPreviousPage going forwards, or with totalCount)
# compiled to a plain SELECT over the page, which gave no row for an empty page (the
# connection read as null) and several for a full one.
ROWLESS = """query($prefix: String!) {
  none: accounts(first: 1) { pageInfo { hasPreviousPage } }
  counted: accounts(first: 1) { totalCount pageInfo { hasPreviousPage } }
  full: branches(where: {name: {startsWith: $prefix}}, first: 2) {
    pageInfo { hasPreviousPage }
  }
  back: branches(where: {name: {startsWith: $prefix}}, last: 2) {
    pageInfo { hasNextPage }
  }
}"""


async def test_connections_that_read_no_row_of_their_page(
    settings: Settings, fixture: Fixture
) -> None:
    await _same(settings, fixture, ROWLESS, prefix=fixture.world.branches[0].name[:-1])


MEMBER_PAGES = """query($order: [MemberOrder!], $first: Int, $after: String, $last: Int,
                    $before: String) {
  members(orderBy: $order, first: $first, after: $after, last: $last, before: $before) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { name gender category joinedPartyOn createdAt isDemonstrationPost } }
  }
}"""
# One ordering per kind of column a cursor holds: text (nullable, Chinese), an enum, a
# date (nullable), a time, a boolean; each ends with the id.
ORDERINGS = [
    [{"field": "NAME", "direction": "DESC"}],
    [{"field": "WORK_UNIT"}],
    [{"field": "CATEGORY"}, {"field": "GENDER", "direction": "DESC"}],
    [{"field": "JOINED_PARTY_ON", "direction": "DESC"}],
    [{"field": "CREATED_AT"}],
    [{"field": "IS_DEMONSTRATION_POST", "direction": "DESC"}, {"field": "NAME"}],
]


@pytest.mark.parametrize("order", ORDERINGS, ids=lambda o: "+".join(f["field"] for f in o))
async def test_cursors_over_every_kind_of_ordering(
    settings: Settings, fixture: Fixture, order: list[dict[str, str]]
) -> None:
    # given the first page of members in this order, and its cursors
    admin = viewer("admin", fixture)
    plan = plan_for(settings, MEMBER_PAGES, admin, order=order, first=2)
    assert plan is not None
    if BACKEND == "sqlite":
        # SQLite's base64 in SQL reads characters, not UTF-8 bytes: these fall back there
        assert plan.fallback == "members", plan.fallback
        return
    assert plan.fallback is None, plan.detail
    want, _ = await both(settings, MEMBER_PAGES, admin, order=order, first=2)
    page = want["data"]["members"]
    end, start = page["pageInfo"]["endCursor"], page["edges"][0]["cursor"]
    # when every role pages forwards and backwards from them
    for args in (
        {"first": 2},
        {"first": 3, "after": end},
        {"last": 2, "before": end},
        {"last": 3},
        {"first": 2, "after": start},
    ):
        # then both read paths give the same pages and the same cursors
        await _same(settings, fixture, MEMBER_PAGES, order=order, **args)
