"""A raw ASGI scope for ``POST /graphql``: for tests that drive the hub's ASGI app (or one
of its steps) with their own ``receive``/``send``."""

from __future__ import annotations

from typing import Any


def graphql_post_scope(
    headers: list[tuple[bytes, bytes]],
    *,
    client: tuple[str, int] = ("127.0.0.1", 50000),
    server: tuple[str, int] = ("127.0.0.1", 8000),
    state: dict[str, Any] | None = None,
) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": client,
        "server": server,
    }
    if state is not None:
        scope["state"] = state
    return scope
