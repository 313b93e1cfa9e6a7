"""The per-request GraphQL context: settings, the request, and its DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from hub.access import ANONYMOUS, Viewer
from hub.settings import Settings
from resolvers.loaders import DataLoaders


@dataclass
class Context:
    """What every resolver gets as ``info.context``."""

    settings: Settings
    request: Any = None
    response: Any = None
    viewer: Viewer = ANONYMOUS
    loaders: DataLoaders = field(init=False)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # The loaders belong to one viewer: their caches never mix what two users see.
        self.loaders = DataLoaders(self.viewer)


class ContextInfo(Protocol):
    """What the read logic takes of a resolver's ``info``: the hub's context. Structural,
    so that ``resolvers/`` needs no GraphQL type (schema/info.py's ``Info`` is one)."""

    @property
    def context(self) -> Context: ...


class CredentialCheck(Protocol):
    """A long-lived connection's credential, resolved again on demand
    (``hub.app.sockets.SocketSession``)."""

    async def current_viewer(self, *, shared: bool = False) -> Viewer | None: ...


async def current_viewer(context: Context) -> Viewer | None:
    """For a subscription about to deliver an event: the viewer now, or None when the
    connection's credential is no longer valid (the connection is then closing).
    Outside a WebSocket connection, the context's viewer."""
    session: CredentialCheck | None = getattr(context, "session", None)
    if session is None:
        return context.viewer
    viewer = await session.current_viewer(shared=True)
    if viewer is not None and viewer != context.viewer:
        context.viewer = viewer  # e.g. a changed role applies from now on
    return viewer


def build_context(
    *,
    settings: Settings,
    request: Any = None,
    response: Any = None,
    viewer: Viewer = ANONYMOUS,
) -> Context:
    """A fresh context (and so fresh DataLoaders) for one request and its viewer."""
    return Context(settings=settings, request=request, response=response, viewer=viewer)
