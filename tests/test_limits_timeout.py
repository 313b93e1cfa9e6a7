"""Statement timeout: PostgreSQL cancels a statement past LINJU_STATEMENT_TIMEOUT_MS and the
client gets a QUERY_TIMEOUT error saying so, for queries and mutations alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import asyncpg
import pytest
import strawberry
from tortoise.connection import get_connection
from tortoise.context import TortoiseContext
from tortoise.exceptions import OperationalError
from tortoise.transactions import in_transaction

from hub.db import connection_config, tortoise_config
from hub.settings import Settings
from resolvers.errors import is_statement_timeout
from schema.extensions import extensions_for
from tests.conftest import BACKEND
from tests.orm_context import restore_models

TIMEOUT_MS = 200
SLEEP = 2.0  # seconds: far past the timeout, so the statement is always cancelled

needs_postgres = pytest.mark.skipif(
    BACKEND != "postgres", reason="SQLite has no statement timeout (PostgreSQL only)"
)


@strawberry.type
class Query:
    @strawberry.field
    async def slow(self) -> int | None:
        await get_connection("default").execute_query("SELECT pg_sleep($1)", [SLEEP])
        return 1

    @strawberry.field
    async def quick(self) -> int:
        rows = await get_connection("default").execute_query_dict("SELECT 1 AS one")
        return int(rows[0]["one"])


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def slow_write(self) -> int:
        async with in_transaction("default") as connection:
            await connection.execute_query("SELECT pg_sleep($1)", [SLEEP])
        return 1


@asynccontextmanager
async def timed_out(settings: Settings, timeout_ms: int) -> AsyncIterator[strawberry.Schema]:
    """A schema with the hub's extensions, on connections with ``timeout_ms``."""
    config = tortoise_config(settings)
    config["connections"]["default"] = connection_config(
        settings.database_url, statement_timeout_ms=timeout_ms
    )
    limited = replace(settings, statement_timeout_ms=timeout_ms)
    try:
        async with TortoiseContext() as context:
            await context.init(config=config)
            yield strawberry.Schema(
                query=Query, mutation=Mutation, extensions=extensions_for(limited)
            )
    finally:
        restore_models()


@needs_postgres
async def test_a_slow_query_is_cancelled_with_a_clear_error(orm: Settings) -> None:
    async with timed_out(orm, TIMEOUT_MS) as schema:
        result = await schema.execute("{ slow quick }")
    # the slow field fails with QUERY_TIMEOUT, the quick one is answered
    assert result.data == {"slow": None, "quick": 1}
    assert result.errors is not None and len(result.errors) == 1
    error = result.errors[0]
    assert error.extensions == {"code": "QUERY_TIMEOUT"}
    assert error.message.startswith("查询超时")
    assert f"query took longer than {TIMEOUT_MS} ms" in error.message
    assert error.path == ["slow"]


@needs_postgres
async def test_a_slow_mutation_is_cancelled_with_a_clear_error(orm: Settings) -> None:
    async with timed_out(orm, TIMEOUT_MS) as schema:
        result = await schema.execute("mutation { slowWrite }")
        # the connection is usable afterwards (the transaction was rolled back)
        after = await schema.execute("{ quick }")
    assert result.data is None and result.errors is not None
    assert result.errors[0].extensions == {"code": "QUERY_TIMEOUT"}
    assert after.data == {"quick": 1} and not after.errors


@needs_postgres
async def test_sessions_get_the_timeout_and_zero_means_none(orm: Settings) -> None:
    async with timed_out(orm, TIMEOUT_MS):
        rows = await get_connection("default").execute_query_dict("SHOW statement_timeout")
        assert rows == [{"statement_timeout": f"{TIMEOUT_MS}ms"}]
    async with timed_out(orm, 0):
        rows = await get_connection("default").execute_query_dict("SHOW statement_timeout")
        assert rows == [{"statement_timeout": "0"}]


def test_sqlite_connections_get_no_server_settings() -> None:
    config = connection_config("sqlite://:memory:", statement_timeout_ms=TIMEOUT_MS)
    assert "server_settings" not in config["credentials"]


def test_a_cancelled_statement_is_recognised_however_wrapped() -> None:
    cancelled = asyncpg.exceptions.QueryCanceledError(
        "canceling statement due to statement timeout"
    )
    try:
        try:
            raise cancelled
        except asyncpg.PostgresError as exc:
            raise OperationalError(exc) from exc
    except OperationalError as wrapped:
        assert is_statement_timeout(wrapped)
    assert is_statement_timeout(cancelled)
    assert is_statement_timeout(OperationalError(cancelled))
    assert not is_statement_timeout(OperationalError("syntax error"))
    assert not is_statement_timeout(asyncpg.exceptions.DeadlockDetectedError("deadlock"))
    assert not is_statement_timeout(None)


@needs_postgres
async def test_the_serving_orm_has_the_timeout_and_migrations_none(orm: Settings) -> None:
    rows = await get_connection("default").execute_query_dict("SHOW statement_timeout")
    assert rows == [{"statement_timeout": f"{orm.statement_timeout_ms // 1000}s"}]  # "15s"
    migrating = tortoise_config(orm)["connections"]["default"]["credentials"]
    assert migrating["server_settings"]["statement_timeout"] == "0"
