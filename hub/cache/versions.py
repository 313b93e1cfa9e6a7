"""Bumping data versions on every committed write, in whichever process it happens.

:func:`track_writes` registers a :class:`VersionBumper` as a commit observer of a
Runtime's observers (hub.runtime): it bumps this process's versions and, when the
settings name a Redis, the shared versions. The server's lifespan and every CLI command
build a Runtime, so the server, the console (same process) and CLI commands
(``linju seed``, ``linju createuser``) all bump. The observer is awaited before the
writer's call returns: a client never gets its write answered before the caches know
of it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from hub.cache.redis_state import RedisState
from hub.cache.state import LOCAL_VERSIONS
from hub.db_observe import Observers
from hub.settings import Settings

logger = logging.getLogger("linju.cache")


class VersionBumper:
    """The commit observer: this process's versions, then the shared store's (if any)."""

    def __init__(self, redis_url: str | None) -> None:
        self.redis_url = redis_url

    async def __call__(self, tables: frozenset[str]) -> None:
        LOCAL_VERSIONS.bump(tables)
        if self.redis_url is None:
            return
        try:
            await RedisState(self.redis_url).bump(tables)
        except Exception:
            # The write has committed; the shared caches cannot know. Entries expire
            # after cache_ttl_seconds at the latest; say so loudly.
            logger.exception(
                "response cache: could not bump data versions of %s in Redis", sorted(tables)
            )


def track_writes(observers: Observers, settings: Settings) -> Callable[[], None]:
    """Bump versions on every commit the observed connections report (local, plus
    Redis when configured); returns a function that stops it."""
    return observers.on_commit(VersionBumper(settings.redis_url))
