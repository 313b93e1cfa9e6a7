"""The per-request GraphQL context: settings, the request, and its DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hub.settings import Settings


@dataclass
class Context:
    """What every resolver gets as ``info.context``."""

    settings: Settings
    request: Any = None
    response: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


def build_context(*, settings: Settings, request: Any = None, response: Any = None) -> Context:
    """A fresh context (and so fresh DataLoaders) for one request."""
    return Context(settings=settings, request=request, response=response)
