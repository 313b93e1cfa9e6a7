"""The fast lane: plain read queries answered before strawberry's HTTP view.

Strawberry's view (its request adapter, the content-type parsing through
``email.message``, the context with its DataLoaders, the response objects) is most of
what a trivial request costs, although a compiled read never reaches strawberry's
execution. :class:`FastLane` answers the plain case itself: ``POST`` with
``Content-Type: application/json`` or ``GET`` with ``?query=``, one operation whose
``query`` is a string (or a ``documentId`` names a registered trusted document),
``variables`` an object or absent, ``operationName`` a string or absent and no
persisted-query extension (Apollo's APQ stays on the full path). Which document runs is
:mod:`hub.documents_gate`'s, in either mode: the gate names it once per body and looks it
up once per request (a dict), so a retired document, an unknown id or an ad-hoc document
in trusted mode gets the full path's refusal, and usage is counted as there. A GET by
id gets the full path's caching headers (``by_id_headers``: public with a weak ETag and
304 for an anonymous viewer, private otherwise). With the viewer resolved the same way
(once per request, :mod:`hub.request_viewer`) it answers

- a current response-cache entry, as stored (the full path's cache key);
- a query the compiled read path answers entirely (:meth:`ReadPath.ready`: the same
  prepared document, limits, variable coercion and plan as the full path; every root
  field compiled, a root ``__typename`` a constant), through the very same
  :meth:`ResponseCache.execute` (replica routing, read tracking, the store on a miss,
  the lookup counted) and :meth:`ReadPath.answer` (the operation metrics),

with the headers and body the full path would send: byte for byte, which
``tests/test_fast_lane.py`` checks. :class:`FastLaneStep`, the app's innermost ASGI
step, asks the lane before Starlette's exception middleware and router (the request
id, access log, body limit, viewer, rate limit and gzip steps have run as for any
request); an endpoint mounted without it asks the lane itself.

Anything else — another media type, a batch, a body that does not parse or exceeds the
limits, a bad credential, a mutation, a parse or validation error, bad variables, a
field that falls back to the resolvers — goes down the full path unchanged: the
messages already received are replayed to it, so it reads the very same body and
answers with today's errors; a lookup that missed is left in the request's state for
the full path's cache (:class:`hub.cache.response.Looked`), so the store is asked once.
A compiled statement that fails (a timeout, a lost connection) is handed over the same
way, marked so that the full path goes straight to the resolvers instead of running
the statement again (its cache lookup is then counted twice).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any

import orjson
from graphql import GraphQLError
from starlette.datastructures import QueryParams
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.http import process_result
from strawberry.types import ExecutionResult

from hub.access.viewer import Viewer
from hub.cache import ResponseCache
from hub.documents_gate import (
    FAILED,
    PRIVATE,
    PUBLIC,
    DocumentGate,
    DocumentRefused,
    Known,
    Named,
    by_id_headers,
)
from hub.observability.metrics import (
    CACHE_LOOKUPS,
    GRAPHQL_OPERATIONS,
    GRAPHQL_SECONDS,
    labelled,
    operation_label,
)
from hub.request_viewer import read_viewer
from hub.runtime import response_cache_of
from hub.services.auth import AuthError
from hub.settings import Settings
from resolvers.input_values import measure

if TYPE_CHECKING:
    from resolvers.compiler.plan import Plan
    from schema.compiled import ReadPath

JSON = b"application/json"
GRAPHQL_RESPONSE_JSON = b"application/graphql-response+json"
IF_NONE_MATCH = b"if-none-match"
CONTENT_TYPE = b"content-type"
ACCEPT = b"accept"
CACHE_HEADER = b"x-linju-cache"
# Distinct Accept values whose negotiated Content-Type is remembered.
MAX_ACCEPT_VALUES = 64
# Where a lookup that missed is kept for the full path (hub.cache.response.Looked).
LOOKED = "linju.cache_looked"
# Set when the lane's compiled statement failed: the full path asks the resolvers.
COMPILED_FAILED = "linju.compiled_failed"
# Set when FastLaneStep asked the lane already: the endpoint goes down its full path.
LANE_TRIED = "linju.lane_tried"

# query (None: named by documentId), variables, operationName, documentId
Request = tuple[str | None, dict[str, Any] | None, str | None, str | None]


def _handover(messages: list[Message], receive: Receive) -> Receive:
    """What the full path must receive: the body read here first, if any."""
    return replaying(messages, receive) if messages else receive


def replaying(messages: list[Message], receive: Receive) -> Receive:
    """A receive that answers ``messages`` first, then asks ``receive``."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


class FastLaneStep:
    """The innermost ASGI step: a ``GET``/``POST`` to the GraphQL endpoint's path meets
    its fast lane here, before Starlette's exception middleware (a ``Request`` per
    request) and the router; what the lane does not answer goes on to them, marked so
    that the endpoint does not try the lane again. Every other step (request id, access
    log, body limit, viewer, rate limit, gzip) has run as for any request."""

    def __init__(self, app: ASGIApp, *, endpoint: Any, route: BaseRoute, path: str) -> None:
        self.app = app
        self.endpoint = endpoint  # its ``fast_lane`` is read per request (None: off)
        self.route = route
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane: FastLane | None = self.endpoint.fast_lane
        if lane is not None and scope["type"] == "http" and scope["method"] in ("GET", "POST"):
            path: str = scope["path"]
            root: str = scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root) :]
            if path == self.path:
                scope["route"] = self.route  # as the router sets it (the access log's route)
                replay = await lane.answer(scope, receive, send)
                if replay is None:
                    return
                scope.setdefault("state", {})[LANE_TRIED] = True
                receive = replay
        await self.app(scope, receive, send)


class _Resolvers(Exception):
    """The compiled statement failed: the request goes down the full path."""


_UNPLANNED: Any = object()
# Bodies (and query strings) up to this size are remembered with what was worked out
# for them; at most this many, and this many viewers each.
MAX_KNOWN_BYTES = 4096
MAX_KNOWN = 512
MAX_VIEWERS = 64
# Plans are kept with them up to this much SQL; larger ones are asked of the read
# path's plan cache each time (its budget bounds them).
MAX_KEPT_SQL = 16_384


class _Ready:
    """What one viewer's request with one body comes to: worked out on its first
    request, the same for every later one (the key and plan depend on nothing else)."""

    __slots__ = ("answer", "cache_key", "operations", "plan", "seconds", "viewer")

    def __init__(self, viewer: Viewer, cache_key: str | None) -> None:
        self.viewer = viewer  # held: its id keys this entry and cannot be reused
        self.cache_key = cache_key  # None: not one the response cache keeps
        self.plan: Plan | None = _UNPLANNED
        # A plan of constants only (``{ __typename }``), with the response cache off:
        # its answer's body as the full path made it, and its operation's metrics.
        self.answer: bytes | None = None
        self.operations: Any = None
        self.seconds: Any = None


class _Known:
    """One request body (or query string) that is a plain operation: its parts, and
    what they come to for each viewer that sent it."""

    __slots__ = ("named", "request", "viewers")

    def __init__(self, request: Request, named: Named | None) -> None:
        self.request = request  # (shared by the requests: read only, as the lane does)
        # The trusted document it names (hub.documents_gate): None when nothing is
        # looked up (an ad-hoc document in open mode).
        self.named = named
        self.viewers: dict[int, _Ready] = {}


class FastLane:
    """Answers plain cache hits and compiled reads of one GraphQL endpoint without its
    view."""

    def __init__(
        self,
        *,
        schema: Any,
        settings: Settings,
        read_path: ReadPath,
        documents: DocumentGate,
        negotiate: Callable[[str | None], str],
        encode: Callable[[object], bytes],
        max_depth: int,
        max_nodes: int,
    ) -> None:
        self.schema = schema
        self.settings = settings
        self.read_path = read_path
        self.documents = documents
        self.negotiate = negotiate
        self.encode = encode
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self._cache: ResponseCache | None = None
        # The Content-Type of the answer for each Accept value (clients send a few).
        self._content_types: dict[bytes | None, bytes] = {}
        # Bodies and query strings seen (None: not a plain operation).
        self._posted: dict[bytes, _Known | None] = {}
        self._gotten: dict[bytes, _Known | None] = {}
        self._bypassed = labelled(CACHE_LOOKUPS, "bypass")

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """None when the request was answered here; else the receive the full path must
        use (the original one, or one replaying what was read)."""
        if not self.settings.response_cache and self.read_path.mode != "compiled":
            return receive  # nothing this lane could answer
        method = scope["method"]
        if method not in ("GET", "POST"):
            return receive
        content_type: bytes | None = None
        accept: bytes | None = None
        if_none_match: bytes | None = None
        for name, value in scope["headers"]:
            if name == CONTENT_TYPE and content_type is None:
                content_type = value
            elif name == ACCEPT and accept is None:
                accept = value
            elif name == IF_NONE_MATCH and if_none_match is None:
                if_none_match = value
        if method == "POST":
            if content_type is None or _media_type(content_type) != JSON:
                return receive
        elif not scope.get("query_string") or (
            content_type is not None and content_type.startswith(b"multipart/")
        ):
            return receive
        # As get_context does, before the body is read (a bad credential is a 401 first).
        try:
            viewer = await read_viewer(scope).resolve(self.settings)
        except AuthError:
            return receive  # the full path answers 401 with the same refusal
        messages: list[Message] = []
        if method == "POST":
            body = await _read_body(receive, messages)
            if body is None:
                return replaying(messages, receive)
            known = self._known(self._posted, body, self._parse_post)
        else:
            known = self._known(self._gotten, scope["query_string"], self._parse_get)
        if known is None:
            return _handover(messages, receive)
        query, variables, operation_name, _ = known.request
        document: Known | None = None  # the registered document it runs, if any
        by_id = False
        if known.named is not None:
            try:
                resolved = await self.documents.settle(known.named, query=query, viewer=viewer)
            except DocumentRefused as refused:
                self.documents.count(None, failed=True)
                await self._refuse(send, accept, refused)
                return None
            query, document, by_id = resolved.query, resolved.known, resolved.by_id
        assert query is not None
        # A GET by document id: its caching headers (hub.documents_gate.by_id_headers).
        cacheable = by_id and method == "GET"
        state = scope.setdefault("state", {})
        cache = self._cache
        if cache is None or cache.closed:  # a test or a reload closes and replaces it
            cache = self._cache = response_cache_of(scope.get("app"), self.settings)
        ready = known.viewers.get(id(viewer))
        if ready is None or ready.viewer is not viewer:
            ready = self._ready(known, query, viewer, cache)
        if cache.enabled and ready.cache_key is not None:
            stored = await cache.stored_answer(
                ready.cache_key,
                viewer=viewer,
                keep=lambda looked: state.__setitem__(LOOKED, looked),
            )
            if stored is not None:
                self.documents.count(document, failed=False)
                if cacheable:
                    await self._send_by_id(send, accept, stored, b"hit", viewer, if_none_match)
                else:
                    await self._send(send, accept, stored, b"hit")
                return None
        read_path = self.read_path
        if read_path.mode != "compiled":
            return _handover(messages, receive)
        plan = ready.plan
        if plan is _UNPLANNED:
            plan = read_path.ready(query, variables, operation_name, viewer)
            if plan is None or sum(len(s.sql) for s in plan.statements) <= MAX_KEPT_SQL:
                ready.plan = plan  # (a large one stays within the plan cache's budget)
        if plan is None:
            return _handover(messages, receive)
        if ready.answer is not None and not cache.enabled and not cache.replica:
            # Constants: what the full path answers, counted as it counts it.
            started = time.perf_counter()
            self._bypassed.inc()
            if ready.operations is not None:
                ready.operations.inc()
                ready.seconds.observe(time.perf_counter() - started)
            self.documents.count(document, failed=False)
            if cacheable:
                await self._send_by_id(send, accept, ready.answer, b"bypass", viewer, if_none_match)
            else:
                await self._send(send, accept, ready.answer, b"bypass")
            return None

        text = query

        async def run() -> ExecutionResult:
            result = await read_path.answer(
                plan,
                query=text,
                variables=variables,
                operation_name=operation_name,
                viewer=viewer,
            )
            if result is None:
                raise _Resolvers
            return result

        outcomes: list[str] = []
        looked = state.pop(LOOKED, None)
        try:
            result = await cache.execute(
                run,
                schema=self.schema,
                query=query,
                operation_name=operation_name,
                variables=variables,
                viewer=viewer,
                outcome=outcomes.append,
                looked=looked,
            )
        except _Resolvers:
            state[COMPILED_FAILED] = True
            if looked is not None:
                state[LOOKED] = looked
            ready.plan = _UNPLANNED  # planned again next time (a plan may be replaced)
            return _handover(messages, receive)
        # What HubGraphQL's process_result and create_response make of an error-free result.
        body = self.encode(process_result(result))
        outcome = outcomes[-1]
        if outcome == "bypass" and all(s.constant is not None for s in plan.statements):
            self._remember_constant(ready, plan, body)
        failed = bool(result.errors)
        self.documents.count(document, failed=failed)
        if cacheable:
            await self._send_by_id(
                send, accept, body, outcome.encode(), viewer, if_none_match, failed=failed
            )
        else:
            await self._send(send, accept, body, outcome.encode())
        return None

    def _known(
        self,
        seen: dict[bytes, _Known | None],
        raw: bytes,
        parse: Callable[[bytes], Request | None],
    ) -> _Known | None:
        """The parts of this body or query string, parsed once while remembered."""
        known = seen.get(raw, _UNPLANNED)
        if known is not _UNPLANNED:
            return known  # type: ignore[no-any-return]
        request = parse(raw)
        made: _Known | None = None
        if request is not None:
            query, _, _, document_id = request
            # (a malformed documentId, or one with a query: the full path refuses it)
            with suppress(DocumentRefused):
                made = _Known(request, self.documents.name(query=query, document_id=document_id))
        if len(raw) <= MAX_KNOWN_BYTES:
            if len(seen) >= MAX_KNOWN:
                del seen[next(iter(seen))]  # the oldest first
            seen[raw] = made
        return made

    def _ready(self, known: _Known, query: str, viewer: Viewer, cache: ResponseCache) -> _Ready:
        _, variables, operation_name, _ = known.request
        key = (
            cache.read_key(
                schema=self.schema,
                query=query,
                operation_name=operation_name,
                variables=variables,
                viewer=viewer,
            )
            if cache.enabled
            else None
        )
        ready = _Ready(viewer, key)
        if len(known.viewers) >= MAX_VIEWERS:
            known.viewers.clear()
        known.viewers[id(viewer)] = ready
        return ready

    def _remember_constant(self, ready: _Ready, plan: Plan, body: bytes) -> None:
        """Keep the answer of a plan of constants, with the children of the metrics
        :meth:`ReadPath.answer` counts it in."""
        if self.read_path.settings.metrics:
            label = operation_label(plan.operation)
            ready.operations = labelled(GRAPHQL_OPERATIONS, label, "query")
            ready.seconds = labelled(GRAPHQL_SECONDS, label)
        ready.answer = body

    def _content_type(self, accept: bytes | None) -> bytes:
        """The answer's Content-Type for this Accept, as the full path negotiates it."""
        content_type = self._content_types.get(accept)
        if content_type is None:
            media_type = self.negotiate(accept.decode("latin-1") if accept is not None else None)
            content_type = f"{media_type}; charset=utf-8".encode()
            if len(self._content_types) < MAX_ACCEPT_VALUES:
                self._content_types[accept] = content_type
        return content_type

    async def _send(
        self,
        send: Send,
        accept: bytes | None,
        body: bytes,
        outcome: bytes | None,
        *,
        status: int = 200,
        extra: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        """An answer with the full path's headers, in its order."""
        content_type = self._content_types.get(accept) or self._content_type(accept)
        headers = (
            [
                (b"content-length", str(len(body)).encode()),
                (CONTENT_TYPE, content_type),
                (CACHE_HEADER, outcome),
            ]
            if outcome is not None
            else [(b"content-length", str(len(body)).encode()), (CONTENT_TYPE, content_type)]
        )
        if extra:
            headers += extra
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _send_by_id(
        self,
        send: Send,
        accept: bytes | None,
        body: bytes,
        outcome: bytes,
        viewer: Viewer,
        if_none_match: bytes | None,
        *,
        failed: bool = False,
    ) -> None:
        """The answer to a GET by document id, with the full path's caching headers (or
        its 304, which has no other header)."""
        answer = PRIVATE if viewer.is_authenticated else FAILED if failed else PUBLIC
        headers, current = by_id_headers(
            answer,
            status=200,
            body=body,
            if_none_match=if_none_match.decode("latin-1") if if_none_match is not None else "",
            max_age=self.settings.documents_max_age_seconds,
        )
        extra = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        if current:
            await send({"type": "http.response.start", "status": 304, "headers": extra})
            await send({"type": "http.response.body", "body": b""})
            return
        await self._send(send, accept, body, outcome, extra=extra)

    async def _refuse(self, send: Send, accept: bytes | None, refused: DocumentRefused) -> None:
        """A document the gate refuses, answered as the full path answers it: a request
        error (400 and no ``data`` under graphql-response+json)."""
        content_type = self._content_type(accept)
        error = GraphQLError(refused.message, extensions={"code": refused.code})
        data = process_result(ExecutionResult(data=None, errors=[error]))
        status = 200
        if content_type.startswith(GRAPHQL_RESPONSE_JSON):
            data.pop("data", None)
            status = 400
        await self._send(send, accept, self.encode(data), None, status=status)

    def _parse_post(self, body: bytes) -> Request | None:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(data, dict) or measure(
            data, "", max_depth=self.max_depth, max_nodes=self.max_nodes
        ):
            return None
        return _plain(data.get("query"), data.get("variables"), data)

    def _parse_get(self, query_string: bytes) -> Request | None:
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


def _plain(query: object, variables: object, data: Any) -> Request | None:
    """The request's parts when it is one plain operation (its own text, or a trusted
    document's ``documentId``), else None. Apollo's persisted queries go down the full
    path (hub.documents_gate)."""
    operation_name = data.get("operationName")
    extensions = data.get("extensions")
    document_id = data.get("documentId")
    if (
        not isinstance(query, str | None)
        or not isinstance(variables, dict | None)
        or not isinstance(operation_name, str | None)
        or not isinstance(extensions, dict | None)
        or (extensions is not None and "persistedQuery" in extensions)
        or not isinstance(document_id, str | None)
        or (query is None and document_id is None)
        or (document_id is None and "documentId" in data)  # null: the full path says so
    ):
        return None
    return query, variables, operation_name, document_id


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
