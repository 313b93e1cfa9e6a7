"""``read_path = differential``: how two answers to one request are compared."""

from __future__ import annotations

from typing import Any

from strawberry.types import ExecutionResult


def formatted_errors(result: ExecutionResult) -> list[Any] | None:
    if not result.errors:
        return None
    return [e.formatted for e in result.errors]


def short_diff(want: Any, have: Any, path: str = "") -> str:
    """The first place two decoded responses differ."""
    if isinstance(want, dict) and isinstance(have, dict):
        for key in list(want) + [k for k in have if k not in want]:
            if key not in want or key not in have:
                return f"{path}.{key}: only in {'compiled' if key in have else 'resolvers'}"
            if want[key] != have[key]:
                return short_diff(want[key], have[key], f"{path}.{key}")
    if isinstance(want, list) and isinstance(have, list):
        if len(want) != len(have):
            return f"{path}: {len(want)} items (resolvers) vs {len(have)} (compiled)"
        for i, (a, b) in enumerate(zip(want, have, strict=True)):
            if a != b:
                return short_diff(a, b, f"{path}[{i}]")
    return f"{path}: resolvers {str(want)[:200]!r} vs compiled {str(have)[:200]!r}"
