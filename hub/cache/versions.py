"""Bumping data versions on every committed write, in whichever process it happens.

:func:`track_writes` registers one commit observer (hub.db_observe.on_commit) per
process; it bumps this process's versions and, for every Redis URL a cache or the ORM
was set up with, the shared versions. ``init_orm`` calls it, so the server, the
console (same process) and CLI commands (``linju seed``, ``linju createuser``) all
bump. The observer is awaited before the writer's call returns: a client never gets
its write answered before the caches know of it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from hub import db_observe
from hub.cache.redis_state import RedisState
from hub.cache.state import LOCAL_VERSIONS
from hub.cache.tables import install
from hub.settings import Settings

logger = logging.getLogger("linju.cache")

_redis_urls: dict[str, int] = {}  # URL → how many registrations want it
_observer: list[Callable[[], None]] = []


async def bump_versions(tables: frozenset[str]) -> None:
    """The commit observer: this process's versions, then every shared store's."""
    LOCAL_VERSIONS.bump(tables)
    for url in tuple(_redis_urls):
        try:
            await RedisState(url).bump(tables)
        except Exception:
            # The write has committed; the shared caches cannot know. Entries expire
            # after cache_ttl_seconds at the latest; say so loudly.
            logger.exception(
                "response cache: could not bump data versions of %s in Redis", sorted(tables)
            )


def track_writes(settings: Settings) -> Callable[[], None]:
    """Bump versions on every commit (local, plus Redis when configured); returns a
    function that stops bumping that Redis (the local versions are always bumped)."""
    install()
    if not _observer:
        _observer.append(db_observe.on_commit(bump_versions))
    url = settings.redis_url
    if url is None:
        return lambda: None
    _redis_urls[url] = _redis_urls.get(url, 0) + 1
    stopped: list[bool] = []

    def stop() -> None:
        if stopped or url not in _redis_urls:
            return
        stopped.append(True)
        _redis_urls[url] -= 1
        if _redis_urls[url] <= 0:
            del _redis_urls[url]

    return stop
