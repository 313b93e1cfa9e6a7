"""Which connection a statement goes to: reads to the replica (when there is one), writes
and the account tables to the primary (:class:`ReplicaRouter`, named in the ORM's config
by :mod:`hub.db`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from tortoise.backends.base.client import TransactionalDBClient
from tortoise.connection import get_connection

PRIMARY = "default"
REPLICA = "replica"

# Account records are read from the primary always: a token just issued must work and
# a revoked one must stop working at once, whatever the replica's lag.
PRIMARY_ONLY_TABLES = frozenset({"hub_user", "api_token", "login_throttle", "login_session"})

_read_primary: ContextVar[bool] = ContextVar("linju_read_primary", default=False)


@contextmanager
def reading_primary() -> Iterator[None]:
    """Inside the block (and the tasks it starts), reads go to the primary."""
    token = _read_primary.set(True)
    try:
        yield
    finally:
        _read_primary.reset(token)


def reads_primary() -> bool:
    return _read_primary.get()


class ReplicaRouter:
    """Send reads to the replica connection, writes to the primary.

    Reads go to the primary inside :func:`reading_primary` (mutations, a caller who
    has just written, the console), inside a transaction (it runs on the primary and
    must see its own writes) and for the account tables.
    """

    def db_for_read(self, model: type[Any]) -> str:
        if _read_primary.get() or model._meta.db_table in PRIMARY_ONLY_TABLES:
            return PRIMARY
        if isinstance(get_connection(PRIMARY), TransactionalDBClient):
            return PRIMARY
        return REPLICA

    def db_for_write(self, model: type[Any]) -> str:
        return PRIMARY
