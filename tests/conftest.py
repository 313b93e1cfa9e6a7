"""Test fixtures: one migrated database per session, on SQLite or PostgreSQL.

``LINJU_TEST_BACKEND=postgres`` runs the suite against the PostgreSQL server at
``LINJU_TEST_PG`` (default ``postgres://postgres@127.0.0.1:5432``); each session
creates its own database and drops it at the end. Tests that write use names of
their own (``unique_name``) so that the demo dataset's figures stay exact.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import pytest

from hub.db import migrate
from hub.runtime import Runtime
from hub.settings import Settings
from seeds.loader import SeedReport, load_demo
from tests.read_path_support import (
    MismatchCollector,
    collect_mismatches,
    fail_on_mismatches,
    mismatches_in_logs,
    read_path_overrides,
    requested_read_path,
    watched_logs,
)

BACKEND = os.environ.get("LINJU_TEST_BACKEND", "sqlite")
PG_SERVER = os.environ.get("LINJU_TEST_PG", "postgres://postgres@127.0.0.1:5432")


def missing_service(reason: str) -> NoReturn:
    """A service a test needs is not there: skipped, loudly — but under CI (``CI`` set)
    a failure, so that CI never passes by skipping what it did not check."""
    if os.environ.get("CI"):
        pytest.fail(f"CI: {reason}", pytrace=False)
    pytest.skip(f"!!! SKIPPED: {reason} !!!")


def pytest_configure(config: pytest.Config) -> None:
    requested_read_path()  # a bad or unsupported LINJU_TEST_READ_PATH stops the run here


def pytest_report_header(config: pytest.Config) -> list[str]:
    mode = requested_read_path() or "the hub's default"
    return [f"linju database backend: {BACKEND}", f"linju read path: {mode}"]


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(f"{PG_SERVER}/postgres", timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    if BACKEND == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "linju-test.db"
        yield f"sqlite://{path}"
        return
    if BACKEND != "postgres":
        raise pytest.UsageError(f"LINJU_TEST_BACKEND must be sqlite or postgres, not {BACKEND}")
    name = f"linju_test_{uuid.uuid4().hex[:10]}"
    try:
        await _pg_admin(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # any failure here means no usable server
        pytest.exit(f"PostgreSQL at {PG_SERVER} did not answer: {exc}", returncode=3)
    yield f"{PG_SERVER}/{name}"
    await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="linju-test-secret-key-of-at-least-32-bytes",
        **read_path_overrides(),  # LINJU_TEST_READ_PATH (tests/read_path_support.py)
    )


@pytest.fixture(autouse=True)
def read_path_mismatches() -> Iterator[MismatchCollector]:
    """Fail any test during which the two read paths disagreed: a ``read path mismatch``
    logged in this process, or in the log of a hub subprocess the test started."""
    logs = watched_logs()
    with collect_mismatches() as collector:
        yield collector
    fail_on_mismatches(collector.records, mismatches_in_logs(logs))


@pytest.fixture(scope="session")
async def orm(settings: Settings) -> AsyncIterator[Settings]:
    """A migrated database with the ORM open for the whole session."""
    await migrate(settings)
    runtime = await Runtime.start(settings)
    yield settings
    await runtime.close()


@pytest.fixture
def unique_name() -> str:
    """A name no other test or the demo data uses."""
    return f"测试{uuid.uuid4().hex[:8]}"


@dataclass
class StatementCounter:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


class _Capture(logging.Handler):
    def __init__(self, counter: StatementCounter) -> None:
        super().__init__(logging.DEBUG)
        self.counter = counter

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")):
            self.counter.statements.append(message)


@contextmanager
def count_statements() -> Iterator[StatementCounter]:
    """Count the SQL statements Tortoise sends inside the block."""
    counter = StatementCounter()
    logger = logging.getLogger("tortoise.db_client")
    handler = _Capture(counter)
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield counter
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


@pytest.fixture(scope="session")
async def demo(orm: Settings) -> SeedReport:
    """The Tianyuan demo dataset (scale 1), loaded once for the session."""
    return await load_demo(scale=1)
