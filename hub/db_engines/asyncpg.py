"""Tortoise's asyncpg (PostgreSQL) engine, observed (see :mod:`hub.db_engines`), with a
pool that resets a connection on release only when its session may have changed.

asyncpg's pool resets every released connection with one more round trip
(``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``), so a compiled
read — one statement — cost two. Through asyncpg's public hooks (``create_pool``'s
``reset`` and ``connection_class``) the pool here still rolls back an open or aborted
transaction (asyncpg does that before calling ``reset``) and still sends asyncpg's own
reset query (:meth:`asyncpg.Connection.get_reset_query`) after any statement that could
leave session state behind — ``SET``, ``LISTEN``, ``DECLARE``, a session advisory lock,
``set_config``, anything that is not a plain query, write or transaction statement — and
skips it after a session of plain statements, which leave nothing behind.
"""

from __future__ import annotations

import re
from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.base.client import (
    NestedTransactionContext,
    TransactionContext,
    TransactionContextPooled,
)

from hub.db_engines import ObservedClient, ObservedTransaction

# Statements that leave no session state once their transaction has ended.
_PLAIN = re.compile(
    r"\s*(?:SELECT|INSERT|UPDATE|DELETE|WITH|VALUES|BEGIN|START\s+TRANSACTION|COMMIT|END"
    r"|ROLLBACK|SAVEPOINT|RELEASE)\b",
    re.IGNORECASE,
)
# ...unless they call one of these (a session advisory lock or setting, not the
# transaction-scoped pg_advisory_xact_lock).
_SESSION_CALL = re.compile(r"set_config|advisory_(?:lock|unlock)", re.IGNORECASE)
# A second statement in the same string (a simple-query script): judged as unknown.
_SEVERAL = re.compile(r";\s*\S")


def leaves_session_state(query: str) -> bool:
    """Whether a statement could change the session beyond its transaction."""
    return (
        _PLAIN.match(query) is None
        or _SESSION_CALL.search(query) is not None
        or _SEVERAL.search(query) is not None
    )


class HubConnection(asyncpg.Connection):  # type: ignore[misc]
    """An asyncpg connection that remembers whether its session may have changed since
    its last reset (every statement the hub sends passes these public methods)."""

    session_changed = False
    resets = 0  # how many times the reset query was sent (tests count it)

    def _saw(self, query: str) -> None:
        if not self.session_changed and leaves_session_state(query):
            self.session_changed = True

    async def execute(self, query: str, *args: Any, timeout: float | None = None) -> str:
        self._saw(query)
        return await super().execute(query, *args, timeout=timeout)  # type: ignore[no-any-return]

    async def executemany(self, command: str, args: Any, *, timeout: float | None = None) -> None:
        self._saw(command)
        await super().executemany(command, args, timeout=timeout)

    async def fetch(self, query: str, *args: Any, **kwargs: Any) -> list[Any]:
        self._saw(query)
        return await super().fetch(query, *args, **kwargs)  # type: ignore[no-any-return]

    async def fetchrow(self, query: str, *args: Any, **kwargs: Any) -> Any:
        self._saw(query)
        return await super().fetchrow(query, *args, **kwargs)

    async def fetchval(self, query: str, *args: Any, **kwargs: Any) -> Any:
        self._saw(query)
        return await super().fetchval(query, *args, **kwargs)

    async def fetchmany(self, query: str, args: Any, **kwargs: Any) -> list[Any]:
        self._saw(query)
        return await super().fetchmany(query, args, **kwargs)  # type: ignore[no-any-return]

    def cursor(self, query: str, *args: Any, **kwargs: Any) -> Any:
        self.session_changed = True
        return super().cursor(query, *args, **kwargs)

    async def prepare(self, query: str, **kwargs: Any) -> Any:
        self._saw(query)
        return await super().prepare(query, **kwargs)


async def reset_if_changed(connection: asyncpg.Connection) -> None:
    """The pool's ``reset``: asyncpg has already rolled back an open transaction; send
    asyncpg's reset query when the session may hold state, else nothing."""
    if not isinstance(connection, HubConnection) or connection.session_changed:
        query = connection.get_reset_query()
        if query:
            await connection.execute(query)
        if isinstance(connection, HubConnection):
            connection.session_changed = False
            connection.resets += 1


class ObservedAsyncpgClient(ObservedClient, AsyncpgDBClient):
    connection_class = HubConnection

    async def create_pool(self, **kwargs: Any) -> asyncpg.Pool:
        return await asyncpg.create_pool(None, reset=reset_if_changed, **kwargs)

    def _in_transaction(self) -> TransactionContext:
        return TransactionContextPooled(ObservedAsyncpgTransaction(self), self._pool_init_lock)


class ObservedAsyncpgTransaction(ObservedTransaction, TransactionWrapper):
    def _in_transaction(self) -> TransactionContext:
        return NestedTransactionContext(ObservedAsyncpgTransaction(self))


client_class = ObservedAsyncpgClient
