"""The response cache: read queries answered again without running them.

An entry holds a query's result data and, for each table the query read, the data
version that table had *before* the query ran. A lookup is a hit only when every one of
those versions is still current, so a write committed at any time after the snapshot —
even while the query was running — makes the entry stale at once. Versions are bumped
by a commit observer (:mod:`hub.cache.versions`) before the writer's call returns.

Only queries are cached (never mutations or subscriptions), only results without
errors, never multipart uploads. A Redis error never fails a request: it is logged and
the request is served uncached.

Read replicas: mutations, and the requests of a caller who wrote within
``replica_lag_seconds``, read from the primary (:func:`hub.db.reading_primary`). A
result read from a replica is stored only when none of its tables changed within the
lag: the replica may not have that change yet, and the cache would keep the stale
answer under the new version.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from graphql import OperationType
from strawberry.types import ExecutionResult

from hub.cache.keys import Operation, cache_key, inspect_operation, schema_fingerprint
from hub.cache.redis_state import EPOCH, RedisState
from hub.cache.state import LocalState, SharedState, Snapshot
from hub.cache.tables import tracking_reads
from hub.db_routing import reading_primary
from hub.observability.metrics import CACHE_LOOKUPS, labelled
from hub.settings import Settings

if TYPE_CHECKING:
    # Annotations only: the cache keys on what a viewer may see, and hub.access (its
    # credential cache) builds on the cache's state.
    from hub.access.viewer import Viewer

logger = logging.getLogger("linju.cache")

Run = Callable[[], Awaitable[ExecutionResult]]


def writer_of(viewer: Viewer) -> str | None:
    """Who wrote, for read-your-own-writes: the account (anonymous callers never write
    records of their own)."""
    return f"user:{viewer.user_id}" if viewer.user_id is not None else None


class ResponseCache:
    """Runs GraphQL operations for one hub's settings, from the cache when it can."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.enabled = settings.response_cache
        self.replica = settings.read_database_url is not None
        self.state: SharedState = (
            RedisState(settings.redis_url)
            if settings.redis_url
            else LocalState(max_entries=settings.cache_max_entries)
        )
        # Set by close(): a holder of this cache asks for the current one (response_cache_of).
        self.closed = False
        self._hits = labelled(CACHE_LOOKUPS, "hit")

    def close(self) -> None:
        """Forget the cache (its versions are bumped by the Runtime, hub.runtime)."""
        self.closed = True
        if _caches.get(self.settings) is self:
            del _caches[self.settings]

    async def execute(
        self,
        run: Run,
        *,
        schema: Any,
        query: str | None,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        viewer: Viewer,
        upload: bool = False,
        outcome: Callable[[str], None] | None = None,
        looked: Looked | None = None,
    ) -> ExecutionResult:
        """Run ``run`` (``schema``'s execution of this request), or answer from the cache;
        ``outcome`` hears hit, stored, miss or bypass. ``looked``: this request's lookup
        already made (:meth:`cached_answer`), used when its key is this one."""
        note = _Note(outcome)
        operation = inspect_operation(query, operation_name) if query else None
        if operation is None or operation.kind is not OperationType.QUERY:
            note("bypass")
            if operation is not None and operation.kind is OperationType.MUTATION:
                return await self._mutate(run, viewer)
            return await run()
        key: str | None = None
        if self.enabled and not upload:
            key = _key(operation, schema, query or "", operation_name, variables, viewer)
        if key is None and not self.replica:
            note("bypass")
            return await run()
        if looked is not None and key is not None and looked.key == key:
            snapshot: Snapshot | None = looked.snapshot  # taken earlier: only more cautious
        else:
            snapshot = await self._look(key, viewer)
        if snapshot is None:  # the shared store did not answer
            note("bypass")
            with reading_primary() if self.replica else nullcontext():
                return await run()
        if key is not None and (hit := _hit(snapshot)) is not None:
            note("hit")
            return hit
        note("miss" if key is not None else "bypass")
        started = time.time()
        primary = reading_primary() if snapshot.wrote_recently else nullcontext()
        with primary, tracking_reads() as reads:
            result = await run()
        cacheable = not result.errors and result.data is not None
        if (
            key is not None
            and cacheable
            and await self._store(key, result, snapshot, reads.tables, reads.replica, started)
        ):
            note("stored")
        return result

    def read_key(
        self,
        *,
        schema: Any,
        query: str,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        viewer: Viewer,
    ) -> str | None:
        """The key of this read query's answer; None when it is not one the cache keeps
        (not a query, not plain JSON variables). The same for the same arguments: the
        fast lane keeps it (hub.app.fast_lane)."""
        operation = inspect_operation(query, operation_name)
        if operation is None or operation.kind is not OperationType.QUERY:
            return None
        return _key(operation, schema, query, operation_name, variables, viewer)

    async def cached_answer(
        self,
        *,
        schema: Any,
        query: str,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        viewer: Viewer,
        keep: Callable[[Looked], None] | None = None,
    ) -> bytes | None:
        """The stored answer's JSON (the HTTP body) to this read query, if current; counted
        as a hit. Anything else is None and counted nowhere: the caller then runs
        :meth:`execute`, which counts what it finds. ``keep`` hears a lookup that was not
        a hit, for :meth:`execute` to use instead of asking the store again (hub.app.fast_lane)."""
        if not self.enabled:
            return None
        key = self.read_key(
            schema=schema,
            query=query,
            operation_name=operation_name,
            variables=variables,
            viewer=viewer,
        )
        if key is None:
            return None
        return await self.stored_answer(key, viewer=viewer, keep=keep)

    async def stored_answer(
        self, key: str, *, viewer: Viewer, keep: Callable[[Looked], None] | None = None
    ) -> bytes | None:
        """:meth:`cached_answer` for a key from :meth:`read_key`."""
        try:
            snapshot = await self.state.lookup(
                key, writer=writer_of(viewer) if self.replica else None
            )
        except Exception:
            return None  # execute() looks again, logs and serves uncached
        body = _hit_body(snapshot)
        if body is not None:
            self._hits.inc()
        elif keep is not None:
            keep(Looked(key, snapshot))
        return body

    async def _mutate(self, run: Run, viewer: Viewer) -> ExecutionResult:
        with reading_primary():
            result = await run()
        writer = writer_of(viewer)
        if self.replica and writer is not None:
            try:
                await self.state.note_write(writer, seconds=self.settings.replica_lag_seconds)
            except Exception:
                logger.exception("response cache: could not note a write (replica routing)")
        return result

    async def _look(self, key: str | None, viewer: Viewer) -> Snapshot | None:
        try:
            return await self.state.lookup(key, writer=writer_of(viewer) if self.replica else None)
        except Exception:
            logger.exception("response cache: lookup failed, serving uncached")
            return None

    async def _store(
        self,
        key: str,
        result: ExecutionResult,
        snapshot: Snapshot,
        tables: set[str],
        from_replica: bool,
        started: float,
    ) -> bool:
        lag = self.settings.replica_lag_seconds
        if from_replica and any(started - snapshot.bumped.get(t, 0.0) < lag for t in tables):
            return False  # the replica may not have that write yet
        depends = {table: snapshot.versions.get(table, 0) for table in tables}
        if EPOCH in snapshot.versions:
            depends[EPOCH] = snapshot.versions[EPOCH]
        try:
            # The versions, a newline (orjson never writes one), then the HTTP answer's
            # body, served by a hit as it is. Decoded and encoded once here: the compiled
            # read path's data holds the database's own JSON text (orjson.Fragment), and
            # every hit must answer the same bytes, with or without the fast lane.
            body = orjson.dumps(orjson.loads(orjson.dumps(answer_of(result))))
            entry = b"%s\n%s" % (orjson.dumps(depends), body)
        except TypeError:
            return False  # a value that is not plain JSON: answer it, do not keep it
        try:
            await self.state.store(key, entry, ttl=self.settings.cache_ttl_seconds)
        except Exception:
            logger.exception("response cache: could not store an entry")
            return False
        return True


@dataclass(frozen=True, slots=True)
class Looked:
    """One request's lookup that was not a hit: its key and what the store said."""

    key: str
    snapshot: Snapshot


def _key(
    operation: Operation,
    schema: Any,
    query: str,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    viewer: Viewer,
) -> str | None:
    """The cache key of a read query's answer; None when its variables are not plain JSON."""
    try:
        return cache_key(
            schema=schema_fingerprint(schema),
            query=query,
            operation_name=operation_name,
            variables=variables,
            viewer=viewer,
            personal=operation.personal,
        )
    except TypeError:
        return None


class _Note:
    """Counts an outcome in the metrics and tells the caller of it."""

    __slots__ = ("outcome",)

    def __init__(self, outcome: Callable[[str], None] | None) -> None:
        self.outcome = outcome

    def __call__(self, result: str) -> None:
        labelled(CACHE_LOOKUPS, result).inc()
        if self.outcome is not None:
            self.outcome(result)


def answer_of(result: ExecutionResult) -> dict[str, Any]:
    """An error-free result as the HTTP response's JSON (strawberry's process_result)."""
    answer: dict[str, Any] = {"data": result.data}
    if result.extensions:
        answer["extensions"] = result.extensions
    return answer


# An entry's head (the versions it depends on) → its pairs: parsed once, not per hit.
_DEPENDS: dict[bytes, tuple[tuple[str, int], ...]] = {}
MAX_HEADS = 4096


def _hit_body(snapshot: Snapshot) -> bytes | None:
    """The cached answer's JSON when the entry exists and all its versions are current."""
    if snapshot.entry is None:
        return None
    head, _, body = snapshot.entry.partition(b"\n")
    depends = _DEPENDS.get(head)
    if depends is None:
        depends = tuple(orjson.loads(head).items())
        if len(_DEPENDS) >= MAX_HEADS:
            _DEPENDS.clear()
        _DEPENDS[head] = depends
    current = snapshot.versions
    for table, version in depends:
        if current.get(table, 0) != version:
            return None
    return body


def _hit(snapshot: Snapshot) -> ExecutionResult | None:
    """The cached result when the entry exists and all its versions are current."""
    body = _hit_body(snapshot)
    if body is None:
        return None
    answer = orjson.loads(body)
    return ExecutionResult(data=answer["data"], errors=None, extensions=answer.get("extensions"))


# Only for an app served without its lifespan (no Runtime: the tests' ASGI transports)
# and the tests' handle on a cache; a running hub answers from its Runtime's own.
_caches: dict[Settings, ResponseCache] = {}


def response_cache(settings: Settings) -> ResponseCache:
    """This process's cache for these settings (created on first use); a Runtime's
    cache is not here (hub.runtime.response_cache_of)."""
    cache = _caches.get(settings)
    if cache is None:
        cache = _caches[settings] = ResponseCache(settings)
    return cache
