"""Rate limits per token and per address: 429 with Retry-After, counted in this process
or shared through Redis; health and metrics never limited; Redis down lets requests by.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from starlette.types import Message, Receive, Scope, Send

from hub import models as m
from hub.app import create_app
from hub.enums import Role
from hub.limits import RateLimit
from hub.services.auth import create_api_token
from hub.settings import Settings
from hub.shared import shared_redis
from tests.broker_servers import free_port, redis_server

__all__ = ["redis_server"]  # fixture used below

pytestmark = pytest.mark.usefixtures("orm")

QUERY = {"query": "{ __typename }"}

Clients = Callable[..., httpx.AsyncClient]


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> str | None:
    """Where the counters live: this process, or a Redis prefix of the test's own."""
    if request.param == "memory":
        return None
    server: str = request.getfixturevalue("redis_server")
    return f"{server}?prefix=t{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def clients(orm: Settings) -> AsyncIterator[Clients]:
    """``clients(address=..., **settings)``: a client of a fresh hub with these limits."""
    opened: list[httpx.AsyncClient] = []
    redis_urls: set[str] = set()

    def open_client(app: Any = None, *, address: str = "10.0.0.1", **changes: Any) -> Any:
        app = app or create_app(replace(orm, **changes))
        if app.state.settings.redis_url:
            redis_urls.add(app.state.settings.redis_url)
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        opened.append(httpx.AsyncClient(transport=transport, base_url="http://hub"))
        return opened[-1]

    yield open_client
    for client in opened:
        await client.aclose()
    for url in redis_urls:
        await shared_redis(url).client.aclose()


async def _token(unique_name: str) -> str:
    user = await m.User.create(
        username=f"u{uuid.uuid4().hex[:8]}", password_hash="-", role=Role.READER
    )
    secret, _ = await create_api_token(user=user, name=unique_name)
    return secret


async def _ask(client: httpx.AsyncClient, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await client.post("/graphql", json=QUERY, headers=headers)


def _assert_limited(response: httpx.Response, code: str = "RATE_LIMITED") -> dict[str, Any]:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["retry-after"]) <= 60
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == code
    assert f"retry after {response.headers['retry-after']} s" in error["message"]
    return error


def _refused(limit: str) -> float:
    return REGISTRY.get_sample_value("linju_rate_limited_total", {"limit": limit}) or 0.0


async def test_token_limit_refuses_with_429_and_counts_tokens_apart(
    clients: Clients, store: str | None, unique_name: str
) -> None:
    # given a hub allowing 3 requests a minute per token (no address limit)
    client = clients(
        rate_limit_token_per_minute=3, rate_limit_address_per_minute=0, redis_url=store
    )
    first, second = await _token(unique_name), await _token(unique_name)
    refused_before = _refused("token")

    # when one token makes 4 requests
    answers = [await _ask(client, first) for _ in range(4)]

    # then the first 3 are answered and the 4th is refused, saying when to retry
    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    error = _assert_limited(answers[3])
    assert error["message"].startswith("此令牌请求过于频繁")
    assert _refused("token") == refused_before + 1
    # and another token, and anonymous requests, still get through
    assert (await _ask(client, second)).status_code == 200
    assert (await _ask(client)).status_code == 200


async def test_address_limit_counts_the_api_and_the_console(
    clients: Clients, store: str | None, orm: Settings
) -> None:
    # given a hub allowing 3 requests a minute per address
    app = create_app(replace(orm, rate_limit_address_per_minute=3, redis_url=store))
    first, other = clients(app, address="10.0.0.1"), clients(app, address="10.0.0.2")

    # when one address asks the API twice and opens the console once
    assert (await _ask(first)).status_code == 200
    assert (await _ask(first)).status_code == 200
    assert (await first.get("/admin/", follow_redirects=False)).status_code < 400

    # then its 4th request is refused, the console's included
    error = _assert_limited(await first.get("/admin/"))
    assert error["message"].startswith("此地址请求过于频繁")
    _assert_limited(await _ask(first))
    # and another address is counted apart
    assert (await _ask(other)).status_code == 200


async def test_health_metrics_and_static_are_never_limited(clients: Clients) -> None:
    client = clients(rate_limit_address_per_minute=1)
    assert (await _ask(client)).status_code == 200
    for _ in range(3):
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/metrics")).status_code == 200
        assert (await client.get("/static/no-such-file.js")).status_code == 404
    _assert_limited(await _ask(client))


async def test_limits_are_off_at_zero(clients: Clients, unique_name: str) -> None:
    client = clients(rate_limit_token_per_minute=0, rate_limit_address_per_minute=0)
    token = await _token(unique_name)
    answers = [await _ask(client, token) for _ in range(8)]
    assert {a.status_code for a in answers} == {200}


async def test_redis_counters_are_shared_by_two_hubs(
    clients: Clients, redis_server: str, unique_name: str
) -> None:
    # given two hubs (as two processes would be) on one Redis prefix, 4 requests per token
    url = f"{redis_server}?prefix=t{uuid.uuid4().hex[:12]}"
    settings = {"rate_limit_token_per_minute": 4, "rate_limit_address_per_minute": 0}
    one, two = clients(redis_url=url, **settings), clients(redis_url=url, **settings)
    token = await _token(unique_name)

    # when the token's requests alternate between them
    answers = [await _ask(client, token) for client in (one, two, one, two, one)]

    # then the 5th is refused: both hubs counted the same 4 requests
    assert [a.status_code for a in answers[:4]] == [200] * 4
    _assert_limited(answers[4])


async def test_redis_down_lets_requests_through_with_a_warning(
    clients: Clients, unique_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    # given a hub whose Redis does not answer (nothing listens on that port)
    client = clients(
        redis_url=f"redis://127.0.0.1:{free_port()}/0?prefix=t{uuid.uuid4().hex[:12]}",
        rate_limit_token_per_minute=1,
        rate_limit_address_per_minute=1,
    )
    token = await _token(unique_name)
    with caplog.at_level(logging.WARNING, logger="linju.limits"):
        answers = [await _ask(client, token) for _ in range(3)]
    # then requests are answered, not limited and not failed, and the outage is logged once
    assert [a.status_code for a in answers] == [200, 200, 200]
    warnings = [r for r in caplog.records if r.name == "linju.limits"]
    assert len(warnings) == 1 and "Redis" in warnings[0].getMessage()


# --- WebSocket handshakes, at the ASGI level -----------------------------------------


async def _handshake(app: RateLimit, extensions: dict[str, Any]) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "websocket",
        "path": "/graphql",
        "client": ("10.0.0.9", 40000),
        "headers": [(b"authorization", b"Bearer ignored-on-websockets")],
        "extensions": extensions,
    }
    await app(scope, receive, send)
    return sent


async def _accept(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.accept"})


@pytest.mark.parametrize("denial_response", [True, False])
async def test_websocket_connects_count_per_address(
    settings: Settings, denial_response: bool
) -> None:
    # given 2 connects a minute per address and 1 request per token
    limits = replace(settings, rate_limit_address_per_minute=2, rate_limit_token_per_minute=1)
    app = RateLimit(_accept, settings=limits)
    extensions: dict[str, Any] = {"websocket.http.response": {}} if denial_response else {}

    # when one address connects three times (the header token is not counted)
    answers = [await _handshake(app, extensions) for _ in range(3)]

    # then the first two are accepted and the third refused
    assert answers[0] == answers[1] == [{"type": "websocket.accept"}]
    refusal = answers[2][0]
    if denial_response:  # a real 429 with Retry-After
        assert refusal["type"] == "websocket.http.response.start"
        assert refusal["status"] == 429
        assert any(name == b"retry-after" for name, _ in refusal["headers"])
    else:  # the server can only refuse the handshake
        assert refusal["type"] == "websocket.close"
