"""The event bus behind GraphQL subscriptions: publish here, every subscriber hears it.

A ``Broker`` has ``publish(channel, message)`` and ``subscribe(channel)``, an async
iterator of the messages published on that channel after it was opened. Messages are
small JSON objects (ids, never records: each subscriber re-reads what it may see).

- ``MemoryBroker`` delivers inside this process: enough for one ``linju serve``.
- ``RedisBroker`` (``LINJU_BROKER=redis://…``) and ``PostgresBroker``
  (``LINJU_BROKER=postgres``) carry every message through a shared server, so a
  mutation served by one process reaches subscribers connected to any other. Each
  process keeps one listening connection and fans messages out to its own
  subscribers; a message published here comes back through the server like any other.

Hubs that share a Redis server keep apart by channel: ``redis://host:6379/0?channel=staging``
(default ``linju_events``; PostgreSQL notifications stay inside their database anyway).

The app's lifespan starts the configured broker (``running_broker``); code that
publishes or subscribes asks for ``current_broker()``, which is an in-process
``MemoryBroker`` when none was started (tests, scripts).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from types import TracebackType
from typing import Any

from hub.settings import Settings, SettingsError, pop_url_option

logger = logging.getLogger("linju.broker")

Message = dict[str, Any]
# A subscriber that falls this far behind loses its oldest messages, not the server's memory.
QUEUE_SIZE = 1000
# All channels travel as one wire channel (Redis channel / PostgreSQL NOTIFY channel).
WIRE_CHANNEL = "linju_events"
_CHANNEL_NAME = re.compile(r"[A-Za-z0-9_]{1,63}")


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


def split_channel(url: str) -> tuple[str, str]:
    """(the URL without its ``channel`` option, the wire channel it names or the default)."""
    address, channel = pop_url_option(url, "channel", WIRE_CHANNEL)
    if not _CHANNEL_NAME.fullmatch(channel):
        raise SettingsError(f"broker channel must be letters, digits or _, got {channel!r}")
    return address, channel


def create_broker(settings: Settings) -> Broker:
    """The broker ``settings.broker`` names (not started)."""
    setting = settings.broker.strip()
    if setting == "memory":
        return MemoryBroker()
    if setting.startswith(("redis://", "rediss://", "unix://")):
        from hub.broker.redis import RedisBroker

        url, channel = split_channel(setting)
        return RedisBroker(url, channel=channel)
    if setting == "postgres" or setting.startswith(("postgres://", "postgresql://")):
        from hub.broker.postgres import PostgresBroker, postgres_dsn

        url, channel = split_channel(setting)
        if setting == "postgres":
            url = settings.database_url
        if not url.startswith(("postgres", "asyncpg", "psycopg")):
            raise SettingsError(
                "LINJU_BROKER=postgres needs a PostgreSQL LINJU_DATABASE_URL "
                "(or give the broker a postgres:// URL of its own)"
            )
        return PostgresBroker(postgres_dsn(url), channel=channel)
    raise SettingsError(f"unknown LINJU_BROKER {settings.broker!r}")


_default = MemoryBroker()
_current: Broker | None = None


def current_broker() -> Broker:
    """The broker the app started, else this process's in-memory one."""
    return _current or _default


@asynccontextmanager
async def running_broker(settings: Settings) -> AsyncIterator[Broker]:
    """Start the configured broker for the app's lifetime and make it current."""
    global _current
    broker = create_broker(settings)
    await broker.start()
    previous, _current = _current, broker
    logger.info("event broker: %s", broker.name)
    try:
        yield broker
    finally:
        _current = previous
        await broker.stop()


__all__ = [
    "Broker",
    "BrokerError",
    "MemoryBroker",
    "Subscription",
    "create_broker",
    "current_broker",
    "running_broker",
    "split_channel",
]
