"""The ORM for one CLI command: checked (reachable, migrated) and in a context of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tortoise.backends.base.config_generator import expand_db_url
from tortoise.context import TortoiseContext
from tortoise.exceptions import ConfigurationError, DBConnectionError, OperationalError

from hub.db_status import (
    BadDatabaseURL,
    DatabaseUnreachable,
    SchemaNotMigrated,
    ping_database,
    schema_status,
)
from hub.settings import Settings

CONNECT_TIMEOUT = 10.0  # seconds the CLI waits for the database to answer


def check_sqlite_folder(url: str) -> None:
    """A SQLite file's folder must exist: aiosqlite fails on it messily (and migrate hangs)."""
    if not url.startswith("sqlite"):
        return
    path = expand_db_url(url)["credentials"].get("file_path", "")
    folder = Path(path).parent
    if path and path != ":memory:" and not folder.is_dir():
        raise DatabaseUnreachable(url, FileNotFoundError(f"目录不存在 (no such folder) {folder}"))


@asynccontextmanager
async def hub_database(settings: Settings, *, require_schema: bool = True) -> AsyncIterator[None]:
    """The ORM for one command, in a context of its own (no process-wide state), its
    connections reporting to a Runtime of the command's: its writes bump the shared data
    versions too, so that running servers hear of them (a revoked token stops within a
    second, cached answers go)."""
    # Imported here, not at the top: see LAZY in hub/app/cli/__init__.py.
    from hub.runtime import Runtime

    runtime = Runtime.for_command(settings)
    async with TortoiseContext() as ctx:
        try:
            check_sqlite_folder(settings.database_url)
            await ctx.init(config=runtime.orm_config())
        except ConfigurationError as exc:
            raise BadDatabaseURL(settings.database_url, exc) from exc
        try:
            await ping_database(timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, DBConnectionError, OperationalError) as exc:
            raise DatabaseUnreachable(settings.database_url, exc) from exc
        if require_schema:
            status = await schema_status(timeout=CONNECT_TIMEOUT)
            if not status.up_to_date:
                raise SchemaNotMigrated(status)
        try:
            yield
        finally:
            await runtime.close()
