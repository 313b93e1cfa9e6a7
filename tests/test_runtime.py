"""The Runtime holds the process state the module registries used to: the lifespan
builds it on app.state, requests reach it, its connections report to its own observers
(two Runtimes share none), and it refuses to start on an unchecked library release."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from hub import library_internals
from hub.models import District
from hub.runtime import Runtime
from hub.settings import Settings
from tests.orm_context import current_observers, side_context

LIFESPAN_SCRIPT = textwrap.dedent(
    """
    from starlette.routing import Route
    from starlette.responses import PlainTextResponse
    from starlette.testclient import TestClient
    from tortoise.connection import get_connection
    from hub.app import create_app
    from hub.cache import response_cache
    from hub.models import District
    from hub.runtime import Runtime, runtime_of
    from hub.settings import load_settings

    async def which(request):
        runtime = runtime_of(request)
        own = get_connection("default").observers is runtime.observers
        cache = runtime.cache is not None and not runtime.cache.closed
        tables = []
        stop = runtime.observers.on_commit(tables.append)
        await District.filter(id=0).update(name="-")
        stop()
        return PlainTextResponse(f"{type(runtime).__name__} {own} {cache} {sorted(tables[0])}")

    app = create_app(load_settings())
    app.router.routes.insert(0, Route("/which", which))
    query = {"query": "{ districts(first: 1) { totalCount } }"}
    with TestClient(app) as client:
        print(client.get("/which").text)
        runtime = app.state.runtime
        # The endpoint answers from the Runtime's cache: closed, the next one misses.
        answers = [client.post("/graphql", json=query).headers["x-linju-cache"]]
        answers.append(client.post("/graphql", json=query).headers["x-linju-cache"])
        answers.append(str(runtime.cache is response_cache(app.state.settings)))  # its own
        runtime.cache.close()
        answers.append(client.post("/graphql", json=query).headers["x-linju-cache"])
        print(*answers)
    print("closed", runtime.cache.closed)
    """
)


def test_the_lifespan_builds_the_runtime_that_requests_reach(orm: Settings) -> None:
    # A process of its own: the test session already holds the process-wide ORM.
    env = {**os.environ, "LINJU_DATABASE_URL": orm.database_url, "LINJU_LOG_LEVEL": "WARNING"}
    done = subprocess.run(
        [sys.executable, "-c", LIFESPAN_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "Runtime True True ['district']",
        "stored hit False stored",
        "closed True",
    ]


async def test_each_runtime_hears_only_its_own_connections(orm: Settings, unique_name: str) -> None:
    # Given a command's Runtime beside the session's, each with a commit observer
    command = Runtime.for_command(orm)
    heard_command: list[frozenset[str]] = []
    heard_session: list[frozenset[str]] = []
    stops = [
        command.observers.on_commit(heard_command.append),
        current_observers().on_commit(heard_session.append),
    ]
    try:
        # When the command's connections write
        async with side_context(orm, observers=command.observers):
            district = await District.create(name=unique_name)
            await district.delete()
        # Then only the command's Runtime heard of it
        assert heard_command == [frozenset({"district"})] * 2
        # (an API token's last_used_at, written off an earlier test's request, may land)
        assert not any("district" in tables for tables in heard_session)
    finally:
        for stop in stops:
            stop()
        await command.close()


def test_a_runtime_refuses_an_unchecked_library_release(
    orm: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(library_internals, "installed", lambda name: "999.0")
    with pytest.raises(RuntimeError, match="is installed; Linju Hub supports"):
        Runtime.for_command(orm)
