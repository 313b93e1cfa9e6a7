"""Request body size limit (``413``): by ``Content-Length``, and while reading a body
sent without one (chunked), so that no request makes the hub buffer more than the limit.

Two limits: file uploads (``multipart/form-data``: a roster import) may be as large as
``max_body_bytes``; any other body — a GraphQL request in JSON, a console form — only
``max_graphql_body_bytes``, which is far above any real query with its variables.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.limits.responses import send_refusal
from hub.settings import Settings

PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"


class BodyTooLarge(Exception):
    """Raised into the application when the streamed body passes the limit."""


def _message(limit: int) -> str:
    return f"请求体过大，上限为 {limit} 字节 (request body larger than {limit} bytes)"


def _body_headers(scope: Scope) -> tuple[bool, int | None]:
    """Whether the body is an upload (``multipart/form-data``), and its Content-Length
    (None when absent or not a number): the first of each header, in one scan."""
    upload: bool | None = None
    length: int | None = None
    seen_length = False
    for name, value in scope.get("headers", ()):
        if name == b"content-type" and upload is None:
            upload = value.split(b";", 1)[0].strip().lower() == b"multipart/form-data"
        elif name == b"content-length" and not seen_length:
            seen_length = True
            try:
                length = int(value)
            except ValueError:
                length = None
    return bool(upload), length


class BodySizeLimit:
    """Refuse uploads over ``settings.max_body_bytes`` and other bodies over
    ``settings.max_graphql_body_bytes`` (0: no limit)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.upload_limit = settings.max_body_bytes
        limits = [n for n in (settings.max_body_bytes, settings.max_graphql_body_bytes) if n > 0]
        self.request_limit = min(limits, default=0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        upload, length = _body_headers(scope)
        limit = self.upload_limit if upload else self.request_limit
        if scope["type"] != "http" or limit <= 0:
            await self.app(scope, receive, send)
            return
        if length is None:  # chunked: count while the application reads
            await _Guarded(self.app, limit, scope, receive, send).run()
        elif length > limit:
            await send_refusal(send, status=413, message=_message(limit), code=PAYLOAD_TOO_LARGE)
        else:  # the server delivers no more than Content-Length
            await self.app(scope, receive, send)


class _Guarded:
    """One request whose body is counted as the application reads it.

    Past the limit the application's read fails (``BodyTooLarge``); whatever it then
    answers is dropped and the client gets the 413 instead, unless a response had
    already started.
    """

    def __init__(self, app: ASGIApp, limit: int, scope: Scope, receive: Receive, send: Send):
        self.app, self.limit, self.scope = app, limit, scope
        self._receive, self._send = receive, send
        self.received = 0
        self.too_large = False
        self.started = False

    async def run(self) -> None:
        try:
            await self.app(self.scope, self.receive, self.send)
        except Exception:
            if not self.too_large:
                raise
        if self.too_large and not self.started:
            await send_refusal(
                self._send, status=413, message=_message(self.limit), code=PAYLOAD_TOO_LARGE
            )

    async def receive(self) -> Message:
        if self.too_large:
            raise BodyTooLarge
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                self.too_large = True
                raise BodyTooLarge
        return message

    async def send(self, message: Message) -> None:
        if self.too_large and not self.started:
            return  # the application's answer to the failed read; the 413 replaces it
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)
