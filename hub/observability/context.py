"""Request ids and the access log: the outermost middleware.

Every HTTP request and WebSocket connection gets an id: the caller's ``X-Request-ID``
when it is sane (a load balancer's or a client's), else a new one. It is returned as
``X-Request-ID``, set on every log record made while the request runs, and put in
masked GraphQL errors, so that a user's screenshot leads to the log lines.
"""

from __future__ import annotations

import logging
import os
import random
import re
import time
from contextvars import ContextVar
from typing import Protocol

from starlette.requests import ClientDisconnect
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.observability.metrics import HTTP_REQUESTS, HTTP_SECONDS, labelled
from hub.settings import Settings

HEADER = b"x-request-id"
# Long enough not to collide by chance, short and plain enough to log as it is.
_SANE_ID = re.compile(rb"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Probes (load balancer, scraper) succeed every few seconds: logged at DEBUG.
QUIET_ROUTES = frozenset({"/healthz", "/livez", "/readyz", "/metrics"})
CLIENT_CLOSED = 499  # no response was sent: the client went away first (nginx's code)

REQUEST_ID: ContextVar[str | None] = ContextVar("linju_request_id", default=None)

# Where the request's viewer step (hub.request_viewer, above this module) keeps what it
# read in the ASGI state. The key lives here, below both, so that the access log can name
# the account without importing the auth side (which imports the caches, which count
# their lookups here).
VIEWER_STATE_KEY = "linju.viewer"


class _Account(Protocol):
    @property
    def user_id(self) -> int | None: ...


class _KeptViewer(Protocol):
    """What the access log reads of hub.request_viewer.RequestViewer: no lookup."""

    @property
    def viewer(self) -> _Account | None: ...


access_logger = logging.getLogger("linju.access")
logger = logging.getLogger("linju.http")


def current_request_id() -> str | None:
    """The id of the request being served, or None outside a request."""
    return REQUEST_ID.get()


# Ids must be unique, not secret: drawn from a generator seeded from os.urandom once
# (and again in a forked child), not a system call per request as uuid4 makes.
_ids = random.Random()
os.register_at_fork(after_in_child=_ids.seed)


def new_request_id() -> str:
    """32 hexadecimal digits, like ``uuid4().hex``."""
    return f"{_ids.getrandbits(128):032x}"


def incoming_request_id(scope: Scope) -> str | None:
    """The caller's X-Request-ID if it is 8–128 letters, digits or ``._:-``."""
    for name, value in scope.get("headers") or ():
        if name == HEADER:
            return value.decode("ascii") if _SANE_ID.fullmatch(value) else None
    return None


def route_template(scope: Scope) -> str:
    """The path template of the route serving ``scope`` (bounded, unlike raw paths)."""
    route = scope.get("route")
    if route is None:  # answered before routing (e.g. 413, 429): find where it was going
        router = getattr(scope.get("app"), "router", None)
        partial = None
        for candidate in getattr(router, "routes", ()):
            match, _ = candidate.matches(scope)
            if match == Match.FULL:
                route = candidate
                break
            if match == Match.PARTIAL and partial is None:
                partial = candidate
        route = route or partial
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else "unmatched"


class RequestContext:
    """Outermost middleware: request id, access log, request metrics."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(scope) or new_request_id()
        token = REQUEST_ID.set(request_id)
        try:
            if scope["type"] == "http":
                await self._http(scope, receive, send, request_id)
            else:
                await self.app(scope, receive, _with_id(send, request_id, "websocket.accept"))
        finally:
            REQUEST_ID.reset(token)

    async def _http(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        started = time.perf_counter()
        status = 0
        header = (HEADER, request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = _tagged(message, header)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:
            # The client left while its body was read (a load generator stopping, a tab
            # closed): nobody to answer and nothing wrong here; counted as 499.
            status = 0
        except Exception:
            if status or self.settings.debug:
                status = status or 500
                raise  # too late for an answer of ours (or the debug page wants it)
            status = 500
            logger.exception("unhandled error in %s %s", scope["method"], scope["path"])
            await _internal_error(send_with_id, request_id)
        finally:
            self._record(scope, status or CLIENT_CLOSED, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = route_template(scope)
        method = scope["method"] if scope["method"] in METHODS else "other"
        _series(method, route, status).observe(seconds)
        level = logging.DEBUG if route in QUIET_ROUTES and status < 400 else logging.INFO
        if not access_logger.isEnabledFor(level):
            return  # a busy hub logging at WARNING builds no record per request
        client = scope.get("client")
        extra: dict[str, object] = {
            "method": method,
            "path": scope["path"],
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
            "client": client[0] if client else None,
        }
        # The account the request's viewer step resolved (hub.request_viewer), if any.
        state = scope.get("state")
        kept: _KeptViewer | None = state.get(VIEWER_STATE_KEY) if state is not None else None
        viewer = kept.viewer if kept is not None else None
        if viewer is not None and viewer.user_id is not None:
            extra["user_id"] = viewer.user_id
        # The path without its query string: GET queries may carry personal data.
        access_logger.log(
            level,
            "%s %s %d %.1f ms %s",
            method,
            scope["path"],
            status,
            seconds * 1000,
            client[0] if client else "-",
            extra=extra,
        )


class _Series:
    """The metric children of one (method, route, status): looked up once, not per request."""

    __slots__ = ("requests", "seconds")

    def __init__(self, method: str, route: str, status: int) -> None:
        self.requests = labelled(HTTP_REQUESTS, method, route, str(status))
        self.seconds = labelled(HTTP_SECONDS, route)

    def observe(self, seconds: float) -> None:
        self.requests.inc()
        self.seconds.observe(seconds)


# Bounded: methods, route templates and status codes are each a small set.
_SERIES: dict[tuple[str, str, int], _Series] = {}


def _series(method: str, route: str, status: int) -> _Series:
    key = (method, route, status)
    series = _SERIES.get(key)
    if series is None:
        series = _SERIES[key] = _Series(method, route, status)
    return series


def _tagged(message: Message, header: tuple[bytes, bytes]) -> Message:
    """A response start with our X-Request-ID (replacing one the application set)."""
    headers = [h for h in message.get("headers") or () if h[0].lower() != HEADER]
    headers.append(header)
    return {**message, "headers": headers}


def _with_id(send: Send, request_id: str, start: str) -> Send:
    header = (HEADER, request_id.encode("ascii"))

    async def wrapped(message: Message) -> None:
        if message["type"] == start:
            message = _tagged(message, header)
        await send(message)

    return wrapped


async def _internal_error(send: Send, request_id: str) -> None:
    body = f"Internal server error (request id {request_id})".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
