"""Who is calling: read once per HTTP request, carried to everything that needs it.

:class:`ViewerStep` (plain ASGI, outside the limits) reads the ``Authorization``
header once and keeps a :class:`RequestViewer` in the request's ASGI state. From there

- the rate limiter takes the token's digest (:attr:`RequestViewer.token_key`), without
  reading the header again and without any I/O: refused requests cost no lookup;
- the GraphQL context awaits :meth:`RequestViewer.resolve`, which calls
  :func:`hub.services.auth.resolve_bearer` at most once per request and keeps the
  viewer or the refusal; the response-cache key is made from that same viewer;
- the access log names the account once it has been resolved.

Nothing is resolved for a request that does not ask (health probes, static files,
the console with its own session).
"""

from __future__ import annotations

import hashlib
from types import ModuleType
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Receive, Scope, Send

from hub.access.viewer import ANONYMOUS, Viewer
from hub.observability.context import VIEWER_STATE_KEY
from hub.settings import Settings

if TYPE_CHECKING:
    from hub.services.auth import AuthError

# The access log (hub.observability.context) reads the kept viewer under this key.
STATE_KEY = VIEWER_STATE_KEY
AUTHORIZATION = b"authorization"


class RequestViewer:
    """One request's ``Authorization`` value, its token digest and, once resolved, its
    viewer (or the reason it was refused)."""

    __slots__ = ("_error", "_token_key", "_viewer", "authorization")

    def __init__(self, authorization: str | None) -> None:
        self.authorization = authorization
        self._token_key: str | None = None
        self._viewer: Viewer | None = None
        self._error: AuthError | None = None

    @property
    def token_key(self) -> str | None:
        """The SHA-256 of the bearer token (what the per-token limit counts), or None."""
        if self._token_key is None and self.authorization:
            scheme, _, token = self.authorization.partition(" ")
            token = token.strip()
            if scheme.lower() == "bearer" and token:
                self._token_key = hashlib.sha256(token.encode()).hexdigest()
        return self._token_key

    @property
    def viewer(self) -> Viewer | None:
        """The viewer if it has been resolved, else None (for logs: no lookup here)."""
        return self._viewer

    async def resolve(self, settings: Settings) -> Viewer:
        """The viewer; the first call asks :func:`auth.resolve_bearer`, later calls answer
        what it said (raising the same ``AuthError`` again)."""
        if self._viewer is not None:
            return self._viewer
        if self._error is not None:
            raise self._error
        auth = _auth_module or _import_auth()
        try:
            self._viewer = await auth.resolve_bearer(
                settings=settings, authorization=self.authorization
            )
        except auth.AuthError as exc:
            self._error = exc
            raise
        return self._viewer


def _import_auth() -> ModuleType:
    """hub.services.auth, imported on first use: the middleware and the logs need this
    module, not the ORM models (and an import statement per request costs a call)."""
    global _auth_module
    from hub.services import auth

    _auth_module = auth
    return auth


_auth_module: ModuleType | None = None


class _Anonymous(RequestViewer):
    """A request without ``Authorization``: shared by all of them, nothing to resolve."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(None)

    async def resolve(self, settings: Settings) -> Viewer:
        return ANONYMOUS

    @property
    def viewer(self) -> Viewer | None:
        return ANONYMOUS


NO_CREDENTIALS: RequestViewer = _Anonymous()


def authorization_of(scope: Scope) -> str | None:
    """The first ``Authorization`` header (decoded as Latin-1, like Starlette), or None."""
    for name, value in scope.get("headers") or ():
        if name == AUTHORIZATION:
            return str(value.decode("latin-1"))
    return None


def read_viewer(scope: Scope) -> RequestViewer:
    """The request's :class:`RequestViewer`: the one :class:`ViewerStep` kept, else read
    from the headers now and kept (an app mounted without the step)."""
    state = scope.get("state")
    if state is None:
        state = scope["state"] = {}
    found: RequestViewer | None = state.get(STATE_KEY)
    if found is None:
        authorization = authorization_of(scope)
        found = RequestViewer(authorization) if authorization else NO_CREDENTIALS
        state[STATE_KEY] = found
    return found


def kept_viewer(scope: Scope) -> RequestViewer | None:
    """The request's :class:`RequestViewer` if one was read, without reading one."""
    state = scope.get("state")
    return state.get(STATE_KEY) if state is not None else None


class ViewerStep:
    """Outer ASGI step: reads each HTTP request's ``Authorization`` once (no I/O)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            read_viewer(scope)
        await self.app(scope, receive, send)
