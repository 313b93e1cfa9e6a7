"""The assembled hub: /healthz, the landing page, the console mount, static files, lifespan."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator
from dataclasses import fields
from pathlib import Path

import httpx
import pytest

import hub
from hub.app import create_app
from hub.db_status import migrations_on_disk
from hub.enums import Role
from hub.models import User
from hub.services import auth
from hub.settings import Settings
from tests.orm_context import side_context

INTROSPECTION = "{ __schema { types { name description } } }"


def _client(settings: Settings) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(settings))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def client(orm: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(orm) as client:
        yield client


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_healthz_reports_a_migrated_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"] == hub.__version__
    assert body["database"] == {"reachable": True}
    latest = migrations_on_disk()[-1]
    assert body["schema"] == {
        "applied": latest,
        "latest": latest,
        "upToDate": True,
        "pending": [],
    }


async def test_healthz_is_503_when_the_database_is_down(orm: Settings) -> None:
    # Given the hub's connections pointing at a PostgreSQL port nobody listens on
    down = Settings(database_url=f"postgres://postgres@127.0.0.1:{_closed_port()}/linju")
    # A context of its own, which puts the session's models back as it closes.
    async with side_context(down), _client(down) as client:
        # When asked for its health
        response = await client.get("/healthz")

    # Then it says so, without leaking the connection details
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"]["reachable"] is False
    assert body["database"]["error"]
    assert "127.0.0.1" not in response.text
    assert body["schema"]["upToDate"] is False


async def test_healthz_is_degraded_while_migrations_are_pending(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a migration on disk that the database has not had
    on_disk = [*migrations_on_disk(), "9999_future"]
    monkeypatch.setattr("hub.db_status.migrations_on_disk", lambda: on_disk)

    response = await client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["schema"]["latest"] == "9999_future"
    assert body["schema"]["pending"] == ["9999_future"]
    assert body["schema"]["upToDate"] is False


async def test_landing_page_points_to_the_api_console_and_health(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "邻聚" in response.text
    for path in ('href="/graphql"', 'href="/admin/"', 'href="/healthz"'):
        assert path in response.text


async def test_console_is_mounted_at_admin(client: httpx.AsyncClient) -> None:
    response = await client.get("/admin/")
    assert response.status_code == 200
    assert "管理后台" in response.text

    bare = await client.get("/admin")
    assert bare.status_code in (307, 308)
    assert bare.headers["location"].endswith("/admin/")


async def test_static_files_are_served(client: httpx.AsyncClient) -> None:
    css = await client.get("/static/hub.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert (await client.get("/static/graphiql/hub-graphiql.js")).status_code == 200
    assert (await client.get("/static/no-such-file.js")).status_code == 404


async def test_large_responses_are_compressed(client: httpx.AsyncClient) -> None:
    body = {"query": INTROSPECTION}
    response = await client.post("/graphql", json=body, headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert len(response.content) > 1024
    assert response.headers.get("content-encoding") == "gzip"


LIFESPAN_SCRIPT = textwrap.dedent(
    """
    import asyncio
    from tortoise.connection import get_connection
    from hub.app import create_app
    from hub.settings import load_settings

    async def main():
        app = create_app(load_settings())
        async with app.router.lifespan_context(app):
            assert app.state.loop is asyncio.get_running_loop()
            await get_connection("default").execute_query("SELECT 1")
            print("lifespan-open")
        try:
            get_connection("default")
        except Exception:
            print("lifespan-closed")

    asyncio.run(main())
    """
)


def test_lifespan_opens_the_orm_and_keeps_the_loop(orm: Settings) -> None:
    # A process of its own: the test session already holds the process-wide ORM.
    env = {**os.environ, "LINJU_DATABASE_URL": orm.database_url}
    done = subprocess.run(
        [sys.executable, "-c", LIFESPAN_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["lifespan-open", "lifespan-closed"]


SHUTDOWN_SCRIPT = textwrap.dedent(
    """
    import asyncio, datetime as dt, sys
    from hub.app import create_app
    from hub.services import credentials
    from hub.settings import load_settings

    write = credentials._write_last_used

    async def slow_write(token_id, at):
        await asyncio.sleep(0.3)  # still under way when the lifespan ends
        await write(token_id, at)

    credentials._write_last_used = slow_write

    async def main():
        app = create_app(load_settings())
        async with app.router.lifespan_context(app):
            token = credentials.ApiTokenState(
                id=int(sys.argv[1]), user_id=0, revoked=False, expires_at=None,
                last_used_at=None,
            )
            credentials.note_use(token=token, now=dt.datetime.now(dt.UTC))
        print("closed")

    asyncio.run(main())
    """
)


async def test_shutdown_waits_for_pending_last_used_writes(orm: Settings) -> None:
    # Given an API token whose use is being recorded in the background
    name = f"shutdown-{uuid.uuid4().hex[:6]}"
    user = await User.create(username=name, password_hash="-", role=Role.ADMIN)
    _, record = await auth.create_api_token(user=user, name="shutdown")
    env = {**os.environ, "LINJU_DATABASE_URL": orm.database_url, "LINJU_LOG_LEVEL": "WARNING"}
    # When the hub shuts down while the write is still under way
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", SHUTDOWN_SCRIPT, str(record.id)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["closed"]
    # Then the write finished before the ORM closed: nothing lost, nothing logged
    await record.refresh_from_db()
    assert record.last_used_at is not None
    assert "could not record" not in done.stderr
    assert "pending" not in done.stderr


def test_readme_documents_every_setting() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for setting in fields(Settings):
        if not setting.metadata.get("derived"):
            assert f"`LINJU_{setting.name.upper()}`" in readme, setting.name
