"""Browser tests: Debian's chromium driven by Playwright against a real hub process.

The hub runs as its own process (``tests.e2e.hub_server``) with the demo dataset on a
database of its own — a temporary SQLite file, or a fresh PostgreSQL database when
``LINJU_TEST_BACKEND=postgres`` — on a free loopback port. Playwright drives the
chromium of the system (``/usr/bin/chromium``, or ``LINJU_CHROMIUM``); it downloads
no browser. Without chromium the tests are skipped with a loud reason, except under
CI (``CI=true``), where ``.ci/run`` installs it and its absence is a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import missing_service
from tests.e2e.hub_server import ADMIN, PASSWORD

BACKEND = os.environ.get("LINJU_TEST_BACKEND", "sqlite")
PG_SERVER = os.environ.get("LINJU_TEST_PG", "postgres://postgres@127.0.0.1:5432")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
ROOT = Path(__file__).resolve().parents[2]


def chromium_path() -> str | None:
    configured = os.environ.get("LINJU_CHROMIUM")
    if configured:
        return configured
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _pg(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(f"{PG_SERVER}/postgres", timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def hub_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a hub process serving the demo dataset."""
    if chromium_path() is None:
        missing_service(
            "no chromium for the browser tests (apt-get install chromium, or set "
            "LINJU_CHROMIUM; .ci/run installs it)"
        )
    database = None
    if BACKEND == "postgres":
        database = f"linju_e2e_{uuid.uuid4().hex[:10]}"
        asyncio.run(_pg(f'CREATE DATABASE "{database}"'))
        url = f"{PG_SERVER}/{database}"
    else:
        url = f"sqlite://{tmp_path_factory.mktemp('e2e') / 'hub.db'}"
    port = _free_port()
    log = tmp_path_factory.mktemp("e2e-log") / "hub.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.e2e.hub_server",
                "--database-url",
                url,
                "--port",
                str(port),
            ],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process, log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        if database:
            asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


def _wait_until_up(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 600  # migrating and seeding the demo dataset
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the hub exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the hub did not come up:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
async def browser(hub_url: str) -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


def watch_errors(tab: Any) -> list[str]:
    """Every JavaScript error of ``tab`` from now on: uncaught exceptions and console
    errors (a script or style the Content-Security-Policy refused is one of those)."""
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    tab.on(
        "console",
        lambda message: (
            errors.append(f"console.error: {message.text} @ {tab.url}")
            if message.type == "error"
            else None
        ),
    )
    return errors


@pytest.fixture
async def page(browser: object, hub_url: str, tmp_path: Path) -> AsyncIterator[object]:
    """A fresh browser context signed in as the demo ADMIN; the test fails on any
    JavaScript error of its pages."""
    context = await browser.new_context(  # type: ignore[attr-defined]
        base_url=hub_url, accept_downloads=True, viewport={"width": 1400, "height": 1000}
    )
    context.set_default_timeout(15_000)
    # A console page loads in ~0.5 s here (~1.5 s with both CPUs saturated), yet a full
    # suite on a shared, overloaded 2-core box once saw a navigation commit after 15 s.
    context.set_default_navigation_timeout(30_000)
    tab = await context.new_page()
    errors = watch_errors(tab)
    await sign_in(tab, ADMIN)
    try:
        yield tab
    finally:
        await context.close()
    assert errors == [], "JavaScript errors on the console's pages"


async def sign_in(tab: object, username: str) -> None:
    await tab.goto("/admin/")  # type: ignore[attr-defined]
    await tab.fill("#username", username)  # type: ignore[attr-defined]
    await tab.fill("#password", PASSWORD)  # type: ignore[attr-defined]
    await tab.click("#login-form button[type=submit]")  # type: ignore[attr-defined]
    await tab.wait_for_selector("#logout")  # type: ignore[attr-defined]
