"""The fast lane (hub.app.fast_lane): response-cache hits and compiled reads answered
before strawberry's view.

Every answer is compared with the full path's — the same app with its fast lane off —
byte for byte (status, body, headers but the request id): for each role, GET and POST,
both media types, the cache on and off; anything the lane does not take (malformed
bodies, batches, other media types, bad credentials, errors of any kind, fields that
fall back to the resolvers, mutations) must come out exactly as today, and is seen to
go through strawberry's view.
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
from hub.app.graphql_app import CACHE_HEADER, GRAPHQL_RESPONSE_JSON, HubGraphQL
from hub.cache import response_cache
from hub.enums import Role, UnitKind
from hub.services import auth
from hub.settings import Settings
from schema.compiled import ReadPath
from schema.node import encode_global_id
from tests.asgi_support import graphql_post_scope
from tests.cache_support import cache_settings, redis_server
from tests.conftest import count_statements
from tests.service_world import World, build_world

__all__ = ["cache_settings", "redis_server"]

MEMBER = "query Member($id: ID!) { node(id: $id) { ... on Member { name phone } } }"
PHONE = "13912345678"
MASKED = "139****5678"
ROLES = ("admin", "curator", "reader", "partner", None)  # None: anonymous


class Hub:
    """One app, its GraphQL endpoint, and a token for each role (curator of the world's
    community, partner of its co-building unit)."""

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
async def world(orm: Settings, unique_name: str) -> World:
    return await build_world(unique_name)


async def _tokens(world: World) -> dict[str, str]:
    unit = await m.CoBuildingUnit.create(
        name=f"{world.name}共建单位", kind=UnitKind.ENTERPRISE, contact_phone="13800001111"
    )
    await m.CoBuildingAgreement.create(unit=unit, branch=world.branch, signed_on="2020-01-01")
    partner = await m.User.create(
        username=f"{world.name}-partner", password_hash="-", role=Role.PARTNER, partner_unit=unit
    )
    users = {
        "admin": await m.User.get(pk=world.admin.user_id),
        "curator": await m.User.get(pk=world.curator.user_id),
        "reader": await m.User.get(pk=world.reader.user_id),
        "partner": partner,
    }
    tokens = {}
    for role, user in users.items():
        tokens[role], _ = await auth.create_api_token(user=user, name="fast lane")
    return tokens


# Every read field compiles; a statistics selection wider than one JSON object still
# falls back (only a hub without the alias limit lets it through: the fixtures' hubs).
FALLS_BACK = "{ statistics { " + " ".join(f"m{i}: membersTotal" for i in range(51)) + " } }"


MISSING_SCOPE = """query($id: ID!) {
  statistics(scope: {level: BRANCH, id: $id}) { membersTotal }
}"""


async def _hub(settings: Settings, world: World) -> AsyncIterator[Hub]:
    app = create_app(replace(settings, max_aliases=0))
    (graphql,) = [
        r.app for r in app.routes if isinstance(r, Route) and isinstance(r.app, HubGraphQL)
    ]
    tokens = await _tokens(world)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub"
    ) as client:
        yield Hub(client, graphql, tokens)


@pytest.fixture
async def hub(cache_settings: Settings, world: World) -> AsyncIterator[Hub]:
    async for made in _hub(cache_settings, world):
        yield made


@pytest.fixture
async def member_id(world: World) -> str:
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


def lookups(result: str) -> float:
    return REGISTRY.get_sample_value("linju_response_cache_total", {"result": result}) or 0.0


@pytest.mark.parametrize(
    ("query", "compiled"),
    [
        ("query Fresh { districts(first: 1) { totalCount } }", True),
        (FALLS_BACK, False),
    ],
)
async def test_a_miss_is_counted_once_whoever_answers_it(
    hub: Hub, counts: dict[str, Counter], query: str, compiled: bool
) -> None:
    misses, stored = lookups("miss"), lookups("stored")
    response = await hub.send("POST", "admin", {"query": query})
    assert response.status_code == 200 and "errors" not in response.json()
    assert response.headers[CACHE_HEADER] == "stored"
    # a compiled read is answered by the lane, else by strawberry's view: never both
    view = 0 if compiled and lane_compiles(hub) else 1
    assert (counts["parse"].calls, counts["resolve"].calls) == (view, 1)
    assert (lookups("miss"), lookups("stored")) == (misses + 1, stored + 1)


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

        scope = graphql_post_scope(
            [
                (b"host", b"hub"),
                (b"content-type", b"application/json"),
                (b"authorization", f"Bearer {hub.tokens['admin']}".encode()),
            ],
            client=("127.0.0.1", 1),
            server=("hub", 80),
            state={},
        )
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


# --- compiled reads answered by the lane -----------------------------------------------

ROSTER = """query Roster($prefix: String!, $members: Int!) {
  branches(where: {name: {startsWith: $prefix}}, first: 50) {
    nodes { name
      compounds(first: 50) {
        nodes { name propertyCompany { name } ownersCommittee { directorName } } }
      members(first: $members) { nodes { name category phone } } } }
  total: members(first: 1) { totalCount }
}"""
POINT = """query Point($id: ID!) { member: node(id: $id) { ... on Member {
  name category phone branch { name community { name street { name } } } } } }"""
SHAPES = """query Shapes($prefix: String!, $withMembers: Boolean!, $first: Int = 2) {
  __typename
  list: branches(where: {name: {startsWith: $prefix}}, first: $first) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ...B } } }
  again: branches(where: {name: {startsWith: $prefix}},
                  orderBy: [{field: NAME, direction: DESC}]) {
    nodes { ... on Branch { name } ... on Node { id } } }
  units: coBuildingUnits(first: 5) { nodes { name contactPhone } }
}
fragment B on Branch {
  id name
  members(first: 2) @include(if: $withMembers) { nodes { name phone } }
  community @skip(if: $withMembers) { name street { name } }
}"""
TOO_COSTLY = "{ branches(first: 500) { nodes { members(first: 500) { nodes { name } } } } }"
TOO_DEEP = """{ branches(first: 1) { nodes { community { street { district {
  streets(first: 1) { nodes { communities(first: 1) { nodes {
    branches(first: 1) { nodes { name } } } } } } } } } } } }"""


def lane_compiles(hub: Hub) -> bool:
    """Whether this session's read path compiles (LINJU_TEST_READ_PATH): in the
    resolvers' and the differential mode the lane answers cache hits only."""
    return hub.graphql.read_path.mode == "compiled"


def lane_cases(world: World, member_id: str) -> list[tuple[str, dict[str, Any], bool]]:
    """(name, payload, whether the lane answers it) for the world of ``world``."""
    prefix = world.branch.name[:-1]
    unknown = encode_global_id("Member", 2_000_000_000)
    return [
        ("typename", {"query": "{ __typename }"}, True),
        ("typenames", {"query": "query T { __typename again: __typename }"}, True),
        ("point", {"query": POINT, "variables": {"id": member_id}}, True),
        ("unknown id", {"query": POINT, "variables": {"id": unknown}}, True),
        ("roster", {"query": ROSTER, "variables": {"prefix": prefix, "members": 20}}, True),
        (
            "aliases, fragments, directives, variables",
            {
                "query": SHAPES,
                "variables": {"prefix": prefix, "withMembers": True},
                "operationName": "Shapes",
            },
            True,
        ),
        ("skip", {"query": SHAPES, "variables": {"prefix": prefix, "withMembers": False}}, True),
        # errors and what the compiler leaves to the resolvers: handed over
        ("bad cursor", {"query": '{ branches(after: "bad") { totalCount } }'}, False),
        ("malformed id", {"query": POINT, "variables": {"id": "bad"}}, True),
        ("too costly", {"query": TOO_COSTLY}, False),
        (
            "too deep",
            {"query": TOO_DEEP},
            False,
        ),
        (
            "bad variables",
            {"query": ROSTER, "variables": {"prefix": prefix, "members": "x"}},
            False,
        ),
        ("missing variable", {"query": ROSTER, "variables": {"prefix": prefix}}, False),
        ("unknown operation", {"query": POINT, "operationName": "Nope"}, False),
        ("validation error", {"query": "{ branches { nope } }"}, False),
        (
            "falls back",
            {"query": FALLS_BACK[:-1] + " b: branches(first: 1) { totalCount } }"},
            False,
        ),
        (
            "statistics of a place that is not there",  # the plan runs, the resolvers answer
            {"query": MISSING_SCOPE, "variables": {"id": encode_global_id("Branch", 999_999)}},
            False,
        ),
        ("two operations", {"query": "query A { __typename } query B { __typename }"}, False),
        ("mutation", {"query": "mutation { logout { ok } }"}, False),
    ]


@pytest.fixture(params=["cache off", "cache on"])
async def reads(request: pytest.FixtureRequest, orm: Settings, world: World) -> AsyncIterator[Hub]:
    settings = replace(orm, response_cache=request.param == "cache on", cache_max_entries=4998)
    async for made in _hub(settings, world):
        yield made
    response_cache(settings).close()


@pytest.fixture
def read_counts(reads: Hub, monkeypatch: pytest.MonkeyPatch) -> dict[str, Counter]:
    found = {name: Counter() for name in ("parse", "resolve", "run")}
    monkeypatch.setattr(
        HubGraphQL, "parse_http_body", found["parse"].wrap(HubGraphQL.parse_http_body)
    )
    monkeypatch.setattr(auth, "resolve_bearer", found["resolve"].wrap(auth.resolve_bearer))
    monkeypatch.setattr(ReadPath, "run", found["run"].wrap(ReadPath.run))
    return found


@pytest.mark.parametrize("role", ROLES)
async def test_compiled_reads_are_byte_identical_to_the_full_paths(
    reads: Hub, world: World, member_id: str, read_counts: dict[str, Counter], role: str | None
) -> None:
    cached = reads.graphql.settings.response_cache
    for case, payload, answered in lane_cases(world, member_id):
        for method, accept in (("POST", None), ("GET", GRAPHQL_RESPONSE_JSON)):
            if method == "GET" and case == "mutation":
                continue  # a 405, whoever answers (the REFUSED cases above)
            # With the cache on, each method's query and the lane's differ by spaces:
            # an entry of their own (stored, then hit), answered alike.
            pad = " " * (method == "GET") * 2
            theirs = {**payload, "query": payload["query"] + pad}
            own = {**payload, "query": payload["query"] + pad + " "} if cached else theirs
            for turn in ("stored", "hit") if cached else ("bypass",):
                full = await reads.send(method, role, theirs, fast=False, accept=accept)
                parsed = read_counts["parse"].calls
                resolved = read_counts["resolve"].calls

                lane = await reads.send(method, role, own, accept=accept)

                assert shape(lane) == shape(full), (case, method, turn)
                assert lane.status_code in (200, 400), (case, method)
                # the lane answers what it compiles, and every hit (a fallback's too)
                hit = lane.headers.get(CACHE_HEADER) == "hit"
                by_lane = hit or (answered and lane_compiles(reads))
                assert read_counts["parse"].calls == parsed + (0 if by_lane else 1), case
                # one credential lookup per request (none when anonymous)
                assert read_counts["resolve"].calls == resolved + (role is not None), case
                if answered:
                    assert lane.headers[CACHE_HEADER] == turn, (case, method)
                    assert "errors" not in lane.json(), case


async def test_what_each_role_sees_is_its_own(reads: Hub, world: World, member_id: str) -> None:
    payload = {"query": POINT, "variables": {"id": member_id}}
    seen = {}
    for _ in range(2):  # stored then hit when the cache is on
        for role in ROLES:
            response = await reads.send("POST", role, payload)
            member = response.json()["data"]["member"]
            seen[role] = member and member["phone"]
    assert seen["admin"] == PHONE and seen["reader"] == MASKED
    # the community curator reads its community's members in full; a partner and an
    # anonymous caller do not see members at all
    assert seen["curator"] == PHONE
    assert seen["partner"] is None and seen[None] is None


async def test_the_operation_metrics_are_the_full_paths(reads: Hub, member_id: str) -> None:
    payload = {"query": POINT, "variables": {"id": member_id}, "operationName": "Point"}
    labels = {"operation": "Point", "type": "query"}

    def executed() -> float:
        return REGISTRY.get_sample_value("linju_graphql_operations_total", labels) or 0.0

    def timed() -> float:
        name = "linju_graphql_operation_duration_seconds_count"
        return REGISTRY.get_sample_value(name, {"operation": "Point"}) or 0.0

    counted = []
    for fast in (False, True):
        before = (executed(), timed())
        own = {**payload, "query": POINT + (" " if fast else "")}  # no hit: executed
        response = await reads.send("POST", "admin", own, fast=fast)
        assert response.status_code == 200
        counted.append((executed() - before[0], timed() - before[1]))
    assert counted == [(1.0, 1.0), (1.0, 1.0)]


async def test_a_failing_statement_is_answered_by_the_resolvers_and_run_once(
    reads: Hub,
    member_id: str,
    read_counts: dict[str, Counter],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if not lane_compiles(reads):
        pytest.skip("no compiled statements in this session's read-path mode")
    # Given compiled statements that fail (a timeout, a lost connection)
    async def failing(self: ReadPath, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(ReadPath, "run", read_counts["run"].wrap(failing))
    answers = []
    for fast in (False, True):
        payload = {"query": POINT + (" " if fast else ""), "variables": {"id": member_id}}
        before = read_counts["run"].calls
        # When the request is made through the full path, then the lane
        answers.append(await reads.send("POST", "admin", payload, fast=fast))
        # Then the compiled statement ran once (the full path did not run it again
        # after the lane) and the resolvers answered
        assert read_counts["run"].calls == before + 1
    full, lane = answers
    assert shape(lane) == shape(full)
    assert lane.json()["data"]["member"]["phone"] == PHONE
    failures = [r for r in caplog.records if "compiled read failed" in r.getMessage()]
    assert len(failures) == 2


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_a_compiled_read_leaves_strawberry_alone(
    reads: Hub, member_id: str, counts_of_reads: dict[str, Counter], method: str
) -> None:
    payload = {"query": POINT, "variables": {"id": member_id}}
    for _ in range(3):
        response = await reads.send(method, "reader", payload)
        assert response.json()["data"]["member"]["phone"] == MASKED
    if lane_compiles(reads):
        assert counts_of_reads["execute"].calls == 0
        assert counts_of_reads["context"].calls == 0
        assert counts_of_reads["parse"].calls == 0


@pytest.fixture
def counts_of_reads(reads: Hub, monkeypatch: pytest.MonkeyPatch) -> dict[str, Counter]:
    """Calls of strawberry's execution, HubGraphQL's context and its body parsing."""
    found = {name: Counter() for name in ("execute", "context", "parse")}
    monkeypatch.setattr(
        reads.graphql.schema, "execute", found["execute"].wrap(reads.graphql.schema.execute)
    )
    monkeypatch.setattr(HubGraphQL, "get_context", found["context"].wrap(HubGraphQL.get_context))
    monkeypatch.setattr(
        HubGraphQL, "parse_http_body", found["parse"].wrap(HubGraphQL.parse_http_body)
    )
    return found
