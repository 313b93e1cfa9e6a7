"""CI never passes by skipping: a missing service fails the run when ``CI`` is set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.broker_servers import free_port
from tests.conftest import missing_service

ROOT = Path(__file__).resolve().parent.parent


def test_a_missing_service_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no Redis"):
        missing_service("no Redis")


def test_a_missing_service_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI: no Redis"):
        missing_service("no Redis")


def test_redis_tests_fail_under_ci_when_redis_is_missing(tmp_path: Path) -> None:
    # No Redis at the configured address and no redis-server on PATH to start one.
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINJU_")}
    env |= {
        "CI": "true",
        "PATH": str(tmp_path),
        "LINJU_TEST_REDIS": f"redis://127.0.0.1:{free_port()}/0",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/test_subscriptions_brokers.py::test_redis_broker_reaches_every_process",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stdout[-2000:]
    assert "CI: no Redis answers" in done.stdout
    assert "skipped" not in done.stdout.splitlines()[-1]
