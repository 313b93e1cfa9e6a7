"""Bounded input (issue 14, findings 4, 9 and 10): every malformed or oversized request gets
a 4xx or a BAD_USER_INPUT error, checked before any work in proportion to its size.

Each test here is an attack that once stalled the hub or answered 500 / INTERNAL.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from starlette.datastructures import FormData
from tortoise.exceptions import ValidationError

from hub.app import create_app
from hub.app.graphql_app import GRAPHQL_RESPONSE_JSON
from hub.enums import Role
from hub.models import Member, User
from hub.services.auth import create_api_token
from hub.settings import Settings
from resolvers.errors import UserError
from resolvers.filters import MAX_FILTER_NODES, _Translator, to_q
from resolvers.input_values import MAX_INPUT_DEPTH, MAX_INPUT_NODES, Measure, column_problem
from resolvers.search import search_q
from schema.extensions import unfit_value
from schema.filters import where_input
from tests.api_data import execute

pytestmark = pytest.mark.usefixtures("orm")

TOTAL = "query($w: MemberWhere){ members(where: $w){ totalCount } }"
SEARCH = "query($s: String){ members(search: $s){ totalCount } }"
NAME_EQ = "query($s: String){ members(where: {name: {eq: $s}}){ totalCount } }"
ID_EQ = "query($s: ID){ members(where: {id: {eq: $s}}){ totalCount } }"
TWO_OPERATIONS = "query A { __typename } query B { __typename }"
UPLOAD = "mutation($input: ImportMembersInput!){ importMembers(input: $input){ ok } }"


@pytest.fixture
async def client(orm: Settings, unique_name: str) -> AsyncIterator[httpx.AsyncClient]:
    """The whole hub over ASGI, as an ADMIN (who reads members: filters do run)."""
    user = await User.create(username=f"a{unique_name}", password_hash="-", role=Role.ADMIN)
    token, _ = await create_api_token(user=user, name=unique_name)
    transport = httpx.ASGITransport(app=create_app(orm), raise_app_exceptions=False)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://hub", headers=headers
    ) as client:
        yield client


def _nested_or(levels: int, width: int) -> dict[str, Any]:
    """The finding-4 attack: ``or`` lists of empty objects, nested."""
    where: dict[str, Any] = {}
    for _ in range(levels):
        where = {"or": [where] + [{} for _ in range(width - 1)]}
    return where


def _code(body: dict[str, Any]) -> str:
    return body["errors"][0].get("extensions", {}).get("code", "")


def _assert_refused(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    """A 4xx whose error says BAD_USER_INPUT (or 200 with that error, legacy JSON)."""
    assert response.status_code in (status, 200), response.text
    body = response.json()
    assert _code(body) == "BAD_USER_INPUT", body
    assert not body.get("data"), body
    return body


# --- finding 4: one request must not stall the server --------------------------


async def test_the_empty_or_attack_is_refused_with_bad_user_input(
    client: httpx.AsyncClient,
) -> None:
    # given ~0.9 MB of nested ``or`` lists of empty objects: under the body limit
    attack = _nested_or(levels=6, width=9)
    attack["or"].extend({} for _ in range(300_000))
    body = json.dumps({"query": TOTAL, "variables": {"w": attack}}, separators=(",", ":"))
    body_bytes = body.encode()
    assert len(body_bytes) < Settings().max_graphql_body_bytes
    response = await client.post(
        "/graphql",
        content=body_bytes,
        headers={"content-type": "application/json", "accept": GRAPHQL_RESPONSE_JSON},
    )
    # then it is refused as input, saying what and where
    message = _assert_refused(response)["errors"][0]["message"]
    assert "values in all" in message and "variables.w" in message
    # and the server still answers
    assert (await client.get("/healthz")).status_code == 200


async def test_the_original_attack_size_is_over_the_graphql_body_limit(
    client: httpx.AsyncClient,
) -> None:
    attack: dict[str, Any] = {"or": [{} for _ in range(800_000)]}  # ~2.5 MB as reported
    response = await client.post("/graphql", json={"query": TOTAL, "variables": {"w": attack}})
    assert response.status_code == 413
    assert _code(response.json()) == "PAYLOAD_TOO_LARGE"


async def test_uploads_keep_the_larger_body_limit(client: httpx.AsyncClient) -> None:
    # a 1.5 MiB file (over the JSON limit, under the upload limit) reaches the app:
    # here its map names no variable, so the app itself answers 400
    operations = {"query": UPLOAD, "variables": {"input": {"file": None}}}
    response = await client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.x"]})},
        files={"0": ("a.csv", b"x" * (1536 * 1024), "text/csv")},
        headers={"GraphQL-Preflight": "1"},
    )
    assert response.status_code == 400 and "variables.x" in response.text


async def test_the_attack_is_refused_whatever_the_transport(orm: Settings) -> None:
    # schema.execute is what the WebSocket transport calls too: no HTTP check helps it
    result = await execute(orm, TOTAL, w={"or": [{} for _ in range(MAX_INPUT_NODES + 10)]})
    assert result.errors and result.errors[0].extensions == {
        "code": "BAD_USER_INPUT",
        "field": "w.or",
    }
    deep = await execute(orm, TOTAL, w=_nested_or(levels=MAX_INPUT_DEPTH, width=1))
    assert deep.errors and "levels deep" in deep.errors[0].message


def test_measuring_a_huge_value_visits_no_more_than_the_limit() -> None:
    attack = _nested_or(levels=20, width=1)
    attack["or"].extend({} for _ in range(1_000_000))
    walk = Measure(max_depth=64, max_nodes=1_000)
    problem = walk.check(attack, "w")
    assert problem is not None and problem.path == "w.or"
    assert walk.visited <= 1_001
    # nested lists, each one short: still stopped at the limit
    walk = Measure(max_depth=10_000, max_nodes=1_000)
    assert walk.check(_nested_or(levels=5_000, width=2), "w") is not None
    assert walk.visited <= 1_001


async def test_a_filter_counts_empty_objects(orm: Settings) -> None:
    # under the variables' limits, over the filter's: still refused, by the filter
    result = await execute(orm, TOTAL, w={"or": [{} for _ in range(MAX_FILTER_NODES + 1)]})
    assert result.errors and result.errors[0].extensions == {
        "code": "BAD_USER_INPUT",
        "field": "where.or",
    }
    assert "empty ones included" in result.errors[0].message
    # the same written into the document
    literal = "{ members(where: {or: [" + "{} " * (MAX_FILTER_NODES + 1) + "]}){ totalCount } }"
    refused = await execute(orm, literal)
    assert refused.errors and (refused.errors[0].extensions or {})["code"] == "BAD_USER_INPUT"


def test_the_filter_refuses_an_or_list_before_visiting_it(monkeypatch: pytest.MonkeyPatch) -> None:
    where_type = where_input(Member)
    visits: list[str] = []
    original = _Translator.where

    def counted(self: _Translator, *args: Any, **kwargs: Any) -> Any:
        visits.append(args[2])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(_Translator, "where", counted)
    nested = where_type(or_=[where_type() for _ in range(10)])
    big = where_type(or_=[where_type() for _ in range(50)] + [nested] * 1_000)
    with pytest.raises(UserError, match="parts"):
        to_q(Member, big)
    assert visits == ["where"]
    # within the limit it translates, visiting each object once
    visits.clear()
    to_q(Member, where_type(or_=[where_type() for _ in range(MAX_FILTER_NODES - 1)]))
    assert len(visits) == MAX_FILTER_NODES


# --- finding 10: any input, no 500 ------------------------------------------------


@pytest.mark.parametrize("name", [["A"], {"a": 1}, 5, True])
async def test_operation_name_of_the_wrong_type_is_400(
    client: httpx.AsyncClient, name: object
) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ __typename }", "operationName": name}
    )
    assert response.status_code == 400
    assert _code(response.json()) == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "{ __typename \xff }"}',  # not UTF-8
        b'{"query": "{ __typename }", "variables": {"s": "\\ud800"}}',  # unpaired surrogate
        b'{"query": "{ __typename }", "variables": {"a": ' + b"[" * 5000 + b"]" * 5000 + b"}}",
        b'{"query": "{ __typename }", "variables": {"a": ' + b"[" * 100 + b"]" * 100 + b"}}",
        b'{"query": "{ __typename }"',  # truncated
        b"",
        b"null",
        b'"{ __typename }"',
    ],
)
async def test_bodies_that_are_not_usable_json_are_400(
    client: httpx.AsyncClient, body: bytes
) -> None:
    response = await client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert _code(response.json()) == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    "parts",
    [
        {"map": "[1]"},
        {"map": '{"0": "variables.input.file"}'},
        {"map": '{"0": [1]}'},
        {"map": '{"9": ["variables.input.file"]}'},  # no such file
        {"map": '{"0": ["variables.input.nothing.deeper"]}'},
        {"map": '{"0": ["variables.input.file.0.1"]}'},
        {"map": '{"0": ["query"]}'},
        {"map": '{"operations": ["variables.input.file"]}'},  # a field, not a file
        {"operations": None},  # missing
        {"operations": "[1]"},
        {"operations": '"text"'},
        {"operations": "{"},
        {"map": None},
    ],
)
async def test_malformed_multipart_is_400(
    client: httpx.AsyncClient, parts: dict[str, str | None]
) -> None:
    operations = json.dumps({"query": UPLOAD, "variables": {"input": {"file": None}}})
    form = {"operations": operations, "map": '{"0": ["variables.input.file"]}', **parts}
    response = await client.post(
        "/graphql",
        data={k: v for k, v in form.items() if v is not None},
        files={"0": ("a.csv", b"x", "text/csv")},
        headers={"GraphQL-Preflight": "1"},
    )
    assert response.status_code == 400, response.text
    assert _code(response.json()) == "BAD_USER_INPUT"


@pytest.mark.parametrize("map_", ['{"0": ["variables.input.file"]}', '{"0": ["variables.x"]}'])
async def test_uploaded_files_are_closed_answered_or_refused(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, map_: str
) -> None:
    # spooled uploads were left open (a ResourceWarning once warnings are errors)
    closed: list[int] = []
    original = FormData.close

    async def close(self: FormData) -> None:
        closed.append(len(self))
        await original(self)

    monkeypatch.setattr(FormData, "close", close)
    operations = json.dumps({"query": UPLOAD, "variables": {"input": {"file": None}}})
    response = await client.post(
        "/graphql",
        data={"operations": operations, "map": map_},
        files={"0": ("a.csv", b"x", "text/csv")},
        headers={"GraphQL-Preflight": "1"},
    )
    assert response.status_code in (200, 400)
    assert closed == [3]


async def test_multipart_operations_sent_as_a_file_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        data={"map": '{"0": ["variables.f"]}'},
        files={"operations": ("o.json", b'{"query": "{ __typename }"}'), "0": ("a", b"x")},
        headers={"GraphQL-Preflight": "1"},
    )
    assert response.status_code == 400 and _code(response.json()) == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        (NAME_EQ, {"s": "名" * 5_000}, "where.name.eq"),
        (
            "query($s: String){ members(where: {name: {contains: $s}}){ totalCount } }",
            {"s": "x" * 50_000},
            "where.name.contains",
        ),
        (
            "query($s: [String!]){ members(where: {name: {in: $s}}){ totalCount } }",
            {"s": ["ok", "y" * 500]},
            "where.name.in",
        ),
        (ID_EQ, {"s": base64.b64encode(b"Member:" + b"9" * 40).decode()}, "where.id.eq"),
        (ID_EQ, {"s": base64.b64encode(b"Member:99999999999").decode()}, "where.id.eq"),
        (ID_EQ, {"s": base64.b64encode(b"Member:-99999999999").decode()}, "where.id.eq"),
        (ID_EQ, {"s": "x" * 100_000}, "where.id.eq"),
        (NAME_EQ, {"s": "a\x00b"}, "s"),
        (SEARCH, {"s": "\ud800"}, "s"),
        (SEARCH, {"s": "x" * 50_000}, "search"),
    ],
)
async def test_values_the_column_cannot_hold_are_bad_user_input(
    orm: Settings, query: str, variables: dict[str, Any], field: str
) -> None:
    result = await execute(orm, query, **variables)
    assert result.errors, result.data
    assert result.errors[0].extensions == {"code": "BAD_USER_INPUT", "field": field}


async def test_values_the_column_cannot_hold_over_http(client: httpx.AsyncClient) -> None:
    for variables in ({"s": "名" * 5_000}, {"s": "a\x00b"}):
        response = await client.post("/graphql", json={"query": NAME_EQ, "variables": variables})
        _assert_refused(response)


@pytest.mark.parametrize(
    "query",
    [
        '{ members(where: {name: {eq: "a\\u0000b"}}){ totalCount } }',
        '{ members(search: "a\\u0000b"){ totalCount } }',
    ],
)
async def test_text_literals_meet_the_same_checks(orm: Settings, query: str) -> None:
    result = await execute(orm, query)
    assert result.errors and result.errors[0].extensions == {"code": "BAD_USER_INPUT"}


async def test_surrogate_in_a_literal_is_a_parse_error(orm: Settings) -> None:
    result = await execute(orm, '{ members(search: "\\ud800"){ totalCount } }')
    assert result.errors and result.errors[0].extensions == {"code": "GRAPHQL_PARSE_FAILED"}


def test_search_refuses_what_it_cannot_fold() -> None:
    for text in ("\udc00x", "a\x00"):
        with pytest.raises(UserError, match="search"):
            search_q(Member, text)


def test_column_checks() -> None:
    fields = Member._meta.fields_map
    assert column_problem(fields["name"], "x" * 50) is None  # CharField(max_length=50)
    assert "longer" in (column_problem(fields["name"], "x" * 500) or "")
    assert "range" in (column_problem(fields["id"], 2**31) or "")
    assert column_problem(fields["id"], 2**31 - 1) is None


@pytest.mark.parametrize(
    "payload",
    [
        b"[" * 5000 + b"]" * 5000,
        b'{"o": "x", "v": [' + b"[" * 900 + b"]" * 900 + b"]}",
        b"\xff\xfe",
    ],
)
async def test_hostile_cursors_are_bad_user_input(orm: Settings, payload: bytes) -> None:
    cursor = base64.urlsafe_b64encode(payload).decode()
    result = await execute(orm, "query($c: String){ members(after: $c){ totalCount } }", c=cursor)
    assert result.errors and (result.errors[0].extensions or {})["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    "query_string",
    [
        "query=%7B__typename%7D&variables=xx",
        "query=%7B__typename%7D&variables=%5B1%5D",
        "query=%7B__typename%7D&variables=null",
        "query=%7B__typename%7D&variables=%22s%22",
        "query=%7B__typename%7D&extensions=5",
        "query=%7B__typename%7D&extensions=%5B%5B",
        "query=%7B__typename%7D&variables=%7B%22s%22%3A%22%5Cud800%22%7D",
        "query=%7B__typename%7D&operationName=%5B%5D&operationName=B",
        "query=%ff%fe",
        "query=mutation%7B__typename%7D",
        "query=subscription%7B__typename%7D",
        "query=%7B__typename%7D&variables=" + "%5B" * 2000,
    ],
)
async def test_malformed_get_parameters_are_4xx(
    client: httpx.AsyncClient, query_string: str
) -> None:
    response = await client.get(f"/graphql?{query_string}", headers={"accept": "application/json"})
    assert response.status_code < 500
    if response.status_code == 200:  # legacy JSON: request errors come with 200
        assert response.json()["errors"]


# --- finding 9: two operations and no operationName ------------------------------


async def test_two_operations_without_a_name_are_an_error(client: httpx.AsyncClient) -> None:
    accept = {"accept": GRAPHQL_RESPONSE_JSON}
    post = await client.post("/graphql", json={"query": TWO_OPERATIONS}, headers=accept)
    get = await client.get("/graphql", params={"query": TWO_OPERATIONS}, headers=accept)
    for response in (post, get):
        body = _assert_refused(response)
        assert "operationName" in body["errors"][0]["message"]
    # naming one runs it
    named = await client.get("/graphql", params={"query": TWO_OPERATIONS, "operationName": "B"})
    assert named.json() == {"data": {"__typename": "Query"}}


async def test_two_operations_are_an_error_on_every_transport(orm: Settings) -> None:
    result = await execute(orm, TWO_OPERATIONS)
    assert result.errors and result.errors[0].extensions == {
        "code": "BAD_USER_INPUT",
        "field": "operationName",
    }
    single = await execute(orm, "query A { __typename }")
    assert single.errors is None


async def test_graphql_bodies_have_their_own_limit(orm: Settings) -> None:
    app = create_app(replace(orm, max_graphql_body_bytes=2048))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as small:
        padded = {"query": "{ __typename }\n#" + "x" * 4096}
        refused = await small.post("/graphql", json=padded)
        assert refused.status_code == 413 and "2048" in refused.json()["errors"][0]["message"]
        ok = await small.post("/graphql", json={"query": "{ __typename }"})
        assert ok.status_code == 200


# --- found by tests/test_fuzz_http.py -----------------------------------------------

LOGIN_ERRORS = """mutation($u: String!, $p: String!) {
  login(username: $u, password: $p) { accessToken errors { field message code } } }"""


@pytest.mark.parametrize("length", [51, 20_000])
async def test_a_username_longer_than_its_column_is_wrong_credentials(
    orm: Settings, length: int
) -> None:
    # The lookup of such a name failed in Tortoise's field validation (INTERNAL, then
    # BAD_USER_INPUT): an answer of its own, telling such names apart from unknown ones.
    long_name = f"{length}-" + "x" * length
    unknown = await execute(orm, LOGIN_ERRORS, u=f"nobody-{length}", p="secret")
    assert unknown.errors is None and unknown.data is not None
    assert unknown.data["login"]["errors"][0]["code"] == "UNAUTHENTICATED"
    # given a name no account can have, the answer is exactly that of an unknown name
    for _ in range(orm.login_max_failures):
        result = await execute(orm, LOGIN_ERRORS, u=long_name, p="secret")
        assert result.errors is None and result.data == unknown.data
    # and its failures are counted like any other: the name is locked now
    locked = await execute(orm, LOGIN_ERRORS, u=long_name, p="secret")
    assert locked.data is not None and locked.data["login"]["errors"][0]["code"] == "LOCKED"


@pytest.mark.parametrize(
    "exc",
    [
        ValidationError(f"name: Length of '{'x' * 5000}' 5000 > 50"),
        OverflowError("Python int too large to convert to SQLite INTEGER"),
        type("DataError", (Exception,), {"sqlstate": "22003"})("integer out of range"),
    ],
)
def test_values_the_database_refuses_are_the_clients_input(exc: Exception) -> None:
    wrapped = RuntimeError("wrapper")
    wrapped.__cause__ = exc
    for candidate in (exc, wrapped):
        detail = unfit_value(candidate)
        assert detail is not None and "xxx" not in detail
    assert unfit_value(RuntimeError("a bug")) is None
    assert unfit_value(type("E", (Exception,), {"sqlstate": "57014"})()) is None
