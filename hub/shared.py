"""The Redis server that several hub processes share (``LINJU_REDIS_URL``).

The response cache, the data versions and the rate-limit counters live there when it
is configured, so that every process behind a load balancer sees the same state.
Keys start with a prefix (``linju:`` by default; ``?prefix=staging`` in the URL keeps
hubs that share a server apart, and lets each test use keys of its own).

One client per process and event loop: redis-py's asyncio client holds a connection
pool bound to the loop that created it.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

import redis.asyncio as aioredis

from hub.settings import SettingsError, pop_url_option

CONNECT_TIMEOUT = 5.0
DEFAULT_PREFIX = "linju"
_PREFIX = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass(frozen=True)
class SharedRedis:
    """A Redis client and the key prefix this hub uses on it."""

    client: aioredis.Redis
    prefix: str

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))


def split_prefix(url: str) -> tuple[str, str]:
    """(the URL without its ``prefix`` option, the prefix it names or the default)."""
    address, prefix = pop_url_option(url, "prefix", DEFAULT_PREFIX)
    if not _PREFIX.fullmatch(prefix):
        raise SettingsError(f"LINJU_REDIS_URL prefix must be letters, digits, _.-, got {prefix!r}")
    return address, prefix


_clients: dict[tuple[str, int], SharedRedis] = {}


def shared_redis(url: str) -> SharedRedis:
    """This process's client for ``url`` on the running event loop (created lazily)."""
    key = (url, id(asyncio.get_running_loop()))
    shared = _clients.get(key)
    if shared is None:
        address, prefix = split_prefix(url)
        client = aioredis.Redis.from_url(
            address, socket_connect_timeout=CONNECT_TIMEOUT, health_check_interval=30
        )
        shared = _clients[key] = SharedRedis(client=client, prefix=prefix)
    return shared


async def close_shared_redis() -> None:
    """Close the clients of the running loop (at shutdown)."""
    loop_id = id(asyncio.get_running_loop())
    for key in [k for k in _clients if k[1] == loop_id]:
        await _clients.pop(key).client.aclose()
