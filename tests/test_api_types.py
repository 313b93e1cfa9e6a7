"""Every entity is a Node type: reachable by node(id) and by its root connection, with
every column and every relation (both directions) answering what the database holds."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLType,
)

from hub import enums
from hub import models as m
from hub.services.requests import is_overdue
from hub.settings import Settings
from schema.build import build_schema
from schema.fields import personal_fields
from schema.node import NODE_MODELS, TYPE_NAMES
from schema.types.party import Branch, Member
from schema.types.requests import ResidentRequest
from tests.api_data import build_world, data, gid, schema_for

pytestmark = pytest.mark.usefixtures("orm")

# Root connection field → the World list holding that entity's rows.
ROOT_FIELDS = {
    "districts": "district",
    "streets": "street",
    "communities": "community",
    "compounds": "compounds",
    "buildings": "buildings",
    "branches": "branches",
    "members": "members",
    "committeeSeats": "seats",
    "partyGroups": "groups",
    "propertyCompanies": "companies",
    "ownersCommittees": "committees",
    "coBuildingUnits": "units",
    "coBuildingAgreements": "agreements",
    "venues": "venues",
    "venueRooms": "rooms",
    "serviceActivities": "activities",
    "wechatGroups": "wechat_groups",
    "jointMeetings": "meetings",
    "residentRequests": "requests",
    "requestEvents": "events",
    "accounts": "accounts",
    "auditLog": "audit",
}

ROOT_QUERY = """
query Root($ids: [ID!]) {
  %s(where: {id: {in: $ids}}, first: 500) { totalCount edges { cursor node { __typename id } } }
}
"""

NODES_QUERY = """
query Nodes($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }
"""

ENUM_QUERY = """
query { __type(name: "MemberCategory") { description enumValues { name description } } }
"""


def _graphql_schema(settings: Settings) -> GraphQLSchema:
    return schema_for(settings)._schema


def _unwrap(kind: GraphQLType) -> GraphQLType:
    while isinstance(kind, GraphQLNonNull | GraphQLList):
        kind = kind.of_type
    return kind


def _python_name(gql_type: GraphQLObjectType, field: str) -> str:
    return gql_type.fields[field].extensions["strawberry-definition"].python_name


def _selection(gql_type: GraphQLObjectType) -> str:
    """Every field of a node type: scalars as is, to-one as { id }, to-many as a page."""
    parts = []
    for name, field in gql_type.fields.items():
        target = _unwrap(field.type)
        if isinstance(target, GraphQLScalarType | GraphQLEnumType):
            parts.append(name)
        elif target.name.endswith("Connection"):
            parts.append(f"{name}(first: 500) {{ totalCount nodes {{ id }} }}")
        else:
            parts.append(f"{name} {{ id }}")
    return " ".join(parts)


def _plain(value: Any) -> Any:
    """A model value as GraphQL serialises it."""
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


async def _expected(row: m.Record, gql_type: GraphQLObjectType) -> dict[str, Any]:
    """What the database says each field of ``row`` should be."""
    expected: dict[str, Any] = {}
    for name, field in gql_type.fields.items():
        attr = _python_name(gql_type, name)
        target = _unwrap(field.type)
        if name == "id":
            expected[name] = gid(row)
        elif name == "rowId":
            expected[name] = row.pk
        elif name == "duties":
            rows = await m.MemberDuty.filter(member_id=row.pk).values_list("duty", flat=True)
            expected[name] = [d.name for d in enums.Duty if d.value in rows]
        elif name == "overdue":  # computed: the services' rule, as of now
            expected[name] = is_overdue(row, dt.datetime.now(dt.UTC))
        elif name == "history":  # a request's events, oldest first
            steps = await m.RequestEvent.filter(request_id=row.pk).order_by("at", "id")
            expected[name] = [{"id": gid(step)} for step in steps]
        elif isinstance(target, GraphQLScalarType | GraphQLEnumType):
            expected[name] = _plain(getattr(row, attr))
        elif target.name.endswith("Connection"):
            related = await getattr(row, attr).all()
            ids = sorted(gid(r) for r in related)
            expected[name] = {"totalCount": len(ids), "nodes": ids}
        elif hasattr(row, f"{attr}_id"):
            pk = getattr(row, f"{attr}_id")
            target_model = NODE_MODELS[target.name]
            expected[name] = None if pk is None else {"id": gid(target_model(id=pk))}
        else:  # reverse one-to-one
            other = await getattr(row, attr)
            expected[name] = None if other is None else {"id": gid(other)}
    return expected


def _normalise(answer: dict[str, Any]) -> dict[str, Any]:
    out = dict(answer)
    for name, value in answer.items():
        if isinstance(value, dict) and "nodes" in value:
            out[name] = {
                "totalCount": value["totalCount"],
                "nodes": sorted(n["id"] for n in value["nodes"]),
            }
    return out


async def test_every_node_answers_every_field_and_relation(
    settings: Settings, unique_name: str
) -> None:
    # Given a world with at least one row of every entity and every relation filled
    world = await build_world(unique_name)
    schema = _graphql_schema(settings)
    non_empty: set[tuple[str, str]] = set()
    # When each row is fetched by node(id) with all of its fields
    for row in world.all_rows():
        type_name = TYPE_NAMES[type(row)]
        gql_type = schema.type_map[type_name]
        assert isinstance(gql_type, GraphQLObjectType)
        fields = _selection(gql_type)
        query = f"query($id: ID!) {{ node(id: $id) {{ ... on {type_name} {{ {fields} }} }} }}"
        answer = (await data(settings, query, id=gid(row)))["node"]
        # Then every column and relation matches the database
        fresh = await type(row).get(pk=row.pk)
        expected = await _expected(fresh, gql_type)
        assert _normalise(answer) == expected, type_name
        for name, value in expected.items():
            if (isinstance(value, dict) and value.get("totalCount", 1)) or value:
                non_empty.add((type_name, name))
    # And every field was seen holding something at least once (the test is not vacuous)
    for type_name in NODE_MODELS:
        gql_type = schema.type_map[type_name]
        assert isinstance(gql_type, GraphQLObjectType)
        for name, field in gql_type.fields.items():
            if not isinstance(_unwrap(field.type), GraphQLScalarType | GraphQLEnumType):
                assert (type_name, name) in non_empty, f"{type_name}.{name} never held a row"


async def test_every_entity_has_a_root_connection(settings: Settings, unique_name: str) -> None:
    world = await build_world(unique_name)
    for field, attr in ROOT_FIELDS.items():
        value = getattr(world, attr)
        rows = value if isinstance(value, list) else [value]
        ids = [gid(row) for row in rows]
        # When the root connection is filtered to this world's rows
        answer = (await data(settings, ROOT_QUERY % field, ids=ids))[field]
        # Then it lists exactly them, in id order
        assert answer["totalCount"] == len(rows), field
        assert [e["node"]["id"] for e in answer["edges"]] == ids, field
        assert {e["node"]["__typename"] for e in answer["edges"]} == {TYPE_NAMES[type(rows[0])]}
    # And root connections cover every Node type
    root_types = {TYPE_NAMES[type(r)] for r in world.all_rows()}
    assert root_types == set(NODE_MODELS)


async def test_nodes_returns_every_kind_in_order(settings: Settings, unique_name: str) -> None:
    world = await build_world(unique_name)
    rows = world.all_rows()
    ids = [gid(row) for row in reversed(rows)]
    answer = (await data(settings, NODES_QUERY, ids=ids))["nodes"]
    assert [n["id"] for n in answer] == ids
    assert [n["__typename"] for n in answer] == [TYPE_NAMES[type(r)] for r in reversed(rows)]


async def test_enum_values_carry_their_chinese_labels(settings: Settings) -> None:
    answer = (await data(settings, ENUM_QUERY))["__type"]
    assert answer["description"]
    assert {v["name"]: v["description"] for v in answer["enumValues"]} == {
        c.name: c.label for c in enums.MemberCategory
    }


def test_every_type_and_field_is_described(settings: Settings) -> None:
    schema = _graphql_schema(settings)
    for type_name in [*NODE_MODELS, "Query", "PageInfo", "BranchConnection", "BranchEdge"]:
        gql_type = schema.type_map[type_name]
        assert isinstance(gql_type, GraphQLObjectType)
        assert gql_type.description, type_name
        for name, field in gql_type.fields.items():
            assert field.description, f"{type_name}.{name}"
            for arg_name, arg in field.args.items():
                assert arg.description, f"{type_name}.{name}({arg_name})"


def test_personal_fields_are_marked(settings: Settings) -> None:
    assert personal_fields(Member) == {"phone", "birth_date"}
    assert personal_fields(ResidentRequest) == {"reporter_name", "reporter_contact"}
    assert personal_fields(Branch) == frozenset()
    sdl = build_schema(settings).as_str()
    marked = {
        line.strip()
        for line in sdl.splitlines()
        if "@personalData" in line and not line.startswith("directive")
    }
    assert marked == {
        "birthDate: Date @personalData",
        "phone: String @personalData",
        "reporterName: String! @personalData",
        "reporterContact: String! @personalData",
        "actorName: String! @personalData",
        "contactPhone: String! @personalData",
    }


SEARCH = "query($s: String!) { branches(search: $s) { totalCount nodes { id } } }"
SEARCHABLE_ROOTS = {
    "districts",
    "streets",
    "communities",
    "compounds",
    "branches",
    "members",
    "propertyCompanies",
    "coBuildingUnits",
}


async def test_searchable_roots_take_search(settings: Settings, unique_name: str) -> None:
    world = await build_world(unique_name, branches=2)
    answer = (await data(settings, SEARCH, s=world.branches[1].name))["branches"]
    assert answer == {"totalCount": 1, "nodes": [{"id": gid(world.branches[1])}]}
    query_type = _graphql_schema(settings).type_map["Query"]
    assert isinstance(query_type, GraphQLObjectType)
    with_search = {name for name, field in query_type.fields.items() if "search" in field.args}
    assert with_search == SEARCHABLE_ROOTS
    connections = {n for n, f in query_type.fields.items() if "first" in f.args}
    assert connections == set(ROOT_FIELDS)
