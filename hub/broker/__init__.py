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

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from hub.broker.base import (
    QUEUE_SIZE,
    WIRE_CHANNEL,
    Broker,
    BrokerError,
    MemoryBroker,
    Subscription,
)
from hub.broker.postgres import PostgresBroker, postgres_dsn
from hub.broker.redis import RedisBroker
from hub.settings import Settings, SettingsError, pop_url_option

logger = logging.getLogger("linju.broker")
# A wire channel: a Redis channel / PostgreSQL NOTIFY channel name.
_CHANNEL_NAME = re.compile(r"[A-Za-z0-9_]{1,63}")


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
        url, channel = split_channel(setting)
        return RedisBroker(url, channel=channel)
    if setting == "postgres" or setting.startswith(("postgres://", "postgresql://")):
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
    "QUEUE_SIZE",
    "WIRE_CHANNEL",
    "Broker",
    "BrokerError",
    "MemoryBroker",
    "Subscription",
    "create_broker",
    "current_broker",
    "running_broker",
    "split_channel",
]
