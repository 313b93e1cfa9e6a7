"""Issue 7's "done when": two `linju serve` processes on one PostgreSQL database and one
Redis behave as one hub — a write through one is never answered stale through the other
(its response cache included), a subscriber on one hears of a write made on the other,
and a rate limit counts the requests made to both.

Each part has an API token of its own, so that only the last one meets the limit.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import httpx
import pytest

from hub import models as m
from hub.services.auth import create_api_token
from hub.settings import Settings
from tests.broker_servers import channel, redis_server
from tests.conftest import BACKEND
from tests.hub_processes import Server, ready, serve
from tests.orm_context import side_context
from tests.test_processes_cache import ROUNDS, _rounds
from tests.test_subscriptions_processes import Hub, assert_event_crosses, shared_database

__all__ = ["redis_server", "serve", "shared_database"]  # fixtures used below

pytestmark = [
    pytest.mark.usefixtures("orm"),
    pytest.mark.skipif(BACKEND != "postgres", reason="several processes share PostgreSQL"),
]

# Requests a minute per token: more than the cache rounds make with one token.
TOKEN_LIMIT = 4 * ROUNDS + 4


async def _tokens(hub: Hub, count: int) -> list[str]:
    async with side_context(Settings(database_url=hub.database_url)):
        admin = await m.User.get(username="ws-admin")
        return [(await create_api_token(user=admin, name=f"part {i}"))[0] for i in range(count)]


async def _statuses(servers: tuple[Server, Server], token: str, count: int) -> list[int]:
    async with httpx.AsyncClient(timeout=10) as client:
        answers = [
            await client.post(
                f"{servers[i % 2].http}/graphql",
                json={"query": "{ __typename }"},
                headers={"Authorization": f"Bearer {token}"},
            )
            for i in range(count)
        ]
    return [answer.status_code for answer in answers]


async def test_two_processes_on_postgresql_and_redis_act_as_one_hub(
    serve: Any, shared_database: Hub, redis_server: str
) -> None:
    # given two servers sharing one database and one Redis (cache, events, counters)
    shared = {
        "redis_url": f"{redis_server}?prefix=t{uuid.uuid4().hex[:12]}",
        "broker": f"{redis_server}?channel={channel()}",
        "rate_limit_token_per_minute": str(TOKEN_LIMIT),
        "rate_limit_address_per_minute": "0",
    }
    one = serve(shared_database.database_url, **shared)
    two = serve(shared_database.database_url, **shared)
    await ready(one, two)
    events, reads, throttled = await _tokens(shared_database, 3)

    # then a subscriber on one hears of a request reported through the other
    await assert_event_crosses(two, one, dataclasses.replace(shared_database, token=events))
    # and a write through one is never answered stale through the other, cache included
    await _rounds(
        two, one, dataclasses.replace(shared_database, token=reads), shared_database.compound_id
    )
    # and one token's requests, alternating between the two, meet one limit
    statuses = await _statuses((one, two), throttled, TOKEN_LIMIT + 2)
    assert statuses == [200] * TOKEN_LIMIT + [429, 429]
