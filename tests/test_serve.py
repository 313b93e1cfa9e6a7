"""`linju serve`: several workers, the options it refuses, and graceful shutdown on SIGTERM.

The in-flight request is held open by the client, not by the server: it sends the
headers with ``Expect: 100-continue``, waits for uvicorn's ``100 Continue`` (proof that
the hub is reading the body), and sends the body only after the signal. No test route,
no sleep standing in for "the request has started".
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.app.cli import main
from hub.app.serving import serve_refusal, shared_state_warning, worker_overrides
from hub.settings import Settings
from tests.broker_servers import free_port
from tests.read_path_support import read_path_env, watch_log

pytestmark = pytest.mark.usefixtures("orm")

HOST = "127.0.0.1"
START_TIMEOUT = 60.0  # seconds for /healthz on a busy 2-core machine
MARGIN = 15.0  # seconds beyond the shutdown timeout a loaded machine may need
QUERY = json.dumps({"query": "{ __typename }"}).encode()


# ---------------------------------------------------------------- options


def test_several_workers_on_process_local_state_name_what_is_not_shared() -> None:
    local = Settings(database_url="postgres://db/hub")
    warning = shared_state_warning(local, workers=3)
    assert warning is not None and "\n" not in warning
    assert "3" in warning
    assert "LINJU_BROKER=memory" in warning and "LINJU_REDIS_URL unset" in warning
    assert "rate-limit" in warning and "response cache off" in warning


def test_several_workers_without_redis_turn_the_response_cache_off() -> None:
    # a per-process cache would not hear of another worker's writes: stale answers
    local = Settings(database_url="postgres://db/hub")
    assert worker_overrides(local, workers=2) == {"LINJU_RESPONSE_CACHE": "false"}
    assert worker_overrides(local, workers=1) == {}
    shared = Settings(redis_url="redis://r:6379/0?prefix=hub")
    assert worker_overrides(shared, workers=4) == {}
    assert worker_overrides(Settings(response_cache=False), workers=4) == {}


def test_shared_broker_and_redis_or_one_worker_need_no_warning() -> None:
    shared = Settings(broker="redis://r:6379/0", redis_url="redis://r:6379/0?prefix=hub")
    assert shared_state_warning(shared, workers=4) is None
    assert shared_state_warning(Settings(), workers=1) is None
    only_broker = Settings(broker="postgres", response_cache=False)
    warning = shared_state_warning(only_broker, workers=2)
    assert warning is not None
    assert "LINJU_BROKER" not in warning.split("—")[0] and "rate-limit" in warning
    assert "response cache" not in warning


@pytest.mark.parametrize(
    ("url", "workers", "reload", "refused"),
    [
        ("sqlite://hub.db", 2, True, "--reload"),
        ("sqlite://:memory:", 2, False, "in-memory"),
        ("sqlite://:memory:", 1, False, None),
        ("sqlite://hub.db", 4, False, None),
        ("postgres://db/hub", 1, True, None),
    ],
)
def test_unworkable_combinations_are_refused(
    url: str, workers: int, reload: bool, refused: str | None
) -> None:
    reason = serve_refusal(Settings(database_url=url), workers=workers, reload=reload)
    if refused is None:
        assert reason is None
    else:
        assert reason is not None and refused in reason and "\n" not in reason


def test_serve_refuses_reload_with_workers_in_one_line() -> None:
    result = CliRunner().invoke(main, ["serve", "--workers", "2", "--reload"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "--reload" in lines[0], result.output


# ---------------------------------------------------------------- processes


@dataclass
class Served:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def _linju() -> list[str]:
    script = Path(sys.executable).parent / "linju"
    return [str(script)] if script.exists() else [sys.executable, "-m", "hub.app.cli"]


@pytest.fixture
def serve(settings: Settings, tmp_path: Path) -> Iterator[object]:
    """Starts `linju serve` on the session's database; stopped (killed) when the test ends."""
    started: list[Served] = []

    def start(*, workers: int = 1, shutdown_timeout: int = 30) -> Served:
        port = free_port()
        log = tmp_path / f"serve-{port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("LINJU_")}
        env |= {
            "LINJU_DATABASE_URL": settings.database_url,
            "LINJU_SECRET_KEY": settings.secret_key,
            "LINJU_HOST": HOST,
            "LINJU_PORT": str(port),
            "LINJU_GRAPHQL_IDE": "false",
            "LINJU_LOG_FORMAT": "text",
            "LINJU_SHUTDOWN_TIMEOUT_SECONDS": str(shutdown_timeout),
            **read_path_env(),
        }
        watch_log(log)  # a read path mismatch in its log fails the test
        command = [*_linju(), "serve", "--workers", str(workers)]
        with log.open("wb") as out:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        served = Served(port, process, log)
        started.append(served)
        _wait_ready(served)
        return served

    try:
        yield start
    finally:
        for served in started:
            if served.process.poll() is None:
                served.process.kill()
                served.process.wait(10)


def _wait_ready(served: Served) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        assert served.process.poll() is None, f"server exited:\n{served.output()}"
        try:
            with socket.create_connection((HOST, served.port), timeout=2) as conn:
                conn.sendall(f"GET /healthz HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
                if conn.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        assert time.monotonic() < deadline, f"server not ready:\n{served.output()}"
        time.sleep(0.2)


def _start_request(port: int) -> socket.socket:
    """A POST /graphql whose headers are read and whose body the hub is waiting for."""
    conn = socket.create_connection((HOST, port), timeout=20)
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(QUERY)}\r\nExpect: 100-continue\r\n\r\n"
    )
    conn.sendall(head.encode())
    interim = conn.recv(64)
    assert interim.startswith(b"HTTP/1.1 100"), interim
    return conn


def _refuses_connections(port: int, *, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=1).close()
        except ConnectionRefusedError:
            return True
        except OSError:
            pass  # accepted then dropped, or timed out: not closed yet
        time.sleep(0.05)
    return False


def _read_response(conn: socket.socket) -> tuple[int, dict[str, object]]:
    raw = b""
    while chunk := conn.recv(65536):  # the hub closes the connection: it is shutting down
        raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        body = _unchunk(body)
    return status, json.loads(body)


def _unchunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        out, body = out + rest[:size], rest[size + 2 :]
    return out


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_finishes_the_request_in_flight_refuses_new_ones_and_exits_0(
    serve: object, workers: int
) -> None:
    # given a hub with a request in flight
    served = serve(workers=workers, shutdown_timeout=30)  # type: ignore[operator]
    conn = _start_request(served.port)
    try:
        # when it is told to stop
        served.process.send_signal(signal.SIGTERM)

        # then it stops accepting connections while the request is still open
        assert _refuses_connections(served.port, within=MARGIN), served.output()
        assert served.process.poll() is None, "exited before the request in flight ended"

        # and that request still gets its whole answer
        conn.sendall(QUERY)
        status, body = _read_response(conn)
    finally:
        conn.close()
    assert status == 200, body
    assert body == {"data": {"__typename": "Query"}}

    # and the process exits cleanly
    assert served.process.wait(30 + MARGIN) == 0, served.output()
    # (several workers on this test's process-local broker and cache were warned about)
    warnings = [line for line in served.output().splitlines() if line.startswith("警告")]
    assert len(warnings) == (1 if workers > 1 else 0), served.output()


def test_sigterm_gives_up_on_a_stuck_request_after_the_shutdown_timeout(serve: object) -> None:
    # given a hub with a 2-second shutdown timeout and a request whose body never comes
    served = serve(shutdown_timeout=2)  # type: ignore[operator]
    conn = _start_request(served.port)
    try:
        # when it is told to stop
        signalled = time.monotonic()
        served.process.send_signal(signal.SIGTERM)

        # then it cancels that request after the timeout and exits cleanly
        code = served.process.wait(2 + MARGIN)
        assert code == 0, served.output()
        assert time.monotonic() - signalled >= 2, "did not wait for the request"
        assert "timeout graceful shutdown exceeded" in served.output()
    finally:
        conn.close()
