"""Closed-loop load: C concurrent clients, each sending its next request when the last returns.

Two drivers with the same loop: :func:`drive_http` posts GraphQL to the hub over one
keep-alive connection per client (aiohttp), :func:`drive_sql` runs the hand-written
statement on one asyncpg connection per client and encodes the JSON text it gets to
bytes, as a server would before writing it out. Both stop at a deadline and after at most
``max_requests`` requests; latencies are measured around each request.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

# A hard bound on any one measurement, whatever the duration asked for.
MAX_REQUESTS = 5_000_000


@dataclass
class Measurement:
    """Requests completed in ``seconds`` and each one's latency (seconds)."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """The p-th percentile latency in milliseconds (nearest rank)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[rank] * 1000

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p99(self) -> float:
        return self.percentile(99)

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.latencies) * 1000 if self.latencies else float("nan")


Request = Callable[[int], Awaitable[None]]


async def _closed_loop(
    requests: Sequence[Request], *, duration: float, max_requests: int
) -> Measurement:
    """Run one client per request function until the deadline or the request cap."""
    result = Measurement()
    counter = itertools.count()
    clock = time.perf_counter
    deadline = clock() + duration

    async def client(request: Request) -> None:
        latencies = result.latencies
        while True:
            i = next(counter)
            if i >= max_requests:
                return
            start = clock()
            if start >= deadline:
                return
            try:
                await request(i)
            except Exception as exc:  # counted, and the first one kept for the report
                result.errors += 1
                result.first_error = result.first_error or f"{type(exc).__name__}: {exc}"
                continue
            latencies.append(clock() - start)

    began = clock()
    await asyncio.gather(*(client(request) for request in requests))
    result.seconds = clock() - began
    return result


async def drive_http(
    url: str,
    token: str,
    bodies: Sequence[bytes],
    *,
    concurrency: int,
    duration: float,
    max_requests: int = MAX_REQUESTS,
) -> Measurement:
    """POST ``bodies`` (cycled) to the hub's GraphQL URL; a non-200 or an error is a failure."""
    import aiohttp

    headers = {
        "authorization": f"Bearer {token}",
        "content-type": "application/json",
        "accept": "application/json",
        # Like the SQL side and PostGraphile's own server: no compression on loopback.
        "accept-encoding": "identity",
    }
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    session = aiohttp.ClientSession(
        connector=connector,
        headers=headers,
        auto_decompress=False,
        skip_auto_headers=("User-Agent",),
    )
    async with session:
        n = len(bodies)

        async def request(i: int) -> None:
            async with session.post(url, data=bodies[i % n]) as response:
                body = await response.read()
                if response.status != 200 or b'"errors":' in body:
                    raise RuntimeError(f"HTTP {response.status}: {body[:200]!r}")

        return await _closed_loop(
            [request] * concurrency, duration=duration, max_requests=max_requests
        )


async def drive_sql(
    dsn: str,
    sql: str,
    args: Sequence[tuple[Any, ...]],
    *,
    concurrency: int,
    duration: float,
    max_requests: int = MAX_REQUESTS,
) -> Measurement:
    """Run ``sql`` (a prepared statement, cycling ``args``) and encode its JSON text.

    Each client has a connection of its own, as a raw-SQL benchmark client does: no
    pool, no reset between requests — the best this statement can do.
    """
    import asyncpg

    connections = [await asyncpg.connect(dsn) for _ in range(concurrency)]
    try:
        n = len(args)

        def client(conn: asyncpg.Connection) -> Request:
            async def request(i: int) -> None:
                text = await conn.fetchval(sql, *args[i % n])
                if text is None:
                    raise RuntimeError("no row")
                text.encode()  # what a server does before writing the answer out

            return request

        return await _closed_loop(
            [client(conn) for conn in connections], duration=duration, max_requests=max_requests
        )
    finally:
        for conn in connections:
            await conn.close()
