"""The hub's Prometheus metrics: defined once here, updated where things happen.

One process keeps its figures in prometheus_client's default registry. Several uvicorn
workers each have their own: with ``PROMETHEUS_MULTIPROC_DIR`` set before the workers
start (:func:`metrics_for_workers` does it for ``linju serve --workers N``), every
worker writes its figures to files there and a scrape of any worker adds them all up.

The series counted on every request (requests, their duration, operations, their
duration, response-cache lookups) are *hot*: in one process they are plain numbers,
added to by the event loop's thread only, and turned into Prometheus families when
scraped (:class:`HotCollector`) — an increment is one Python call instead of
prometheus_client's five or so (a lock, a check of the labels). With several workers
they are prometheus_client's own, written to the shared files.
"""

from __future__ import annotations

import atexit
import ipaddress
import os
import re
import shutil
import tempfile
from bisect import bisect_left
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from tortoise.context import get_current_context

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

disable_created_metrics()  # type: ignore[no-untyped-call]  # unannotated; no "_created" series beside each counter: half the series

MULTIPROCESS = bool(os.environ.get(MULTIPROC_ENV))  # as prometheus_client saw it


# --- hot series: plain numbers in one process -----------------------------------------


class HotCount:
    """One counter series in one process."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount


class HotObserved:
    """One histogram series in one process: a count per bucket and the sum."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * len(bounds)
        self.sum = 0.0

    def observe(self, amount: float) -> None:
        self.sum += amount
        # The first bucket whose bound is at least the amount (the last one is +Inf).
        self.counts[bisect_left(self.bounds, amount)] += 1


class HotFamily:
    """A hot metric's definition and, in one process, its series."""

    def __init__(
        self, kind: str, name: str, documentation: str, labelnames: tuple[str, ...]
    ) -> None:
        self.kind = kind
        self.name = name
        self.documentation = documentation
        self.labelnames = labelnames
        self.bounds = tuple(float(b) for b in Histogram.DEFAULT_BUCKETS)
        self.series: dict[tuple[str, ...], HotCount | HotObserved] = {}

    def child(self, values: tuple[str, ...]) -> HotCount | HotObserved:
        found = self.series.get(values)
        if found is None:
            found = HotCount() if self.kind == "counter" else HotObserved(self.bounds)
            self.series[values] = found
        return found

    def collect(self) -> CounterMetricFamily | HistogramMetricFamily:
        labels = list(self.labelnames)
        if self.kind == "counter":
            counter = CounterMetricFamily(self.name, self.documentation, labels=labels)
            for values, count in list(self.series.items()):
                assert isinstance(count, HotCount)
                counter.add_metric(list(values), count.value)
            return counter
        histogram = HistogramMetricFamily(self.name, self.documentation, labels=labels)
        for values, observed in list(self.series.items()):
            assert isinstance(observed, HotObserved)
            buckets: list[tuple[str, float]] = []
            total = 0
            for bound, in_bucket in zip(observed.bounds, list(observed.counts), strict=True):
                total += in_bucket
                buckets.append((floatToGoString(bound), float(total)))  # type: ignore[no-untyped-call]  # unannotated
            histogram.add_metric(list(values), buckets, observed.sum)
        return histogram


_HOT: dict[int, HotFamily] = {}


def _hot_counter(name: str, documentation: str, labelnames: list[str]) -> Counter:
    """A counter counted in plain numbers in one process (unregistered: the
    :class:`HotCollector` exposes it), in the shared files with several workers."""
    counter = Counter(name, documentation, labelnames, registry=None)
    _HOT[id(counter)] = HotFamily("counter", name, documentation, tuple(labelnames))
    return counter


def _hot_histogram(name: str, documentation: str, labelnames: list[str]) -> Histogram:
    histogram = Histogram(name, documentation, labelnames, registry=None)
    _HOT[id(histogram)] = HotFamily("histogram", name, documentation, tuple(labelnames))
    return histogram


class HotCollector(Collector):
    """The hot series of this process, at scrape time."""

    def collect(self) -> Iterator[CounterMetricFamily | HistogramMetricFamily]:
        for family in list(_HOT.values()):
            yield family.collect()


HTTP_REQUESTS = _hot_counter(
    "linju_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_SECONDS = _hot_histogram(
    "linju_http_request_duration_seconds", "Time to answer an HTTP request", ["route"]
)
GRAPHQL_OPERATIONS = _hot_counter(
    "linju_graphql_operations_total", "GraphQL operations executed", ["operation", "type"]
)
GRAPHQL_SECONDS = _hot_histogram(
    "linju_graphql_operation_duration_seconds",
    "Time to execute a GraphQL operation",
    ["operation"],
)
CACHE_LOOKUPS = _hot_counter(
    "linju_response_cache_total",
    "Response cache lookups by result: hit, miss, stored, bypass (not cacheable)",
    ["result"],
)
if not MULTIPROCESS:
    REGISTRY.register(HotCollector())
GRAPHQL_ERRORS = Counter("linju_graphql_errors_total", "GraphQL errors by code", ["code"])
SUBSCRIPTIONS_OPEN = Gauge(
    "linju_subscriptions_open", "GraphQL subscriptions open", multiprocess_mode="livesum"
)
DB_STATEMENTS = Histogram(
    "linju_db_statement_duration_seconds", "Time of a SQL statement", ["connection"]
)
SLOW_STATEMENTS = Counter(
    "linju_db_slow_statements_total",
    "SQL statements slower than LINJU_SLOW_QUERY_MS",
    ["connection"],
)
RATE_LIMITED = Counter("linju_rate_limited_total", "Requests refused with 429, by limit", ["limit"])
# Trusted documents (hub.documents_gate): labels are registered documents only (the id's
# first 12 hex and the registering client, both set by an ADMIN); all else is "adhoc".
DOCUMENT_REQUESTS = _hot_counter(  # counted on every GraphQL request
    "linju_document_requests_total",
    "GraphQL requests by trusted document (first 12 hex of its id) and registered client; "
    "every other request is document=adhoc",
    ["document", "client"],
)
DOCUMENT_ERRORS = Counter(
    "linju_document_errors_total",
    "GraphQL requests answered with errors, by trusted document and client",
    ["document", "client"],
)
DOCUMENT_LAST_USED = Gauge(
    "linju_document_last_used_timestamp_seconds",
    "When a trusted document was last requested (Unix time)",
    ["document", "client"],
    multiprocess_mode="max",
)

# --- children, looked up once -------------------------------------------------------

_children: dict[tuple[int, tuple[str, ...]], Any] = {}


def labelled(metric: Counter | Histogram | Gauge, *values: str) -> Any:
    """``metric.labels(*values)``, looked up once per label set rather than per request
    (``labels`` takes a lock and builds a tuple each call); a hot metric's plain series
    in one process. Bounded label sets only. Keep the child where it is used on every
    request: then an increment is one call."""
    key = (id(metric), values)
    child = _children.get(key)
    if child is None:
        hot = None if MULTIPROCESS else _HOT.get(id(metric))
        child = hot.child(values) if hot is not None else metric.labels(*values)
        _children[key] = child
    return child


# --- bounded labels ---------------------------------------------------------------
# A label value is a time series: values chosen by clients must come from a bounded set.

MAX_OPERATION_NAMES = 200  # distinct operation names per process; later ones are "other"
_OPERATION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_ERROR_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,39}")
_operation_names: set[str] = set()


def operation_label(name: str | None) -> str:
    """The label for an operation name: "anonymous", the name, or "other"."""
    if not name:
        return "anonymous"
    if name in _operation_names:
        return name
    if not _OPERATION_NAME.fullmatch(name) or len(_operation_names) >= MAX_OPERATION_NAMES:
        return "other"
    _operation_names.add(name)
    return name


def error_code_label(code: object) -> str:
    if code is None:
        return "NONE"
    return code if isinstance(code, str) and _ERROR_CODE.fullmatch(code) else "OTHER"


@asynccontextmanager
async def subscription_open() -> AsyncIterator[None]:
    """Count a subscription as open while the block runs (however it ends)."""
    SUBSCRIPTIONS_OPEN.inc()
    try:
        yield
    finally:
        SUBSCRIPTIONS_OPEN.dec()


# --- database pool, read when scraped ----------------------------------------------


class DatabasePoolCollector(Collector):
    """Open, idle and maximum connections of each Tortoise connection, at scrape time.

    asyncpg pools report their figures; SQLite is one connection. In multiprocess mode
    the figures are those of the worker answering the scrape.
    """

    def collect(self) -> Iterator[GaugeMetricFamily]:
        size = GaugeMetricFamily(
            "linju_db_pool_connections", "Open database connections", labels=["connection"]
        )
        idle = GaugeMetricFamily(
            "linju_db_pool_idle_connections", "Idle pooled connections", labels=["connection"]
        )
        most = GaugeMetricFamily(
            "linju_db_pool_max_connections", "Pool size limit", labels=["connection"]
        )
        for name, client in _tortoise_clients():
            pool: Any = getattr(client, "_pool", None)
            if pool is not None and hasattr(pool, "get_size"):
                size.add_metric([name], pool.get_size())
                idle.add_metric([name], pool.get_idle_size())
                most.add_metric([name], pool.get_max_size())
            elif "sqlite" in type(client).__module__:
                size.add_metric([name], 1 if getattr(client, "_connection", None) else 0)
                most.add_metric([name], 1)
        yield from (size, idle, most)


def _tortoise_clients() -> list[tuple[str, Any]]:
    context = get_current_context()
    if context is None:
        return []
    try:
        handler = context.connections
        return [(alias, handler.get(alias)) for alias in handler.db_config]
    except Exception:  # the ORM is closing or was never opened: nothing to report
        return []


POOL_COLLECTOR = DatabasePoolCollector()
REGISTRY.register(POOL_COLLECTOR)


# --- several processes --------------------------------------------------------------


def multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def scrape() -> bytes:
    """This process's metrics, or every worker's in multiprocess mode."""
    if not multiprocess_mode():
        return generate_latest(REGISTRY)
    _forget_dead_workers(Path(os.environ[MULTIPROC_ENV]))
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # unannotated
    registry.register(POOL_COLLECTOR)
    return generate_latest(registry)


def _forget_dead_workers(directory: Path) -> None:
    """Drop the live gauges (open subscriptions) of workers that are gone.

    uvicorn ends a worker by re-raising SIGTERM, so exit hooks do not run; a worker
    that crashed or was restarted must not count its subscriptions forever.
    """
    for path in directory.glob("gauge_live*_*.db"):
        pid = path.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            multiprocess.mark_process_dead(int(pid), str(directory))  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process with that id
    return True


_exit_hook_registered = False


def forget_process_at_exit() -> None:
    """In multiprocess mode, drop this worker's live gauges when it exits (once)."""
    global _exit_hook_registered
    if multiprocess_mode() and not _exit_hook_registered:
        _exit_hook_registered = True
        atexit.register(multiprocess.mark_process_dead, os.getpid())


@contextmanager
def metrics_for_workers(workers: int) -> Iterator[str | None]:
    """Prepare multiprocess metrics for ``workers`` uvicorn workers; use around serving.

    Must run before the workers start (they read ``PROMETHEUS_MULTIPROC_DIR`` when
    they import prometheus_client). An operator's directory is emptied of the last
    run's files; otherwise a temporary one is made and removed afterwards.
    """
    if workers <= 1:
        yield None
        return
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        yield str(directory)
        return
    made = tempfile.mkdtemp(prefix="linju-metrics-")
    os.environ[MULTIPROC_ENV] = made
    try:
        yield made
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(made, ignore_errors=True)


# --- the endpoint -----------------------------------------------------------------


def may_scrape(host: str | None) -> bool:
    """Scrapers live on the operator's network: loopback and private addresses only.

    Behind a load balancer the client address is the real client's (proxy headers),
    so /metrics passed through by mistake still answers nobody on the internet.
    """
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private


async def metrics_endpoint(request: Request) -> Response:
    """``GET /metrics`` in the Prometheus text format."""
    if not may_scrape(request.client.host if request.client else None):
        return PlainTextResponse("Not Found", status_code=404)
    return Response(scrape(), headers={"content-type": CONTENT_TYPE_LATEST})
