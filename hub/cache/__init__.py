"""The response cache with exact invalidation (see :mod:`hub.cache.response`).

- :class:`ResponseCache` — the GraphQL app runs every HTTP operation through its
  ``execute``. A Runtime (hub.runtime) makes its own and closes it; the endpoint and the
  fast lane take the Runtime's (``hub.runtime.response_cache_of``).
- :func:`response_cache` — this process's cache for a hub's settings: the fallback for
  an app served without its lifespan, and the tests' handle on a cache.
- :func:`track_writes` — bump data versions on every commit a Runtime's connections
  report (the Runtime registers it).
- :func:`observe_reads` — the statement observer behind :func:`tracking_reads`.
"""

from __future__ import annotations

from hub.cache.response import ResponseCache, response_cache
from hub.cache.tables import observe_reads, tracking_reads
from hub.cache.versions import track_writes

__all__ = ["ResponseCache", "observe_reads", "response_cache", "track_writes", "tracking_reads"]
