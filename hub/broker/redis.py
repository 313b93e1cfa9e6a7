"""Redis pub/sub as the shared broker (``LINJU_BROKER=redis://127.0.0.1:6379/0``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from hub.broker.base import WIRE_CHANNEL, Broker, BrokerError, stop_listening, wire

logger = logging.getLogger("linju.broker")

CONNECT_TIMEOUT = 5.0
MAX_BACKOFF = 10.0


class RedisBroker(Broker):
    """Publishes with PUBLISH; one SUBSCRIBEd connection per process feeds its subscribers.

    Redis pub/sub keeps nothing: a process that is disconnected misses what is published
    meanwhile (subscriptions are live updates, not a log). The listener reconnects by
    itself, waiting longer after each failure.
    """

    name = "redis"

    def __init__(self, url: str, *, channel: str = WIRE_CHANNEL) -> None:
        super().__init__()
        self.url = url
        self.channel = channel
        self._client: aioredis.Redis | None = None
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    async def start(self) -> None:
        self._client = aioredis.Redis.from_url(
            self.url, socket_connect_timeout=CONNECT_TIMEOUT, health_check_interval=30
        )
        try:
            await asyncio.wait_for(self._client.ping(), CONNECT_TIMEOUT)
        except (RedisError, OSError, TimeoutError) as exc:
            await self._client.aclose()
            raise BrokerError(f"Redis broker did not answer: {type(exc).__name__}") from exc
        self._listener = asyncio.create_task(self._listen(), name="linju-redis-listener")
        # Serve only once subscribed: an event published right after start is not lost.
        await asyncio.wait_for(self._listening.wait(), CONNECT_TIMEOUT)

    async def stop(self) -> None:
        await stop_listening(self._listener)
        self._listener = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def publish(self, channel: str, message: Mapping[str, Any]) -> None:
        if self._client is None:
            raise BrokerError("Redis broker is not started")
        await self._client.publish(self.channel, wire(channel, message))

    async def _listen(self) -> None:
        assert self._client is not None
        backoff = 0.5
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self._listening.set()
                backoff = 0.5
                async for item in pubsub.listen():
                    if item.get("type") == "message":
                        self.deliver_wire(item["data"])
            except Exception as exc:  # whatever the client raises: wait, then subscribe again
                logger.warning("Redis broker connection lost (%s); retrying", type(exc).__name__)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py: unannotated
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
