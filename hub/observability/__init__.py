"""Metrics, structured logs, request ids (issue 7): STUB, to be written."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from hub.settings import Settings


class RequestContext:
    """Outermost middleware: request id, access log, request metrics."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


async def metrics_endpoint(request: Request) -> Response:
    return PlainTextResponse("")


def setup_observability(settings: Settings) -> None:
    """Configure logging and the database observers (once per process)."""


def uvicorn_log_config(settings: Settings) -> dict[str, Any] | None:
    from uvicorn.config import LOGGING_CONFIG

    return LOGGING_CONFIG
