"""The fast lane (hub.fast_lane): response-cache hits answered before strawberry's view.

Every answer is compared with the full path's — the same app with its fast lane off —
byte for byte (status, body, headers but the request id): for each role, GET and POST,
both media types; anything the lane does not take (malformed bodies, batches, other
media types, bad credentials, misses) must come out exactly as today.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import httpx
import orjson
import pytest
from prometheus_client import REGISTRY
from starlette.routing import Route

from hub import models as m
from hub.app import create_app
from hub.cache import response_cache
from hub.enums import Role
from hub.graphql_app import CACHE_HEADER, GRAPHQL_RESPONSE_JSON, HubGraphQL
from hub.services import auth
from hub.settings import Settings
from schema.node import encode_global_id
from tests.cache_support import cache_settings, redis_server
from tests.conftest import count_statements
from tests.service_world import build_world

__all__ = ["cache_settings", "redis_server"]

MEMBER = "query Member($id: ID!) { node(id: $id) { ... on Member { name phone } } }"
PHONE = "13912345678"
MASKED = "139****5678"


class Hub:
    """One app, its GraphQL endpoint, and tokens of an ADMIN and a READER."""

    def __init__(self, client: httpx.AsyncClient, graphql: HubGraphQL, tokens: dict[str, str]):
        self.client = client
        self.graphql = graphql
        self.tokens = tokens
        self.lane = graphql.fast_lane

    async def send(
        self,
        method: str,
        role: str | None,
        payload: dict[str, Any],
        *,
        fast: bool = True,
        accept: str | None = None,
        content_type: str = "application/json",
        raw: bytes | None = None,
    ) -> httpx.Response:
        self.graphql.fast_lane = self.lane if fast else None
        headers = {"content-type": content_type}
        if role is not None:
            headers["authorization"] = f"Bearer {self.tokens.get(role, role)}"
        if accept is not None:
            headers["accept"] = accept
        if method == "GET":
            params = {
                k: orjson.dumps(v).decode() if isinstance(v, dict) else v
                for k, v in payload.items()
            }
            return await self.client.get("/graphql", params=params, headers=headers)
        body = raw if raw is not None else orjson.dumps(payload)
        return await self.client.post("/graphql", content=body, headers=headers)


def shape(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    """What a client sees, but the request id (new for every request)."""
    headers = [(k, v) for k, v in response.headers.multi_items() if k != "x-request-id"]
    return response.status_code, response.content, headers


@pytest.fixture
async def hub(cache_settings: Settings, unique_name: str) -> AsyncIterator[Hub]:
    app = create_app(cache_settings)
    (graphql,) = [
        r.app for r in app.routes if isinstance(r, Route) and isinstance(r.app, HubGraphQL)
    ]
    tokens = {}
    for role in (Role.ADMIN, Role.READER):
        user = await m.User.create(
            username=f"{unique_name}-{role.value}", password_hash="-", role=role
        )
        tokens[role.value.lower()], _ = await auth.create_api_token(user=user, name="fast lane")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub"
    ) as client:
        yield Hub(client, graphql, tokens)


@pytest.fixture
async def member_id(unique_name: str) -> str:
    world = await build_world(unique_name)
    member = await m.Member.create(
        name="李四", category=world.member.category, branch=world.branch, phone=PHONE
    )
    return encode_global_id("Member", member.id)


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def wrap(self, function: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return await function(*args, **kwargs)

        return counted


@pytest.fixture
def counts(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> dict[str, Counter]:
    """Calls of schema.execute, strawberry's parse_http_body and resolve_bearer."""
    found = {name: Counter() for name in ("execute", "parse", "resolve")}
    monkeypatch.setattr(
        hub.graphql.schema, "execute", found["execute"].wrap(hub.graphql.schema.execute)
    )
    monkeypatch.setattr(
        HubGraphQL, "parse_http_body", found["parse"].wrap(HubGraphQL.parse_http_body)
    )
    monkeypatch.setattr(auth, "resolve_bearer", found["resolve"].wrap(auth.resolve_bearer))
    return found


def hits() -> float:
    return REGISTRY.get_sample_value("linju_response_cache_total", {"result": "hit"}) or 0.0


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize("accept", [None, GRAPHQL_RESPONSE_JSON])
@pytest.mark.parametrize("role", ["admin", "reader"])
async def test_a_hit_is_byte_identical_to_the_full_paths(
    hub: Hub, member_id: str, counts: dict[str, Counter], method: str, accept: str | None, role: str
) -> None:
    payload = {"query": MEMBER, "variables": {"id": member_id}, "operationName": "Member"}
    first = await hub.send(method, role, payload, fast=False, accept=accept)
    assert first.headers[CACHE_HEADER] == "stored", first.text
    full = await hub.send(method, role, payload, fast=False, accept=accept)
    assert full.headers[CACHE_HEADER] == "hit"
    before = (counts["execute"].calls, counts["parse"].calls, counts["resolve"].calls, hits())

    fast = await hub.send(method, role, payload, accept=accept)

    assert shape(fast) == shape(full)
    # (a first answer may carry the database's own JSON spacing: the same document)
    assert orjson.loads(fast.content) == orjson.loads(first.content)
    # answered by the lane: no execution, no strawberry view, one credential lookup
    after = (counts["execute"].calls, counts["parse"].calls, counts["resolve"].calls, hits())
    assert after == (before[0], before[1], before[2] + 1, before[3] + 1)
    expected = f"{accept or 'application/json'}; charset=utf-8"
    assert fast.headers["content-type"] == expected
    phone = fast.json()["data"]["node"]["phone"]
    assert phone == (PHONE if role == "admin" else MASKED)


async def test_a_readers_masked_answer_is_never_an_admins_and_vice_versa(
    hub: Hub, member_id: str
) -> None:
    payload = {"query": MEMBER, "variables": {"id": member_id}}
    for _ in range(3):  # stored, then hits, each from its own role's entry
        for role, phone in (("admin", PHONE), ("reader", MASKED)):
            response = await hub.send("POST", role, payload)
            assert response.json()["data"]["node"]["phone"] == phone
    assert response.headers[CACHE_HEADER] == "hit"
    # the other order: an entry stored by a reader is not served to an admin either
    other = {"query": MEMBER + " ", "variables": {"id": member_id}}
    for role, phone in (("reader", MASKED), ("admin", PHONE), ("reader", MASKED)):
        response = await hub.send("GET", role, other)
        assert response.json()["data"]["node"]["phone"] == phone
        assert response.headers[CACHE_HEADER] in ("stored", "hit")


async def test_a_write_makes_the_next_answer_fresh(hub: Hub, member_id: str) -> None:
    payload = {"query": MEMBER, "variables": {"id": member_id}}
    await hub.send("POST", "admin", payload)
    assert (await hub.send("POST", "admin", payload)).headers[CACHE_HEADER] == "hit"
    await m.Member.filter(phone=PHONE).update(phone="13800000000")
    fresh = await hub.send("POST", "admin", payload)
    assert fresh.headers[CACHE_HEADER] == "stored"
    assert fresh.json()["data"]["node"]["phone"] == "13800000000"
    again = await hub.send("GET", "admin", payload)
    assert again.headers[CACHE_HEADER] == "hit"
    assert orjson.loads(again.content) == orjson.loads(fresh.content)


async def test_a_miss_goes_down_the_full_path_counted_once(
    hub: Hub, counts: dict[str, Counter]
) -> None:
    payload = {"query": "query Fresh { districts(first: 1) { totalCount } }"}
    misses = REGISTRY.get_sample_value("linju_response_cache_total", {"result": "miss"}) or 0.0
    response = await hub.send("POST", "admin", payload)
    assert response.headers[CACHE_HEADER] == "stored"
    # (executed by the compiled read path or strawberry: either way through the view)
    assert (counts["parse"].calls, counts["resolve"].calls) == (1, 1)
    after = REGISTRY.get_sample_value("linju_response_cache_total", {"result": "miss"}) or 0.0
    assert after == misses + 1


REFUSED: list[tuple[str, dict[str, Any]]] = [
    ("malformed JSON", {"raw": b'{"query": "{ __typename }"'}),
    ("not UTF-8", {"raw": b'{"query": "\xff"}'}),
    ("a list", {"raw": b"[]"}),
    ("a batch", {"raw": b'[{"query": "{ __typename }"}, {"query": "{ __typename }"}]'}),
    ("a number", {"raw": b"1"}),
    ("no query", {"raw": b'{"variables": {}}'}),
    ("query not a string", {"raw": b'{"query": 1}'}),
    ("variables not an object", {"raw": b'{"query": "{ __typename }", "variables": [1]}'}),
    ("operationName not a string", {"raw": b'{"query": "{ __typename }", "operationName": 1}'}),
    (
        "too deep",
        {
            "raw": b'{"query": "{ __typename }", "variables": {"a": '
            + b"[" * 200
            + b"]" * 200
            + b"}}"
        },
    ),
    ("text/plain", {"raw": b'{"query": "{ __typename }"}', "content_type": "text/plain"}),
    ("a mutation over GET", {"method": "GET", "payload": {"query": "mutation { logout }"}}),
    (
        "GET with bad variables",
        {"method": "GET", "payload": {"query": "{ __typename }", "variables": "x"}},
    ),
    ("a bad token", {"role": "lj_not-a-token"}),
    ("a subscription", {"payload": {"query": "subscription { __typename }"}}),
    ("a parse error", {"payload": {"query": "{"}}),
]


@pytest.mark.parametrize(("case", "how"), REFUSED, ids=[c for c, _ in REFUSED])
async def test_what_the_lane_does_not_take_is_answered_as_today(
    hub: Hub, case: str, how: dict[str, Any]
) -> None:
    method = how.get("method", "POST")
    role = how.get("role", "admin")
    payload = how.get("payload", {"query": "{ __typename }"})
    options = {k: how[k] for k in ("raw", "content_type") if k in how}
    for accept in (None, GRAPHQL_RESPONSE_JSON):
        answers = [
            shape(await hub.send(method, role, payload, fast=fast, accept=accept, **options))
            for fast in (False, True, True)
        ]
        assert answers[0] == answers[1] == answers[2], case
        assert answers[0][0] != 500


async def test_a_body_in_several_chunks_is_replayed_to_the_full_path(
    hub: Hub, member_id: str
) -> None:
    body = orjson.dumps({"query": MEMBER, "variables": {"id": member_id}})
    answers = []
    for _ in range(3):  # stored, hit, hit: the lane reads the chunks either way
        chunks = [body[:10], body[10:20], body[20:]]
        messages = [
            {"type": "http.request", "body": c, "more_body": i < 2} for i, c in enumerate(chunks)
        ]
        sent: list[dict[str, Any]] = []

        async def receive(messages: list[dict[str, Any]] = messages) -> dict[str, Any]:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: dict[str, Any], sent: list[dict[str, Any]] = sent) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "root_path": "",
            "query_string": b"",
            "headers": [
                (b"host", b"hub"),
                (b"content-type", b"application/json"),
                (b"authorization", f"Bearer {hub.tokens['admin']}".encode()),
            ],
            "client": ("127.0.0.1", 1),
            "server": ("hub", 80),
            "state": {},
        }
        await hub.graphql(scope, receive, send)
        start, *bodies = sent
        headers = dict(start["headers"])
        answers.append(
            (start["status"], headers[b"x-linju-cache"], b"".join(b["body"] for b in bodies))
        )
    assert [a[1] for a in answers] == [b"stored", b"hit", b"hit"]
    assert answers[0][0] == 200 and answers[1][2] == answers[2][2]
    assert orjson.loads(answers[0][2]) == orjson.loads(answers[1][2])
    assert orjson.loads(answers[0][2])["data"]["node"]["phone"] == PHONE


async def test_the_lane_is_off_with_the_cache(orm: Settings) -> None:
    app = create_app(replace(orm, response_cache=False))
    (graphql,) = [
        r.app for r in app.routes if isinstance(r, Route) and isinstance(r.app, HubGraphQL)
    ]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub"
    ) as client:
        for _ in range(2):
            response = await client.post("/graphql", json={"query": "{ __typename }"})
            assert response.json() == {"data": {"__typename": "Query"}}
            assert response.headers[CACHE_HEADER] == "bypass"
    assert graphql.fast_lane is not None


async def test_a_root_typename_is_answered_without_a_statement(orm: Settings) -> None:
    # The compiled read path answered `{ __typename }` with `SELECT json_quote('Query')`.
    app = create_app(replace(orm, response_cache=False))
    query = {"query": "query T { __typename again: __typename }"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub"
    ) as client:
        await client.post("/graphql", json=query)  # the plan is made
        with count_statements() as sql:
            response = await client.post("/graphql", json=query)
            mixed = await client.post(
                "/graphql", json={"query": "{ __typename districts(first: 1) { totalCount } }"}
            )
    assert response.json() == {"data": {"__typename": "Query", "again": "Query"}}
    assert mixed.json()["data"]["__typename"] == "Query"
    assert isinstance(mixed.json()["data"]["districts"]["totalCount"], int)
    assert sql.count == 1, sql.statements  # the districts only


async def test_a_miss_asks_the_store_once(
    hub: Hub, member_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = response_cache(hub.graphql.settings).state
    lookups = Counter()
    monkeypatch.setattr(state, "lookup", lookups.wrap(state.lookup))
    payload = {"query": MEMBER, "variables": {"id": member_id}}
    outcomes = []
    for n, method in enumerate(("POST", "GET", "POST"), start=1):
        response = await hub.send(method, "admin", payload)
        outcomes.append(response.headers[CACHE_HEADER])
        assert lookups.calls == n  # the lane's lookup is the full path's on a miss
    assert outcomes == ["stored", "hit", "hit"]
    # a write: the next request misses in the lane and is stored by the full path
    await m.Member.filter(phone=PHONE).update(name="王五")
    response = await hub.send("POST", "admin", payload)
    assert response.headers[CACHE_HEADER] == "stored" and lookups.calls == 4
    assert response.json()["data"]["node"]["name"] == "王五"
