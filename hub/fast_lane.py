"""The fast lane: a response-cache hit answered before strawberry's HTTP view.

A hit on the full path still pays for strawberry's view (its request adapter, the
content-type parsing through ``email.message``, the context) although nothing is
executed. :class:`FastLane` answers the plain case itself: ``POST`` with
``Content-Type: application/json`` or ``GET`` with ``?query=``, one operation whose
``query`` is a string, ``variables`` an object or absent, ``operationName`` a string or
absent and no persisted-query extension. It resolves the viewer the same way (once per
request, :mod:`hub.request_viewer`), computes the same cache key and, on a current
entry, writes the stored body with the headers the full path would send.

Anything else — another media type, a batch, a body that does not parse or exceeds the
limits, a bad credential, a mutation, a miss — goes down the full path unchanged: the
messages already received are replayed to it, so it reads the very same body and
answers with today's errors; a miss leaves its lookup in the request's state for the
full path's cache (:class:`hub.cache.response.Looked`), so the store is asked once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from starlette.datastructures import QueryParams
from starlette.types import Message, Receive, Scope, Send

from hub.cache import response_cache
from hub.request_viewer import read_viewer
from hub.settings import Settings
from schema.input_values import measure

JSON = b"application/json"
CONTENT_TYPE = b"content-type"
ACCEPT = b"accept"
# Where a lookup that missed is kept for the full path (hub.cache.response.Looked).
LOOKED = "linju.cache_looked"


def replaying(messages: list[Message], receive: Receive) -> Receive:
    """A receive that answers ``messages`` first, then asks ``receive``."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


class FastLane:
    """Answers plain response-cache hits of one GraphQL endpoint without its view."""

    def __init__(
        self,
        *,
        schema: Any,
        settings: Settings,
        negotiate: Callable[[str | None], str],
        max_depth: int,
        max_nodes: int,
    ) -> None:
        self.schema = schema
        self.settings = settings
        self.negotiate = negotiate
        self.max_depth = max_depth
        self.max_nodes = max_nodes

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """None when the request was answered here; else the receive the full path must
        use (the original one, or one replaying what was read)."""
        if not self.settings.response_cache:
            return receive
        method = scope["method"]
        if method not in ("GET", "POST"):
            return receive
        content_type: bytes | None = None
        accept: bytes | None = None
        for name, value in scope["headers"]:
            if name == CONTENT_TYPE and content_type is None:
                content_type = value
            elif name == ACCEPT and accept is None:
                accept = value
        if method == "POST":
            if content_type is None or _media_type(content_type) != JSON:
                return receive
        elif not scope.get("query_string") or (
            content_type is not None and content_type.startswith(b"multipart/")
        ):
            return receive
        # As get_context does, before the body is read (a bad credential is a 401 first).
        # Imported here: the model layer is loaded after this module.
        from hub.services import auth

        try:
            viewer = await read_viewer(scope).resolve(self.settings)
        except auth.AuthError:
            return receive  # the full path answers 401 with the same refusal
        messages: list[Message] = []
        if method == "POST":
            body = await _read_body(receive, messages)
            if body is None:
                return replaying(messages, receive)
            fallback = replaying(messages, receive)
            request = self._parse_post(body)
        else:
            fallback = receive
            request = self._parse_get(scope["query_string"])
        if request is None:
            return fallback
        query, variables, operation_name = request
        state = scope.setdefault("state", {})
        # Looked up per request: a test or a reload may close and replace the cache.
        answer = await response_cache(self.settings).cached_answer(
            schema=self.schema,
            query=query,
            operation_name=operation_name,
            variables=variables,
            viewer=viewer,
            keep=lambda looked: state.__setitem__(LOOKED, looked),
        )
        if answer is None:
            return fallback
        media_type = self.negotiate(accept.decode("latin-1") if accept is not None else None)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(answer)).encode()),
                    (CONTENT_TYPE, f"{media_type}; charset=utf-8".encode()),
                    (b"x-linju-cache", b"hit"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": answer})
        return None

    def _parse_post(self, body: bytes) -> tuple[str, dict[str, Any] | None, str | None] | None:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(data, dict) or measure(
            data, "", max_depth=self.max_depth, max_nodes=self.max_nodes
        ):
            return None
        return _plain(data.get("query"), data.get("variables"), data)

    def _parse_get(
        self, query_string: bytes
    ) -> tuple[str, dict[str, Any] | None, str | None] | None:
        params = QueryParams(query_string)
        variables: Any = None
        if "variables" in params:
            raw = params["variables"]
            if not raw:
                return None
            try:
                variables = orjson.loads(raw)
            except orjson.JSONDecodeError:
                return None
            if not isinstance(variables, dict) or measure(
                variables, "", max_depth=self.max_depth, max_nodes=self.max_nodes
            ):
                return None
        if "extensions" in params:
            return None
        return _plain(params.get("query"), variables, params)


def _plain(
    query: object, variables: object, data: Any
) -> tuple[str, dict[str, Any] | None, str | None] | None:
    """The request's parts when it is one plain operation, else None."""
    operation_name = data.get("operationName")
    extensions = data.get("extensions")
    if (
        not isinstance(query, str)
        or not isinstance(variables, dict | None)
        or not isinstance(operation_name, str | None)
        or not isinstance(extensions, dict | None)
        or (extensions is not None and "persistedQuery" in extensions)
    ):
        return None
    return query, variables, operation_name


def _media_type(content_type: bytes) -> bytes:
    return content_type.partition(b";")[0].strip().lower()


async def _read_body(receive: Receive, messages: list[Message]) -> bytes | None:
    """The whole body (the body limit's receive raises when it is too large); None when
    the client went away first. Every message is kept in ``messages`` for a replay."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
