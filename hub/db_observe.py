"""Watch every SQL statement the hub runs, and every committed write.

The hub's Tortoise connections use the client classes of :mod:`hub.db_engines`, thin
subclasses of Tortoise's SQLite and asyncpg clients that report to the
:class:`Observers` of the :class:`hub.runtime.Runtime` that opened them (handed over in
the connection config). Whatever runs the statement — a GraphQL resolver, a service,
the console, ``linju seed`` — passes through them, so this is the one place that sees
all database work:

- ``observers.on_statement(observer)``: ``observer(sql, seconds, connection_name)`` after
  each statement (the slow-query log, metrics, the response cache's read tracking);
- ``observers.on_commit(observer)``: ``observer(tables)`` once the data in ``tables`` has
  been committed — after ``COMMIT`` for a transaction, at once for a statement outside
  one. A rolled-back transaction reports nothing. The response cache bumps its data
  versions here. A commit observer may be a coroutine function: the write's caller
  resumes only once it has finished, so a client never sees its write answered before
  the caches know of it.

Observers must be quick and must not raise (an observer that raises is logged and
skipped: the statement has run).
"""

from __future__ import annotations

import inspect
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

logger = logging.getLogger("linju.db")

StatementObserver = Callable[[str, float, str], None]
CommitObserver = Callable[[frozenset[str]], Awaitable[None] | None]

# The table a data-changing statement writes: Tortoise quotes identifiers ("x" on
# PostgreSQL and SQLite); bare names come from hand-written SQL.
_WRITE = re.compile(
    r"""^\s*(?:WITH\b.*?\)\s*)?(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)
        \s+(?:"?\w+"?\.)?"?(\w+)"?""",
    re.IGNORECASE | re.DOTALL | re.VERBOSE,
)
_TRUNCATE = re.compile(r"^\s*TRUNCATE\s+(?:TABLE\s+)?(.+?)(?:\s+(?:RESTART|CASCADE|;)|$)", re.I)


def written_tables(sql: str) -> frozenset[str]:
    """The tables a statement changes (empty for a read)."""
    match = _WRITE.match(sql)
    if match:
        return frozenset({match.group(1).lower()})
    match = _TRUNCATE.match(sql)
    if match:
        names = (part.strip().strip('"').split(".")[-1] for part in match.group(1).split(","))
        return frozenset(name.strip('"').lower() for name in names if name)
    return frozenset()


class Observers:
    """The statement and commit observers of one Runtime (and of the connections it opened)."""

    def __init__(self) -> None:
        self._statement: list[StatementObserver] = []
        self._commit: list[CommitObserver] = []

    def on_statement(self, observer: StatementObserver) -> Callable[[], None]:
        """Register a statement observer; returns a function that removes it."""
        self._statement.append(observer)
        return lambda: _remove(self._statement, observer)

    def on_commit(self, observer: CommitObserver) -> Callable[[], None]:
        """Register a commit observer; returns a function that removes it."""
        self._commit.append(observer)
        return lambda: _remove(self._commit, observer)

    def statement_ran(self, sql: str, seconds: float, connection_name: str) -> None:
        for observer in tuple(self._statement):
            try:
                observer(sql, seconds, connection_name)
            except Exception:
                logger.exception("statement observer %r failed", observer)

    async def data_committed(self, tables: Iterable[str]) -> None:
        changed = frozenset(tables)
        if not changed:
            return
        for observer in tuple(self._commit):
            try:
                result = observer(changed)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception("commit observer %r failed", observer)


class _Unobserved(Observers):
    """The observers of a connection opened outside a Runtime (a migration's): none."""

    def on_statement(self, observer: StatementObserver) -> Callable[[], None]:
        raise RuntimeError("these connections were opened outside a Runtime: nobody observes them")

    on_commit = on_statement  # type: ignore[assignment]


UNOBSERVED: Observers = _Unobserved()


def _remove(observers: list[Any], observer: Any) -> None:
    if observer in observers:
        observers.remove(observer)


class StatementTimer:
    """Times one statement and reports it (and its writes) when it ends."""

    __slots__ = ("client", "sql", "started")

    def __init__(self, client: Any, sql: str) -> None:
        self.client = client
        self.sql = sql
        self.started = 0.0

    async def __aenter__(self) -> StatementTimer:
        self.started = time.perf_counter()
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.client.observers.statement_ran(
            self.sql, time.perf_counter() - self.started, self.client.connection_name
        )
        if exc_type is None:
            tables = written_tables(self.sql)
            if tables:
                await self.client._observed_writes(tables)
