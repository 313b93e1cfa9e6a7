"""What the compiler knows of each node type: its table, columns, relations and masks.

Read from the schema's declarations by ``schema.compiled`` (plain data here), keyed by
GraphQL names: the type's name and its fields' names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Column kinds the compiler writes; any other field type falls back.
KINDS = frozenset({"int", "float", "str", "bool", "date", "datetime", "enum", "json"})


@dataclass(frozen=True)
class Column:
    """A scalar field read from one column."""

    column: str
    kind: str
    # enum: the stored value → the GraphQL enum value's name
    enum_names: tuple[tuple[Any, str], ...] = ()
    # personal data, for viewers who may not see it: "phone", "name" or "hide"
    mask: str | None = None


@dataclass(frozen=True)
class ToOne:
    """A foreign key: ``column`` of this table holds the target's id; or, reversed (a
    one-to-one seen from the other side), the target's ``target_column`` holds ours."""

    column: str
    target: str
    target_column: str | None = None  # None: the target's primary key


@dataclass(frozen=True)
class ToMany:
    """A to-many relation: through the target's ``fk`` column or an M2M table."""

    target: str
    fk: str | None = None
    through: str | None = None
    through_parent: str | None = None
    through_target: str | None = None


@dataclass(frozen=True)
class RowList:
    """A plain list of the target's rows whose ``column`` holds our id, in ``order``
    (column names, ascending)."""

    target: str
    column: str
    order: tuple[str, ...]


@dataclass(frozen=True)
class EnumList:
    """The distinct values of ``value`` in ``table`` rows whose ``column`` holds our id,
    in the enum's declaration order; ``scope_of`` is the node type whose row scope the
    rows take."""

    table: str
    column: str
    value: str
    enum_names: tuple[tuple[Any, str], ...]
    scope_of: str


@dataclass(frozen=True)
class Deadline:
    """True when ``due`` (a time column) is before the request's clock and ``status`` is
    not ``done`` (its stored value)."""

    due: str
    status: str
    done: Any


@dataclass(frozen=True)
class NodeType:
    name: str
    table: str
    pk: str
    connection: str  # the GraphQL names of its connection and edge types
    edge: str
    scalars: dict[str, Column] = field(default_factory=dict)
    to_one: dict[str, ToOne] = field(default_factory=dict)
    to_many: dict[str, ToMany] = field(default_factory=dict)
    row_lists: dict[str, RowList] = field(default_factory=dict)
    enum_lists: dict[str, EnumList] = field(default_factory=dict)
    deadlines: dict[str, Deadline] = field(default_factory=dict)
    # model field name → (column, nullable, kind): what orderBy and cursors read
    order_columns: dict[str, tuple[str, bool, str]] = field(default_factory=dict)


Catalog = dict[str, NodeType]
