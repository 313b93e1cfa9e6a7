"""The per-request GraphQL context: settings, the request, and its DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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


def build_context(
    *,
    settings: Settings,
    request: Any = None,
    response: Any = None,
    viewer: Viewer = ANONYMOUS,
) -> Context:
    """A fresh context (and so fresh DataLoaders) for one request and its viewer."""
    return Context(settings=settings, request=request, response=response, viewer=viewer)
