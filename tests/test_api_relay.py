"""Relay: global ids, node/nodes, cursor pagination both ways, and bad input."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from typing import Any

import pytest
from strawberry.relay import to_base64

from hub import models as m
from hub.enums import MemberCategory
from hub.settings import Settings
from tests.api_data import build_world, data, execute, gid
from tests.read_path_support import requested_read_path

pytestmark = pytest.mark.usefixtures("orm")

NODE = "query($id: ID!) { node(id: $id) { __typename id ... on Branch { name } } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"

PAGE = """
fragment Page on MemberConnection {
  totalCount
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  edges { cursor node { id } }
}
"""
ROOT_MEMBERS = (
    PAGE
    + """
query($branch: ID!, $order: [MemberOrder!], $first: Int, $after: String,
      $last: Int, $before: String) {
  list: members(where: {branch: {id: {eq: $branch}}}, orderBy: $order,
                first: $first, after: $after, last: $last, before: $before) { ...Page }
}
"""
)
BRANCH_MEMBERS = (
    PAGE
    + """
query($branch: ID!, $order: [MemberOrder!], $first: Int, $after: String,
      $last: Int, $before: String) {
  node(id: $branch) {
    ... on Branch {
      list: members(orderBy: $order, first: $first, after: $after, last: $last,
                    before: $before) { ...Page }
    }
  }
}
"""
)
BRANCHES = """
query($ids: [ID!]) { branches(where: {id: {in: $ids}}, first: 1) { edges { cursor } } }
"""
TOTAL_ONLY = """
query($ids: [ID!]) { branches(where: {id: {in: $ids}}) { totalCount } }
"""

CATEGORY_DESC = [{"field": "CATEGORY", "direction": "DESC"}]
JOINED_ASC = [{"field": "JOINED_PARTY_ON", "direction": "ASC"}]
JOINED_DESC = [{"field": "JOINED_PARTY_ON", "direction": "DESC"}]


# These count the resolver path's statements: the differential run adds the compiled one.
resolver_statements = pytest.mark.skipif(
    requested_read_path() == "differential",
    reason="counts the resolver path's statements; the differential run adds the compiled one",
)


def _list(answer: dict[str, Any]) -> dict[str, Any]:
    return answer["node"]["list"] if "node" in answer else answer["list"]


async def _branch_with_members(name: str) -> tuple[m.Branch, list[m.Member]]:
    """A branch with 8 members: repeated categories, some without a joining date."""
    world = await build_world(name, branches=1, members_per_branch=0)
    branch = world.branches[0]
    categories = list(MemberCategory)
    dates = [None, dt.date(2001, 1, 1), dt.date(1999, 5, 1), None, dt.date(2001, 1, 1)]
    members = [
        await m.Member.create(
            name=f"党员{i}",
            branch=branch,
            category=categories[(i * 3) % 4],
            joined_party_on=dates[i % len(dates)],
        )
        for i in range(8)
    ]
    return branch, members


def _expected(members: list[m.Member], order: list[dict[str, str]]) -> list[str]:
    """The order the API must give: NULL smallest, ties broken by id ascending."""
    field = order[0]["field"].lower()
    desc = order[0]["direction"] == "DESC"

    def key(member: m.Member) -> tuple[Any, ...]:
        value = getattr(member, field)
        present = value is not None
        rank = (present, value if present else dt.date.min)
        return rank

    ordered = sorted(members, key=lambda mb: mb.pk)
    ordered = sorted(ordered, key=key, reverse=desc)
    return [gid(mb) for mb in ordered]


async def _walk(
    settings: Settings, query: str, branch: m.Branch, order: Any, size: int, *, backward: bool
) -> tuple[list[str], list[dict[str, Any]]]:
    """Page through a list; the ids in list order, and each page's pageInfo."""
    ids: list[str] = []
    infos: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(20):
        variables: dict[str, Any] = {"branch": gid(branch), "order": order}
        if backward:
            variables.update(last=size, before=cursor)
        else:
            variables.update(first=size, after=cursor)
        page = _list(await data(settings, query, **variables))
        page_ids = [edge["node"]["id"] for edge in page["edges"]]
        assert [e["cursor"] for e in page["edges"]][:1] == (
            [page["pageInfo"]["startCursor"]] if page_ids else []
        )
        ids = page_ids + ids if backward else ids + page_ids
        infos.append(page["pageInfo"])
        more = page["pageInfo"]["hasPreviousPage" if backward else "hasNextPage"]
        if not more:
            return ids, infos
        cursor = page["pageInfo"]["startCursor" if backward else "endCursor"]
    raise AssertionError("pagination did not end")


# --- global ids and node/nodes ---------------------------------------------------------


async def test_global_id_is_relay_base64_of_type_and_pk(
    settings: Settings, unique_name: str
) -> None:
    world = await build_world(unique_name, branches=1)
    branch = world.branches[0]
    answer = (await data(settings, NODE, id=to_base64("Branch", branch.pk)))["node"]
    assert answer == {
        "__typename": "Branch",
        "id": to_base64("Branch", branch.pk),
        "name": branch.name,
    }


@pytest.mark.parametrize(
    "bad_id",
    [
        "not base64!",
        "支部",
        base64.b64encode(b"no separator").decode(),
        to_base64("Nope", 1),  # no such type
        to_base64("LoginThrottle", 1),  # a model the API does not expose as a node
        to_base64("Branch", "abc"),
        to_base64("Branch", "-1"),
        to_base64("Branch", 2**31 - 1),  # no such record
        to_base64("Branch", 2**40),  # beyond the id column
        "",
    ],
)
async def test_node_with_a_bad_id_is_null_without_error(settings: Settings, bad_id: str) -> None:
    result = await execute(settings, NODE, id=bad_id)
    assert result.errors is None
    assert result.data == {"node": None}


async def test_nodes_keeps_order_and_nulls_unknown_ids(
    settings: Settings, unique_name: str
) -> None:
    world = await build_world(unique_name, branches=2)
    ids = [gid(world.branches[1]), "junk", gid(world.members[0]), to_base64("Branch", 2**40)]
    answer = (await data(settings, NODES, ids=ids))["nodes"]
    assert answer == [
        {"__typename": "Branch", "id": ids[0]},
        None,
        {"__typename": "Member", "id": ids[2]},
        None,
    ]


# --- pagination ------------------------------------------------------------------------


@pytest.mark.parametrize("query", [ROOT_MEMBERS, BRANCH_MEMBERS], ids=["root", "relation"])
@pytest.mark.parametrize("order", [CATEGORY_DESC, JOINED_ASC, JOINED_DESC, None])
async def test_pages_forward_and_backward_give_one_stable_order(
    settings: Settings, unique_name: str, query: str, order: Any
) -> None:
    branch, members = await _branch_with_members(unique_name)
    expected = _expected(members, order or [{"field": "ID", "direction": "ASC"}])
    # When the list is read forwards in pages of 3
    forward, infos = await _walk(settings, query, branch, order, 3, backward=False)
    # Then every member comes once, in the expected order, across 3 pages
    assert forward == expected
    assert [(i["hasPreviousPage"], i["hasNextPage"]) for i in infos] == [
        (False, True),
        (True, True),
        (True, False),
    ]
    # And reading backwards in pages of 3 gives the same order
    backward, infos = await _walk(settings, query, branch, order, 3, backward=True)
    assert backward == expected
    assert [(i["hasPreviousPage"], i["hasNextPage"]) for i in infos] == [
        (True, False),
        (True, True),
        (False, True),
    ]


@pytest.mark.parametrize("query", [ROOT_MEMBERS, BRANCH_MEMBERS], ids=["root", "relation"])
async def test_total_count_ignores_the_page(
    settings: Settings, unique_name: str, query: str
) -> None:
    branch, members = await _branch_with_members(unique_name)
    first = _list(await data(settings, query, branch=gid(branch), first=2))
    later = _list(
        await data(
            settings, query, branch=gid(branch), first=2, after=first["pageInfo"]["endCursor"]
        )
    )
    assert first["totalCount"] == later["totalCount"] == len(members)
    empty = _list(await data(settings, query, branch=gid(branch), first=0))
    assert empty["edges"] == []
    assert empty["pageInfo"]["hasNextPage"] is True
    assert empty["pageInfo"]["startCursor"] is None


async def test_page_size_defaults_and_maximum_come_from_settings(
    settings: Settings, unique_name: str
) -> None:
    small = dataclasses.replace(settings, page_size_default=2, page_size_max=5)
    branch, _ = await _branch_with_members(unique_name)
    for query in (ROOT_MEMBERS, BRANCH_MEMBERS):
        page = _list(await data(small, query, branch=gid(branch)))
        assert len(page["edges"]) == 2
        result = await execute(small, query, branch=gid(branch), first=6)
        _assert_clear_error(result, "BAD_USER_INPUT", "at most 5")


# --- bad input -------------------------------------------------------------------------


def _assert_clear_error(result: Any, code: str | set[str], mentions: str) -> None:
    """One or more errors, each with a code and a message written for people."""
    assert result.errors, "expected an error"
    codes = {code} if isinstance(code, str) else code
    for error in result.errors:
        message = error.message
        assert (error.extensions or {}).get("code") in codes, (message, error.extensions)
        for leak in ("Traceback", "Internal server error", "Error(", "object at 0x"):
            assert leak not in message, message
    assert any(mentions in error.message for error in result.errors), [
        e.message for e in result.errors
    ]
    if result.data is not None:
        assert not any(result.data.values()) or result.data == {"node": {"list": None}}


def _cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


@pytest.mark.parametrize("query", [ROOT_MEMBERS, BRANCH_MEMBERS], ids=["root", "relation"])
async def test_bad_cursors_are_clear_user_errors(
    settings: Settings, unique_name: str, query: str
) -> None:
    branch, _ = await _branch_with_members(unique_name)
    page = _list(await data(settings, query, branch=gid(branch), first=1))
    member_cursor = page["pageInfo"]["endCursor"]
    branch_cursor = (await data(settings, BRANCHES, ids=[gid(branch)]))["branches"]["edges"][0][
        "cursor"
    ]
    tag = json.loads(base64.urlsafe_b64decode(member_cursor))["o"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"after": "not a cursor"}, "after"),
        ({"before": "%%%"}, "before"),
        ({"after": _cursor([1, 2])}, "after"),
        ({"after": _cursor({"o": tag, "v": ["x"]})}, "after"),  # id must be a number
        ({"after": _cursor({"o": tag, "v": [1, 2]})}, "after"),  # wrong arity
        ({"after": _cursor({"o": tag, "v": [2**40]})}, "after"),  # beyond the id column
        ({"after": _cursor({"o": tag, "v": [True]})}, "after"),
        ({"after": branch_cursor}, "after"),  # another connection's cursor
        ({"after": member_cursor, "order": CATEGORY_DESC}, "after"),  # another ordering
    ]
    for variables, mentions in cases:
        result = await execute(settings, query, branch=gid(branch), **variables)
        _assert_clear_error(result, "BAD_USER_INPUT", mentions)


@pytest.mark.parametrize("query", [ROOT_MEMBERS, BRANCH_MEMBERS], ids=["root", "relation"])
async def test_bad_page_sizes_are_clear_user_errors(
    settings: Settings, unique_name: str, query: str
) -> None:
    branch, _ = await _branch_with_members(unique_name)
    maximum = settings.page_size_max
    cases: list[tuple[dict[str, Any], str]] = [
        ({"first": maximum + 1}, f"at most {maximum}"),
        ({"last": maximum + 1}, f"at most {maximum}"),
        ({"first": -1}, "negative"),
        ({"first": 2, "last": 2}, "either first or last"),
    ]
    for variables, mentions in cases:
        result = await execute(settings, query, branch=gid(branch), **variables)
        _assert_clear_error(result, "BAD_USER_INPUT", mentions)


async def test_wrong_typed_variables_and_unknown_enum_values_are_refused(
    settings: Settings, unique_name: str
) -> None:
    branch, _ = await _branch_with_members(unique_name)
    refused = {"BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"}
    result = await execute(settings, ROOT_MEMBERS, branch=gid(branch), first="ten")
    _assert_clear_error(result, refused, "$first")
    result = await execute(settings, ROOT_MEMBERS, branch=gid(branch), order=[{"field": "NOPE"}])
    _assert_clear_error(result, refused, "NOPE")
    literal = "{ members(orderBy: [{field: NOPE}], first: 1) { totalCount } }"
    _assert_clear_error(await execute(settings, literal), refused, "NOPE")
    literal = '{ members(first: "ten") { totalCount } }'
    _assert_clear_error(await execute(settings, literal), refused, "ten")


async def test_nodes_refuses_more_ids_than_a_page(settings: Settings) -> None:
    ids = [to_base64("Branch", i) for i in range(settings.page_size_max + 1)]
    result = await execute(settings, NODES, ids=ids)
    _assert_clear_error(result, "BAD_USER_INPUT", "at most")


@resolver_statements
async def test_total_count_alone_runs_only_the_count(settings: Settings, unique_name: str) -> None:
    from tests.conftest import count_statements

    world = await build_world(unique_name, branches=3)
    with count_statements() as counter:
        answer = await data(settings, TOTAL_ONLY, ids=[gid(b) for b in world.branches])
    assert answer == {"branches": {"totalCount": 3}}
    counts = [s for s in counter.statements if "COUNT" in s.upper()]
    assert len(counts) == 1


FILTERED = """
query($community: ID!, $compound: String!) {
  node(id: $community) {
    ... on Community {
      branches(first: 10) {
        nodes {
          id
          direct: members(where: {category: {eq: DIRECT}}) { totalCount nodes { id } }
          living: members(where: {homeCompound: {name: {eq: $compound}}}, last: 50) {
            totalCount
            nodes { id }
          }
          firstTwo: members(first: 2, orderBy: [{field: NAME, direction: DESC}]) {
            totalCount
            nodes { id }
          }
        }
      }
    }
  }
}
"""


@resolver_statements
async def test_relation_connections_filter_and_batch_per_arguments(
    settings: Settings, unique_name: str
) -> None:
    from tests.conftest import count_statements

    world = await build_world(unique_name, branches=3, members_per_branch=5)
    with count_statements() as counter:
        answer = await data(
            settings, FILTERED, community=gid(world.community), compound=world.compounds[1].name
        )
    branches = answer["node"]["branches"]["nodes"]
    assert [b["id"] for b in branches] == [gid(b) for b in world.branches]
    for branch, row in zip(branches, world.branches, strict=True):
        members = [mb for mb in world.members if mb.branch_id == row.pk]
        direct = [gid(mb) for mb in members if mb.category is MemberCategory.DIRECT]
        assert branch["direct"] == {"totalCount": len(direct), "nodes": [{"id": i} for i in direct]}
        living = [gid(mb) for mb in members if mb.home_compound_id == world.compounds[1].pk]
        assert branch["living"] == {"totalCount": len(living), "nodes": [{"id": i} for i in living]}
        by_name = sorted(members, key=lambda mb: (mb.name, -mb.pk), reverse=True)
        assert branch["firstTwo"] == {
            "totalCount": len(members),
            "nodes": [{"id": gid(mb)} for mb in by_name[:2]],
        }
    # community, branches page, then per alias one page and one count statement
    assert counter.count == 8, counter.statements
    assert any(b["living"]["totalCount"] for b in branches)
