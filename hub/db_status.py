"""Whether the database answers, and which migrations it has against those on disk.

Asked by the health probes, the CLI (before a command touches the data) and backups;
the failures a command meets on the way (:class:`DatabaseUnreachable`, …) are shown to
the user by the CLI as one line each.
"""

from __future__ import annotations

import asyncio
import pkgutil
from dataclasses import dataclass

from tortoise.connection import get_connection

import hub.migrations
from hub.db import applied_migrations

PROBE_TIMEOUT = 3.0  # seconds; a health check must answer quickly even when the DB hangs


def migrations_on_disk() -> list[str]:
    """Names of the committed migrations, oldest first."""
    return sorted(
        name
        for _, name, is_pkg in pkgutil.iter_modules(hub.migrations.__path__)
        if not is_pkg and name[0] not in "_~"
    )


@dataclass
class SchemaStatus:
    """The applied migrations against those on disk."""

    applied: list[str]
    on_disk: list[str]

    @property
    def current(self) -> str | None:
        return max(self.applied) if self.applied else None

    @property
    def latest(self) -> str | None:
        return self.on_disk[-1] if self.on_disk else None

    @property
    def pending(self) -> list[str]:
        done = set(self.applied)
        return [name for name in self.on_disk if name not in done]

    @property
    def up_to_date(self) -> bool:
        return not self.pending


async def ping_database(timeout: float = PROBE_TIMEOUT) -> None:
    """Run ``SELECT 1`` on the default connection; raises when the database does not answer."""
    await asyncio.wait_for(get_connection("default").execute_query("SELECT 1"), timeout)


async def schema_status(timeout: float = PROBE_TIMEOUT) -> SchemaStatus:
    applied = await asyncio.wait_for(applied_migrations(), timeout)
    return SchemaStatus(applied=applied, on_disk=migrations_on_disk())


class DatabaseUnreachable(Exception):
    def __init__(self, url: str, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.url, self.cause = url, cause


class BadDatabaseURL(Exception):
    def __init__(self, url: str, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.url, self.cause = url, cause


class SchemaNotMigrated(Exception):
    def __init__(self, status: SchemaStatus) -> None:
        super().__init__(", ".join(status.pending))
        self.status = status
