"""Relay pagination: argument checks, opaque keyset cursors and keyset filters.

A cursor is base64 of a small JSON payload: the values of the connection's
ordering columns (always ending with ``id``) for one row, plus a tag naming the
model and the ordering. A cursor made for another connection or another
``orderBy`` has a different tag and is refused, so a client can never page a
list with a position that means nothing in it.

Rows are compared as tuples, ``(a, b, id) > (x, y, z)``, expanded into an
OR-of-ANDs of plain comparisons so that SQLite and PostgreSQL read it alike.
NULL sorts before every value in both directions' sense ("smallest"), which the
SQL ordering in :mod:`resolvers.queries` reproduces on both databases.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import lru_cache
from typing import Any

import orjson
from tortoise.expressions import Q
from tortoise.fields.base import Field
from tortoise.models import Model

from hub.lookups import lookup
from hub.settings import Settings
from resolvers.errors import user_error
from resolvers.input_values import column_problem, in_range

# Longer than any cursor this hub makes (a few ordering values and a tag).
MAX_CURSOR_LENGTH = 1_000

# (column field name, descending) pairs; the last one is always ("id", ...).
OrderSpec = tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class PageRequest:
    """Checked pagination arguments; hashable so loaders can batch on it."""

    limit: int
    backward: bool
    after: tuple[Any, ...] | None = None
    before: tuple[Any, ...] | None = None


def page_request(
    settings: Settings,
    model: type[Model],
    order: OrderSpec,
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> PageRequest:
    """Validate first/after/last/before against the settings' page sizes."""
    if first is not None and last is not None:
        raise user_error("Pass either first or last, not both", field="last")
    maximum = settings.page_size_max
    for name, value in (("first", first), ("last", last)):
        if value is None:
            continue
        if value < 0:
            raise user_error(f"{name} must not be negative (got {value})", field=name)
        if value > maximum:
            raise user_error(
                f"{name} must be at most {maximum}, the largest page size (got {value})",
                field=name,
            )
    tag = ordering_tag(model, order)
    size = last if last is not None else first
    return PageRequest(
        limit=settings.page_size_default if size is None else size,
        backward=last is not None,
        after=decode_cursor(after, model, order, tag, "after") if after is not None else None,
        before=decode_cursor(before, model, order, tag, "before") if before is not None else None,
    )


@lru_cache(maxsize=1024)
def ordering_tag(model: type[Model], order: OrderSpec) -> str:
    """A short fingerprint of what a cursor's values mean (model and ordering)."""
    spec = ",".join(("-" if desc else "") + name for name, desc in order)
    return hashlib.sha1(f"{model.__name__}:{spec}".encode()).hexdigest()[:10]


def cursor_values(row: Model, order: OrderSpec) -> list[Any]:
    """The ordering values of one row, as stored in its cursor."""
    return [getattr(row, name) for name, _ in order]


def encode_cursor(tag: str, values: Sequence[Any]) -> str:
    # Text as UTF-8 rather than \u escapes: the compiled read path writes the same
    # payload in SQL (to_json); cursors made before still decode.
    payload = json.dumps(
        {"o": tag, "v": [_jsonable(v) for v in values]}, separators=(",", ":"), ensure_ascii=False
    )
    return base64.urlsafe_b64encode(payload.encode()).decode()


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.date | Decimal):
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    return value


def decode_cursor(
    cursor: str, model: type[Model], order: OrderSpec, tag: str, argument: str
) -> tuple[Any, ...]:
    """The keyset values of a cursor made for this model and ordering."""
    bad = user_error(
        f"{argument} is not a cursor of this list with this orderBy: "
        "pass a cursor this connection returned, with the same orderBy",
        field=argument,
    )
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise bad
    try:
        # orjson: a payload nested too deep is a decoding error, not a RecursionError.
        payload = orjson.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    except (UnicodeError, binascii.Error, ValueError):
        raise bad from None
    if not isinstance(payload, dict) or payload.get("o") != tag:
        raise bad
    values = payload.get("v")
    if not isinstance(values, list) or len(values) != len(order):
        raise bad
    try:
        return tuple(
            _from_json(model._meta.fields_map[name], value)
            for (name, _), value in zip(order, values, strict=True)
        )
    except (KeyError, TypeError, ValueError, InvalidOperation):
        raise bad from None


def _from_json(field: Field, value: Any) -> Any:
    """Turn a cursor value back into the column's Python type, or raise ValueError."""
    if value is None:
        if not field.null:
            raise ValueError("null for a non-null column")
        return None
    kind = field.field_type
    if kind is bool or kind is int:
        if type(value) is not kind:
            raise TypeError(f"expected {kind.__name__}")
        if kind is int and not in_range(field, value):
            raise ValueError("out of the column's range")
        return value
    if kind is float:
        if type(value) not in (int, float):
            raise TypeError("expected a number")
        return float(value)
    if not isinstance(value, str):
        raise TypeError("expected a string")
    if column_problem(field, value) is not None:
        raise ValueError("text the column cannot hold")
    if isinstance(kind, type) and issubclass(kind, dt.datetime):
        moment = dt.datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("a cursor's time carries its offset")
        return moment
    if isinstance(kind, type) and issubclass(kind, dt.date):
        return dt.date.fromisoformat(value)
    if kind is Decimal:
        return Decimal(value)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(value)
    return value


def keyset_q(model: type[Model], order: OrderSpec, values: tuple[Any, ...], *, after: bool) -> Q:
    """Rows strictly after (or before) the position ``values`` in ``order``."""
    fields = model._meta.fields_map
    clauses: list[Q] = []
    for i, (name, desc) in enumerate(order):
        greater = after != desc
        compare = _compare(name, values[i], greater=greater, nullable=fields[name].null)
        if compare is None:
            continue
        equal = [_equal(n, v) for (n, _), v in zip(order[:i], values[:i], strict=True)]
        clauses.append(Q(*equal, compare))
    if not clauses:
        # Nothing sorts beyond this position: an always-false condition.
        return Q(id__in=[])
    return Q(*clauses, join_type=Q.OR)


def _equal(name: str, value: Any) -> Q:
    return lookup(f"{name}__isnull", True) if value is None else lookup(name, value)


def _compare(name: str, value: Any, *, greater: bool, nullable: bool) -> Q | None:
    # NULL is the smallest value: everything non-null is greater than it.
    if greater:
        if value is None:
            return lookup(f"{name}__isnull", False)
        return lookup(f"{name}__gt", value)
    if value is None:
        return None
    smaller = lookup(f"{name}__lt", value)
    return smaller | lookup(f"{name}__isnull", True) if nullable else smaller
