"""The servers the shared brokers need in tests: Redis and PostgreSQL.

Redis: ``LINJU_TEST_REDIS`` (default ``redis://127.0.0.1:6379/0``) when it answers,
else a ``redis-server`` started on a free port for the session; the tests are skipped,
saying why, when neither is there (under CI they fail: ``missing_service``). Each test
uses a channel of its own, so sessions sharing one Redis never hear each other.
PostgreSQL: the server at ``LINJU_TEST_PG``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import PG_SERVER, missing_service

REDIS = os.environ.get("LINJU_TEST_REDIS", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _tcp_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """A Redis URL (without channel) for the session."""
    from urllib.parse import urlsplit

    parts = urlsplit(REDIS)
    if _tcp_answers(parts.hostname or "127.0.0.1", parts.port or 6379):
        yield REDIS
        return
    binary = shutil.which("redis-server")
    if binary is None:
        missing_service(f"no Redis answers at {REDIS} and there is no redis-server to start")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not _tcp_answers("127.0.0.1", port):
            if time.monotonic() > deadline or process.poll() is not None:
                missing_service("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def channel() -> str:
    """A wire channel no other test (or session) uses."""
    return f"linju_test_{uuid.uuid4().hex[:12]}"


def pg_answers() -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(PG_SERVER)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), 1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def pg_broker_url() -> str:
    """A PostgreSQL URL for LISTEN/NOTIFY (no tables needed: the ``postgres`` database)."""
    if not pg_answers():
        missing_service(f"no PostgreSQL answers at {PG_SERVER}")
    return f"{PG_SERVER}/postgres"
