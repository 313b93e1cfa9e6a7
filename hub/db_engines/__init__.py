"""Tortoise engines whose clients report to :mod:`hub.db_observe`.

``engine: "hub.db_engines.sqlite"`` and ``"hub.db_engines.asyncpg"`` stand in for
Tortoise's own engines in :func:`hub.db.tortoise_config`; they behave exactly like them
and add the statement timing and the commit reports, sent to the ``observers`` the
connection config hands them (a Runtime's; none for a connection opened without one).
Tortoise has no public hook for either (its signals are per model instance, fire before
COMMIT and miss ``QuerySet.update()``, bulk writes and raw SQL): the clients override
Tortoise internals, gated in :mod:`hub.library_internals`.
"""

from __future__ import annotations

from typing import Any

from tortoise.backends.base.client import TransactionalDBClient

from hub.db_observe import UNOBSERVED, Observers, StatementTimer


class ObservedClient:
    """Mixin for a connection outside a transaction: each write commits at once."""

    connection_name: str
    _linju_observers: Observers = UNOBSERVED

    def __init__(self, *args: Any, observers: Observers | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if observers is not None:
            self._linju_observers = observers

    @property
    def observers(self) -> Observers:
        """Who hears of this connection's statements and commits."""
        return self._linju_observers

    async def _observed_writes(self, tables: frozenset[str]) -> None:
        await self.observers.data_committed(tables)

    async def execute_insert(self, query: str, values: list[Any]) -> Any:
        async with StatementTimer(self, query):
            return await super().execute_insert(query, values)  # type: ignore[misc]

    async def execute_many(self, query: str, values: list[Any]) -> None:
        async with StatementTimer(self, query):
            await super().execute_many(query, values)  # type: ignore[misc]

    async def execute_query(self, query: str, values: list[Any] | None = None) -> Any:
        async with StatementTimer(self, query):
            return await super().execute_query(query, values)  # type: ignore[misc]

    async def execute_query_dict(self, query: str, values: list[Any] | None = None) -> Any:
        async with StatementTimer(self, query):
            return await super().execute_query_dict(query, values)  # type: ignore[misc]

    async def execute_script(self, query: str) -> None:
        async with StatementTimer(self, query):
            await super().execute_script(query)  # type: ignore[misc]


class ObservedTransaction(ObservedClient):
    """Mixin for a transaction: writes are held until the outermost transaction commits.

    A savepoint's writes go to the outermost transaction too (if the savepoint is rolled
    back they are reported anyway: an extra report costs a cache miss, a missing one
    would serve stale data). Reporting before the real COMMIT would be the bug.
    """

    _parent: Any

    @property
    def observers(self) -> Observers:
        """The observers of the connection the transaction runs on."""
        return self._root()._parent.observers  # type: ignore[no-any-return]

    def _root(self) -> ObservedTransaction:
        client: Any = self
        while isinstance(client._parent, TransactionalDBClient):
            client = client._parent
        return client  # type: ignore[no-any-return]

    async def _observed_writes(self, tables: frozenset[str]) -> None:
        root = self._root()
        pending: set[str] | None = root.__dict__.get("_linju_pending")
        if pending is None:
            pending = root.__dict__["_linju_pending"] = set()
        pending.update(tables)

    async def commit(self) -> None:
        await super().commit()  # type: ignore[misc]
        if self._root() is self:
            await self.observers.data_committed(self.__dict__.pop("_linju_pending", ()))

    async def rollback(self) -> None:
        try:
            await super().rollback()  # type: ignore[misc]
        finally:
            if self._root() is self:
                self.__dict__.pop("_linju_pending", None)
