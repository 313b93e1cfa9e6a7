"""Bulk loading of the demo dataset: ``await load_demo(scale=N)``.

Each district is generated in memory with its final primary keys (numbered on from
each table's current maximum), then written in one transaction: ``executemany`` on
SQLite, ``COPY`` on PostgreSQL, the M2M through-tables filled directly. A district
already present (by name) is skipped, so loading twice changes nothing. Bulk paths
bypass the ORM, so the rows carry their own ``search_text`` (as ``refresh_search_text``
computes it), ``version`` and UTC ``created_at``/``updated_at``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from hub.models import District
from seeds.generator import DEFAULT_SEED, generate
from seeds.rows import RECORD_TABLES, TABLES, Dataset, TableSpec
from seeds.world import district_identity

RECORD_COLUMNS = ("version", "created_at", "updated_at")


@dataclass
class SeedReport:
    """What a load did: rows inserted per table, districts loaded and skipped."""

    inserted: dict[str, int] = field(default_factory=lambda: {s.table: 0 for s in TABLES})
    loaded: list[str] = field(default_factory=list)
    skipped_districts: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def skipped(self) -> bool:
        """True when every district was already there and nothing was written."""
        return not self.loaded

    @property
    def total(self) -> int:
        return sum(self.inserted.values())

    def summary(self) -> str:
        lines = []
        if self.loaded:
            lines.append(
                f"已载入 {len(self.loaded)} 个区（{'、'.join(self.loaded)}），"
                f"共 {self.total:,} 行，用时 {self.seconds:.1f} 秒"
            )
        if self.skipped_districts:
            lines.append(
                f"已存在，跳过 {len(self.skipped_districts)} 个区："
                + "、".join(self.skipped_districts)
            )
        if self.loaded:
            width = max(len(table) for table in self.inserted)
            lines += [f"  {table:<{width}}  {n:>9,}" for table, n in self.inserted.items()]
        return "\n".join(lines) or "没有要载入的区"

    def __str__(self) -> str:
        return self.summary()


async def load_demo(*, scale: int = 1, seed: int = DEFAULT_SEED) -> SeedReport:
    """Load ``scale`` districts (1 = Tianyuan alone); districts already present are skipped."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    started = time.perf_counter()
    report = SeedReport()
    client = get_connection("default")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    todo = []
    for index in range(1, scale + 1):
        name, _code = district_identity(index)
        if await District.filter(name=name).exists():
            report.skipped_districts.append(name)
        else:
            todo.append((index, name))
    if todo:
        await _load_districts(client, todo, seed, now, report)
        if client.capabilities.dialect == "postgres":
            await _reset_sequences(client)
    report.seconds = time.perf_counter() - started
    return report


async def _load_districts(
    client: BaseDBAsyncClient,
    todo: list[tuple[int, str]],
    seed: int,
    now: dt.datetime,
    report: SeedReport,
) -> None:
    """Write each district while the next one is generated in a worker thread.

    The database driver releases the GIL while it writes, so on two cores generation
    and writing overlap. Each district's ids continue from the previous one's; if
    someone else wrote in between, the district is numbered again from the real maxima.
    """
    base = await _max_ids(client)
    pending = asyncio.ensure_future(asyncio.to_thread(generate, seed, todo[0][0], base))
    try:
        for n, (index, name) in enumerate(todo):
            data = await pending
            following = {t: base[t] + c for t, c in data.counts().items() if t in base}
            if n + 1 < len(todo):
                args = (seed, todo[n + 1][0], following)
                pending = asyncio.ensure_future(asyncio.to_thread(generate, *args))
            await _write(client, data, index, seed, base, now)
            base = following
            report.loaded.append(name)
            for table, count in data.counts().items():
                report.inserted[table] += count
    finally:
        if not pending.done():
            pending.cancel()


async def _write(
    client: BaseDBAsyncClient,
    data: Dataset,
    index: int,
    seed: int,
    base: dict[str, int],
    now: dt.datetime,
) -> None:
    """One district in one transaction."""
    async with in_transaction(client.connection_name) as tx:
        current = await _max_ids(tx)
        if current != base:
            data = generate(seed, index, current)
        for spec in TABLES:
            await _insert(tx, spec, getattr(data, spec.attr), now)
        # Columns that point forward (a group's leader is a member) are set last.
        for spec in TABLES:
            for column in spec.deferred:
                values = [(getattr(r, column), r.id) for r in getattr(data, spec.attr)]
                await _update(tx, spec.table, column, values)


async def _max_ids(client: BaseDBAsyncClient) -> dict[str, int]:
    union = " UNION ALL ".join(
        f'SELECT \'{table}\' AS t, MAX("id") AS m FROM "{table}"' for table in RECORD_TABLES
    )
    _, rows = await client.execute_query(union)
    return {row["t"]: row["m"] or 0 for row in rows}


async def _insert(client: BaseDBAsyncClient, spec: TableSpec, rows: list[Any], now: Any) -> None:
    if not rows:
        return
    if spec.record:
        columns = spec.columns + RECORD_COLUMNS
        get = attrgetter(*spec.columns)
        deferred = [spec.columns.index(c) for c in spec.deferred]
        values = []
        for row in rows:
            value = list(get(row))
            for i in deferred:
                value[i] = None
            values.append((*value, 1, now, now))
    else:
        columns, values = spec.columns, rows
    if client.capabilities.dialect == "postgres":
        async with client.acquire_connection() as raw:
            await raw.copy_records_to_table(spec.table, records=values, columns=list(columns))
    else:
        marks = ", ".join("?" for _ in columns)
        names = ", ".join(f'"{c}"' for c in columns)
        await client.execute_many(
            f'INSERT INTO "{spec.table}" ({names}) VALUES ({marks})', [list(v) for v in values]
        )


async def _update(
    client: BaseDBAsyncClient, table: str, column: str, values: list[tuple[Any, int]]
) -> None:
    if client.capabilities.dialect == "postgres":
        sql = f'UPDATE "{table}" SET "{column}" = $1 WHERE "id" = $2'
    else:
        sql = f'UPDATE "{table}" SET "{column}" = ? WHERE "id" = ?'
    await client.execute_many(sql, [list(v) for v in values if v[0] is not None])


async def _reset_sequences(client: BaseDBAsyncClient) -> None:
    """Move each id sequence past the ids the loader chose itself."""
    for table in RECORD_TABLES:
        await client.execute_query(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), MAX(\"id\")) "
            f'FROM "{table}" HAVING MAX("id") IS NOT NULL'
        )
