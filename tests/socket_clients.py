"""The whole hub served by uvicorn inside the test's event loop (so it shares the session's
ORM and in-process broker), and a small graphql-transport-ws client for it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from hub.app import create_app
from hub.settings import Settings

PROTOCOL = "graphql-transport-ws"
WAIT = 10.0  # seconds an expected message may take on a busy machine
QUIET = 0.5  # seconds to listen for a message that must not come


@dataclass
class Served:
    host: str

    @property
    def ws(self) -> str:
        return f"ws://{self.host}/graphql"

    @property
    def http(self) -> str:
        return f"http://{self.host}"


@asynccontextmanager
async def hub_server(settings: Settings) -> AsyncIterator[Served]:
    """``create_app(settings)`` listening on a free local port (the ORM is already open)."""
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=0, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + WAIT
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        assert time.monotonic() < deadline, "uvicorn did not start in time"
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Served(f"127.0.0.1:{port}")
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, WAIT)


class Closed(Exception):
    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed {code}: {reason}")
        self.code = code
        self.reason = reason


class Socket:
    """A graphql-transport-ws connection: raw frames kept, JSON messages decoded."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.frames: list[str | bytes] = []

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self, timeout: float = WAIT) -> dict[str, Any]:
        """The next message; ``Closed`` when the server closed the connection."""
        try:
            frame = await asyncio.wait_for(self.connection.recv(), timeout)
        except ConnectionClosed as exc:
            rcvd = exc.rcvd
            raise Closed(rcvd.code if rcvd else None, rcvd.reason if rcvd else "") from None
        self.frames.append(frame)
        message: dict[str, Any] = json.loads(frame)
        return message

    async def closed(self) -> Closed:
        """Wait for the server to close; every message before that is returned in it."""
        while True:
            try:
                message = await self.receive()
            except Closed as closed:
                return closed
            raise AssertionError(f"expected the connection to close, got {message}")

    async def nothing(self) -> None:
        """No message within ``QUIET`` seconds (and the connection still open)."""
        try:
            message = await self.receive(QUIET)
        except TimeoutError:
            return
        raise AssertionError(f"expected nothing, got {message}")

    async def subscribe(self, id: str, query: str, **variables: Any) -> None:
        payload: dict[str, Any] = {"query": query, "variables": variables}
        await self.send({"id": id, "type": "subscribe", "payload": payload})

    async def run(self, id: str, query: str, **variables: Any) -> dict[str, Any]:
        """A query or mutation: its ``next`` (or ``error``) message, its ``complete`` read."""
        await self.subscribe(id, query, **variables)
        answer = await self.receive()
        if answer["type"] == "next":
            assert await self.receive() == {"id": id, "type": "complete"}
        return answer


@asynccontextmanager
async def socket(
    served: Served, token: str | None = None, *, acknowledged: bool = True
) -> AsyncIterator[Socket]:
    """A connection, its connection_init sent (with ``token``) and acknowledged."""
    async with connect(served.ws, subprotocols=[PROTOCOL], open_timeout=WAIT) as connection:  # type: ignore[list-item]
        client = Socket(connection)
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        await client.send({"type": "connection_init", "payload": payload})
        if acknowledged:
            ack = await client.receive()
            assert ack["type"] == "connection_ack", ack
        yield client
