"""GraphQL over HTTP: methods, content negotiation, status codes, errors, the IDE page."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import replace

import httpx
import pytest
import strawberry
import uvicorn
from strawberry.types import Info
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from hub import assets
from hub.app import create_app
from hub.app.graphql_app import GRAPHQL_RESPONSE_JSON, HubGraphQL, negotiate
from hub.settings import Settings
from tests.conftest import missing_service

GRAPHQL_RESPONSE = {"accept": GRAPHQL_RESPONSE_JSON}
LEGACY = {"accept": "application/json"}

TYPENAME = "{ __typename }"
PING = "{ ping }"
SYNTAX_ERROR = "{ ping"
UNKNOWN_FIELD = "{ noSuchField }"
BAD_VARIABLE = "query Echo($n: Int!) { echo(n: $n) }"
RESOLVER_ERROR = "{ boom }"
OPTIONAL_ERROR = "{ ping maybeBoom }"
MUTATION = "mutation { touch }"
CONTEXT = "{ contextKind }"
SUBSCRIPTION = "subscription { count(upto: 3) }"
WS_PROTOCOL = "graphql-transport-ws"


# A schema of our own: the HTTP layer is tested apart from the hub's growing schema.
@strawberry.type
class Query:
    @strawberry.field
    def ping(self) -> str:
        return "pong"

    @strawberry.field
    def echo(self, n: int) -> int:
        return n

    @strawberry.field
    def boom(self) -> str:
        raise ValueError("boom")

    @strawberry.field
    def maybe_boom(self) -> str | None:
        raise ValueError("boom")

    @strawberry.field
    def context_kind(self, info: Info) -> str:
        return type(info.context).__name__


@strawberry.type
class Mutation:
    @strawberry.mutation
    def touch(self) -> int:
        return 1


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def count(self, upto: int) -> AsyncIterator[int]:
        for i in range(upto):
            yield i


TEST_SCHEMA = strawberry.Schema(query=Query, mutation=Mutation, subscription=Subscription)


def _client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The GraphQL app alone, over the test schema (mounted at /)."""
    async with _client(HubGraphQL(TEST_SCHEMA, settings=settings)) as client:
        yield client


@pytest.fixture
async def hub_client(orm: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The whole hub (the session fixture has opened the ORM: no lifespan here)."""
    async with _client(create_app(orm)) as client:
        yield client


# ---------------------------------------------------------------- negotiation


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON}, application/json;q=0.9", GRAPHQL_RESPONSE_JSON),
        (f"application/json, {GRAPHQL_RESPONSE_JSON};q=0.5", "application/json"),
        (f"{GRAPHQL_RESPONSE_JSON};q=0", "application/json"),
        ("text/html", "application/json"),
    ],
)
def test_negotiate_picks_graphql_response_json_only_when_asked(
    accept: str | None, expected: str
) -> None:
    assert negotiate(accept) == expected


# ---------------------------------------------------------------- GET and POST


async def test_get_runs_a_query(api: httpx.AsyncClient) -> None:
    response = await api.get("/", params={"query": PING}, headers=LEGACY)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"data": {"ping": "pong"}}


async def test_post_json_runs_a_query_with_variables(api: httpx.AsyncClient) -> None:
    body = {"query": BAD_VARIABLE, "variables": {"n": 7}, "operationName": "Echo"}
    response = await api.post("/", json=body, headers=GRAPHQL_RESPONSE)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE_JSON)
    assert response.json() == {"data": {"echo": 7}}


async def test_resolvers_get_the_hub_context(api: httpx.AsyncClient) -> None:
    response = await api.post("/", json={"query": CONTEXT})
    assert response.json() == {"data": {"contextKind": "Context"}}


async def test_hub_serves_graphql_at_slash_graphql(hub_client: httpx.AsyncClient) -> None:
    response = await hub_client.post("/graphql", json={"query": TYPENAME})
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


# ---------------------------------------------------------------- status codes


@pytest.mark.parametrize("query", [SYNTAX_ERROR, UNKNOWN_FIELD])
async def test_parse_and_validation_errors_are_400_with_graphql_response_json(
    api: httpx.AsyncClient, query: str
) -> None:
    response = await api.post("/", json={"query": query}, headers=GRAPHQL_RESPONSE)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE_JSON)
    body = response.json()
    assert "data" not in body  # execution never began
    assert body["errors"][0]["message"]


async def test_bad_variables_are_400_with_graphql_response_json(api: httpx.AsyncClient) -> None:
    body = {"query": BAD_VARIABLE, "variables": {"n": "seven"}}
    response = await api.post("/", json=body, headers=GRAPHQL_RESPONSE)
    assert response.status_code == 400
    assert "data" not in response.json()


@pytest.mark.parametrize("query", [SYNTAX_ERROR, UNKNOWN_FIELD])
async def test_request_errors_stay_200_with_legacy_json(api: httpx.AsyncClient, query: str) -> None:
    response = await api.post("/", json={"query": query}, headers=LEGACY)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["errors"]


async def test_resolver_errors_are_200_with_data(api: httpx.AsyncClient) -> None:
    nullable = await api.post("/", json={"query": OPTIONAL_ERROR}, headers=GRAPHQL_RESPONSE)
    assert nullable.status_code == 200
    assert nullable.json()["data"] == {"ping": "pong", "maybeBoom": None}
    assert nullable.json()["errors"][0]["path"] == ["maybeBoom"]

    # A non-null field's error nulls the whole result: still executed, still 200.
    root = await api.post("/", json={"query": RESOLVER_ERROR}, headers=GRAPHQL_RESPONSE)
    assert root.status_code == 200
    assert root.json()["data"] is None
    assert root.json()["errors"][0]["path"] == ["boom"]


async def test_mutation_over_get_is_405_with_allow_post(api: httpx.AsyncClient) -> None:
    response = await api.get("/", params={"query": MUTATION}, headers=GRAPHQL_RESPONSE)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["message"]

    allowed = await api.post("/", json={"query": MUTATION}, headers=GRAPHQL_RESPONSE)
    assert allowed.status_code == 200
    assert allowed.json() == {"data": {"touch": 1}}


async def test_subscriptions_over_plain_http_are_refused(api: httpx.AsyncClient) -> None:
    for response in (
        await api.post("/", json={"query": SUBSCRIPTION}, headers=GRAPHQL_RESPONSE),
        await api.get("/", params={"query": SUBSCRIPTION}, headers=GRAPHQL_RESPONSE),
    ):
        assert response.status_code == 400
        assert "WebSocket" in response.json()["errors"][0]["message"]


async def test_other_methods_are_405_with_allow(api: httpx.AsyncClient) -> None:
    response = await api.put("/", json={"query": PING})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


# ---------------------------------------------------------------- malformed requests


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b'{"query": "{ ping }"', "application/json", 400),  # truncated JSON
        (b'"{ ping }"', "application/json", 400),  # JSON, but not an object
        (b"{}", "application/json", 400),  # no query
        (b'{"query": 42}', "application/json", 400),  # query not a string
        (b'{"query": "{ ping }", "variables": []}', "application/json", 400),
        (b"query={ ping }", "text/plain", 415),
    ],
)
@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, LEGACY])
async def test_malformed_requests_get_a_clear_json_error(
    api: httpx.AsyncClient, content: bytes, content_type: str, status: int, accept: dict[str, str]
) -> None:
    response = await api.post(
        "/", content=content, headers={"content-type": content_type, **accept}
    )
    assert response.status_code == status
    assert response.headers["content-type"].startswith(accept["accept"])
    errors = response.json()["errors"]
    assert len(errors) == 1
    assert errors[0]["message"]
    assert "Traceback" not in response.text and "Error:" not in response.text


async def test_get_without_query_is_400_for_api_clients(api: httpx.AsyncClient) -> None:
    response = await api.get("/", headers=GRAPHQL_RESPONSE)
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"]


# ---------------------------------------------------------------- the IDE page

SRC_HREF = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


async def test_ide_page_loads_nothing_from_outside(hub_client: httpx.AsyncClient) -> None:
    response = await hub_client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    links = SRC_HREF.findall(response.text)
    assert links, "the IDE page references no file at all"
    assert not [link for link in links if re.match(r"(https?:)?//", link)]
    assert "http://" not in response.text and "https://" not in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]


async def test_ide_page_assets_are_served(hub_client: httpx.AsyncClient) -> None:
    if not assets.assets_present():
        missing_service(
            "GraphiQL assets are NOT fetched (run `linju assets`): cannot check that the "
            "IDE page's files are served. .ci/run fetches them, so CI runs this check."
        )
    page = await hub_client.get("/graphql", headers={"accept": "text/html"})
    links = SRC_HREF.findall(page.text)
    vendor = [link for link in links if "/static/graphiql/vendor/" in link]
    assert len(vendor) == len(assets.ASSETS)
    for link in links:
        served = await hub_client.get(link)
        assert served.status_code == 200, link
        if link in vendor:
            fetched = assets.VENDOR_DIR / link.rsplit("/", 1)[1]
            assert served.content == fetched.read_bytes(), link
    assert not assets.verify_assets()  # the files are those the manifest recorded


async def test_ide_page_says_how_to_fetch_missing_assets(
    hub_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(assets, "assets_present", lambda *args: False)
    response = await hub_client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "linju assets" in response.text
    assert "尚未" in response.text
    assert "/static/graphiql/vendor/" not in response.text  # no script that would 404


async def test_ide_can_be_switched_off(orm: Settings) -> None:
    async with _client(create_app(replace(orm, graphql_ide=False))) as client:
        response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 404


# ---------------------------------------------------------------- websockets


@contextmanager
def serve_in_thread(app: HubGraphQL) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free local port; yields its ws:// URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(10)


def _ws_app(settings: Settings, *origins: str) -> HubGraphQL:
    return HubGraphQL(TEST_SCHEMA, settings=replace(settings, allowed_origins=origins))


async def test_subscriptions_over_graphql_transport_ws(settings: Settings) -> None:
    with serve_in_thread(_ws_app(settings)) as url:
        async with connect(url, subprotocols=[WS_PROTOCOL]) as ws:
            assert ws.subprotocol == WS_PROTOCOL
            await ws.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            subscribe = {"type": "subscribe", "id": "1", "payload": {"query": SUBSCRIPTION}}
            await ws.send(json.dumps(subscribe))
            values = [json.loads(await ws.recv())["payload"]["data"]["count"] for _ in range(3)]
            assert values == [0, 1, 2]
            assert json.loads(await ws.recv()) == {"type": "complete", "id": "1"}


async def test_websockets_from_other_origins_need_allowed_origins(settings: Settings) -> None:
    foreign = "https://elsewhere.example"
    with serve_in_thread(_ws_app(settings)) as url:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url, subprotocols=[WS_PROTOCOL], origin=Origin(foreign)):
                pass
        assert refused.value.response.status_code == 403

    with serve_in_thread(_ws_app(settings, foreign)) as url:
        async with connect(url, subprotocols=[WS_PROTOCOL], origin=Origin(foreign)) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
