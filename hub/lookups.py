"""A Tortoise filter whose path is built at run time, in one typed place.

``Q(**{path: value})`` with a non-``Any`` value makes mypy match the value against
``Q``'s own ``join_type`` keyword; ``lookup(path, value)`` says what is meant.
"""

from __future__ import annotations

from typing import Any

from tortoise.expressions import Q


def lookup(path: str, value: Any) -> Q:
    """``Q(path=value)`` for a ``path`` such as ``"street_id"`` or ``"name__icontains"``."""
    return Q(**{path: value})
