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
from collections.abc import Hashable, Iterable
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
_USERS, _SESSIONS, _TOKENS = WATCHED_TABLES


def _clock() -> float:
    return time.monotonic()


class Bearer:
    """What one ``Authorization`` value resolved to, kept while the entries it was made
    of are good: served by a single dict lookup on the next request with that value."""

    __slots__ = ("fresh_until", "generation", "secret_key", "token", "valid_until", "viewer")

    def __init__(
        self,
        *,
        generation: Generation,
        fresh_until: float,
        valid_until: float,
        secret_key: str,
        viewer: Any,
        token: Any,
    ) -> None:
        self.generation = generation
        self.fresh_until = fresh_until  # monotonic: the earliest expiry of its entries
        self.valid_until = valid_until  # wall clock (epoch seconds): token/session expiry
        self.secret_key = secret_key  # the key the access token was verified with
        self.viewer = viewer
        self.token = token  # an API token's state (its last use is noted), else None


class CredentialCache:
    """This process's credential entries for one shared store (or none)."""

    def __init__(self, *, redis_url: str | None, max_entries: int = MAX_ENTRIES) -> None:
        self.redis_url = redis_url
        self.max_entries = max_entries
        self.entries: OrderedDict[Hashable, tuple[Generation, float, Any]] = OrderedDict()
        # Authorization value → what it resolved to (hub.services.auth.resolve_bearer).
        self.bearers: dict[str, Bearer] = {}
        self._shared: tuple[int, ...] | None = None
        self._shared_checked = float("-inf")
        self._warned = float("-inf")

    def _current(self) -> Generation | None:
        """The generation as last known, without I/O; None when it cannot be known."""
        versions = LOCAL_VERSIONS.versions
        local = (versions.get(_USERS, 0), versions.get(_SESSIONS, 0), versions.get(_TOKENS, 0))
        if self.redis_url is None:
            return local
        if self._shared is None:
            return None
        return (*local, *self._shared)

    async def generation(self) -> Generation | None:
        """The current generation; None when it cannot be known (Redis failing)."""
        if self.redis_url is None:
            return self._current()
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
        return self._current()

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

    def known_bearer(self, authorization: str, secret_key: str) -> Bearer | None:
        """What ``authorization`` resolved to, while every entry it was made of would
        still be served (same generation, none expired) and its token or session has
        not expired; else None (the caller resolves it through the entries)."""
        found = self.bearers.get(authorization)
        if found is None:
            return None
        now = _clock()
        if self.redis_url is not None and now - self._shared_checked >= SHARED_CHECK_SECONDS:
            return None  # time to read the shared versions: generation() does that
        if (
            found.generation != self._current()
            or found.fresh_until <= now
            or found.valid_until <= time.time()
            or found.secret_key != secret_key
        ):
            del self.bearers[authorization]
            return None
        return found

    def keep_bearer(
        self,
        authorization: str,
        generation: Generation | None,
        *,
        made_of: Iterable[Hashable],
        valid_until: float,
        secret_key: str,
        viewer: Any,
        token: Any = None,
    ) -> None:
        """Keep what ``authorization`` resolved to, from the entries ``made_of`` (stored
        under ``generation``); nothing is kept when one of them is not stored."""
        if generation is None:
            return
        fresh_until = float("inf")
        for key in made_of:
            found = self.entries.get(key)
            if found is None or found[0] != generation:
                return
            fresh_until = min(fresh_until, found[1])
        self.bearers[authorization] = Bearer(
            generation=generation,
            fresh_until=fresh_until,
            valid_until=valid_until,
            secret_key=secret_key,
            viewer=viewer,
            token=token,
        )
        if len(self.bearers) > self.max_entries:  # the oldest first
            del self.bearers[next(iter(self.bearers))]

    def clear(self) -> None:
        self.entries.clear()
        self.bearers.clear()
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
