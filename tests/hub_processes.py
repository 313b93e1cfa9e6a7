"""Real `linju serve` processes for tests that need several of them on one database.

- ``scratch_database(name)``: a fresh migrated database of the session's backend (a
  temporary SQLite file in WAL mode, or a PostgreSQL database dropped afterwards);
- the ``serve`` fixture: ``serve(database_url, broker=..., redis_url=...)`` starts a
  server with those ``LINJU_*`` settings; every server is stopped when the test ends;
- ``ready(*servers)``: wait until each answers ``/healthz``.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.broker_servers import free_port
from tests.conftest import BACKEND, PG_SERVER
from tests.read_path_support import read_path_env, watch_log

START_TIMEOUT = 60.0  # seconds for a server to answer /healthz on a busy 2-core machine
SERVER_KEY = "linju-processes-test-key-of-at-least-32-bytes"


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def clean_env() -> dict[str, str]:
    """This environment without any LINJU_ setting of the session's."""
    return {k: v for k, v in os.environ.items() if not k.startswith("LINJU_")}


def linju_command() -> list[str]:
    script = Path(sys.executable).parent / "linju"
    return [str(script)] if script.exists() else [sys.executable, "-m", "hub.app.cli"]


@asynccontextmanager
async def scratch_database(prefix: str) -> AsyncIterator[str]:
    """The URL of a fresh, migrated database of the session's backend."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    if BACKEND == "postgres":
        admin = await asyncpg.connect(f"{PG_SERVER}/postgres")
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        url = f"{PG_SERVER}/{name}"
    else:
        url = f"sqlite://{Path(tempfile.mkdtemp(prefix='linju-')) / name}.db"
    try:
        done = await asyncio.to_thread(
            subprocess.run,
            [*linju_command(), "migrate"],
            env={**clean_env(), "LINJU_DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        yield url
    finally:
        if BACKEND == "postgres":
            admin = await asyncpg.connect(f"{PG_SERVER}/postgres")
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    """``serve(database_url, **settings)`` starts `linju serve` with ``LINJU_<SETTING>``
    set from the keywords; every server is stopped when the test ends."""
    servers: list[Server] = []

    def start(database_url: str, **settings: str) -> Server:
        port = free_port()
        log = tmp_path / f"serve-{port}.log"
        env = {
            **clean_env(),
            "LINJU_DATABASE_URL": database_url,
            "LINJU_SECRET_KEY": SERVER_KEY,  # PostgreSQL needs one; the servers share it
            "LINJU_HOST": "127.0.0.1",
            "LINJU_PORT": str(port),
            "LINJU_GRAPHQL_IDE": "false",
            **read_path_env(),
            **{f"LINJU_{key.upper()}": value for key, value in settings.items()},
        }
        watch_log(log)  # a read path mismatch in its log fails the test
        with log.open("wb") as out:
            process = subprocess.Popen(
                [*linju_command(), "serve"], env=env, stdout=out, stderr=subprocess.STDOUT
            )
        servers.append(Server(port, process, log))
        return servers[-1]

    try:
        yield start
    finally:
        for server in servers:
            server.process.terminate()
        for server in servers:
            try:
                server.process.wait(15)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait(5)


async def ready(*servers: Server) -> None:
    """Wait until every server answers /healthz (fail with its log if it cannot)."""
    deadline = time.monotonic() + START_TIMEOUT
    async with httpx.AsyncClient(timeout=2) as client:
        for server in servers:
            while True:
                assert server.process.poll() is None, f"server exited:\n{server.output()}"
                try:
                    if (await client.get(f"{server.http}/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, f"server not ready:\n{server.output()}"
                await asyncio.sleep(0.2)
