"""The committed migrations: they agree with the models, and `linju migrate` applies them
on an empty database, upgrades an older one and rolls back, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import NamedTuple

import asyncpg
import pytest

from hub.db_status import migrations_on_disk
from tests.conftest import BACKEND, PG_SERVER

FIRST = "0001_initial"

DETECT_CHANGES = textwrap.dedent(
    """
    import asyncio, json
    from hub.app.cli import detect_model_changes

    def describe(op):
        target = vars(op).get("model_name") or vars(op).get("name") or ""
        return f"{type(op).__name__} {target}".strip()

    writers = asyncio.run(detect_model_changes())
    print(json.dumps({w.name: [describe(op) for op in w.operations] for w in writers}))
    """
)


def run(*args: str, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LINJU_")}
    if database_url:
        environ["LINJU_DATABASE_URL"] = database_url
    done = subprocess.run(
        [sys.executable, *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def linju_migrate(url: str, *args: str) -> str:
    return run("-m", "hub.app.cli", "migrate", *args, database_url=url).stdout


@asynccontextmanager
async def database_factory(folder: Path) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """Makes databases with nothing in them, on the backend under test; drops them after."""
    made: list[str] = []

    async def make() -> str:
        name = f"linju_migrations_{uuid.uuid4().hex[:10]}"
        if BACKEND != "postgres":
            return f"sqlite://{folder / name}.db"
        await _pg_admin(f'CREATE DATABASE "{name}"')
        made.append(name)
        return f"{PG_SERVER}/{name}"

    try:
        yield make
    finally:
        for name in made:
            await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Migrated(NamedTuple):
    url: str
    output: str  # what `linju migrate` printed


@pytest.fixture(scope="module")
async def fresh_database(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Migrated]:
    """An empty database brought up to date by `linju migrate` (once for the module)."""
    async with database_factory(tmp_path_factory.mktemp("fresh")) as make:
        url = await make()
        yield Migrated(url, linju_migrate(url))


@pytest.fixture
async def empty_database(tmp_path: Path) -> AsyncIterator[str]:
    async with database_factory(tmp_path) as make:
        yield await make()


async def _pg_admin(sql: str) -> None:
    admin = await asyncpg.connect(f"{PG_SERVER}/postgres", timeout=5)
    try:
        await admin.execute(sql)
    finally:
        await admin.close()


async def applied(url: str) -> list[str]:
    rows = await _query(url, "SELECT name FROM tortoise_migrations WHERE app = 'hub'")
    return sorted(row[0] for row in rows)


async def _query(url: str, sql: str) -> list[tuple[object, ...]]:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as conn:
            return conn.execute(sql).fetchall()
    conn = await asyncpg.connect(url, timeout=5)
    try:
        return [tuple(row) for row in await conn.fetch(sql)]
    finally:
        await conn.close()


async def fingerprint(url: str) -> set[tuple[object, ...]]:
    """Tables, columns, indexes, constraints and triggers, by name."""
    if url.startswith("sqlite"):
        objects = await _query(
            url,
            "SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'",
        )
        columns = await _query(
            url,
            'SELECT m.name, p.name, p.type, p."notnull" FROM sqlite_master m '
            "JOIN pragma_table_info(m.name) p WHERE m.type = 'table'",
        )
        return set(objects) | {("column", *c) for c in columns}
    tables = await _query(
        url,
        "SELECT 'column', table_name, column_name, data_type, is_nullable "
        "FROM information_schema.columns WHERE table_schema = 'public'",
    )
    indexes = await _query(
        url,
        "SELECT 'index', tablename, indexname, indexdef FROM pg_indexes "
        "WHERE schemaname = 'public'",
    )
    constraints = await _query(
        url,
        "SELECT 'constraint', conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
        "FROM pg_constraint WHERE connamespace = 'public'::regnamespace",
    )
    return set(tables) | set(indexes) | set(constraints)


def test_models_and_committed_migrations_agree() -> None:
    # Tortoise's MigrationAutodetector, as `makemigrations` runs it (in a process of its
    # own: it initialises the models against a throwaway in-memory database).
    changes = json.loads(run("-c", DETECT_CHANGES).stdout)
    assert changes == {}, f"models changed without a migration: {changes}"
    assert "no changes" in run("-m", "hub.app.cli", "makemigrations", "--check").stdout


async def test_migrate_builds_an_empty_database(fresh_database: Migrated) -> None:
    url = fresh_database.url
    assert await applied(url) == migrations_on_disk()
    for name in migrations_on_disk():
        assert name in fresh_database.output
    tables = {entry[1] for entry in await fingerprint(url) if entry[0] == "column"}
    assert {"hub_user", "branch", "member", "resident_request", "audit_log"} <= tables
    assert "no migrations to apply" in linju_migrate(url)  # and again: nothing


async def test_migrate_upgrades_and_rolls_back(
    empty_database: str, fresh_database: Migrated
) -> None:
    # Given a database as an older release left it: the first migration only
    linju_migrate(empty_database, "--target", FIRST)
    assert await applied(empty_database) == [FIRST]
    older = await fingerprint(empty_database)

    # When brought up to date
    linju_migrate(empty_database)

    # Then it has every migration and the very schema a fresh database gets
    assert await applied(empty_database) == migrations_on_disk()
    assert await fingerprint(empty_database) == await fingerprint(fresh_database.url)

    # And rolling back to the first migration restores the older schema exactly
    linju_migrate(empty_database, "--target", FIRST)
    assert await applied(empty_database) == [FIRST]
    assert await fingerprint(empty_database) == older
