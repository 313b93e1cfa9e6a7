"""Limits under load: request rate per token and per address, request body size.

Both are pure ASGI middleware (:mod:`hub.app` installs them after the request context,
so refusals are logged and counted with a request id). The statement timeout on
PostgreSQL is a connection setting (:func:`hub.db.connection_config`) whose errors
:mod:`schema.extensions` reports as ``QUERY_TIMEOUT``.
"""

from __future__ import annotations

from hub.limits.body import BodySizeLimit
from hub.limits.rate import RateLimit

__all__ = ["BodySizeLimit", "RateLimit"]
