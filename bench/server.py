"""The hub under test: uvicorn in a subprocess on a free loopback port."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

HOST = "127.0.0.1"
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def wait_ready(
    url: str, process: subprocess.Popen[bytes], *, timeout: float = START_TIMEOUT
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the hub exited with code {process.returncode} while starting")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the hub did not answer {url} within {timeout:.0f} s")


@contextmanager
def hub_server(database_url: str, *, workers: int) -> Iterator[str]:
    """Serve the hub on a free port; yields its base URL; stops it on exit."""
    port = free_port()
    env = {
        **os.environ,
        "LINJU_DATABASE_URL": database_url,
        # The workers sign with one key (without it each would make its own).
        "LINJU_SECRET_KEY": os.environ.get("LINJU_SECRET_KEY") or secrets.token_urlsafe(48),
        "LINJU_DEBUG": "false",
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "hub.app:create_app",
        "--factory",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    process = subprocess.Popen(command, env=env, start_new_session=True)
    base = f"http://{HOST}:{port}"
    try:
        wait_ready(f"{base}/healthz", process)
        if workers > 1:
            time.sleep(2.0)  # every worker has started, not only the first to answer
        yield base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
