"""Every SQL statement's time as a metric, and the slow ones in the log.

A statement slower than ``LINJU_SLOW_QUERY_MS`` (0: off) is logged at WARNING on
``linju.db.slow`` with its time, connection, request id and SQL. Only the SQL text:
the parameter values never reach this observer (they may hold a member's phone
number), and quoted literals written into the SQL are blanked as well.
"""

from __future__ import annotations

import logging
import re

from hub.observability.metrics import DB_STATEMENTS, SLOW_STATEMENTS, labelled

logger = logging.getLogger("linju.db.slow")

MAX_SQL_CHARS = 1000
_LITERAL = re.compile(r"'(?:[^']|'')*'")
_WHITESPACE = re.compile(r"\s+")

_threshold_seconds = 0.0


def loggable_sql(sql: str) -> str:
    """The statement on one line, string literals blanked, at most MAX_SQL_CHARS."""
    text = _WHITESPACE.sub(" ", _LITERAL.sub("'?'", sql)).strip()
    return text if len(text) <= MAX_SQL_CHARS else text[:MAX_SQL_CHARS] + " …"


def statement_ran(sql: str, seconds: float, connection_name: str) -> None:
    labelled(DB_STATEMENTS, connection_name).observe(seconds)
    if 0 < _threshold_seconds <= seconds:
        SLOW_STATEMENTS.labels(connection_name).inc()
        milliseconds = round(seconds * 1000, 1)
        logger.warning(
            "slow SQL statement: %.1f ms on %s: %s",
            milliseconds,
            connection_name,
            loggable_sql(sql),
            extra={"duration_ms": milliseconds, "connection": connection_name},
        )


def watch_statements(*, slow_query_ms: int) -> None:
    """Set the slow-statement threshold (the last call wins); :func:`statement_ran` is
    registered by every Runtime (hub.runtime) on its connections' observers."""
    global _threshold_seconds
    _threshold_seconds = max(slow_query_ms, 0) / 1000
