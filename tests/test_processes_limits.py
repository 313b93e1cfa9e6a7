"""Two `linju serve` processes sharing a database and Redis count one rate limit: requests
alternating between them with the same token are refused once the limit is reached
across both. And a real server refuses a WebSocket handshake over the address limit
with a 429.

The database is the session's backend (a temporary SQLite file, or a temporary
PostgreSQL database); each test uses a Redis key prefix of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from hub import models as m
from hub.enums import Role
from hub.services.auth import create_api_token
from hub.settings import Settings
from tests.broker_servers import redis_server
from tests.hub_processes import Server, ready, scratch_database, serve
from tests.orm_context import side_context

__all__ = ["redis_server", "serve"]  # fixtures used below

pytestmark = pytest.mark.usefixtures("orm")

TOKEN_LIMIT = 6
QUERY = {"query": "{ __typename }"}


@dataclass
class Hub:
    database_url: str
    tokens: tuple[str, str]  # two API tokens of one ADMIN


@pytest.fixture(scope="module")
async def shared_database(orm: Settings) -> AsyncIterator[Hub]:
    """A fresh migrated database of the session's backend with an ADMIN's two tokens."""
    async with scratch_database("linju_rl") as url:
        async with side_context(Settings(database_url=url)):
            user = await m.User.create(username="rl-admin", password_hash="-", role=Role.ADMIN)
            first, _ = await create_api_token(user=user, name="limits one")
            second, _ = await create_api_token(user=user, name="limits two")
        yield Hub(url, (first, second))


async def _ask(client: httpx.AsyncClient, server: Server, token: str) -> httpx.Response:
    return await client.post(
        f"{server.http}/graphql", json=QUERY, headers={"Authorization": f"Bearer {token}"}
    )


async def test_throttling_counts_across_two_processes(
    serve: Any, shared_database: Hub, redis_server: str
) -> None:
    # given two servers on one database and one Redis prefix, 6 requests a minute per token
    limits = {
        "redis_url": f"{redis_server}?prefix=t{uuid.uuid4().hex[:12]}",
        "rate_limit_token_per_minute": str(TOKEN_LIMIT),
        "rate_limit_address_per_minute": "0",
    }
    one = serve(shared_database.database_url, **limits)
    two = serve(shared_database.database_url, **limits)
    await ready(one, two)
    token, other_token = shared_database.tokens

    async with httpx.AsyncClient(timeout=10) as client:
        # when one token's requests alternate between the two servers
        answers = [await _ask(client, (one, two)[i % 2], token) for i in range(TOKEN_LIMIT + 2)]
        # and another token asks after them
        other = await _ask(client, two, other_token)

    # then the first 6 are answered and the next ones refused, by either server
    statuses = [a.status_code for a in answers]
    assert statuses == [200] * TOKEN_LIMIT + [429, 429], [a.text for a in answers]
    for refused in answers[TOKEN_LIMIT:]:
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    # while the other token is counted apart
    assert other.status_code == 200, other.text


async def test_a_websocket_handshake_over_the_address_limit_gets_429(
    serve: Any, shared_database: Hub
) -> None:
    # given a server allowing 2 requests a minute per address (counted in the process)
    server = serve(shared_database.database_url, rate_limit_address_per_minute="2")
    await ready(server)
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(2):
            assert (await _ask(client, server, shared_database.tokens[0])).status_code == 200
        # health checks are never counted
        assert (await client.get(f"{server.http}/healthz")).status_code == 200

    # when the same address then opens a WebSocket
    ws = f"ws://127.0.0.1:{server.port}/graphql"
    with pytest.raises(InvalidStatus) as refused:
        async with connect(ws, subprotocols=["graphql-transport-ws"], open_timeout=10):  # type: ignore[list-item]
            pass

    # then the handshake is refused with a 429 saying when to retry
    response = refused.value.response
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
