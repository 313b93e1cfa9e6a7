"""Credentials without a database round trip: account, session and API-token state kept
in this process while the account tables are unchanged.

An entry is stored with the *generation* it was read under: the data versions
(:mod:`hub.cache.versions`, bumped by every commit in any process) of the tables that
decide whether a credential is good — users, login sessions, API tokens. It is served
only while the generation is unchanged:

- a commit in this process bumps the local versions before the writer's call returns,
  so a revocation here is seen by the very next request;
- with ``LINJU_REDIS_URL``, the shared versions are read at most once a second, so a
  revocation in any other process (another worker, ``linju token revoke``) is seen
  within about a second;
- without Redis nothing tells this process of other processes' writes: entries then
  live one second.

The generation is taken *before* the database is read, so a revocation that commits
while an entry is being loaded makes that entry stale at once. When Redis cannot be
read, nothing is served from the cache (the database decides) until it answers again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from hub.cache.redis_state import EPOCH, RedisState
from hub.cache.state import LOCAL_VERSIONS
from hub.settings import Settings

logger = logging.getLogger("linju.auth")

# The tables whose writes can change what a credential is worth.
WATCHED_TABLES = ("hub_user", "login_session", "api_token")
SHARED_CHECK_SECONDS = 1.0
UNSHARED_TTL_SECONDS = 1.0
# Even with Redis, an entry is re-read this often: a bump that failed to reach Redis
# (the writer logged it) cannot keep a revoked credential alive for long.
MAX_AGE_SECONDS = 60.0
MAX_ENTRIES = 10_000
# A Redis that does not answer in time costs a request no more than this.
REDIS_TIMEOUT_SECONDS = 1.0
_WARN_EVERY = 60.0

Generation = tuple[Any, ...]
_MISSING = object()


def _clock() -> float:
    return time.monotonic()


class CredentialCache:
    """This process's credential entries for one shared store (or none)."""

    def __init__(self, *, redis_url: str | None, max_entries: int = MAX_ENTRIES) -> None:
        self.redis_url = redis_url
        self.max_entries = max_entries
        self.entries: OrderedDict[Hashable, tuple[Generation, float, Any]] = OrderedDict()
        self._shared: tuple[int, ...] | None = None
        self._shared_checked = float("-inf")
        self._warned = float("-inf")

    async def generation(self) -> Generation | None:
        """The current generation; None when it cannot be known (Redis failing)."""
        local = tuple(LOCAL_VERSIONS.versions.get(table, 0) for table in WATCHED_TABLES)
        if self.redis_url is None:
            return local
        now = _clock()
        if now - self._shared_checked >= SHARED_CHECK_SECONDS:
            # Set first: requests arriving during the round trip use the last answer.
            self._shared_checked = now
            try:
                async with asyncio.timeout(REDIS_TIMEOUT_SECONDS):
                    snapshot = await RedisState(self.redis_url).lookup(None, writer=None)
            except Exception as exc:
                self._shared = None
                if now - self._warned >= _WARN_EVERY:
                    self._warned = now
                    logger.warning(
                        "credential cache: Redis unreadable, using the database: %s", exc
                    )
            else:
                versions = snapshot.versions
                self._shared = (
                    versions.get(EPOCH, 0),
                    *(versions.get(table, 0) for table in WATCHED_TABLES),
                )
        if self._shared is None:
            return None
        return (*local, *self._shared)

    def get(self, key: Hashable, generation: Generation | None) -> Any:
        """The value stored under ``key`` for this generation, or ``MISSING``."""
        if generation is None:
            return _MISSING
        found = self.entries.get(key)
        if found is None:
            return _MISSING
        stored_generation, expires, value = found
        if stored_generation != generation or expires <= _clock():
            del self.entries[key]
            return _MISSING
        self.entries.move_to_end(key)
        return value

    def put(self, key: Hashable, generation: Generation | None, value: Any) -> None:
        """Keep ``value``, read from the database after ``generation`` was taken."""
        if generation is None:
            return
        ttl = MAX_AGE_SECONDS if self.redis_url else UNSHARED_TTL_SECONDS
        self.entries[key] = (generation, _clock() + ttl, value)
        self.entries.move_to_end(key)
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)

    def clear(self) -> None:
        self.entries.clear()
        self._shared = None
        self._shared_checked = float("-inf")


MISSING = _MISSING
_caches: dict[tuple[str, str | None], CredentialCache] = {}


def credential_cache(settings: Settings) -> CredentialCache:
    """This process's cache for a hub's database, sharing versions through its Redis
    (or not). Ids are only unique within one database: one cache per database."""
    key = (settings.database_url, settings.redis_url)
    cache = _caches.get(key)
    if cache is None:
        cache = _caches[key] = CredentialCache(redis_url=settings.redis_url)
    return cache
