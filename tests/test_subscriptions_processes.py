"""Two `linju serve` processes sharing a database and a broker: a WebSocket client on one
receives the event of a mutation made through the other.

The database is the session's backend (a temporary SQLite file in WAL mode, or a
temporary PostgreSQL database); the broker is Redis or PostgreSQL LISTEN/NOTIFY.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from hub import models as m
from hub.enums import Role
from hub.services.auth import create_api_token
from hub.settings import Settings
from schema.node import encode_global_id
from tests.broker_servers import channel, pg_broker_url, redis_server
from tests.conftest import BACKEND
from tests.hub_processes import Server, ready, scratch_database, serve
from tests.orm_context import side_context

__all__ = ["pg_broker_url", "redis_server", "serve"]  # fixtures used below

pytestmark = pytest.mark.usefixtures("orm")

SUBSCRIBE = """subscription {
  requestChanged { action request { id status description } }
}"""
REPORT = """mutation($input: ReportRequestInput!) {
  reportRequest(input: $input) { request { id } errors { field code } } }"""
PROTOCOL = "graphql-transport-ws"
EVENT_TIMEOUT = 20.0  # seconds the event may take, all retries included
RETRY_EVERY = 3.0  # seconds before another mutation, in case the subscription was late


@dataclass
class Hub:
    """A database set up for the servers: its URL, an ADMIN's token, a compound."""

    database_url: str
    token: str
    compound_id: str


@pytest.fixture(scope="module")
async def shared_database(orm: Settings) -> AsyncIterator[Hub]:
    """A fresh migrated database of the session's backend, with an admin and a compound
    (one for the module: migrating takes seconds)."""
    async with scratch_database("linju_ws") as url:
        async with side_context(Settings(database_url=url)):
            user = await m.User.create(username="ws-admin", password_hash="-", role=Role.ADMIN)
            token, _ = await create_api_token(user=user, name="two-process test")
            district = await m.District.create(name="天元区")
            street = await m.Street.create(district=district, name="泰山路街道")
            community = await m.Community.create(street=street, name="某社区")
            compound = await m.Compound.create(community=community, name="华晨御园")
        yield Hub(url, token, encode_global_id("Compound", compound.id))


async def _open(server: Server, token: str) -> ClientConnection:
    """A graphql-transport-ws connection, acknowledged, authenticated with ``token``."""
    socket = await connect(server.ws, subprotocols=[PROTOCOL], open_timeout=10)  # type: ignore[list-item]
    await socket.send(
        json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    )
    ack = json.loads(await asyncio.wait_for(socket.recv(), 10))
    assert ack["type"] == "connection_ack", ack
    return socket


async def _report(client: httpx.AsyncClient, server: Server, hub: Hub, text: str) -> str:
    response = await client.post(
        f"{server.http}/graphql",
        json={
            "query": REPORT,
            "variables": {
                "input": {
                    "compoundId": hub.compound_id,
                    "category": "PARKING",
                    "channel": "WECHAT_GROUP",
                    "description": text,
                }
            },
        },
        headers={"Authorization": f"Bearer {hub.token}"},
    )
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    payload = body["data"]["reportRequest"]
    assert payload["errors"] == [], payload
    return str(payload["request"]["id"])


async def _event_across_processes(serve: Any, hub: Hub, broker: str) -> None:
    # given two servers sharing the database and the broker
    listener, writer = (
        serve(hub.database_url, broker=broker),
        serve(hub.database_url, broker=broker),
    )
    await ready(listener, writer)
    await assert_event_crosses(listener, writer, hub)


async def assert_event_crosses(listener: Server, writer: Server, hub: Hub) -> None:
    """A subscriber on ``listener`` hears of a request reported through ``writer``."""
    # given an ADMIN subscribed over WebSocket to the first
    socket = await _open(listener, hub.token)
    try:
        await socket.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}})
        )

        # when requests are reported through the second, over HTTP
        reported: list[str] = []
        deadline = time.monotonic() + EVENT_TIMEOUT
        message: dict[str, Any] | None = None
        async with httpx.AsyncClient(timeout=10) as client:
            while message is None and time.monotonic() < deadline:
                reported.append(await _report(client, writer, hub, f"停车难 {len(reported)}"))
                try:
                    raw = await asyncio.wait_for(socket.recv(), RETRY_EVERY)
                except TimeoutError:
                    continue  # the subscription may have started after that report
                message = json.loads(raw)

        # then the event of one of them arrives on the first server's socket
        assert message is not None, f"no event within {EVENT_TIMEOUT} s"
        assert message["type"] == "next" and message["id"] == "1", message
        change = message["payload"]["data"]["requestChanged"]
        assert change["action"] == "REPORT"
        assert change["request"]["id"] in reported
        assert change["request"]["status"] == "COLLECTED"
        assert change["request"]["description"].startswith("停车难")
    finally:
        await socket.close()


async def test_event_crosses_processes_through_redis(
    serve: Any, shared_database: Hub, redis_server: str
) -> None:
    await _event_across_processes(serve, shared_database, f"{redis_server}?channel={channel()}")


async def test_event_crosses_processes_through_postgres_notify(
    serve: Any, shared_database: Hub, pg_broker_url: str
) -> None:
    # On PostgreSQL the database itself carries the events; a SQLite hub names a server.
    broker = "postgres" if BACKEND == "postgres" else f"{pg_broker_url}?channel={channel()}"
    await _event_across_processes(serve, shared_database, broker)


async def test_a_bad_token_in_connection_init_closes_the_socket(
    serve: Any, shared_database: Hub
) -> None:
    server = serve(shared_database.database_url, broker="memory")
    await ready(server)
    socket = await connect(server.ws, subprotocols=[PROTOCOL], open_timeout=10)  # type: ignore[list-item]
    await socket.send(
        json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer lj_nope"}})
    )
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(socket.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_an_anonymous_subscription_is_refused(serve: Any, shared_database: Hub) -> None:
    server = serve(shared_database.database_url, broker="memory")
    await ready(server)
    socket = await connect(server.ws, subprotocols=[PROTOCOL], open_timeout=10)  # type: ignore[list-item]
    try:
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "connection_ack"
        await socket.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}})
        )
        answer = json.loads(await asyncio.wait_for(socket.recv(), 10))
    finally:
        await socket.close()
    errors = answer["payload"] if answer["type"] == "error" else answer["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
