"""Round trips and time per compiled point query (bench-peer's q2), with asyncpg's own
pool reset on every release and with the hub's (hub.db_engines.asyncpg: only when the
session may hold state).

    python -m bench.pool_reset --requests 3000 --concurrency 8

In-process (the app's lifespan and ASGI calls, no server, no load generator) on a fresh
PostgreSQL database with the demo data. The statements counted are those sent on the
pool's connections; on a shared machine the times are indicative, the counts exact.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import asyncpg
import orjson

from bench.database import DEFAULT_SERVER, create, drop
from bench.profile_request import Lifespan, call
from hub.db_engines.asyncpg import HubConnection, ObservedAsyncpgClient
from schema.node import encode_global_id

POINT = """query Point($id: ID!) {
  member: node(id: $id) {
    ... on Member {
      name category phone
      branch { name community { name street { name } } }
    }
  }
}"""

SENT: Counter[str] = Counter()


def count(method: Callable[..., Any]) -> Callable[..., Any]:
    async def counted(self: HubConnection, query: str, *args: Any, **kwargs: Any) -> Any:
        SENT["reset" if "RESET ALL" in query else "statement"] += 1
        return await method(self, query, *args, **kwargs)

    return counted


def count_statements() -> None:
    for name in ("execute", "fetch", "fetchrow", "fetchval", "executemany"):
        setattr(HubConnection, name, count(getattr(HubConnection, name)))


async def asyncpg_default_pool(self: ObservedAsyncpgClient, **kwargs: Any) -> asyncpg.Pool:
    return await asyncpg.create_pool(None, **kwargs)


async def run(mode: str, url: str, token: str, ids: list[int], args: argparse.Namespace) -> str:
    from hub.app import create_app
    from hub.settings import load_settings

    settings = replace(
        load_settings(),
        database_url=url,
        response_cache=False,
        rate_limit_address_per_minute=0,
        rate_limit_token_per_minute=0,
        log_level="WARNING",
    )
    original = ObservedAsyncpgClient.create_pool
    if mode == "asyncpg":
        ObservedAsyncpgClient.create_pool = asyncpg_default_pool  # type: ignore[method-assign]
    try:
        app = create_app(settings)
        async with Lifespan(app) as life:
            headers = [
                (b"host", b"hub"),
                (b"content-type", b"application/json"),
                (b"authorization", f"Bearer {token}".encode()),
            ]

            async def one(n: int) -> None:
                gid = encode_global_id("Member", ids[n % len(ids)])
                body = orjson.dumps({"query": POINT, "variables": {"id": gid}})
                status, answer = await call(
                    app,
                    method="POST",
                    path="/graphql",
                    headers=[*headers, (b"content-length", str(len(body)).encode())],
                    body=body,
                    state=life.state,
                )
                if status != 200 or b'"errors"' in answer:
                    raise RuntimeError(f"point query answered {status}: {answer[:300]!r}")

            async def worker(start: int) -> None:
                for n in range(start, args.requests, args.concurrency):
                    await one(n)

            for n in range(args.warmup):
                await one(n)
            SENT.clear()
            started = time.perf_counter()
            await asyncio.gather(*(worker(i) for i in range(args.concurrency)))
            seconds = time.perf_counter() - started
    finally:
        ObservedAsyncpgClient.create_pool = original  # type: ignore[method-assign]
    per = {kind: SENT[kind] / args.requests for kind in ("statement", "reset")}
    return (
        f"| {mode} | {args.requests / seconds:,.0f} | {per['statement']:.2f} | "
        f"{per['reset']:.2f} | {per['statement'] + per['reset']:.2f} |"
    )


async def main(args: argparse.Namespace) -> None:
    os.environ.setdefault("LINJU_SECRET_KEY", "linju-bench-secret-key-of-at-least-32-bytes")
    database = await create(args.server, scale=1)
    try:
        count_statements()
        rows = []
        for _ in range(args.rounds):
            for mode in ("asyncpg", "hub"):
                rows.append(
                    await run(mode, database.url, database.token, list(database.member_ids), args)
                )
        print("| pool reset | req/s | statements / request | resets / request | round trips |")
        print("|---|---:|---:|---:|---:|")
        print("\n".join(rows))
    finally:
        await drop(database)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", default=DEFAULT_SERVER)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    asyncio.run(main(parser.parse_args()))
