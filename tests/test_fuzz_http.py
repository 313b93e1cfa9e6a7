"""HTTP-level fuzzing (issue 14, finding 10): no input gets a 5xx or an INTERNAL error.

Through the whole ASGI app, as every role (ADMIN, street CURATOR, community CURATOR,
READER, PARTNER, anonymous):

- malformed bodies: random bytes, truncated JSON, wrong content types;
- wrong JSON types for every request parameter (query, variables, operationName,
  extensions), over POST and GET;
- hostile values (huge, empty, NUL, CR/LF, unpaired surrogates, RTL marks, SQL and HTML
  metacharacters, integers beyond int64, negatives, floats) in every argument of every
  root query field and mutation, built from the schema itself: its argument types say
  which scalars, enums, input objects and lists to build.

Every answer must be under 500, carry no INTERNAL code nor a Python message, and the
hub must still answer a trivial query afterwards.

Hypothesis draws the inputs, derandomised and bounded; the requests are sent from the
async test (hypothesis cannot drive a coroutine test itself), so a failure names the
example in its message rather than shrinking it. Writes run inside a transaction that
is rolled back, so the fuzzing leaves no rows behind for the other tests.
"""

from __future__ import annotations

import base64
import json
import os
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from functools import cache
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    ast_from_value,
    get_named_type,
    is_leaf_type,
    print_ast,
)
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from tortoise.transactions import in_transaction

from hub.app import create_app
from hub.enums import Role
from hub.models import User, __models__
from hub.services.auth import create_api_token
from hub.settings import Settings
from tests.api_data import build_world, gid, schema_for

pytestmark = pytest.mark.usefixtures("orm")

ROLES = ("admin", "street_curator", "community_curator", "reader", "partner", "anonymous")
# Examples per root field (each sent as every role) and per request-level test; raise
# LINJU_FUZZ_SCALE for a longer hunt on a workstation (CI keeps the default of 1).
SCALE = max(1, int(os.environ.get("LINJU_FUZZ_SCALE", "1")))
PER_FIELD = 4 * SCALE
PER_TEST = 40 * SCALE

HOSTILE_TEXT: tuple[str, ...] = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\n",
    "x\r\nSet-Cookie: linju=1",
    "\u202eevil\u202c",
    "\ufeff\u200b",
    "'; DROP TABLE member; --",
    '" OR 1=1 --',
    "%_\\",
    "<script>alert(1)</script>",
    "{{7*7}}${7*7}",
    "../../../etc/passwd",
    "名" * 300,
    "x" * 20_000,
    "🙂" * 40,
    "\ud800",
    "a\udfffb",
    "0",
    "-1",
    "1e309",
    "NaN",
    "null",
    "2020-13-45",
    "2020-02-30T25:61:00+99:00",
    "99999-01-01",
    "TWVtYmVyOjE=",
    base64.b64encode(b"Member:" + b"9" * 30).decode(),
    base64.b64encode(b"Member:-5").decode(),
    base64.b64encode(b"Street:1:2").decode(),
    base64.b64encode(b":").decode(),
    base64.b64encode("名:١٢".encode()).decode(),
    "====",
)
HOSTILE_INTS: tuple[int, ...] = (
    0,
    -1,
    1,
    2**31 - 1,
    2**31,
    -(2**31) - 1,
    2**63,
    -(2**63) - 1,
    10**40,
)
HOSTILE_FLOATS: tuple[float, ...] = (0.5, -0.0, 1e308, -1e308, 1e-320)
WRONG_TYPES: tuple[Any, ...] = (None, True, 0, 1.5, "x", [], {}, [None], {"": None})
# What a leaked Python exception looks like in a message.
PYTHONISH = re.compile(
    r"Traceback|object has no attribute|NoneType|not subscriptable|unsupported operand"
    r"|invalid literal for int|codec can't|object is not|got an unexpected keyword"
    r"|maximum recursion|\bKeyError\b|\bTypeError\b|\bValueError\b|asyncpg|sqlite3|tortoise",
    re.IGNORECASE,
)
TRIVIAL = {"query": "{ __typename }"}


# --- drawing examples ----------------------------------------------------------------


def examples(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """``count`` derandomised examples of ``strategy`` (fewer if it has fewer)."""
    found: list[Any] = []

    @hypothesis_settings(
        max_examples=count,
        derandomize=True,
        deadline=None,
        database=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    collect()
    return found


def _text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=30))


def _ints() -> st.SearchStrategy[int | float]:
    return st.one_of(st.sampled_from(HOSTILE_INTS), st.integers(), st.sampled_from(HOSTILE_FLOATS))


def _json() -> st.SearchStrategy[Any]:
    leaves = st.one_of(st.sampled_from(WRONG_TYPES), _text(), _ints())
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(_text(), inner, max_size=3)
        ),
        max_leaves=8,
    )


@dataclass(frozen=True)
class Builder:
    """Strategies for the values of a schema's input types, hostile at the leaves.

    Values are mostly of the right shape (so that they get past coercion to the
    resolvers), with hostile text and numbers inside; ``wrong`` sends a value of
    another JSON type in place of one argument.
    """

    schema: GraphQLSchema
    ids: tuple[tuple[str, str], ...]  # (type name, global id) of real records

    def value(
        self, gql_type: GraphQLInputType, depth: int = 0, name: str = ""
    ) -> st.SearchStrategy[Any]:
        if isinstance(gql_type, GraphQLNonNull):
            return self.value(gql_type.of_type, depth, name)
        if isinstance(gql_type, GraphQLList):
            items = self.value(gql_type.of_type, depth + 1, name.removesuffix("s"))
            return st.lists(items, max_size=3)
        if isinstance(gql_type, GraphQLEnumType):
            return st.one_of(st.sampled_from(sorted(gql_type.values)), _text())
        if isinstance(gql_type, GraphQLInputObjectType):
            return self.input_object(gql_type.name, min(depth, 3))
        assert isinstance(gql_type, GraphQLScalarType)
        return self.scalar(gql_type.name, name)

    def scalar(self, scalar: str, name: str) -> st.SearchStrategy[Any]:
        if scalar == "ID":
            wanted = name[:-2].lower() if name.endswith("Id") else ""
            real = [g for t, g in self.ids if not wanted or t.lower().endswith(wanted)]
            return st.one_of(st.sampled_from(real or [g for _, g in self.ids]), _text())
        if scalar == "Int" and name == "version":
            return st.integers(0, 3)  # optimistic concurrency: near the record's own
        if scalar == "Int":
            return st.one_of(st.integers(-3, 3), st.sampled_from(HOSTILE_INTS))
        if scalar == "Float":
            return st.one_of(st.sampled_from(HOSTILE_INTS + HOSTILE_FLOATS), st.floats())
        if scalar == "Boolean":
            return st.booleans()
        if scalar == "DateTime":
            moments = ("2020-05-01T08:00:00+08:00", "2020-05-01T08:00:00", "9999-12-31T23:59:59Z")
            return st.one_of(st.sampled_from(moments), _text())
        if scalar == "Date":
            return st.one_of(st.sampled_from(("2020-05-01", "0001-01-01", "9999-12-31")), _text())
        if scalar == "JSON":
            return _json()
        return _text()  # String, Decimal, Upload and any other scalar

    def input_object(self, name: str, depth: int) -> st.SearchStrategy[dict[str, Any]]:
        return _input_object(self, name, depth)


@cache
def _input_object(builder: Builder, name: str, depth: int) -> st.SearchStrategy[dict[str, Any]]:
    gql_type = builder.schema.type_map[name]
    assert isinstance(gql_type, GraphQLInputObjectType)
    if depth >= 3:
        return st.just({})
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for field_name, field in gql_type.fields.items():
        target = required if isinstance(field.type, GraphQLNonNull) else optional
        target[field_name] = st.deferred(
            lambda t=field.type, n=field_name: builder.value(t, depth + 1, n)  # type: ignore[misc]
        )
    return st.fixed_dictionaries(required, optional=optional)


def selection(gql_type: Any) -> str:
    """A selection for a field's result: its plain fields, and the type of its lists."""
    named = get_named_type(gql_type)
    if is_leaf_type(named):
        return ""
    if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
        return "{ __typename }"
    assert isinstance(named, GraphQLObjectType)
    parts = ["__typename"]
    for name, field in named.fields.items():
        required_args = any(isinstance(a.type, GraphQLNonNull) for a in field.args.values())
        inner = get_named_type(field.type)
        if required_args:
            continue
        if is_leaf_type(inner):
            parts.append(name)
        elif name in ("nodes", "errors", "rowErrors"):
            parts.append(f"{name} {{ __typename }}")
    return "{ " + " ".join(parts) + " }"


def operation(kind: str, name: str, field: GraphQLField) -> str:
    """``kind($a: T, ...) { name(a: $a, ...) { ... } }`` for a root field."""
    definitions = ", ".join(f"${a}: {arg.type}" for a, arg in field.args.items())
    arguments = ", ".join(f"{a}: ${a}" for a in field.args)
    head = f"{kind}({definitions})" if definitions else kind
    call = f"{name}({arguments})" if arguments else name
    return f"{head} {{ {call} {selection(field.type)} }}"


def variables_for(builder: Builder, field: GraphQLField) -> st.SearchStrategy[dict[str, Any]]:
    required = {
        a: builder.value(arg.type, name=a) for a, arg in field.args.items() if _required(arg)
    }
    optional = {
        a: builder.value(arg.type, name=a) for a, arg in field.args.items() if not _required(arg)
    }
    typed = st.fixed_dictionaries(required, optional=optional)
    wrong = st.fixed_dictionaries(
        {}, optional={a: st.sampled_from(WRONG_TYPES) for a in field.args}
    )

    @st.composite
    def one_wrong(draw: st.DrawFn) -> dict[str, Any]:
        variables = draw(typed)
        variables.update(draw(wrong))
        return variables

    return st.one_of(typed, typed, typed, one_wrong())


def _required(arg: Any) -> bool:
    return isinstance(arg.type, GraphQLNonNull)


# --- the hub, the accounts ---------------------------------------------------------


@dataclass
class Hub:
    client: httpx.AsyncClient
    tokens: dict[str, str | None]
    ids: tuple[tuple[str, str], ...]

    def headers(self, role: str) -> dict[str, str]:
        token = self.tokens[role]
        return {"Authorization": f"Bearer {token}"} if token else {}


@pytest.fixture(scope="module")
async def hub(orm: Settings) -> AsyncIterator[Hub]:
    name = f"fz{uuid.uuid4().hex[:8]}"
    world = await build_world(name)
    accounts: dict[str, dict[str, Any]] = {
        "admin": {"role": Role.ADMIN},
        "street_curator": {"role": Role.CURATOR, "street": world.street},
        "community_curator": {"role": Role.CURATOR, "community": world.community},
        "reader": {"role": Role.READER},
        "partner": {"role": Role.PARTNER, "partner_unit": world.units[0]},
    }
    tokens: dict[str, str | None] = {"anonymous": None}
    for role, fields in accounts.items():
        user = await User.create(username=f"{name}{role}", password_hash="-", **fields)
        tokens[role], _ = await create_api_token(user=user, name=role)
    # Without rate limits: the fuzzing sends far more than a client per minute.
    app = create_app(replace(orm, rate_limit_token_per_minute=0, rate_limit_address_per_minute=0))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    ids = tuple((type(row).__name__, gid(row)) for row in world.all_rows())
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        yield Hub(client, tokens, ids)


def check(response: httpx.Response, example: object) -> None:
    """No 5xx, no INTERNAL error, no Python message leaked."""
    shown = repr(example)[:600]
    assert response.status_code < 500, f"{response.status_code} for {shown}: {response.text[:600]}"
    if "json" not in response.headers.get("content-type", ""):
        return
    body = response.json()
    for item in body if isinstance(body, list) else [body]:
        for error in item.get("errors") or ():
            code = (error.get("extensions") or {}).get("code")
            assert code != "INTERNAL", f"INTERNAL for {shown}: {error}"
            assert not PYTHONISH.search(error["message"]), f"{error['message']} for {shown}"


async def post_json(hub: Hub, body: object, role: str) -> httpx.Response:
    """POST a JSON body as json.dumps writes it: unpaired surrogates travel escaped."""
    headers = {**hub.headers(role), "content-type": "application/json"}
    return await hub.client.post("/graphql", content=json.dumps(body).encode(), headers=headers)


async def still_answers(hub: Hub) -> None:
    response = await hub.client.post("/graphql", json=TRIVIAL)
    assert response.status_code == 200 and response.json() == {"data": {"__typename": "Query"}}


class _Rollback(Exception):
    """Raised to roll back the fuzzing's writes."""


async def _row_counts() -> dict[str, int]:
    return {model.__name__: await model.all().count() for model in __models__}


async def rolled_back(send: Callable[[], Any]) -> None:
    """Run ``send`` inside a transaction that is rolled back afterwards."""
    before = await _row_counts()
    try:
        async with in_transaction():
            await send()
            raise _Rollback
    except _Rollback:
        pass
    assert await _row_counts() == before, "the fuzzing left rows behind"


# --- malformed requests --------------------------------------------------------------

CONTENT_TYPES = (
    "application/json",
    "application/json; charset=latin-1",
    "application/graphql",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "multipart/form-data; boundary=xyz",
    "",
    "application/json; boundary=\x7f",
)
VALID_BODY = json.dumps(
    {"query": "query($w: MemberWhere){ members(where: $w){ totalCount } }", "variables": {}}
).encode()


@st.composite
def _malformed_body(draw: st.DrawFn) -> tuple[bytes, str]:
    kind = draw(st.sampled_from(("bytes", "truncated", "json")))
    if kind == "bytes":
        body = draw(st.binary(max_size=300))
    elif kind == "truncated":
        body = VALID_BODY[: draw(st.integers(0, len(VALID_BODY) - 1))]
    else:
        body = json.dumps(draw(_json())).encode()
    return body, draw(st.sampled_from(CONTENT_TYPES))


async def test_malformed_bodies_never_fail_the_server(hub: Hub) -> None:
    for role in ("admin", "anonymous"):
        for body, content_type in examples(_malformed_body(), PER_TEST):
            headers = {**hub.headers(role), "content-type": content_type}
            if content_type.startswith("multipart"):
                headers["graphql-preflight"] = "1"
            response = await hub.client.post("/graphql", content=body, headers=headers)
            check(response, (body, content_type))
    await still_answers(hub)


PARAMETERS = ("query", "variables", "operationName", "extensions")


@st.composite
def _wrong_parameters(draw: st.DrawFn) -> dict[str, Any]:
    request: dict[str, Any] = {"query": "query A { __typename } query B { viewer { role } }"}
    for name in draw(st.sets(st.sampled_from(PARAMETERS), min_size=1)):
        request[name] = draw(_json())
    return request


def _query_string(request: dict[str, Any]) -> dict[str, str]:
    """GET parameters: JSON-encoded where the protocol expects JSON, raw text otherwise."""
    params: dict[str, str] = {}
    for name, value in request.items():
        if isinstance(value, str) and name in ("query", "operationName"):
            params[name] = value
        else:
            params[name] = json.dumps(value)
    return params


async def test_wrong_json_types_for_every_request_parameter(hub: Hub) -> None:
    for request in examples(_wrong_parameters(), PER_TEST):
        for role in ("reader", "anonymous"):
            post = await post_json(hub, request, role)
            check(post, request)
            get = await hub.client.get(
                "/graphql", params=_query_string(request), headers=hub.headers(role)
            )
            check(get, request)
    await still_answers(hub)


async def test_raw_get_query_strings(hub: Hub) -> None:
    raw = st.text(
        alphabet=st.sampled_from("%=&?+;#[]{}\"'\\ 名queryvariablesoperationNameextensions0fF"),
        max_size=80,
    )
    for query_string in examples(raw, PER_TEST):
        response = await hub.client.get(f"/graphql?{query_string}", headers=hub.headers("admin"))
        check(response, query_string)
    await still_answers(hub)


# --- hostile arguments in every root field ------------------------------------------


@cache
def _field_examples(
    settings: Settings, ids: tuple[tuple[str, str], ...]
) -> list[tuple[str, str, dict[str, Any]]]:
    """(field, document, variables) for every argument-taking root field."""
    schema = schema_for(settings)._schema
    builder = Builder(schema, ids)
    out: list[tuple[str, str, dict[str, Any]]] = []
    for kind, root in (("query", schema.query_type), ("mutation", schema.mutation_type)):
        assert root is not None
        for name, field in root.fields.items():
            document = operation(kind, name, field)
            if not field.args:
                out.append((name, document, {}))
                continue
            for variables in examples(variables_for(builder, field), PER_FIELD):
                out.append((name, document, variables))
    return out


@pytest.mark.parametrize("role", ROLES)
async def test_hostile_arguments_in_every_root_field(hub: Hub, orm: Settings, role: str) -> None:
    cases = _field_examples(orm, hub.ids)
    assert {name for name, _, _ in cases} >= {"members", "createMember", "statistics"}

    async def send() -> None:
        for name, document, variables in cases:
            response = await post_json(hub, {"query": document, "variables": variables}, role)
            check(response, (name, variables))

    await rolled_back(send)
    await still_answers(hub)


def inline(kind: str, name: str, field: GraphQLField, variables: dict[str, Any]) -> str | None:
    """The operation with ``variables`` written into it as literals, or None when a value
    has no literal of its argument's type (graphql-core's ``ast_from_value`` decides)."""
    arguments: list[str] = []
    for argument, value in variables.items():
        try:
            node = ast_from_value(value, field.args[argument].type)
        except (GraphQLError, TypeError, ValueError, AttributeError):
            return None  # a custom scalar serialises only its own Python type
        if node is None:
            return None
        arguments.append(f"{argument}: {print_ast(node)}")
    call = f"{name}({', '.join(arguments)})" if arguments else name
    return f"{kind} {{ {call} {selection(field.type)} }}"


@cache
def _literal_cases(settings: Settings, ids: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """(kind, document) for every example of ``_field_examples`` that has literals."""
    schema = schema_for(settings)._schema
    roots = {"query": schema.query_type, "mutation": schema.mutation_type}
    out: list[tuple[str, str]] = []
    for name, document, variables in _field_examples(settings, ids):
        kind = document.split(None, 1)[0].split("(", 1)[0]
        root = roots[kind]
        assert root is not None
        text = inline(kind, name, root.fields[name], variables)
        if text is not None:
            out.append((kind, text))
    return out


@pytest.mark.parametrize("role", ["admin", "partner", "anonymous"])
async def test_hostile_literals_in_every_root_field(hub: Hub, orm: Settings, role: str) -> None:
    # the same values written into the document: queries over GET, mutations over POST
    cases = _literal_cases(orm, hub.ids)
    assert any(kind == "mutation" for kind, _ in cases)

    async def send() -> None:
        for kind, document in cases:
            if kind == "query":
                # as the bytes a client would send, unpaired surrogates included
                raw = quote(document.encode("utf-8", "surrogatepass"), safe="")
                response = await hub.client.get(f"/graphql?query={raw}", headers=hub.headers(role))
            else:
                response = await post_json(hub, {"query": document}, role)
            check(response, document)

    await rolled_back(send)
    await still_answers(hub)
