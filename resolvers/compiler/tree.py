"""The plain selection tree the compiler reads: what a client asked for, arguments settled.

Built by ``schema.compiled`` from a validated document (fragments merged, @include/@skip
applied, variables substituted); nothing here knows about GraphQL libraries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from resolvers.compiler.plan import VariableValue, ViewerValue

# A primary key: known when compiled, or read per request (a variable, the viewer's own).
Key = int | VariableValue | ViewerValue


@dataclass(frozen=True)
class Fragment:
    """A piece of SQL (with ``?`` placeholders) and its parameters, in order."""

    sql: str
    params: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Page:
    """Checked pagination of one connection: the order, the filter, the keyset bounds."""

    order: tuple[tuple[str, bool], ...]  # (column field name, descending), ends with id
    condition: Fragment | None  # row scope & where & search, as ``id IN (…)``
    limit: int
    backward: bool
    after: tuple[Any, ...] | None = None
    before: tuple[Any, ...] | None = None
    tag: str = ""  # the cursor tag of this model and order (resolvers.pagination)


@dataclass(frozen=True)
class Selection:
    """One field of an object: its response key, its schema field and what is under it.

    ``children`` is the merged selection of the field's object type; ``page`` is set for
    connections; ``node_ids`` for ``node``/``nodes`` (decoded (type name, pk) pairs or None).
    """

    key: str
    name: str
    children: tuple[Selection, ...] = ()
    page: Page | None = None
    scope: Fragment | None = None  # the row scope of a to-one target
    node_ids: tuple[tuple[str, Key] | None, ...] | None = None
    literal: str | None = None  # ``__typename``: the type's name
    plural: bool = False  # ``nodes(ids)``: a list, not one node
    scopes: dict[str, Fragment] = field(default_factory=dict)  # node/nodes: per type
    by_type: dict[str, tuple[Selection, ...]] = field(default_factory=dict)  # node/nodes
