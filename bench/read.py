"""Read-API benchmark: the hub against one hand-written SQL statement per query.

    python -m bench.read [--workers 1,2] [--duration 10] [--concurrency 16]

Creates a fresh PostgreSQL database, migrates it, loads the demo data, makes an ADMIN
API token, then for each worker count starts the hub (uvicorn, in a subprocess),
checks that it answers exactly what the SQL statements build, warms it up and drives
each query for ``--duration`` seconds with ``--concurrency`` clients. The same clients
then run the SQL statements through asyncpg. It prints req/s and p50/p99 of both sides
and the ratio hub / SQL beside PostGraphile's, and drops the database at the end.
Loopback only; every loop is bounded by a deadline and a request cap.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import time
from dataclasses import dataclass

from bench import database as db
from bench.load import Measurement, drive_http, drive_sql
from bench.queries import Case, cases
from bench.server import hub_server


@dataclass
class Row:
    case: Case
    workers: int
    hub: Measurement
    sql: Measurement

    @property
    def ratio(self) -> float:
        return self.hub.rate / self.sql.rate if self.sql.rate else float("nan")


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    summary = (__doc__ or "").split("\n")[0]
    parser = argparse.ArgumentParser(prog="python -m bench.read", description=summary)
    parser.add_argument(
        "--workers", default="1,2", help="uvicorn worker counts to try, comma-separated [1,2]"
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per query")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients [16]")
    parser.add_argument(
        "--pool", type=int, default=10, help="database connections per hub worker [10]"
    )
    parser.add_argument("--queries", default="roster,point,statistics", help="which queries")
    parser.add_argument("--server", default=db.DEFAULT_SERVER, help="PostgreSQL server URL")
    parser.add_argument("--scale", type=int, default=1, help="demo districts to load [1]")
    parser.add_argument("--json", dest="json_out", help="also write the figures to this file")
    args = parser.parse_args(argv)
    args.workers = [int(w) for w in str(args.workers).split(",") if w.strip()]
    args.queries = [q.strip() for q in args.queries.split(",") if q.strip()]
    if not 1 <= args.concurrency <= 256 or not 0 < args.duration <= 600:
        parser.error("--concurrency must be 1–256 and --duration 0–600 s")
    return args


def _loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop

        return uvloop.new_event_loop()
    except ImportError:
        return asyncio.new_event_loop()


def _run(coro: object) -> object:
    loop = _loop()
    try:
        return loop.run_until_complete(coro)  # type: ignore[arg-type]
    finally:
        loop.close()


async def _answer_http(url: str, token: str, body: bytes) -> object:
    import aiohttp

    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as response,
    ):
        return json.loads(await response.read())


async def _answer_sql(dsn: str, sql: str, args: tuple[object, ...]) -> object:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        return json.loads(await conn.fetchval(sql, *args))
    finally:
        await conn.close()


def check_same_answer(case: Case, url: str, token: str, dsn: str) -> None:
    """Both sides must return the same document, or the comparison means nothing."""
    for body, args in list(zip(case.bodies, case.sql_args, strict=True))[:3]:
        hub = _run(_answer_http(url, token, body))
        sql = _run(_answer_sql(dsn, case.sql, args))
        if hub != sql:
            raise SystemExit(
                f"{case.name}: the hub and the SQL statement disagree\n"
                f"hub: {json.dumps(hub, ensure_ascii=False)[:400]}\n"
                f"sql: {json.dumps(sql, ensure_ascii=False)[:400]}"
            )


def measure_hub(case: Case, url: str, token: str, args: argparse.Namespace) -> Measurement:
    common = {"concurrency": args.concurrency}
    _run(drive_http(url, token, case.bodies, duration=args.warmup, **common))
    gc.collect()
    return _run(drive_http(url, token, case.bodies, duration=args.duration, **common))  # type: ignore[return-value]


def measure_sql(case: Case, dsn: str, args: argparse.Namespace) -> Measurement:
    common = {"concurrency": args.concurrency}
    _run(drive_sql(dsn, case.sql, case.sql_args, duration=args.warmup, **common))
    gc.collect()
    return _run(drive_sql(dsn, case.sql, case.sql_args, duration=args.duration, **common))  # type: ignore[return-value]


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _line(m: Measurement) -> str:
    errors = f" ({m.errors} errors: {m.first_error})" if m.errors else ""
    return f"{m.rate:,.0f} req/s, p50 {m.p50:.2f} ms, p99 {m.p99:.2f} ms{errors}"


def table(rows: list[Row]) -> str:
    head = (
        f"{'query':<11}{'workers':>8} | {'hub req/s':>10}{'p50 ms':>9}{'p99 ms':>9} | "
        f"{'SQL req/s':>10}{'p50 ms':>9}{'p99 ms':>9} | {'ratio':>6}{'PostGraphile':>14}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.case.name:<11}{r.workers:>8} | {r.hub.rate:>10,.0f}{r.hub.p50:>9.2f}"
            f"{r.hub.p99:>9.2f} | {r.sql.rate:>10,.0f}{r.sql.p50:>9.2f}{r.sql.p99:>9.2f} | "
            f"{r.ratio:>6.2f}{r.case.postgraphile_ratio:>14.2f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    started = time.monotonic()
    _progress(f"creating a database on {args.server} and loading the demo data …")
    bench_db = _run(db.create(args.server, scale=args.scale))
    assert isinstance(bench_db, db.BenchDatabase)
    # The seeding heap stays behind: keep the collector off it while driving load.
    gc.collect()
    gc.freeze()
    selected = [c for c in cases(bench_db.member_ids) if c.name in args.queries]
    hub_url = f"{bench_db.url}?maxsize={args.pool}"
    rows: list[Row] = []
    try:
        sql_results: dict[str, Measurement] = {}
        for case in selected:
            _progress(f"SQL  {case.name}: {args.duration:.0f} s × {args.concurrency} clients")
            sql_results[case.name] = measure_sql(case, bench_db.url, args)
            _progress(f"     {_line(sql_results[case.name])}")
        for workers in args.workers:
            with hub_server(hub_url, workers=workers) as base:
                url = f"{base}/graphql"
                for case in selected:
                    check_same_answer(case, url, bench_db.token, bench_db.url)
                    _progress(
                        f"hub  {case.name}, {workers} worker(s): "
                        f"{args.duration:.0f} s × {args.concurrency} clients"
                    )
                    hub = measure_hub(case, url, bench_db.token, args)
                    _progress(f"     {_line(hub)}")
                    rows.append(Row(case, workers, hub, sql_results[case.name]))
    finally:
        _run(db.drop(bench_db))
    cpu = os.cpu_count()
    print(
        f"\nlinju read bench — {cpu} CPU(s), concurrency {args.concurrency}, "
        f"{args.duration:.0f} s per measurement, pool {args.pool}, "
        f"total {time.monotonic() - started:.0f} s\n"
    )
    print(table(rows))
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as out:
            json.dump([_as_json(r) for r in rows], out, indent=2)
    failed = any(r.hub.errors or r.sql.errors for r in rows)
    return 1 if failed else 0


def _as_json(row: Row) -> dict[str, object]:
    def side(m: Measurement) -> dict[str, float | int]:
        return {"rate": m.rate, "p50_ms": m.p50, "p99_ms": m.p99, "errors": m.errors}

    return {
        "query": row.case.name,
        "workers": row.workers,
        "hub": side(row.hub),
        "sql": side(row.sql),
        "ratio": row.ratio,
        "postgraphile_ratio": row.case.postgraphile_ratio,
    }


if __name__ == "__main__":
    raise SystemExit(main())
