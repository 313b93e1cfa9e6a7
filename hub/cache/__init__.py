"""The response cache with exact invalidation (see :mod:`hub.cache.response`).

- :func:`response_cache` — this process's cache for a hub's settings; the GraphQL app
  runs every HTTP operation through its ``execute``.
- :func:`track_writes` — bump data versions on every commit (``init_orm`` calls it).
- :func:`running_cache` — the app lifespan's part: the cache for the server's settings,
  released at shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from hub.cache.response import ResponseCache, response_cache
from hub.cache.versions import track_writes
from hub.settings import Settings

__all__ = ["ResponseCache", "response_cache", "running_cache", "track_writes"]


@asynccontextmanager
async def running_cache(settings: Settings) -> AsyncIterator[ResponseCache]:
    cache = response_cache(settings)
    try:
        yield cache
    finally:
        cache.close()
