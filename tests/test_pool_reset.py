"""The PostgreSQL pool's reset: no round trip after plain statements, and nothing a
use of a connection leaves in its session (a setting, a LISTEN, an advisory lock, an
open cursor, an aborted transaction) reaches the next use of that connection."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from hub.db_engines.asyncpg import HubConnection, ObservedAsyncpgClient, leaves_session_state
from tests.conftest import BACKEND


@pytest.mark.parametrize(
    ("sql", "leaves"),
    [
        ('SELECT "id" FROM "member" WHERE "id"=$1', False),
        ('  insert into "member" ("name") values ($1)', False),
        ("WITH t AS (SELECT 1) SELECT * FROM t", False),
        ("BEGIN ISOLATION LEVEL READ COMMITTED;", False),
        ("SELECT pg_advisory_xact_lock(hashtext($1))", False),
        ("ROLLBACK", False),
        ("SET statement_timeout = 5", True),
        ("SET LOCAL work_mem = '1MB'", True),
        ("LISTEN linju", True),
        ("DECLARE c CURSOR WITH HOLD FOR SELECT 1", True),
        ("SELECT pg_advisory_lock(1)", True),
        ("SELECT pg_try_advisory_lock_shared(1)", True),
        ("select set_config('application_name', 'x', false)", True),
        ("CREATE TEMP TABLE t (x int)", True),
        ("PREPARE p AS SELECT 1", True),
        ("SELECT 1; SET search_path = x", True),
        ("/* a comment */ SELECT 1", True),  # unknown: judged as leaving state
    ],
)
def test_which_statements_leave_session_state(sql: str, leaves: bool) -> None:
    assert leaves_session_state(sql) is leaves


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[ObservedAsyncpgClient]:
    if BACKEND != "postgres":
        pytest.skip("PostgreSQL only (LINJU_TEST_BACKEND=postgres)")
    from hub.db import connection_config

    config = connection_config(database_url, statement_timeout_ms=30_000)
    credentials = {**config["credentials"], "minsize": 1, "maxsize": 1}
    client = ObservedAsyncpgClient(connection_name="pool_reset", **credentials)
    await client.create_connection(with_db=True)
    try:
        yield client
    finally:
        await client.close()


async def _session(client: ObservedAsyncpgClient) -> dict[str, object]:
    async with client.acquire_connection() as connection:
        assert isinstance(connection, HubConnection)
        row = await connection.fetchrow(
            """SELECT current_setting('statement_timeout') AS timeout,
                      current_setting('application_name') AS app,
                      (SELECT count(*) FROM pg_listening_channels()) AS listening,
                      (SELECT count(*) FROM pg_locks
                        WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS locks,
                      (SELECT count(*) FROM pg_cursors) AS cursors,
                      pg_backend_pid() AS pid"""
        )
        return dict(row)


async def test_plain_statements_cost_no_reset_round_trip(client: ObservedAsyncpgClient) -> None:
    await client.execute_query("SELECT 1")
    async with client.acquire_connection() as connection:
        before = connection.resets
    for _ in range(5):
        await client.execute_query('SELECT $1::int AS "n"', [1])
    async with client.acquire_connection() as connection:
        assert connection.resets == before


@pytest.mark.parametrize(
    "leave",
    [
        "SET statement_timeout = 1234",
        "SELECT set_config('application_name', 'leaked', false)",
        "LISTEN linju_leak",
        "SELECT pg_advisory_lock(424242)",
        "DECLARE leaked CURSOR WITH HOLD FOR SELECT 1",
        "SELECT 1; SET statement_timeout = 4321",
    ],
)
async def test_session_state_never_reaches_the_next_use(
    client: ObservedAsyncpgClient, leave: str
) -> None:
    clean = await _session(client)
    async with client.acquire_connection() as connection:
        await connection.execute(leave)
    after = await _session(client)
    assert after["pid"] == clean["pid"]  # the same connection, reset
    assert after == clean


async def test_an_aborted_transaction_is_rolled_back(client: ObservedAsyncpgClient) -> None:
    clean = await _session(client)
    async with client.acquire_connection() as connection:
        await connection.execute("BEGIN")
        with pytest.raises(Exception, match="division by zero"):
            await connection.execute("SELECT 1/0")
        assert connection.is_in_transaction()
    async with client.acquire_connection() as connection:
        assert not connection.is_in_transaction()
    assert await _session(client) == clean
