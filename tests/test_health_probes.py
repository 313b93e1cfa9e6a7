"""/livez and /readyz: what orchestrators probe, without loading the database."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from hub.app import create_app
from hub.app.health import READY_TTL
from hub.db_status import migrations_on_disk
from hub.settings import Settings
from tests.conftest import count_statements
from tests.orm_context import side_context

PROBES = 200


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub")


@pytest.fixture
def app(orm: Settings) -> Starlette:
    return create_app(orm)


@pytest.fixture
def clock(app: Starlette) -> Clock:
    clock = Clock()
    app.state.readiness.clock = clock
    return clock


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(app) as client:
        yield client


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_livez_answers_without_any_statement(client: httpx.AsyncClient) -> None:
    with count_statements() as counter:
        answers = [await client.get("/livez") for _ in range(PROBES)]
    assert {a.status_code for a in answers} == {200}
    assert answers[0].json() == {"status": "ok"}
    assert answers[0].headers["cache-control"] == "no-store"
    assert counter.count == 0


async def test_livez_stays_up_while_the_database_is_down(orm: Settings) -> None:
    down = Settings(database_url=f"postgres://postgres@127.0.0.1:{_closed_port()}/linju")
    async with side_context(down), _client(create_app(down)) as client:
        live = await client.get("/livez")
        ready = await client.get("/readyz")
    assert live.status_code == 200
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unavailable" and body["database"]["reachable"] is False
    assert "127.0.0.1" not in ready.text


async def test_readyz_is_ready_on_a_migrated_database(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "database": {"reachable": True},
        "schema": {"applied": migrations_on_disk()[-1], "pending": []},
    }
    assert response.headers["cache-control"] == "no-store"


async def test_readyz_runs_at_most_one_statement_per_ttl(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    # Many probes within one TTL: one statement
    with count_statements() as counter:
        for _ in range(PROBES):
            assert (await client.get("/readyz")).status_code == 200
    assert counter.count == 1

    # Just before the TTL ends: still none; once it has passed: one more
    with count_statements() as counter:
        clock.now += READY_TTL * 0.99
        await client.get("/readyz")
        assert counter.count == 0
        clock.now += READY_TTL * 0.02
        for _ in range(PROBES):
            await client.get("/readyz")
    assert counter.count == 1


async def test_concurrent_probes_share_one_check(client: httpx.AsyncClient, clock: Clock) -> None:
    with count_statements() as counter:
        answers = await asyncio.gather(*(client.get("/readyz") for _ in range(50)))
    assert {a.status_code for a in answers} == {200}
    assert counter.count == 1


async def test_readyz_is_503_while_migrations_are_pending(
    client: httpx.AsyncClient, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_disk = [*migrations_on_disk(), "9999_future"]
    monkeypatch.setattr("hub.db_status.migrations_on_disk", lambda: on_disk)
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "migrations pending"
    assert response.json()["schema"]["pending"] == ["9999_future"]


async def test_probes_answer_head_and_refuse_other_methods(client: httpx.AsyncClient) -> None:
    head = await client.head("/livez")
    assert head.status_code == 200 and head.content == b""
    assert (await client.head("/readyz")).status_code == 200
    refused = await client.post("/livez")
    assert refused.status_code == 405


async def test_probes_under_a_root_path(orm: Settings) -> None:
    transport = httpx.ASGITransport(app=create_app(orm), root_path="/hub")
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        assert (await client.get("/hub/livez")).status_code == 200
        assert (await client.get("/hub/readyz")).status_code == 200


async def test_healthz_still_checks_on_every_call(client: httpx.AsyncClient) -> None:
    with count_statements() as counter:
        for _ in range(3):
            assert (await client.get("/healthz")).json()["status"] == "ok"
    assert counter.count >= 3
