"""Profile one kind of request through the hub's ASGI app, in-process (cProfile).

    python -m bench.profile_request                       # 2,000 × { __typename }, ADMIN API token
    python -m bench.profile_request --path /livez --requests 5000
    python -m bench.profile_request --query '{ statistics { coverage { branches } } }' --cache
    python -m bench.profile_request --trusted --by-id --query 'query P($id: ID!) { … }' \
        --variables '{"id": "…"}'                        # a registered document, by documentId

No server and no load generator: the requests are ASGI calls made one after the other
on the app that ``hub.app.create_app`` builds (its lifespan included), on a fresh SQLite
database (or ``--database-url``). On a shared machine wall time says little; the
function and call counts per request are what to compare between two versions.
The summary lists the calls per request, the calls into the ORM and the functions with
the most own time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import orjson

Message = dict[str, Any]
ASGI = Callable[[dict[str, Any], Callable[[], Awaitable[Message]], Callable[[Message], Any]], Any]


class Lifespan:
    """Runs an ASGI app's lifespan (startup on enter, shutdown on exit)."""

    def __init__(self, app: ASGI) -> None:
        self.app = app
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.outbox: asyncio.Queue[Message] = asyncio.Queue()

    async def __aenter__(self) -> Lifespan:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self.task = asyncio.create_task(self.app(scope, self.inbox.get, self.outbox.put))
        await self.inbox.put({"type": "lifespan.startup"})
        answer = await self.outbox.get()
        if answer["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"startup failed: {answer}")
        self.state = scope["state"]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.inbox.put({"type": "lifespan.shutdown"})
        await self.outbox.get()
        await self.task


async def call(
    app: ASGI,
    *,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    state: dict[str, Any],
) -> tuple[int, bytes]:
    """One HTTP request through ``app``; its status and body."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": dict(state),  # as uvicorn does: a shallow copy of the lifespan state
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()  # a client that keeps the connection open
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def admin_token() -> str:
    from hub.enums import Role
    from hub.models import User
    from hub.services import auth

    user = await User.create(username="profile-admin", password_hash="-", role=Role.ADMIN)
    secret, _ = await auth.create_api_token(user=user, name="profile")
    return secret


async def register_document(text: str, settings: Any) -> None:
    """``text`` as a registered trusted document (client ``profile``); the app finds it
    on its first request."""
    from hub.services import documents
    from schema.build import build_schema
    from schema.internals import graphql_schema

    report = await documents.register(
        documents=[documents.Submitted(text=text, source="profile")],
        client_name="profile",
        schema=graphql_schema(build_schema(settings)),
        actor=None,
    )
    if not report.ok:
        raise RuntimeError(f"could not register the document: {report.problems}")


def leave_out_graphql(profiler: cProfile.Profile) -> None:
    """Pause ``profiler`` while the GraphQL endpoint runs: what is left is the server
    side around it (middleware, routing, probes)."""
    from hub.app.graphql_app import HubGraphQL

    endpoint = HubGraphQL.__call__

    async def paused(self: Any, scope: Any, receive: Any, send: Any) -> None:
        profiler.disable()
        try:
            await endpoint(self, scope, receive, send)
        finally:
            profiler.enable()

    HubGraphQL.__call__ = paused  # type: ignore[method-assign]


def memoise_bearers() -> None:
    """Resolve each Authorization value once (stands in for an in-process credential
    cache, to see what the rest of a request costs)."""
    from hub.services import auth

    resolve = auth.resolve_bearer
    known: dict[str | None, Any] = {}

    async def memoised(*, settings: Any, authorization: str | None) -> Any:
        if authorization not in known:
            known[authorization] = await resolve(settings=settings, authorization=authorization)
        return known[authorization]

    auth.resolve_bearer = memoised  # type: ignore[assignment]


async def profile(args: argparse.Namespace, database_url: str) -> str:
    os.environ.setdefault("LINJU_SECRET_KEY", "linju-profile-secret-key-of-32-bytes-at-least")
    from hub.app import create_app
    from hub.db import migrate
    from hub.settings import load_settings

    limit = 0 if args.no_limits else 1_000_000_000
    settings = replace(
        load_settings(),
        database_url=database_url,
        response_cache=args.cache,
        documents="trusted" if args.trusted else "open",
        rate_limit_address_per_minute=limit,
        rate_limit_token_per_minute=limit,
        log_level="WARNING",
    )
    await migrate(settings)
    app = create_app(settings)
    if args.cached_auth:
        memoise_bearers()
    async with Lifespan(app) as life:
        token = await admin_token()
        if args.by_id:
            await register_document(args.query, settings)
        headers = [(b"host", b"hub"), (b"user-agent", b"profile")]
        if args.path == "/graphql":
            method = "POST"
            payload: dict[str, Any] = {"query": args.query}
            if args.by_id:
                from hub.services.documents import PREFIX, document_hash

                payload = {"documentId": f"{PREFIX}{document_hash(args.query)}"}
            if args.variables:
                payload["variables"] = orjson.loads(args.variables)
            body = orjson.dumps(payload)
            headers += [
                (b"content-type", b"application/json"),
                (b"accept", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ]
            if not args.anonymous:
                headers.append((b"authorization", f"Bearer {token}".encode()))
        else:
            method, body = "GET", b""
        if args.gzip:
            headers.append((b"accept-encoding", b"gzip, deflate"))

        async def one() -> None:
            status, answer = await call(
                app, method=method, path=args.path, headers=headers, body=body, state=life.state
            )
            if status != 200:
                raise RuntimeError(f"{args.path} answered {status}: {answer[:300]!r}")

        for _ in range(args.warmup):
            await one()
        profiler = cProfile.Profile()
        if args.outside_graphql:
            leave_out_graphql(profiler)
        profiler.enable()
        for _ in range(args.requests):
            await one()
        profiler.disable()
    return summary(profiler, args.requests, args.top)


def summary(profiler: cProfile.Profile, requests: int, top: int) -> str:
    stats = pstats.Stats(profiler)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    functions = len(raw)
    calls = sum(entry[1] for entry in raw.values())
    orm = sum(entry[1] for (path, _, _), entry in raw.items() if "/tortoise/" in path)
    out = io.StringIO()
    out.write(
        f"{requests} requests: {calls:,} function calls ({calls / requests:,.0f} per request), "
        f"{functions:,} distinct functions, {orm:,} calls into tortoise "
        f"({orm / requests:,.1f} per request)\n"
    )
    stats.stream = out  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--path", default="/graphql")
    parser.add_argument("--query", default="{ __typename }")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--cache", action="store_true", help="leave the response cache on")
    parser.add_argument(
        "--gzip", action="store_true", help="accept gzip (wrk and bench-peer do not)"
    )
    parser.add_argument("--anonymous", action="store_true", help="send no token")
    parser.add_argument(
        "--no-limits", action="store_true", help="rate limits off (as bench-peer runs the hub)"
    )
    parser.add_argument(
        "--cached-auth",
        action="store_true",
        help="memoise resolve_bearer (what an in-process credential cache makes it cost)",
    )
    parser.add_argument(
        "--outside-graphql",
        action="store_true",
        help="profile only what runs around the GraphQL endpoint (middleware, routing)",
    )
    parser.add_argument(
        "--trusted", action="store_true", help="LINJU_DOCUMENTS=trusted (registered documents only)"
    )
    parser.add_argument(
        "--by-id",
        action="store_true",
        help="register --query as a trusted document and send its documentId instead",
    )
    parser.add_argument("--variables", default=None, help="the request's variables (JSON)")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    if args.database_url:
        print(asyncio.run(profile(args, args.database_url)))
        return
    with tempfile.TemporaryDirectory(prefix="linju-profile-") as folder:
        print(asyncio.run(profile(args, f"sqlite://{folder}/profile.db")))


if __name__ == "__main__":
    main()
