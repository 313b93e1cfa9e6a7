"""Who may see and change what: the one rule set for the API and the console."""

from __future__ import annotations

from hub.access.policy import ScopePaths, link_scope, row_scope, scope_paths, write_scope
from hub.access.viewer import ANONYMOUS, Viewer

__all__ = [
    "ANONYMOUS",
    "ScopePaths",
    "Viewer",
    "link_scope",
    "row_scope",
    "scope_paths",
    "write_scope",
]
