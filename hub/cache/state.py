"""What the response cache shares: data versions, cached entries, recent writers.

Two stores behind one interface: :class:`LocalState` keeps everything in this process
(one server process), :class:`hub.cache.redis_state.RedisState` keeps it in Redis
(``LINJU_REDIS_URL``: every process behind a load balancer, the console and the CLI
see the same versions).

A data version is a counter per table, bumped by every committed write to it; the time
of the last bump is kept too (a response read from a replica is cached only when its
tables have been quiet for ``replica_lag_seconds``).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class Snapshot:
    """One look at the shared state, taken before a query runs."""

    entry: bytes | None = None
    versions: dict[str, int] = field(default_factory=dict)
    bumped: dict[str, float] = field(default_factory=dict)
    wrote_recently: bool = False


class SharedState(Protocol):
    async def lookup(self, key: str | None, *, writer: str | None) -> Snapshot:
        """The entry under ``key`` (if any), every table's version and bump time, and
        whether ``writer`` wrote within the replica lag."""
        ...

    async def store(self, key: str, entry: bytes, *, ttl: int) -> None: ...

    async def bump(self, tables: frozenset[str]) -> None: ...

    async def note_write(self, writer: str, *, seconds: int) -> None: ...


class LocalVersions:
    """This process's data versions (the in-process cache's source of truth)."""

    def __init__(self) -> None:
        self.versions: dict[str, int] = {}
        self.bumped: dict[str, float] = {}

    def bump(self, tables: frozenset[str]) -> None:
        now = time.time()
        for table in tables:
            self.versions[table] = self.versions.get(table, 0) + 1
            self.bumped[table] = now


LOCAL_VERSIONS = LocalVersions()
_LOCAL_WRITERS: dict[str, float] = {}


class LocalState:
    """Entries in a least-recently-used dict; versions and writers of this process."""

    def __init__(self, *, max_entries: int) -> None:
        self.max_entries = max_entries
        self.entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    async def lookup(self, key: str | None, *, writer: str | None) -> Snapshot:
        entry = None
        if key is not None and (found := self.entries.get(key)) is not None:
            expires, entry = found
            if expires <= time.monotonic():
                del self.entries[key]
                entry = None
            else:
                self.entries.move_to_end(key)
        wrote = writer is not None and _LOCAL_WRITERS.get(writer, 0.0) > time.monotonic()
        return Snapshot(
            entry=entry,
            versions=dict(LOCAL_VERSIONS.versions),
            bumped=dict(LOCAL_VERSIONS.bumped),
            wrote_recently=wrote,
        )

    async def store(self, key: str, entry: bytes, *, ttl: int) -> None:
        self.entries[key] = (time.monotonic() + ttl, entry)
        self.entries.move_to_end(key)
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)

    async def bump(self, tables: frozenset[str]) -> None:
        LOCAL_VERSIONS.bump(tables)

    async def note_write(self, writer: str, *, seconds: int) -> None:
        _LOCAL_WRITERS[writer] = time.monotonic() + seconds
        if len(_LOCAL_WRITERS) > 10_000:  # forget writers whose lag has passed
            now = time.monotonic()
            for name in [w for w, until in _LOCAL_WRITERS.items() if until <= now]:
                del _LOCAL_WRITERS[name]
