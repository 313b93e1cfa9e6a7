"""The app shell, on top of every other layer: it assembles the ASGI app (:mod:`.asgi`),
serves GraphQL over HTTP and WebSocket (:mod:`.graphql_app`, :mod:`.sockets`,
:mod:`.fast_lane`), answers health probes (:mod:`.health`), runs uvicorn
(:mod:`.serving`) and is the ``linju`` command line (:mod:`.cli`).

Only this package imports ``schema``, ``admin``, ``resolvers`` and ``seeds`` from
``hub``; the rest of ``hub`` (domain and infrastructure) imports none of them (see
ARCHITECTURE.md and the import contracts in pyproject.toml).
"""

from __future__ import annotations

from typing import Any

__all__ = ["GZIP_MINIMUM_BYTES", "create_app"]


def __getattr__(name: str) -> Any:
    """``hub.app.create_app`` (and ``hub.app:create_app`` for uvicorn), imported on first use:
    the CLI imports ``hub.app.cli`` without building the whole app (about 1.5 s)."""
    if name in __all__:
        from hub.app import asgi

        return getattr(asgi, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
