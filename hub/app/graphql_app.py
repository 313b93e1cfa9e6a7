"""The /graphql endpoint: strawberry's ASGI app, speaking GraphQL over HTTP properly.

What this adds to strawberry's own Starlette app (checked against strawberry 0.341):

- content negotiation: ``application/graphql-response+json`` when the client's Accept
  asks for it, in which case a request that fails to parse or validate gets 400 and no
  ``data`` entry; ``application/json`` (legacy, always 200) otherwise;
- mutations over GET get 405 with ``Allow: POST``; other methods 405 with ``Allow``;
  subscriptions over plain HTTP get 400 (they are served over WebSocket);
- every request error (malformed JSON, no query, wrong content type) is a JSON body
  ``{"errors": [{"message": ...}]}``, never a plain-text or Python message;
- the IDE page is our own template loading GraphiQL from /static, never from a CDN;
- the body is read strictly (orjson: UTF-8 only, nesting and size bounded, see
  ``resolvers.input_values``); anything malformed, multipart parts included, is a 400
  with code ``BAD_USER_INPUT``, never a 500;
- file uploads follow the GraphQL multipart request spec (``importMembers``). Such a
  request is a "simple" cross-site request a browser sends without asking, so it must
  carry a header a plain form cannot set (``GraphQL-Preflight``,
  ``Apollo-Require-Preflight`` or ``X-Apollo-Operation-Name``): CSRF protection;
- WebSockets (graphql-transport-ws) authenticate with the ``connection_init`` payload
  ``{"Authorization": "Bearer …"}`` (browsers cannot set headers on a WebSocket); a bad
  token closes the connection with 4403. Messages are text frames; the credential is
  checked again before every operation and event, and operations obey the rate limits
  (hub.app.sockets).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.file_uploads.utils import replace_placeholders_with_files
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.http.base import BaseRequestProtocol
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from hub import assets
from hub.access import Viewer
from hub.app.fast_lane import COMPILED_FAILED, LANE_TRIED, LOOKED, FastLane
from hub.app.sockets import HubTransportWSHandler, SocketSession, TextWebSocketAdapter
from hub.documents_gate import (
    FAILED,
    PRIVATE,
    PUBLIC,
    DocumentGate,
    DocumentRefused,
    by_id_headers,
)
from hub.enums import Role
from hub.limits.sockets import AccountCaps, SocketRateLimit
from hub.request_viewer import read_viewer
from hub.runtime import response_cache_of
from hub.services import auth
from hub.settings import Settings
from resolvers.context import Context, build_context
from resolvers.errors import ErrorCode
from resolvers.input_values import MAX_INPUT_DEPTH, MAX_INPUT_NODES, measure
from resolvers.loaders import DataLoaders
from schema.compiled import ReadPath

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
# Says how the response cache answered: hit, stored, miss or bypass.
CACHE_HEADER = "x-linju-cache"

SUBSCRIPTIONS_OVER_HTTP = (
    "Subscriptions are served over WebSocket (graphql-transport-ws) at this URL, not plain HTTP"
)

# A body holds one operation: its variables' own limits (checked again, with their
# paths, for every transport by schema.extensions) plus the few fields around them.
MAX_BODY_DEPTH = MAX_INPUT_DEPTH + 2
MAX_BODY_NODES = MAX_INPUT_NODES + 100
MULTIPART_SHAPE = (
    "multipart 请求格式错误 (malformed multipart request: `operations` must be a JSON object "
    "and `map` an object of file names to lists of paths such as variables.file)"
)

# on_ws_connect's answer for an ack without payload (strawberry types UNSET as Any).
NO_ACK_PAYLOAD: UnsetType = UNSET
TEMPLATES = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")

# Headers that make a browser send a CORS preflight: one must come with an upload.
PREFLIGHT_HEADERS = ("graphql-preflight", "apollo-require-preflight", "x-apollo-operation-name")
UPLOAD_NEEDS_PREFLIGHT = (
    "File uploads must carry a GraphQL-Preflight: 1 header (or Apollo-Require-Preflight), "
    "a protection against cross-site request forgery"
)


@dataclass
class SocketContext(Context):
    """The context of a WebSocket connection: strawberry stores the ``connection_init``
    payload here; the viewer is settled from it when the connection is acknowledged."""

    connection_params: dict[str, Any] | None = None
    handshake_error: str | None = None
    # The handshake's own Authorization header, used when connection_init has none.
    handshake_authorization: str | None = None
    session: SocketSession | None = None


class MethodNotAllowed(HTTPException):
    """405, with the methods that would have worked."""

    def __init__(self, reason: str, allow: str) -> None:
        super().__init__(405, reason)
        self.allow = allow


def _accept_quality(accept: str) -> dict[str, float]:
    """Media ranges of an Accept header with their q-values."""
    qualities: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if not media:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.lower()
        qualities[media] = max(q, qualities.get(media, 0.0))
    return qualities


def negotiate(accept: str | None) -> str:
    """The media type to answer with: graphql-response+json only when explicitly asked."""
    if not accept:
        return JSON
    qualities = _accept_quality(accept)
    wanted = qualities.get(GRAPHQL_RESPONSE_JSON, 0.0)
    legacy = max(qualities.get(m, 0.0) for m in (JSON, "application/*", "*/*"))
    return GRAPHQL_RESPONSE_JSON if wanted > 0 and wanted >= legacy else JSON


def is_request_error(result: ExecutionResult) -> bool:
    """True when the request never reached execution (parse, validation, variables).

    Strawberry returns a ``PreExecutionError`` for parse and validation failures;
    graphql-core reports bad variables as a result with no data and errors that have
    no path. An error raised by a resolver always has a path.
    """
    if isinstance(result, PreExecutionError):
        return True
    errors = result.errors or []
    return result.data is None and bool(errors) and all(err.path is None for err in errors)


class Unauthenticated(HTTPException):
    """401: a bearer token that is malformed, expired, revoked or tampered with."""

    def __init__(self, reason: str) -> None:
        super().__init__(401, reason)


class BadRequest(HTTPException):
    """400 for a request the hub cannot read; its error carries code BAD_USER_INPUT."""

    def __init__(self, reason: str) -> None:
        super().__init__(400, reason)


def _shown(value: str) -> str:
    """A client's value quoted in a message, cut short."""
    return repr(value if len(value) <= 80 else f"{value[:80]}…")


def _placeholder_exists(operations: dict[str, Any], path: str) -> bool:
    """Whether a multipart ``map`` path (``variables.file``, ``variables.files.0``)
    names a value inside the operation's variables that a file can replace."""
    head, *keys = path.split(".")
    if head != "variables" or not keys:
        return False
    target = operations.get("variables")
    for key in keys:
        if isinstance(target, dict) and key in target:
            target = target[key]
        elif isinstance(target, list) and key.isascii() and key.isdigit():
            if int(key) >= len(target):
                return False
            target = target[int(key)]
        else:
            return False
    return True


@lru_cache(maxsize=64)
def _media_type(content_type: str) -> str:
    """The media type of a Content-Type, as strawberry reads it (through email.message,
    costly per request: clients send the same few values)."""
    return parse_content_type(content_type)[0]


class GraphQLJSONResponse(Response):
    """A GraphQL result, whose media type and status are settled by negotiation."""


@dataclass
class HubRequestData(GraphQLRequestData):
    """A request as strawberry reads it, and the trusted document it names by id."""

    document_id: str | None = None


# One viewer of each kind whose read plans a registered document gets in advance.
PLAN_VIEWERS = (
    Viewer(),
    Viewer(role=Role.ADMIN),
    Viewer(role=Role.CURATOR),
    Viewer(role=Role.READER),
    Viewer(role=Role.PARTNER, unit_id=0),
)

# Set on a request's state when its document was named by id (a GET answer may be
# cached): hub.documents_gate PUBLIC, PRIVATE or FAILED.
DOCUMENT_BY_ID = "linju_document_by_id"


def _document_id(data: object) -> str | None:
    if not isinstance(data, Mapping) or "documentId" not in data:
        return None
    value = data["documentId"]
    if not isinstance(value, str):
        raise BadRequest("documentId 须为字符串 (documentId must be a string: sha256:<hex>)")
    return value


class HubGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI GraphQL app, configured from the hub's settings."""

    websocket_adapter_class = TextWebSocketAdapter
    graphql_transport_ws_handler_class = HubTransportWSHandler

    def __init__(self, schema: BaseSchema, *, settings: Settings) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphql_ide else None,
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            allowed_origins=settings.allowed_origins,
            multipart_uploads_enabled=True,
            # Enforced by the hub with a clear error (hub.limits.sockets), per account too.
            max_subscriptions_per_connection=None,
        )
        self.settings = settings
        self.socket_rate = SocketRateLimit(settings)
        self.socket_caps = AccountCaps(settings)
        self.read_path = ReadPath(schema, settings)  # compiled reads (issue 11)
        # documentId, APQ and trusted mode (issue 15); registered documents are prepared.
        self.documents = DocumentGate(settings, prepare=self.prepare_document)
        # Cache hits and compiled reads answered before strawberry's view (issue 12);
        # None: off.
        self.fast_lane: FastLane | None = FastLane(
            schema=schema,
            settings=settings,
            read_path=self.read_path,
            documents=self.documents,
            negotiate=negotiate,
            encode=self.encode_json,
            max_depth=MAX_BODY_DEPTH,
            max_nodes=MAX_BODY_NODES,
        )

    def prepare_document(self, text: str) -> None:
        """A registered document, ready before its first request: parsed and validated,
        and the read plan of each operation without variables compiled for every kind
        of viewer (a plan depends on the role, not on the viewer's ids)."""
        prepared = self.read_path.prepare(text)
        if prepared is None or self.read_path.mode != "compiled":
            return
        names = [name for name, op in prepared.operations.items() if not op.variable_definitions]
        if len(prepared.operations) == 1 and names:
            names.append(None)  # a client may leave out the only operation's name
        for name in names:
            for viewer in PLAN_VIEWERS:
                self.read_path.ready(text, None, name, viewer)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        state = scope.get("state")
        if self.fast_lane is not None and not (state and state.pop(LANE_TRIED, False)):
            replay = await self.fast_lane.answer(scope, receive, send)
            if replay is None:
                return
            receive = replay
        request = Request(scope, receive)
        media_type = negotiate(request.headers.get("accept"))
        request.state.graphql_media_type = media_type
        request.state.graphql_request_error = False
        try:
            try:
                response = await self.run(request)
            except HTTPException as exc:
                response = self.error_response(exc, media_type)
            else:
                if isinstance(response, GraphQLJSONResponse):
                    response.headers["content-type"] = f"{media_type}; charset=utf-8"
                    bad = request.state.graphql_request_error
                    if media_type == GRAPHQL_RESPONSE_JSON and bad and response.status_code == 200:
                        response.status_code = 400
                    by_id = getattr(request.state, DOCUMENT_BY_ID, None)
                    if by_id is not None and request.method == "GET":
                        response = self.cacheable(request, response, by_id)
            await response(scope, receive, send)
        finally:
            # An upload's files are spooled to temporary files: close them, whether
            # the request was answered or refused.
            await request.close()

    def cacheable(self, request: Request, response: Response, answer: str) -> Response:
        """A GET by document id: its caching headers (hub.documents_gate.by_id_headers,
        the fast lane's too), or 304 when the client has the answer."""
        headers, current = by_id_headers(
            answer,
            status=response.status_code,
            body=bytes(response.body),
            if_none_match=request.headers.get("if-none-match", ""),
            max_age=self.settings.documents_max_age_seconds,
        )
        if current:
            return Response(status_code=304, headers=headers)
        response.headers.update(headers)
        return response

    def error_response(self, exc: HTTPException, media_type: str) -> Response:
        """A request the hub could not take, as a GraphQL-shaped JSON error."""
        headers = {"content-type": f"{media_type}; charset=utf-8"}
        body: dict[str, Any] = {"errors": [{"message": exc.reason}]}
        if exc.status_code == 405:
            headers["allow"] = exc.allow if isinstance(exc, MethodNotAllowed) else "GET, POST"
        if isinstance(exc, Unauthenticated):
            headers["www-authenticate"] = 'Bearer realm="linju"'
            body["errors"][0]["extensions"] = {"code": "UNAUTHENTICATED"}
        elif isinstance(exc, BadRequest):
            body["errors"][0]["extensions"] = {"code": ErrorCode.BAD_USER_INPUT.value}
        return Response(self.encode_json(body), status_code=exc.status_code, headers=headers)

    def encode_json(self, data: object) -> bytes:
        # orjson writes UTF-8 as is: Chinese stays readable and small, and a roster
        # of a thousand members encodes several times faster than with json.
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        # orjson refuses what json.loads lets through to fail later: bytes that are not
        # UTF-8, unpaired surrogates (\ud800), nesting past 1024 levels (RecursionError).
        return orjson.loads(data)

    def parse_json(self, data: str | bytes) -> Any:
        try:
            parsed = self.decode_json(data)
        except orjson.JSONDecodeError as exc:
            reason = f"请求不是有效的 JSON (the request is not valid JSON: {exc})"
            raise BadRequest(reason) from None
        if not isinstance(parsed, (dict, list)):
            raise BadRequest("请求体须为 JSON 对象 (the request body must be a JSON object)")
        problem = measure(parsed, "", max_depth=MAX_BODY_DEPTH, max_nodes=MAX_BODY_NODES)
        if problem is not None:
            raise BadRequest(
                f"请求内容超出限制 (the request {problem.path or 'body'} {problem.reason})"
            )
        return parsed

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == "POST":
            content_type = _media_type(request.content_type or "")
            is_upload = self.multipart_uploads_enabled and content_type == "multipart/form-data"
            if content_type != JSON and not is_upload:
                raise HTTPException(415, "Content-Type must be application/json")
            if is_upload and not any(request.headers.get(h) for h in PREFLIGHT_HEADERS):
                raise HTTPException(400, UPLOAD_NEEDS_PREFLIGHT)
        parsed = await super().parse_http_body(request)
        for item in parsed if isinstance(parsed, list) else [parsed]:
            if not isinstance(item.operation_name, str | None):
                raise BadRequest(
                    "operationName 须为字符串 "
                    "(the GraphQL operation's `operationName` must be a string or null)"
                )
        return await self._document_ids(request, parsed)

    async def _document_ids(
        self,
        request: AsyncHTTPRequestAdapter,
        parsed: GraphQLRequestData | list[GraphQLRequestData],
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """The ``documentId`` of each operation (strawberry does not read it): from the
        query string of a GET, from the JSON body of a POST (parsed again, only when an
        operation names one)."""
        items = parsed if isinstance(parsed, list) else [parsed]
        raw: Any
        if request.method == "GET":
            if "documentId" not in request.query_params:
                return parsed
            raw = dict(request.query_params)
        elif _media_type(request.content_type or "") == JSON:
            body = await request.get_body()
            if b'"documentId"' not in body:
                return parsed
            raw = self.parse_json(body)
        else:
            return parsed
        raws = raw if isinstance(raw, list) else [raw]
        named: list[GraphQLRequestData] = [
            HubRequestData(
                **{f.name: getattr(item, f.name) for f in fields(item)},
                document_id=_document_id(data),
            )
            for item, data in zip(items, raws, strict=False)
        ]
        return named if isinstance(parsed, list) else named[0]

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A GET by documentId (or APQ hash) from a client accepting */* wants the answer.
        params = request.query_params
        return (
            "documentId" not in params
            and "extensions" not in params
            and super().should_render_graphql_ide(request)
        )

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> dict[str, Any]:
        """The GraphQL multipart request spec, refusing every malformed part with 400."""
        try:
            form = await request.get_form_data()
        except (ValueError, MultiPartException, StarletteHTTPException) as exc:
            detail = exc.detail if isinstance(exc, StarletteHTTPException) else exc
            reason = f"无法解析 multipart 请求体 (malformed multipart body: {detail})"
            raise BadRequest(reason) from None
        operations = self._form_json(form.form.get("operations"), "operations")
        if not isinstance(operations, dict):
            raise BadRequest(MULTIPART_SHAPE)
        files_map = self._form_json(form.form.get("map"), "map")
        if not isinstance(files_map, dict) or not all(
            isinstance(paths, list) and all(isinstance(p, str) for p in paths)
            for paths in files_map.values()
        ):
            raise BadRequest(MULTIPART_SHAPE)
        for name, paths in files_map.items():
            if not isinstance(form.files.get(name), UploadFile):
                shown = _shown(name)
                raise BadRequest(f"multipart 中缺少文件 (file {shown} named in map is missing)")
            for path in paths:
                if not _placeholder_exists(operations, path):
                    shown = _shown(path)
                    raise BadRequest(
                        f"map 的路径不存在 (map path {shown} names no variable of the operation)"
                    )
        return replace_placeholders_with_files(operations, files_map, form.files)

    def _form_json(self, value: object, name: str) -> Any:
        if not isinstance(value, str | bytes):
            raise BadRequest(f"multipart 缺少 {name} 字段 (the multipart body has no {name} field)")
        return self.parse_json(value)

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        # Strawberry's own version lets subscriptions through plain HTTP (for its
        # multipart transport, not enabled here) and answers 400 to a mutation over GET.
        method = request_adapter.method
        allowed = {OperationType.QUERY}
        if method == "POST":
            allowed.add(OperationType.MUTATION)
        try:
            resolved = await self.documents.resolve(
                query=request_data.query,
                document_id=getattr(request_data, "document_id", None),
                extensions=request_data.extensions,
                viewer=context.viewer,
            )
        except DocumentRefused as exc:
            self.documents.count(None, failed=True)
            error = GraphQLError(exc.message, extensions={"code": exc.code})
            return ExecutionResult(data=None, errors=[error])
        if resolved.query is not request_data.query:
            request_data = replace(request_data, query=resolved.query)
        result = await self._execute_resolved(
            request, request_adapter, sub_response, context, request_data, allowed
        )
        self.documents.count(resolved.known, failed=bool(result.errors))
        if resolved.by_id:
            answer = FAILED if result.errors else PUBLIC
            if context.viewer.is_authenticated:
                answer = PRIVATE
            setattr(request.state, DOCUMENT_BY_ID, answer)
        return result

    async def _execute_resolved(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        request_data: GraphQLRequestData,
        allowed: set[OperationType],
    ) -> ExecutionResult:
        method = request_adapter.method
        root_value = None

        async def resolve() -> ExecutionResult:
            return await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )

        # The fast lane's compiled statement failed for this request: not run twice.
        compiled = not request.scope.get("state", {}).pop(COMPILED_FAILED, False)

        async def run() -> ExecutionResult:
            if method not in ("GET", "POST") or not compiled:
                return await resolve()
            return await self.read_path.execute(
                resolve,
                query=request_data.query,
                variables=request_data.variables,
                operation_name=request_data.operation_name,
                viewer=context.viewer,
            )

        def outcome(result: str) -> None:
            sub_response.headers[CACHE_HEADER] = result

        try:
            # Read queries from the response cache when they can be (hub.cache).
            return await response_cache_of(request.scope.get("app"), self.settings).execute(
                run,
                schema=self.schema,
                query=request_data.query,
                operation_name=request_data.operation_name,
                variables=request_data.variables,
                viewer=context.viewer,
                upload=(request_adapter.content_type or "").startswith("multipart/"),
                outcome=outcome,
                # The fast lane's lookup of this request, when it missed: not made twice.
                looked=request.scope.get("state", {}).pop(LOOKED, None),
            )
        except MissingQueryError as exc:
            raise HTTPException(400, "No GraphQL query found in the request") from exc
        except CannotGetOperationTypeError as exc:
            raise HTTPException(400, exc.as_http_error_reason()) from exc
        except InvalidOperationTypeError as exc:
            if exc.operation_type == OperationType.SUBSCRIPTION:
                raise HTTPException(400, SUBSCRIPTIONS_OVER_HTTP) from exc
            raise MethodNotAllowed(exc.as_http_error_reason(method), allow="POST") from exc

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        data = process_result(result)
        if is_request_error(result):
            request.state.graphql_request_error = True
            if getattr(request.state, "graphql_media_type", None) == GRAPHQL_RESPONSE_JSON:
                data.pop("data", None)  # the spec: no data entry when execution never began
        return data

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = GraphQLJSONResponse(self.encode_json(response_data), media_type=JSON)
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.background:
            response.background = sub_response.background
        if sub_response.status_code:
            response.status_code = sub_response.status_code
        return response

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        if isinstance(request, WebSocket):
            return await self._socket_context(request)
        try:
            # Read once per request (hub.request_viewer): the limits and the log share it.
            viewer = await read_viewer(request.scope).resolve(self.settings)
        except auth.AuthError as exc:
            raise Unauthenticated(exc.message) from None
        return build_context(
            settings=self.settings, request=request, response=response, viewer=viewer
        )

    async def _socket_context(self, websocket: WebSocket) -> SocketContext:
        """A handshake's own Authorization header counts until connection_init says more."""
        context = SocketContext(settings=self.settings, request=websocket, response=websocket)
        context.session = SocketSession(
            settings=self.settings,
            websocket=websocket,
            rate=self.socket_rate,
            caps=self.socket_caps,
        )
        authorization = websocket.headers.get("authorization")
        try:
            context.viewer = await auth.resolve_bearer(
                settings=self.settings, authorization=authorization
            )
        except auth.AuthError as exc:
            context.handshake_error = exc.message
        else:
            context.handshake_authorization = authorization
        context.loaders = DataLoaders(context.viewer)
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """graphql-transport-ws ``connection_init``: its ``Authorization`` sets the viewer."""
        assert isinstance(context, SocketContext) and context.session is not None
        params = context.connection_params or {}
        authorization = next(
            (v for k, v in params.items() if k.lower() == "authorization" and isinstance(v, str)),
            None,
        )
        if authorization is None:
            if context.handshake_error:
                context.session.refuse(context.handshake_error)
                raise ConnectionRejectionError({"message": context.handshake_error})
            authorization = context.handshake_authorization
            viewer = context.viewer
        else:
            try:
                viewer = await auth.resolve_bearer(
                    settings=self.settings, authorization=authorization
                )
            except auth.AuthError as exc:
                context.session.refuse(exc.message)
                raise ConnectionRejectionError(
                    {"message": exc.message, "code": "UNAUTHENTICATED"}
                ) from None
        refusal = await context.session.authenticate(authorization, viewer)
        if refusal is not None:
            context.session.refuse(refusal)
            raise ConnectionRejectionError({"message": refusal})
        context.viewer = viewer
        context.loaders = DataLoaders(viewer)
        return NO_ACK_PAYLOAD

    async def render_graphql_ide(self, request: Request) -> Response:
        return TEMPLATES.TemplateResponse(
            request, "graphiql.html", ide_context(request), headers=_IDE_HEADERS
        )


# The page's own scripts come from /static only; say so to the browser as well.
_IDE_HEADERS: Mapping[str, str] = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws: wss:"
    ),
    "cache-control": "no-cache",
}


def ide_context(request: Request) -> dict[str, Any]:
    """Template variables for the IDE page: asset paths relative to the site root."""
    static = f"{request.scope.get('root_path', '').rstrip('/')}/static"
    vendor = f"{static}/graphiql/vendor"
    scripts = [f"{vendor}/{a.filename}" for a in assets.ASSETS if a.filename.endswith(".js")]
    styles = [f"{vendor}/{a.filename}" for a in assets.ASSETS if a.filename.endswith(".css")]
    return {
        "assets_ready": assets.assets_present(),
        "vendor_scripts": scripts,
        "vendor_styles": styles,
        "static": static,
        "fetch_hint": assets.FETCH_HINT,
    }
