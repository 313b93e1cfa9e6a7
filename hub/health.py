"""/healthz: is the database reachable, is its schema up to date, which hub is this."""

from __future__ import annotations

import asyncio
import pkgutil
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse
from tortoise.connection import get_connection

import hub
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


async def healthz(request: Request) -> JSONResponse:
    """200 when the database answers (status "ok", or "degraded" with migrations pending);
    503 when it does not."""
    database: dict[str, object] = {"reachable": False}
    body: dict[str, object] = {"status": "unavailable", "version": hub.__version__}
    try:
        await ping_database()
        database["reachable"] = True
        status = await schema_status()
    except Exception as exc:  # whatever the driver raises, the answer is "not reachable"
        # The class name only: the message may carry host names or credentials.
        database["error"] = type(exc).__name__
        body["database"] = database
        body["schema"] = {"applied": None, "latest": migrations_on_disk()[-1], "upToDate": False}
        return JSONResponse(body, status_code=503, headers={"cache-control": "no-store"})
    body["status"] = "ok" if status.up_to_date else "degraded"
    body["database"] = database
    body["schema"] = {
        "applied": status.current,
        "latest": status.latest,
        "upToDate": status.up_to_date,
        "pending": status.pending,
    }
    return JSONResponse(body, headers={"cache-control": "no-store"})
