"""Tortoise's asyncpg (PostgreSQL) engine, observed (see :mod:`hub.db_engines`)."""

from __future__ import annotations

from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.base.client import (
    NestedTransactionContext,
    TransactionContext,
    TransactionContextPooled,
)

from hub.db_engines import ObservedClient, ObservedTransaction


class ObservedAsyncpgClient(ObservedClient, AsyncpgDBClient):
    def _in_transaction(self) -> TransactionContext:
        return TransactionContextPooled(ObservedAsyncpgTransaction(self), self._pool_init_lock)


class ObservedAsyncpgTransaction(ObservedTransaction, TransactionWrapper):
    def _in_transaction(self) -> TransactionContext:
        return NestedTransactionContext(ObservedAsyncpgTransaction(self))


client_class = ObservedAsyncpgClient
