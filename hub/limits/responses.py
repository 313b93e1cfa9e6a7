"""The refusals of the limits, shaped like GraphQL errors so that every client reads them."""

from __future__ import annotations

import orjson
from starlette.types import Send


async def send_refusal(
    send: Send,
    *,
    status: int,
    message: str,
    code: str,
    headers: dict[str, str] | None = None,
    prefix: str = "",
) -> None:
    """Send ``{"errors": [{"message", "extensions": {"code"}}]}`` with ``status``.

    ``prefix`` is ``"websocket."`` for a refused WebSocket handshake (the ASGI
    denial-response extension).
    """
    body = orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
    raw_headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        *((k.encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()),
    ]
    await send({"type": f"{prefix}http.response.start", "status": status, "headers": raw_headers})
    await send({"type": f"{prefix}http.response.body", "body": body})
