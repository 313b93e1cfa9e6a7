"""Request ids, structured logs, the slow-query log and /metrics."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import strawberry
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from starlette.types import Receive, Scope, Send
from tortoise.connection import get_connection
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from hub.app import create_app
from hub.app.graphql_app import HubGraphQL
from hub.broker import current_broker
from hub.observability import (
    RequestContext,
    metrics_for_workers,
    setup_observability,
    uvicorn_log_config,
)
from hub.observability import metrics as obs_metrics
from hub.observability.context import REQUEST_ID
from hub.observability.logs import HubLogHandler, JsonFormatter, TextFormatter
from hub.observability.statements import MAX_SQL_CHARS, statement_ran
from hub.settings import Settings
from resolvers.context import build_context
from schema.extensions import extensions_for
from tests.api_data import ADMIN, schema_for
from tests.conftest import BACKEND
from tests.test_http import WS_PROTOCOL, _ws_app, serve_in_thread

ROOT = Path(__file__).parents[1]
HEX_ID = re.compile(r"[0-9a-f]{32}")
SECRET = "13800138000"  # a phone number: a parameter value that must never be logged


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def client_for(app: object, address: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def hub_client(orm: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(create_app(orm)) as client:
        yield client


@pytest.fixture(autouse=True)
def restore_observability(settings: Settings) -> Iterator[None]:
    """Tests change the process's logging and threshold: put the session's back."""
    yield
    setup_observability(settings)


# A schema whose resolver fails unexpectedly, behind the hub's extensions.
@strawberry.type
class Query:
    @strawberry.field
    def ping(self) -> str:
        return "pong"

    @strawberry.field
    def boom(self) -> str | None:
        raise ValueError("database password hunter2")


def boom_app(settings: Settings) -> RequestContext:
    schema = strawberry.Schema(query=Query, extensions=extensions_for(settings))
    return RequestContext(HubGraphQL(schema, settings=settings), settings=settings)


# ---------------------------------------------------------------- request ids


async def test_a_request_id_is_made_and_returned(hub_client: httpx.AsyncClient) -> None:
    first = await hub_client.get("/healthz")
    second = await hub_client.get("/healthz")
    assert HEX_ID.fullmatch(first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("lb-7f3a9c2e.0001:edge_1", True),
        ("short", False),  # under 8 characters
        ("x" * 129, False),
        ("has spaces in it", False),
        ("-starts-with-dash", False),
        ("中文请求编号一二三四", False),
    ],
)
async def test_a_sane_incoming_request_id_is_kept(
    hub_client: httpx.AsyncClient, incoming: str, kept: bool
) -> None:
    response = await hub_client.get("/healthz", headers={b"x-request-id": incoming.encode()})
    returned = response.headers["x-request-id"]
    assert (returned == incoming) is kept
    if not kept:
        assert HEX_ID.fullmatch(returned)


async def test_websockets_get_a_request_id_too(settings: Settings) -> None:
    app = RequestContext(_ws_app(settings), settings=settings)
    with serve_in_thread(app) as url:  # type: ignore[arg-type]
        headers = {"X-Request-ID": "socket-0123456789"}
        async with connect(
            url, subprotocols=[Subprotocol(WS_PROTOCOL)], additional_headers=headers
        ) as ws:
            assert ws.response is not None
            assert ws.response.headers["x-request-id"] == "socket-0123456789"


async def test_each_request_is_logged_once_with_its_id(
    hub_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="linju.access"):
        response = await hub_client.get(
            "/graphql", params={"query": "{ __typename }", "phone": SECRET}
        )
    request_id = response.headers["x-request-id"]
    (record,) = [r for r in caplog.records if r.name == "linju.access"]
    assert record.request_id == request_id  # type: ignore[attr-defined]
    assert (record.method, record.path, record.route, record.status) == (  # type: ignore[attr-defined]
        "GET",
        "/graphql",
        "/graphql",
        200,
    )
    assert record.duration_ms >= 0 and record.client == "127.0.0.1"  # type: ignore[attr-defined]
    assert SECRET not in record.getMessage()  # the query string is not logged


async def test_masked_errors_carry_the_request_id(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    setup_observability(settings)
    async with client_for(boom_app(settings)) as client:
        with caplog.at_level(logging.ERROR, logger="linju.graphql"):
            response = await client.post("/", json={"query": "{ ping boom }"})
    request_id = response.headers["x-request-id"]
    (error,) = response.json()["errors"]
    assert error["extensions"]["requestId"] == request_id
    assert error["extensions"]["code"] == "INTERNAL"
    assert "hunter2" not in response.text
    (record,) = [r for r in caplog.records if error["extensions"]["errorId"] in r.getMessage()]
    assert record.request_id == request_id  # type: ignore[attr-defined]
    assert request_id in record.getMessage()  # also for a plain log format


async def test_an_unhandled_exception_is_a_500_with_the_request_id(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("secret detail")

    async with client_for(RequestContext(broken, settings=settings)) as client:
        with caplog.at_level(logging.ERROR, logger="linju.http"):
            response = await client.get("/anything")
    request_id = response.headers["x-request-id"]
    assert response.status_code == 500
    assert request_id in response.text and "secret" not in response.text
    (record,) = [r for r in caplog.records if r.name == "linju.http"]
    assert record.request_id == request_id and record.exc_info  # type: ignore[attr-defined]


# ---------------------------------------------------------------- log format


def _record(message: str, **extra: object) -> logging.LogRecord:
    try:
        raise ValueError("inner failure")
    except ValueError:
        return logging.getLogger("linju.test").makeRecord(
            "linju.test", logging.WARNING, __file__, 1, message, (), sys.exc_info(), extra=extra
        )


def test_json_logs_are_one_object_per_line(settings: Settings) -> None:
    setup_observability(settings)  # installs the request-id record factory
    token = REQUEST_ID.set("req-0123456789")
    try:
        record = _record("两行\nmessage", member_count=3)
    finally:
        REQUEST_ID.reset(token)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["ts"])
    assert entry["level"] == "WARNING" and entry["logger"] == "linju.test"
    assert entry["message"] == "两行\nmessage"
    assert entry["request_id"] == "req-0123456789"
    assert entry["member_count"] == 3
    assert "ValueError: inner failure" in entry["exc_info"]
    outside = json.loads(JsonFormatter().format(_record("no request")))
    assert "request_id" not in outside


def test_text_logs_name_the_request(settings: Settings) -> None:
    setup_observability(settings)
    token = REQUEST_ID.set("req-0123456789")
    try:
        line = TextFormatter().format(_record("hello"))
    finally:
        REQUEST_ID.reset(token)
    assert re.match(r"\S+Z WARNING linju\.test \[req-0123456789\] hello\n", line)
    assert "ValueError: inner failure" in line


def test_setup_is_idempotent_and_keeps_other_handlers(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    root = logging.getLogger()
    for log_format in ("json", "text", "text"):
        setup_observability(replace(settings, log_format=log_format, log_level="WARNING"))
    ours = [h for h in root.handlers if isinstance(h, HubLogHandler)]
    assert len(ours) == 1
    assert isinstance(ours[0].formatter, TextFormatter) and ours[0].level == logging.WARNING
    assert caplog.handler in root.handlers  # pytest's own handler stays
    logging.getLogger("linju.test").warning("still captured")
    assert "still captured" in caplog.text


def test_uvicorn_logs_in_the_hub_format(settings: Settings) -> None:
    """uvicorn's loggers, configured from uvicorn_log_config, write JSON; access is off."""
    config = json.dumps(uvicorn_log_config(settings))
    script = (
        "import json, logging, logging.config, sys\n"
        f"logging.config.dictConfig(json.loads({config!r}))\n"
        "logging.getLogger('uvicorn.error').info('Started server process')\n"
        "logging.getLogger('uvicorn.access').info('GET / 200')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = done.stderr.strip().splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["Started server process"]
    assert json.loads(lines[0])["logger"] == "uvicorn.error"


# ---------------------------------------------------------------- slow statements


def test_slow_statements_are_logged_above_the_threshold(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    sql = "SELECT * FROM member WHERE phone = '13800138000' AND name = 'it''s' " + "x" * 2000
    setup_observability(replace(settings, slow_query_ms=500))
    before = sample("linju_db_slow_statements_total", connection="unit")
    with caplog.at_level(logging.WARNING, logger="linju.db.slow"):
        statement_ran(sql, 0.499, "unit")
        statement_ran(sql, 0.501, "unit")
        setup_observability(replace(settings, slow_query_ms=0))  # off
        statement_ran(sql, 60.0, "unit")
    (record,) = [r for r in caplog.records if r.name == "linju.db.slow"]
    message = record.getMessage()
    assert record.levelno == logging.WARNING
    assert record.duration_ms == 501.0 and record.connection == "unit"  # type: ignore[attr-defined]
    assert "SELECT * FROM member WHERE phone = '?' AND name = '?'" in message
    assert SECRET not in message and "it''s" not in message
    assert len(message) < MAX_SQL_CHARS + 100
    assert sample("linju_db_slow_statements_total", connection="unit") == before + 1


def _slow_statement() -> tuple[str, list[str]]:
    """A statement taking well over a millisecond, with a parameter value."""
    if BACKEND == "postgres":
        return "SELECT pg_sleep(0.05), $1::text AS phone", [SECRET]
    counting = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) "
        "SELECT count(*), ? AS phone FROM c"
    )
    return counting, [SECRET]


@pytest.mark.parametrize("threshold_ms", [1, 0])
async def test_slow_statements_through_the_orm(
    orm: Settings, caplog: pytest.LogCaptureFixture, threshold_ms: int
) -> None:
    sql, values = _slow_statement()
    setup_observability(replace(orm, slow_query_ms=threshold_ms))
    before = sample("linju_db_slow_statements_total", connection="default")
    token = REQUEST_ID.set("req-slow-statement")
    try:
        with caplog.at_level(logging.WARNING, logger="linju.db.slow"):
            await get_connection("default").execute_query(sql, values)
    finally:
        REQUEST_ID.reset(token)
    records = [r for r in caplog.records if r.name == "linju.db.slow"]
    if threshold_ms == 0:  # off
        assert records == []
        assert sample("linju_db_slow_statements_total", connection="default") == before
        return
    (record,) = records
    assert record.request_id == "req-slow-statement"  # type: ignore[attr-defined]
    assert record.connection == "default" and record.duration_ms >= 1  # type: ignore[attr-defined]
    assert "AS phone" in record.getMessage() and SECRET not in record.getMessage()
    assert sample("linju_db_slow_statements_total", connection="default") == before + 1


# ---------------------------------------------------------------- /metrics


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def key(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return name, frozenset(labels.items())


async def test_metrics_count_operations_errors_and_requests(orm: Settings) -> None:
    # Without the response cache: an answer from the cache runs no operation (it is
    # counted in linju_response_cache_total instead).
    async with client_for(create_app(replace(orm, response_cache=False))) as client:
        await _count_operations(client)


async def _count_operations(hub_client: httpx.AsyncClient) -> None:
    operations = "linju_graphql_operations_total"
    before = await scrape(hub_client)
    for _ in range(2):
        await hub_client.post("/graphql", json={"query": "query ObsProbe { __typename }"})
    await hub_client.post("/graphql", json={"query": "{ __typename }"})
    await hub_client.post("/graphql", json={"query": "query ObsBroken { noSuchField }"})
    after = await scrape(hub_client)

    def grew(sample_key: tuple[str, frozenset[tuple[str, str]]]) -> float:
        return after.get(sample_key, 0.0) - before.get(sample_key, 0.0)

    assert grew(key(operations, operation="ObsProbe", type="query")) == 2
    assert grew(key(operations, operation="anonymous", type="query")) == 1
    assert grew(key(operations, operation="ObsBroken", type="query")) == 1
    assert grew(key("linju_graphql_operation_duration_seconds_count", operation="ObsProbe")) == 2
    assert grew(key("linju_graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED")) == 1
    requests = key("linju_http_requests_total", method="POST", route="/graphql", status="200")
    assert grew(requests) == 4
    assert after[key("linju_db_pool_connections", connection="default")] >= 1
    assert after[key("linju_db_pool_max_connections", connection="default")] >= 1
    if BACKEND == "postgres":
        assert key("linju_db_pool_idle_connections", connection="default") in after


async def test_operation_names_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    names = {f"Known{i}" for i in range(obs_metrics.MAX_OPERATION_NAMES)}
    monkeypatch.setattr(obs_metrics, "_operation_names", names)
    assert obs_metrics.operation_label("Known7") == "Known7"
    assert obs_metrics.operation_label("BrandNew") == "other"  # the set is full
    assert obs_metrics.operation_label(None) == "anonymous"
    names.discard("Known7")
    assert obs_metrics.operation_label("bad name!") == "other"
    assert obs_metrics.operation_label("x" * 65) == "other"
    assert obs_metrics.operation_label("Fresh") == "Fresh"
    assert obs_metrics.error_code_label("not a code") == "OTHER"


async def test_metrics_are_not_served_to_public_addresses(orm: Settings) -> None:
    async with client_for(create_app(orm), address="8.8.8.8") as client:
        assert (await client.get("/metrics")).status_code == 404
    async with client_for(create_app(orm), address="10.1.2.3") as client:
        assert (await client.get("/metrics")).status_code == 200
    async with client_for(create_app(replace(orm, metrics=False))) as client:
        assert (await client.get("/metrics")).status_code == 404


REQUESTS = "subscription ObsWatch { requestChanged { action } }"


async def test_open_subscriptions_are_counted(orm: Settings) -> None:
    gauge = "linju_subscriptions_open"
    broker = current_broker()
    subscribers = broker.subscriber_count("requests")
    open_before = sample(gauge)
    ended_before = sample(
        "linju_graphql_operations_total", operation="ObsWatch", type="subscription"
    )
    context = build_context(settings=orm, viewer=ADMIN)
    stream = await schema_for(orm).subscribe(REQUESTS, context_value=context)
    task = asyncio.create_task(anext(stream))  # type: ignore[arg-type]
    for _ in range(200):
        if sample(gauge) > open_before or task.done():
            break
        await asyncio.sleep(0.01)
    assert sample(gauge) == open_before + 1
    assert broker.subscriber_count("requests") >= subscribers
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await stream.aclose()  # type: ignore[attr-defined]
    assert sample(gauge) == open_before
    ended = sample("linju_graphql_operations_total", operation="ObsWatch", type="subscription")
    assert ended == ended_before + 1


# ---------------------------------------------------------------- several workers


def test_workers_get_a_shared_metrics_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with metrics_for_workers(1) as none:
        assert none is None
    with metrics_for_workers(4) as directory:
        assert directory and Path(directory).is_dir()
        assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == directory
    assert not Path(directory).exists()
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ


def test_a_scrape_adds_up_every_worker(tmp_path: Path) -> None:
    """Two 'workers' count operations in their own processes; a third scrapes them."""
    (tmp_path / "gauge_livesum_1.db").write_bytes(b"stale")  # a previous run's file
    with_env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
        with metrics_for_workers(2) as directory:
            assert directory == str(tmp_path) and not (tmp_path / "gauge_livesum_1.db").exists()
    # Each worker counts operations and holds a subscription open. The first is ended
    # by SIGTERM, as uvicorn ends its workers (no exit hooks); the second scrapes: its
    # subscription counts, the dead worker's no longer does.
    worker = (
        "import os, signal, sys\n"
        "from hub.observability.metrics import *\n"
        "forget_process_at_exit()\n"
        "GRAPHQL_OPERATIONS.labels('ObsMulti', 'query').inc({n})\n"
        "SUBSCRIPTIONS_OPEN.inc()\n"
        "if {scrape}: sys.stdout.write(scrape().decode())\n"
        "else: os.kill(os.getpid(), signal.SIGTERM)\n"
    )

    def run(n: int, scrape: bool) -> str:
        return subprocess.run(
            [sys.executable, "-c", worker.format(n=n, scrape=scrape)],
            env=with_env,
            cwd=ROOT,
            check=scrape,
            timeout=60,
            capture_output=True,
            text=True,
        ).stdout

    run(2, False)
    assert list(tmp_path.glob("gauge_livesum_*.db"))  # left behind by the killed worker
    scraped = run(3, True)
    assert 'linju_graphql_operations_total{operation="ObsMulti",type="query"} 5.0' in scraped
    assert "linju_subscriptions_open 1.0" in scraped
