"""Two `linju serve` processes on one PostgreSQL database and one Redis: a write through
one is never answered stale through the other, its response cache included.

Skipped unless the session runs on PostgreSQL (``LINJU_TEST_BACKEND=postgres``) and a
Redis answers (or can be started).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from hub.app.graphql_app import CACHE_HEADER
from hub.shared import shared_redis
from tests.broker_servers import redis_server
from tests.conftest import BACKEND
from tests.hub_processes import Server, ready, serve
from tests.test_subscriptions_processes import Hub, shared_database

__all__ = ["redis_server", "serve", "shared_database"]

pytestmark = [
    pytest.mark.usefixtures("orm"),
    pytest.mark.skipif(BACKEND != "postgres", reason="several processes share PostgreSQL"),
]

COMPOUND = """query($id: ID!) { node(id: $id) { ... on Compound { households version } } }"""
UPDATE = """mutation($input: UpdateCompoundInput!) {
  updateCompound(input: $input) { compound { households version } errors { code } } }"""
ROUNDS = 4


async def _post(
    client: httpx.AsyncClient, server: Server, hub: Hub, query: str, **variables: Any
) -> tuple[dict[str, Any], str]:
    response = await client.post(
        f"{server.http}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {hub.token}"},
    )
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"], response.headers.get(CACHE_HEADER, "")


async def test_a_write_through_one_process_is_never_stale_through_the_other(
    serve: Any, shared_database: Hub, redis_server: str
) -> None:
    redis_url = f"{redis_server}?prefix=t{uuid.uuid4().hex[:12]}"
    writer = serve(shared_database.database_url, redis_url=redis_url)
    reader = serve(shared_database.database_url, redis_url=redis_url)
    await ready(writer, reader)
    node = shared_database.compound_id
    try:
        await _rounds(reader, writer, shared_database, node)
    finally:
        redis = shared_redis(redis_url)
        keys = [k async for k in redis.client.scan_iter(match=redis.key("*"))]
        if keys:
            await redis.client.delete(*keys)


async def _rounds(reader: Server, writer: Server, hub: Hub, node: str) -> None:
    async with httpx.AsyncClient(timeout=20) as client:
        for round in range(ROUNDS):
            # a dashboard read through the reader, twice: the second from its cache
            seen, _ = await _post(client, reader, hub, COMPOUND, id=node)
            again, how = await _post(client, reader, hub, COMPOUND, id=node)
            assert (again, how) == (seen, "hit"), reader.output()
            # a write through the writer
            households = 1000 + round
            changed, _ = await _post(
                client,
                writer,
                hub,
                UPDATE,
                input={"id": node, "version": seen["node"]["version"], "households": households},
            )
            assert changed["updateCompound"]["errors"] == [], changed
            # the reader's very next answer has it
            after, how = await _post(client, reader, hub, COMPOUND, id=node)
            assert after["node"]["households"] == households, (round, how)
            assert how != "hit"
