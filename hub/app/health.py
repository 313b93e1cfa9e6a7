"""Health, the way orchestrators ask for it.

- ``GET /livez``: the process answers (no I/O at all). A failing liveness probe gets the
  process restarted, so it must not depend on the database.
- ``GET /readyz``: this process can serve: the database answers and every migration is
  applied. One statement per check, and the answer is kept for ``READY_TTL`` seconds
  (concurrent probes share one check): probes cannot load the database, however many
  there are.
- ``GET /healthz``: the combined report (database, schema, version), checked on every
  call, as before.

``/livez`` and ``/readyz`` are answered by :class:`Probes`, in front of the middleware
stack: no request id, access log or metrics for what a kubelet asks every few seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from tortoise.connection import get_connection
from tortoise.migrations.recorder import MigrationRecorder

import hub
from hub import db_status
from hub.db import APP_LABEL
from hub.db_status import (
    PROBE_TIMEOUT,
    SchemaStatus,
    migrations_on_disk,
    ping_database,
    schema_status,
)

__all__ = [
    "PROBE_TIMEOUT",
    "READY_TTL",
    "Probes",
    "Readiness",
    "SchemaStatus",
    "applied_now",
    "healthz",
    "migrations_on_disk",
    "ping_database",
    "schema_status",
]

# Seconds a readiness answer is kept. A check is one statement, and on PostgreSQL the
# pool's reset of the connection is a second round trip: at most one a second in all.
READY_TTL = 2.0


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
        latest = db_status.migrations_on_disk()[-1]
        body["schema"] = {"applied": None, "latest": latest, "upToDate": False}
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


# --- /livez and /readyz ------------------------------------------------------------

_JSON_HEADERS = [
    (b"content-type", b"application/json"),
    (b"cache-control", b"no-store"),
]
LIVE_BODY = orjson.dumps({"status": "ok"})
_LIVE_HEADERS = [*_JSON_HEADERS, (b"content-length", str(len(LIVE_BODY)).encode())]


async def applied_now(timeout: float = PROBE_TIMEOUT) -> list[str]:
    """The applied migrations, read with one statement; raises when the database does
    not answer (unlike :func:`hub.db.applied_migrations`, which says "none" then)."""
    connection = get_connection("default")
    table = MigrationRecorder(connection).table_name
    sql = f'SELECT "app", "name" FROM "{table}"'  # nosec B608: a constant table name
    _, rows = await asyncio.wait_for(connection.execute_query(sql), timeout)
    return sorted(row["name"] for row in rows if row["app"] == APP_LABEL)


class Readiness:
    """The readiness answer (status, JSON body), checked at most once per ``ttl``."""

    def __init__(
        self, *, ttl: float = READY_TTL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.clock = clock
        self._answer: tuple[int, bytes] | None = None
        self._checked_at = 0.0
        self._running: asyncio.Task[tuple[int, bytes]] | None = None

    async def answer(self) -> tuple[int, bytes]:
        if self._answer is not None and self.clock() - self._checked_at < self.ttl:
            return self._answer
        if self._running is None or self._running.done():
            # The first probe checks; those that come meanwhile wait for its answer.
            self._running = asyncio.create_task(self._check())
        # Shielded: a probe that gives up does not cancel the others' check.
        return await asyncio.shield(self._running)

    async def _check(self) -> tuple[int, bytes]:
        try:
            applied = await applied_now()
        except Exception as exc:  # whatever the driver raises, the answer is "not ready"
            # The class name only: the message may carry host names or credentials.
            database = {"reachable": False, "error": type(exc).__name__}
            answer = 503, orjson.dumps({"status": "unavailable", "database": database})
        else:
            status = SchemaStatus(applied=applied, on_disk=db_status.migrations_on_disk())
            body = {
                "status": "ready" if status.up_to_date else "migrations pending",
                "database": {"reachable": True},
                "schema": {"applied": status.current, "pending": status.pending},
            }
            answer = (200 if status.up_to_date else 503), orjson.dumps(body)
        self._answer, self._checked_at = answer, self.clock()
        return answer


class Probes:
    """Answers ``GET``/``HEAD`` ``/livez`` and ``/readyz`` before anything else runs."""

    def __init__(self, app: ASGIApp, readiness: Readiness) -> None:
        self.app = app
        self.readiness = readiness

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            path: str = scope["path"]
            root: str = scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root) :]
            if path == "/livez":  # made once: nothing to do per probe but send it
                await send({"type": "http.response.start", "status": 200, "headers": _LIVE_HEADERS})
                body = b"" if scope["method"] == "HEAD" else LIVE_BODY
                await send({"type": "http.response.body", "body": body})
                return
            if path == "/readyz":
                status, body = await self.readiness.answer()
                await _answer(send, status, body, head=scope["method"] == "HEAD")
                return
        await self.app(scope, receive, send)


async def _answer(send: Send, status: int, body: bytes, *, head: bool) -> None:
    headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})
