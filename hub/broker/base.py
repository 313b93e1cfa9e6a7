"""What every broker shares: ``Broker`` and its ``Subscription``s, the wire format of a
shared server, and ``MemoryBroker`` (delivery inside this process). See :mod:`hub.broker`."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from contextlib import suppress
from types import TracebackType
from typing import Any

logger = logging.getLogger("linju.broker")

Message = dict[str, Any]
# A subscriber that falls this far behind loses its oldest messages, not the server's memory.
QUEUE_SIZE = 1000
# All channels travel as one wire channel (Redis channel / PostgreSQL NOTIFY channel).
WIRE_CHANNEL = "linju_events"


class BrokerError(Exception):
    """The broker's server could not be reached or refused the connection."""


class Subscription:
    """Messages of one channel, from the moment it was opened until it is closed.

    Use as ``async with broker.subscribe(channel) as messages: async for m in messages``;
    it is registered as soon as it exists, so nothing published after ``subscribe``
    returns is missed.
    """

    def __init__(self, broker: Broker, channel: str) -> None:
        self.broker = broker
        self.channel = channel
        self.queue: asyncio.Queue[Message] = asyncio.Queue(QUEUE_SIZE)
        self.dropped = 0
        broker._subscribers.setdefault(channel, set()).add(self)

    def put(self, message: Message) -> None:
        if self.queue.full():  # a stalled client: keep the newest messages
            self.queue.get_nowait()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % QUEUE_SIZE == 0:
                logger.warning("subscriber on %s is behind: %d dropped", self.channel, self.dropped)
        self.queue.put_nowait(message)

    def close(self) -> None:
        listeners = self.broker._subscribers.get(self.channel)
        if listeners is not None:
            listeners.discard(self)
            if not listeners:
                del self.broker._subscribers[self.channel]

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Message:
        return await self.queue.get()

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Broker:
    """Publish/subscribe by channel name; subclasses carry messages between processes."""

    name = "broker"

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = {}

    async def start(self) -> None:
        """Connect (a shared broker is listening when this returns)."""

    async def stop(self) -> None:
        """Disconnect; open subscriptions get nothing more."""

    async def publish(self, channel: str, message: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def subscribe(self, channel: str) -> Subscription:
        return Subscription(self, channel)

    def subscriber_count(self, channel: str) -> int:
        return len(self._subscribers.get(channel, ()))

    def deliver(self, channel: str, message: Message) -> None:
        """Hand a message to this process's subscribers of ``channel``."""
        for subscription in list(self._subscribers.get(channel, ())):
            subscription.put(dict(message))

    def deliver_wire(self, payload: str | bytes) -> None:
        """Deliver a message as it arrives from the shared server (see ``wire``)."""
        try:
            envelope = json.loads(payload)
            channel, message = envelope["channel"], envelope["message"]
        except (ValueError, KeyError, TypeError):
            logger.warning("%s: ignored a malformed message %r", self.name, payload[:200])
            return
        self.deliver(channel, message)


async def stop_listening(listener: asyncio.Task[None] | None) -> None:
    """End a shared broker's listening task (if it runs) and wait until it has."""
    if listener is not None:
        listener.cancel()
        with suppress(asyncio.CancelledError):
            await listener


def wire(channel: str, message: Mapping[str, Any]) -> str:
    """The text sent through a shared server: the channel travels with the message."""
    return json.dumps({"channel": channel, "message": dict(message)}, separators=(",", ":"))


class MemoryBroker(Broker):
    """Delivery inside this process only: the default for a single ``linju serve``."""

    name = "memory"

    async def publish(self, channel: str, message: Mapping[str, Any]) -> None:
        self.deliver(channel, dict(message))
