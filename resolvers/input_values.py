"""Checks on the values a client sends, in one place, so that no resolver meets them raw.

- :func:`measure` bounds a decoded JSON value (a request body, an operation's variables):
  nesting depth and number of nodes — empty objects and lists count like any other —
  and refuses text the database cannot store. It walks without recursion and stops at
  the first limit passed, so measuring costs no more than the limit, whatever the size.
- :func:`text_problem` is the one test for text: no NUL (PostgreSQL cannot store it)
  and no unpaired surrogate (not Unicode, cannot be encoded as UTF-8).
- :func:`column_problem` checks a value against the column it is compared with or
  written to: text no longer than the column, whole numbers inside its range, decimals
  finite. A value the column cannot hold is refused with its path, not sent to SQL.
"""

from __future__ import annotations

import decimal
import math
import re
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import ValidationError
from tortoise.fields.base import Field

from hub.services.errors import validation_detail

# Bounds of an operation's variables: far above any real request (a filter nests a
# few levels and names a few hundred values), far below what would stall a worker.
MAX_INPUT_DEPTH = 32
MAX_INPUT_NODES = 5_000
# Text compared with a column that has no length of its own (TEXT columns).
MAX_TEXT_LENGTH = 10_000

_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be used as text, in English, or None when it can."""
    if "\x00" in value:
        return "contains a NUL character (\\u0000)"
    if _SURROGATE.search(value):
        return "contains an unpaired surrogate (not valid Unicode)"
    return None


def in_range(field: Field, value: int) -> bool:
    """Whether an integer fits the column (PostgreSQL refuses a parameter that does not)."""
    limits = getattr(field, "constraints", {})
    return limits.get("ge", value) <= value <= limits.get("le", value)


def column_problem(field: Field, value: Any) -> str | None:
    """Why ``value`` cannot be compared with or stored in ``field``'s column, or None."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem is not None:
            return problem
        max_length = getattr(field, "max_length", None) or MAX_TEXT_LENGTH
        if len(value) > max_length:
            return f"is longer than the column's {max_length} characters ({len(value)})"
    elif isinstance(value, int) and not isinstance(value, bool):
        if not in_range(field, value):
            limits = field.constraints
            return f"is outside the column's range {limits.get('ge')}..{limits.get('le')}"
    elif isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return "is not a finite number"
        max_digits = getattr(field, "max_digits", None) or 38
        if value.adjusted() >= max_digits:
            return f"has more than the column's {max_digits} digits"
    elif isinstance(value, float) and not math.isfinite(value):
        return "is not a finite number"
    return None


def validator_problem(field: Field, value: Any) -> str | None:
    """Why the column's own validators (a credit code's format…) refuse ``value``, or None:
    Tortoise runs them on a filter's value too, and no stored row can hold such a value."""
    try:
        for validator in field.validators:
            validator(value)
    except ValidationError as exc:
        return f"is not valid for the column: {validation_detail(exc)}"
    return None


@dataclass(frozen=True)
class InputProblem:
    """Where a value passed a limit (``path`` as a client would write it) and which."""

    path: str
    reason: str


@dataclass
class Measure:
    """One walk over a value; ``visited`` tells how many nodes it looked at."""

    max_depth: int = MAX_INPUT_DEPTH
    max_nodes: int = MAX_INPUT_NODES
    visited: int = 0

    def check(self, value: Any, path: str) -> InputProblem | None:
        """The first limit ``value`` passes, or None. Visits at most ``max_nodes + 1``."""
        stack: list[tuple[Any, str, int]] = [(value, path, 0)]
        while stack:
            item, here, depth = stack.pop()
            self.visited += 1
            if self.visited > self.max_nodes:
                return InputProblem(here, f"has more than {self.max_nodes} values in all")
            if depth > self.max_depth:
                return InputProblem(here, f"is nested more than {self.max_depth} levels deep")
            if isinstance(item, dict):
                if len(item) + self.visited > self.max_nodes:
                    return InputProblem(here, f"has more than {self.max_nodes} values in all")
                for key, inner in item.items():
                    problem = text_problem(key) if isinstance(key, str) else None
                    if problem is not None:
                        return InputProblem(here, f"has a key that {problem}")
                    stack.append((inner, f"{here}.{key}" if here else str(key), depth + 1))
            elif isinstance(item, list):
                if len(item) + self.visited > self.max_nodes:
                    return InputProblem(here, f"has more than {self.max_nodes} values in all")
                for index, inner in enumerate(item):
                    stack.append((inner, f"{here}[{index}]", depth + 1))
            elif isinstance(item, str):
                problem = text_problem(item)
                if problem is not None:
                    return InputProblem(here, problem)
        return None


def measure(
    value: Any,
    path: str,
    *,
    max_depth: int = MAX_INPUT_DEPTH,
    max_nodes: int = MAX_INPUT_NODES,
) -> InputProblem | None:
    """The first limit ``value`` passes (see :class:`Measure`), or None."""
    return Measure(max_depth, max_nodes).check(value, path)
