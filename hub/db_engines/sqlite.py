"""Tortoise's SQLite engine, observed (see :mod:`hub.db_engines`)."""

from __future__ import annotations

from tortoise.backends.base.client import NestedTransactionContext, TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)

from hub.db_engines import ObservedClient, ObservedTransaction


class ObservedSqliteClient(ObservedClient, SqliteClient):
    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(ObservedSqliteTransaction(self), self._lock)


class ObservedSqliteTransaction(ObservedTransaction, SqliteTransactionWrapper):
    def _in_transaction(self) -> TransactionContext:
        return NestedTransactionContext(ObservedSqliteTransaction(self))


client_class = ObservedSqliteClient
