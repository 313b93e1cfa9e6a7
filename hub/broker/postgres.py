"""PostgreSQL LISTEN/NOTIFY as the shared broker (``LINJU_BROKER=postgres``).

No server besides the database: each process holds one dedicated connection that
LISTENs (outside Tortoise's pool, which would hand it to queries), and publishes with
``pg_notify`` through a small pool of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from functools import partial
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from hub.broker.base import WIRE_CHANNEL, Broker, BrokerError, stop_listening, wire

logger = logging.getLogger("linju.broker")

CONNECT_TIMEOUT = 5.0
MAX_BACKOFF = 10.0
# NOTIFY payloads must stay under 8000 bytes; messages carry ids only.
MAX_PAYLOAD = 7900


def postgres_dsn(url: str) -> str:
    """An asyncpg DSN from a Tortoise database URL (scheme normalised, options dropped)."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))


def _set(event: asyncio.Event, connection: Any) -> None:
    event.set()


class PostgresBroker(Broker):
    """NOTIFY to publish, one LISTENing connection per process to receive.

    Notifications are delivered only to sessions listening at the time: a process whose
    listening connection drops misses what is published until it has reconnected, which
    it does by itself.
    """

    name = "postgres"

    def __init__(self, dsn: str, *, channel: str = WIRE_CHANNEL) -> None:
        super().__init__()
        self.dsn = dsn
        self.channel = channel
        self._pool: asyncpg.Pool | None = None
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self.connection: asyncpg.Connection | None = None  # the LISTENing one, when connected

    async def start(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self.dsn, min_size=1, max_size=4, timeout=CONNECT_TIMEOUT
            )
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            raise BrokerError(f"PostgreSQL broker did not answer: {type(exc).__name__}") from exc
        self._listener = asyncio.create_task(self._listen(), name="linju-pg-listener")
        try:
            await asyncio.wait_for(self._listening.wait(), CONNECT_TIMEOUT)
        except TimeoutError:
            await self.stop()
            raise BrokerError("PostgreSQL broker could not LISTEN") from None

    async def stop(self) -> None:
        await stop_listening(self._listener)
        self._listener = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def publish(self, channel: str, message: Mapping[str, Any]) -> None:
        if self._pool is None:
            raise BrokerError("PostgreSQL broker is not started")
        payload = wire(channel, message)
        if len(payload.encode()) > MAX_PAYLOAD:
            raise BrokerError(f"event too large for NOTIFY ({len(payload)} bytes)")
        await self._pool.execute("SELECT pg_notify($1, $2)", self.channel, payload)

    def _on_notify(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        self.deliver_wire(payload)

    async def _listen(self) -> None:
        backoff = 0.5
        while True:
            connection: asyncpg.Connection | None = None
            try:
                connection = await asyncpg.connect(self.dsn, timeout=CONNECT_TIMEOUT)
                lost = asyncio.Event()
                connection.add_termination_listener(partial(_set, lost))
                await connection.add_listener(self.channel, self._on_notify)
                self.connection = connection
                self._listening.set()
                backoff = 0.5
                await lost.wait()
                logger.warning("PostgreSQL broker connection lost; reconnecting")
            except Exception as exc:  # whatever the driver raises: wait, then connect again
                logger.warning("PostgreSQL broker cannot listen (%s); retrying", type(exc).__name__)
            finally:
                self.connection = None
                if connection is not None and not connection.is_closed():
                    with contextlib.suppress(Exception):
                        await connection.close(timeout=2)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
