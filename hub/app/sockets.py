"""GraphQL over WebSocket (graphql-transport-ws): what the hub adds to strawberry's handler.

- **Text frames.** The protocol carries JSON in text frames; the view's ``encode_json``
  returns orjson bytes (fast for HTTP), which strawberry would send as binary frames.
- **A connection is checked like a request.** The bearer a connection authenticated
  with (``connection_init`` payload, else the handshake's ``Authorization`` header) is
  resolved again before every operation and before every subscription event is
  delivered: after ``logout``, a revoked API token or a deactivated account the
  connection is closed with ``4401`` and the reason. It is also closed when the access
  token (or API token) expires, at its expiry.
- **Limits** (hub.limits.sockets): every operation counts against the rate limits; a
  refused one gets an ``error`` message (``RATE_LIMITED``, ``TOO_MANY_SUBSCRIPTIONS``),
  and an account over its connection cap is refused at ``connection_init`` with 4403.
- **Unexpected errors are masked.** A failure of the credential check itself (the
  database down, say) answers that operation with an ``error`` message ``INTERNAL``
  and an error id (logged with the exception, as over HTTP); the connection stays open.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from graphql import GraphQLFormattedError
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ErrorMessage,
    SubscribeMessage,
)

from hub.access import tokens
from hub.access.viewer import ANONYMOUS, Viewer
from hub.documents_gate import DocumentGate, DocumentRefused
from hub.limits.sockets import TOO_MANY_CONNECTIONS, AccountCaps, SocketRateLimit
from hub.models import ApiToken
from hub.services import auth
from hub.settings import Settings
from resolvers.context import Context
from resolvers.errors import ErrorCode
from resolvers.loaders import DataLoaders
from schema.extensions import INTERNAL_MESSAGE

if TYPE_CHECKING:
    from strawberry.http.async_base_view import AsyncBaseHTTPView

logger = logging.getLogger("linju.sockets")

# Close codes (graphql-transport-ws leaves 4400-4499 to the protocol and the server).
UNAUTHORIZED = 4401  # the credential stopped being valid: log in again, then reconnect
FORBIDDEN = 4403  # connection_init refused: a bad token, or too many connections
TOKEN_EXPIRED = "令牌已过期 (token expired)"
MAX_REASON_BYTES = 123  # a close frame's reason must fit in 123 bytes of UTF-8


def close_reason(text: str) -> str:
    """``text`` cut to what a close frame can carry, on a character boundary."""
    return text.encode()[:MAX_REASON_BYTES].decode(errors="ignore")


def masked_error(operation_id: str, exc: BaseException) -> GraphQLFormattedError:
    """An unexpected failure outside the operation's execution, logged with an id; the
    client gets only the id (as schema.extensions.ErrorPolicy answers over HTTP)."""
    error_id = uuid.uuid4().hex[:12]
    logger.error("WebSocket error %s (operation %s)", error_id, operation_id, exc_info=exc)
    return {
        "message": INTERNAL_MESSAGE.format(error_id=error_id),
        "extensions": {"code": ErrorCode.INTERNAL.value, "errorId": error_id},
    }


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` value."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class TextWebSocketAdapter(ASGIWebSocketAdapter):
    """Strawberry's Starlette adapter, sending text frames and closing only once."""

    def __init__(
        self,
        view: AsyncBaseHTTPView[Any, Any, Any, Any, Any, Any, Any],
        request: WebSocket,
        response: WebSocket,
    ) -> None:
        super().__init__(view, request, response)
        self.closed = False
        # Set before a refused connection_init: strawberry then closes with 4403 "Forbidden".
        self.refusal: tuple[int, str] | None = None

    async def send_json(self, message: Any) -> None:
        if self.closed:  # an operation finishing after the connection was closed
            return
        try:
            await self.ws.send_text(self.view.encode_json_string(message))
        except WebSocketDisconnect:
            self.closed = True

    async def close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        if code == FORBIDDEN and self.refusal is not None:
            code, reason = self.refusal
        with suppress(WebSocketDisconnect, RuntimeError):  # the client left first
            await self.ws.close(code=code, reason=close_reason(reason))


class SocketSession:
    """One connection's credential and limits, kept on its context."""

    def __init__(
        self, *, settings: Settings, websocket: WebSocket, rate: SocketRateLimit, caps: AccountCaps
    ) -> None:
        self.settings = settings
        self.websocket = websocket
        self.rate = rate
        self.caps = caps
        self.authorization: str | None = None
        self.viewer: Viewer = ANONYMOUS
        self.adapter: TextWebSocketAdapter | None = None
        self.account: int | None = None  # holds a connection slot of this account
        self._expiry: asyncio.Task[None] | None = None
        self._check: asyncio.Task[Viewer | None] | None = None

    @property
    def token(self) -> str | None:
        return bearer(self.authorization)

    async def close(self, code: int, reason: str) -> None:
        if self.adapter is not None:
            await self.adapter.close(code, reason)

    @property
    def closed(self) -> bool:
        return self.adapter is not None and self.adapter.closed

    def refuse(self, reason: str) -> None:
        """Close with 4403 and ``reason`` when connection_init is refused."""
        if self.adapter is not None:
            self.adapter.refusal = (FORBIDDEN, reason)

    async def authenticate(self, authorization: str | None, viewer: Viewer) -> str | None:
        """Adopt a resolved credential at ``connection_init``; a refusal reason if any."""
        self.authorization, self.viewer = authorization, viewer
        if viewer.user_id is not None:
            if not self.caps.open_connection(viewer.user_id):
                return TOO_MANY_CONNECTIONS
            self.account = viewer.user_id
        expires_at = await self._expires_at()
        if expires_at is not None:
            self._expiry = asyncio.create_task(self._close_at(expires_at))
        return None

    async def _expires_at(self) -> dt.datetime | None:
        token = self.token
        if token is None:
            return None
        if tokens.is_api_token(token):
            record = await ApiToken.get_or_none(token_hash=tokens.hash_api_token(token))
            return record.expires_at if record else None
        try:
            return tokens.read(self.settings, token, kind="access").expires_at
        except tokens.TokenError:
            return None

    async def _close_at(self, expires_at: dt.datetime) -> None:
        await asyncio.sleep(max(0.0, (expires_at - dt.datetime.now(dt.UTC)).total_seconds()))
        await self.close(UNAUTHORIZED, TOKEN_EXPIRED)

    async def current_viewer(self, *, shared: bool = False) -> Viewer | None:
        """The credential resolved again; None (and the connection closing) if it is not
        valid any more. With ``shared``, a check already under way is joined: the
        subscriptions of one connection hearing one event check once."""
        if self.closed:
            return None
        if self.authorization is None:
            return self.viewer
        if not shared:
            return await self._resolve()
        if self._check is None or self._check.done():
            self._check = asyncio.create_task(self._resolve())
        return await asyncio.shield(self._check)

    async def _resolve(self) -> Viewer | None:
        try:
            viewer = await auth.resolve_bearer(
                settings=self.settings, authorization=self.authorization
            )
        except auth.AuthError as exc:
            await self.close(UNAUTHORIZED, exc.message)
            return None
        self.viewer = viewer
        return viewer

    def end(self) -> None:
        """The connection is over: give back its slot, stop its expiry timer."""
        if self._expiry is not None:
            self._expiry.cancel()
        if self.account is not None:
            self.caps.close_connection(self.account)
            self.account = None


def session_of(context: object) -> SocketSession | None:
    session = getattr(context, "session", None)
    return session if isinstance(session, SocketSession) else None


class HubTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's graphql-transport-ws handler, with the checks of every operation."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session = session_of(self.context)
        if self.session is not None and isinstance(self.websocket, TextWebSocketAdapter):
            self.session.adapter = self.websocket

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        session = self.session
        if session is None or not self.connection_acknowledged or message["id"] in self.operations:
            await super().handle_subscribe(message)  # the protocol's own errors
            return
        try:
            viewer = await session.current_viewer()
        except Exception as exc:  # answered masked, the connection kept
            # Left to strawberry, it would end the receive loop: uvicorn closes with 1011.
            error = masked_error(message["id"], exc)
            await self.send_message(ErrorMessage(id=message["id"], type="error", payload=[error]))
            return
        if viewer is None:
            return  # closed with 4401
        context = self.context
        if viewer != context.viewer:
            context.viewer = viewer
        # Every operation reads afresh, like a request of its own.
        context.loaders = DataLoaders(viewer)
        refusal = await session.rate.check(session.websocket.scope, token=session.token)
        account = viewer.user_id
        if refusal is None:
            refusal = session.caps.start_operation(account, on_connection=len(self.operations))
        if refusal is not None:
            await self.send_message(
                ErrorMessage(id=message["id"], type="error", payload=[refusal.error()])
            )
            return
        resolved = await self._trusted_document(message, viewer)
        if resolved is None:
            if account is not None:
                session.caps.end_operation(account)
            return
        await super().handle_subscribe(resolved)
        if account is None:
            return
        operation = self.operations.get(message["id"])
        if operation is None or operation.task is None:
            session.caps.end_operation(account)
            return
        operation.task.add_done_callback(lambda _: session.caps.end_operation(account))

    async def _trusted_document(
        self, message: SubscribeMessage, viewer: Viewer
    ) -> SubscribeMessage | None:
        """The operation with the text its ``documentId`` or APQ hash names; None when
        it may not run (trusted mode), answered with an error (hub.documents_gate)."""
        gate: DocumentGate | None = getattr(self.view, "documents", None)
        if gate is None or not isinstance(message.get("payload"), dict):
            return message  # strawberry answers a malformed message as it does today
        payload: dict[str, Any] = dict(message["payload"])
        document_id = payload.get("documentId")
        query = payload.get("query")
        try:
            if not isinstance(document_id, str | None) or not isinstance(query, str | None):
                raise DocumentRefused(
                    "documentId 与 query 须为字符串 (must be strings)", "BAD_USER_INPUT"
                )
            extensions = payload.get("extensions")
            resolved = await gate.resolve(
                query=query,
                document_id=document_id,
                extensions=extensions if isinstance(extensions, dict) else None,
                viewer=viewer,
            )
        except DocumentRefused as exc:
            error: GraphQLFormattedError = {
                "message": exc.message,
                "extensions": {"code": exc.code},
            }
            await self.send_message(ErrorMessage(id=message["id"], type="error", payload=[error]))
            return None
        if resolved.query is None or resolved.query is query:
            return message
        payload["query"] = resolved.query
        return SubscribeMessage(id=message["id"], type="subscribe", payload=payload)  # type: ignore[typeddict-item]

    async def shutdown(self) -> None:
        try:
            await super().shutdown()
        finally:
            if self.session is not None:
                self.session.end()
