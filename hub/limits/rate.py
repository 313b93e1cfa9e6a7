"""Rate limits per access token and per client address (``429`` with ``Retry-After``).

Every request to the API (``/graphql``, over HTTP or a WebSocket handshake) and to the
console (``/admin``) counts against its client address; an HTTP request carrying a
bearer token also counts against that token (by its SHA-256: tokens never reach the
store). WebSocket clients send their token in ``connection_init``, after the
handshake, so their connects count per address only. Health, metrics and static
files are never limited: probes and scrapers must get through an overload.

The address is ``scope["client"]``: uvicorn has already replaced it with the
``X-Forwarded-For`` client when the request came through a trusted proxy
(``LINJU_FORWARDED_ALLOW_IPS``).

Counters are shared through Redis when ``LINJU_REDIS_URL`` is set. If Redis fails,
requests are let through (a warning is logged now and then): a limit must not take
the hub down with it.
"""

from __future__ import annotations

import asyncio
import logging
import time

from redis.exceptions import RedisError
from starlette.types import ASGIApp, Receive, Scope, Send

from hub.limits.counters import SCOPE_KEY, MemoryCounter, RedisCounter, WindowCounter
from hub.limits.responses import send_refusal
from hub.observability.metrics import RATE_LIMITED
from hub.request_viewer import read_viewer
from hub.settings import Settings

logger = logging.getLogger("linju.limits")

WINDOW_SECONDS = 60.0
REDIS_TIMEOUT = 1.0  # seconds a counter may take before the request goes through unlimited
WARN_EVERY = 60.0  # seconds between warnings about an unreachable Redis
LIMITED_PATHS = ("/graphql", "/admin")
RATE_LIMITED_CODE = "RATE_LIMITED"
MESSAGES = {
    "token": "此令牌请求过于频繁，请 {seconds} 秒后再试 "
    "(too many requests with this token: retry after {seconds} s)",
    "address": "此地址请求过于频繁，请 {seconds} 秒后再试 "
    "(too many requests from this address: retry after {seconds} s)",
}


def route_path(scope: Scope) -> str:
    """The path below the hub's mount point (uvicorn includes ``root_path`` in ``path``)."""
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


_LIMITED_PREFIXES = tuple(f"{p}/" for p in LIMITED_PATHS)


def is_limited(path: str) -> bool:
    return path in LIMITED_PATHS or path.startswith(_LIMITED_PREFIXES)


def bearer_token(scope: Scope) -> str | None:
    """The bearer token of a request's headers (the limiter itself uses
    :attr:`hub.request_viewer.RequestViewer.token_key`, read once per request)."""
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def address_key(scope: Scope) -> str | None:
    """The key a client address is counted under."""
    client = scope.get("client")
    return f"a:{client[0]}" if client else None


class Windows:
    """The per-address and per-token windows: their limits and one counter, shared by
    HTTP requests and operations over WebSockets (``hub.limits.sockets``)."""

    def __init__(self, settings: Settings) -> None:
        self.limits: dict[str, int] = {
            "address": settings.rate_limit_address_per_minute,
            "token": settings.rate_limit_token_per_minute,
        }
        self.counter: WindowCounter = (
            RedisCounter(settings.redis_url, WINDOW_SECONDS)
            if settings.redis_url
            else MemoryCounter(WINDOW_SECONDS)
        )
        self._warned_at = -WARN_EVERY

    async def exceeded(self, keys: dict[str, str]) -> tuple[str, int] | None:
        """Count one hit under each of ``keys`` (limit → key): (the limit exceeded,
        seconds until its window ends), or None to go on — also while Redis fails."""
        if not keys:
            return None
        if isinstance(self.counter, MemoryCounter):  # no I/O: nothing to time out
            hits = await self.counter.hit(list(keys.values()))
        else:
            try:
                async with asyncio.timeout(REDIS_TIMEOUT):
                    hits = await self.counter.hit(list(keys.values()))
            except (RedisError, OSError, TimeoutError) as exc:
                self._warn(exc)
                return None
        for limit, hit in zip(keys, hits, strict=True):
            if hit.count > self.limits[limit]:
                return limit, hit.retry_after
        return None

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY:
            self._warned_at = now
            logger.warning(
                "Rate limits are off while Redis fails (requests and socket operations go "
                "through): %s: %s",
                type(exc).__name__,
                exc,
            )


class RateLimit:
    """Refuse with ``429`` the requests over the per-token or per-address limit."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.windows = Windows(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[SCOPE_KEY] = self.windows  # operations over a WebSocket count here too
        if scope["type"] not in ("http", "websocket") or not is_limited(route_path(scope)):
            await self.app(scope, receive, send)
            return
        refusal = await self._refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        limit, retry_after = refusal
        RATE_LIMITED.labels(limit=limit).inc()
        await self._refuse(scope, receive, send, limit, retry_after)

    async def _refusal(self, scope: Scope) -> tuple[str, int] | None:
        """(the limit exceeded, seconds until its window ends), or None to go on."""
        keys: dict[str, str] = {}
        address = address_key(scope)
        if self.windows.limits["address"] > 0 and address:
            keys["address"] = address
        if self.windows.limits["token"] > 0 and scope["type"] == "http":
            # The header as the request's viewer step read it: the digest is made once.
            token_key = read_viewer(scope).token_key
            if token_key is not None:
                keys["token"] = f"t:{token_key}"
        return await self.windows.exceeded(keys)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, limit: str, retry_after: int
    ) -> None:
        message = MESSAGES[limit].format(seconds=retry_after)
        headers = {"retry-after": str(retry_after)}
        if scope["type"] == "http":
            await send_refusal(
                send, status=429, message=message, code=RATE_LIMITED_CODE, headers=headers
            )
            return
        await receive()  # websocket.connect
        if "websocket.http.response" in scope.get("extensions", {}):
            await send_refusal(
                send,
                status=429,
                message=message,
                code=RATE_LIMITED_CODE,
                headers=headers,
                prefix="websocket.",
            )
        else:  # the server cannot send a response: a refused handshake (403)
            await send({"type": "websocket.close", "code": 1008, "reason": "rate limited"})
