"""SQL built by Tortoise for the read code that runs it itself (listing pages, counts,
the compiled read path, semi-join filters), through Tortoise's public API:
``QuerySet.sql()`` builds the statement and chooses the connection, the built pypika
query is the queryset's public ``query``, and the connection a read uses is the
router's choice (``tortoise.router.router``) or the model's default.

One library internal is left, in :func:`unordered`: pypika keeps a query's ORDER BY in
``QueryBuilder._orderbys`` and has no public way to drop it, while every hub model has a
default ordering that Tortoise adds to every SELECT. An ORDER BY inside ``IN (...)`` or a
derived table stops PostgreSQL flattening the subquery into a join (a subquery with a
sort clause is never pulled up), and inside a grouped count it is an error. The pypika
release range it was checked on is gated in :mod:`hub.library_internals`.
"""

from __future__ import annotations

from typing import Any

from pypika_tortoise.queries import QueryBuilder
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.queryset import AwaitableQuery
from tortoise.router import router


def read_connection(model: type[Model]) -> BaseDBAsyncClient:
    """The connection a read of ``model`` uses now: the router's choice (the replica
    router, hub.db.ReplicaRouter), else the model's own connection — as Tortoise
    chooses it for a QuerySet."""
    return router.db_for_read(model) or model._meta.db


def built(queryset: AwaitableQuery[Any]) -> QueryBuilder:
    """The pypika query Tortoise built for ``queryset`` (its connection chosen)."""
    queryset.sql()  # public: chooses the connection, builds ``queryset.query``
    return queryset.query


def unordered(query: QueryBuilder) -> QueryBuilder:
    """``query`` without its ORDER BY (in place; returned for chaining)."""
    query._orderbys = []  # pypika internal, gated: hub.library_internals
    return query


def built_unordered(queryset: AwaitableQuery[Any]) -> QueryBuilder:
    """The query Tortoise built for ``queryset``, without the model's default ordering."""
    return unordered(built(queryset))
