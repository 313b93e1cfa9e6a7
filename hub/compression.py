"""gzip for the clients that ask for it, and only for answers worth compressing.

Starlette's ``GZipMiddleware`` does the compressing (plain ASGI; it leaves answers
below ``minimum_size`` alone and streams large ones). In front of it, one scan of the
request's headers: a client that does not accept gzip — most API clients and load
generators — goes straight to the application, with no responder object watching its
answer. (Starlette would add ``Vary: Accept-Encoding`` to such an answer; an identity
answer is valid for every client, so a shared cache serving it to anyone is harmless,
and every gzip answer still carries ``Vary``.)
"""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

ACCEPT_ENCODING = b"accept-encoding"


def accepts_gzip(scope: Scope) -> bool:
    for name, value in scope.get("headers") or ():
        if name == ACCEPT_ENCODING:
            return b"gzip" in value
    return False


class GzipWhenAccepted:
    """gzip (from ``minimum_size`` bytes, at ``level``) for clients that accept it."""

    def __init__(self, app: ASGIApp, *, minimum_size: int, level: int) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size, compresslevel=level)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and accepts_gzip(scope):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
