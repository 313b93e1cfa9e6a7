"""A third-party client against a real `linju serve`: the ``gql`` library's
WebsocketsTransport (graphql-transport-ws) runs a query over the socket and hears the
``requestChanged`` event of a mutation. It refuses binary frames, as the protocol does."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from gql import Client, GraphQLRequest, gql
from gql.transport.websockets import WebsocketsTransport

from tests.hub_processes import ready, serve
from tests.test_subscriptions_processes import Hub, shared_database

__all__ = ["serve", "shared_database"]  # fixtures: `linju serve`, a database with an ADMIN token

pytestmark = pytest.mark.usefixtures("orm")

SUBSCRIBE = "subscription { requestChanged { action request { id description } } }"
REPORT = """mutation($input: ReportRequestInput!) {
  reportRequest(input: $input) { request { id } errors { field code } } }"""
EVENT_TIMEOUT = 30.0  # seconds the event may take, retries included
RETRY_EVERY = 3.0  # seconds before another mutation, in case the subscription was late


async def _report(server_http: str, hub: Hub, text: str) -> str:
    async with httpx.AsyncClient(base_url=server_http, timeout=10) as http:
        response = await http.post(
            "/graphql",
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
    payload = response.json()["data"]["reportRequest"]
    assert payload["errors"] == [], payload
    return str(payload["request"]["id"])


async def test_gql_websockets_transport_queries_and_subscribes(
    serve: Any, shared_database: Hub
) -> None:
    # given a hub, and gql connected to it with the token in connection_init
    server = serve(shared_database.database_url, broker="memory")
    await ready(server)
    transport = WebsocketsTransport(
        url=server.ws,
        init_payload={"Authorization": f"Bearer {shared_database.token}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    async with Client(transport=transport) as session:
        assert transport.subprotocol == "graphql-transport-ws"

        # a query over the socket
        viewer = await session.execute(gql("{ viewer { username role } }"))
        assert viewer == {"viewer": {"username": "ws-admin", "role": "ADMIN"}}

        # a subscription hears the event of a mutation made over HTTP
        events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        async def listen() -> None:
            async for result in session.subscribe(GraphQLRequest(SUBSCRIBE)):
                await events.put(result)

        listener = asyncio.create_task(listen())
        try:
            reported: list[str] = []
            event: dict[str, Any] | None = None
            deadline = time.monotonic() + EVENT_TIMEOUT
            while event is None and time.monotonic() < deadline:
                reported.append(await _report(server.http, shared_database, "gql 停车难"))
                try:
                    event = await asyncio.wait_for(events.get(), RETRY_EVERY)
                except TimeoutError:
                    assert not listener.done(), listener.exception()
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
    assert event is not None, f"no event within {EVENT_TIMEOUT} s"
    change = event["requestChanged"]
    assert change["action"] == "REPORT" and change["request"]["id"] in reported
    assert change["request"]["description"] == "gql 停车难"
