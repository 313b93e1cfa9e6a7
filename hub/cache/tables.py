"""Which tables an execution reads: every SQL statement reports here (hub.db_observe).

While a cacheable query runs, :func:`tracking_reads` holds a :class:`Reads` in a
context variable; the statement observer :func:`observe_reads` (registered by the
Runtime, hub.runtime) adds the model tables named in each statement to it. Tasks the
execution starts (DataLoader batches) copy the context, so they add to the same set.
Naming a table too many is harmless (one more dependency, an earlier invalidation);
missing one would serve stale data, so every word of the statement that is a known
table counts.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache, lru_cache

from tortoise.fields.relational import ManyToManyFieldInstance
from tortoise.models import Model

from hub import models
from hub.db_routing import PRIMARY

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@cache
def known_tables() -> frozenset[str]:
    """The models' tables and their many-to-many through tables."""
    tables: set[str] = set()
    for value in vars(models).values():
        if inspect.isclass(value) and issubclass(value, Model) and not value._meta.abstract:
            tables.add(value._meta.db_table.lower())
            for name in value._meta.m2m_fields:
                relation = value._meta.fields_map[name]
                if isinstance(relation, ManyToManyFieldInstance):
                    tables.add(relation.through.lower())
    return frozenset(tables)


@lru_cache(maxsize=4096)
def tables_in(sql: str) -> frozenset[str]:
    """The known tables a statement names (statements repeat: remembered)."""
    return frozenset(w.lower() for w in _WORD.findall(sql)) & known_tables()


@dataclass
class Reads:
    """What one execution read: its tables, and whether any came from a replica."""

    tables: set[str] = field(default_factory=set)
    replica: bool = False


_reads: ContextVar[Reads | None] = ContextVar("linju_cache_reads", default=None)


@contextmanager
def tracking_reads() -> Iterator[Reads]:
    """Collect the tables read inside the block (by this task and those it starts)."""
    reads = Reads()
    token = _reads.set(reads)
    try:
        yield reads
    finally:
        _reads.reset(token)


def observe_reads(sql: str, seconds: float, connection_name: str) -> None:
    """The statement observer: the tables a statement names go to the tracked reads."""
    reads = _reads.get()
    if reads is None:
        return
    reads.tables.update(tables_in(sql))
    if connection_name != PRIMARY:
        reads.replica = True
