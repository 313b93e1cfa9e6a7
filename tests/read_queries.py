"""A hypothesis strategy for valid read queries over the hub's live schema.

``read_operations(schema, pools)`` draws one query operation (text and variables)
from the ``Query`` root only: one or two root fields, relations nested up to
``MAX_ENTITY_DEPTH`` records deep, ``where`` filters (and/or/not, relation filters),
``orderBy``, ``search``, ``first/after/last/before`` (almost always a page of 1–3, now
and then a size the page rules refuse), ``node``/``nodes`` with real, foreign and
forged global ids, aliases, inline fragments (on ``Node`` and on the type itself),
named fragments, ``@include``/``@skip`` and variables in any argument.

It walks graphql-core's schema rather than using hypothesis-graphql's ``from_schema``:
that one cannot bound depth or page sizes, draws ids and cursors at random instead of
from the database, and writes neither fragments nor variables.

Every response key of a selection set (with the fragments merged into it) is used
once — a repeated field gets an alias — so fields never conflict and every drawn
document is valid (``test_generated_queries_are_valid`` checks that).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
)
from hypothesis import strategies as st

MAX_ENTITY_DEPTH = 3  # records nested in records (root connection = 1)
MAX_FIELDS = 4  # fields drawn per selection set
MAX_WHERE_DEPTH = 2  # where → relation/and/or/not → where
ODD_SIZES = (-1, 0, 501)  # refused by the page rules (page_size_max is 500), or empty
# A statistics scope level → the node type its id names.
SCOPE_TYPES = {
    "DISTRICT": "District",
    "STREET": "Street",
    "COMMUNITY": "Community",
    "BRANCH": "Branch",
}


@dataclass(frozen=True)
class Pools:
    """Values drawn from the database, so that filters and ids hit real rows."""

    ids: dict[str, tuple[str, ...]]  # node type name → global ids of its rows
    forged_ids: tuple[str, ...]  # unknown, foreign-typed or malformed global ids
    cursors: dict[str, tuple[str, ...]]  # connection type name → cursors it handed out
    strings: tuple[str, ...]  # names and words that occur in the data

    def all_ids(self) -> tuple[str, ...]:
        return tuple(i for ids in self.ids.values() for i in ids)


@dataclass(frozen=True)
class Operation:
    query: str
    variables: dict[str, Any]

    def __str__(self) -> str:  # hypothesis shows the failing example this way
        return f"{self.query}\nvariables: {json.dumps(self.variables, ensure_ascii=False)}"


class Enum(str):
    """An enum value: written bare in a literal, as a string in variables."""


@dataclass
class _Builder:
    draw: Any
    schema: GraphQLSchema
    pools: Pools
    roots: tuple[str, ...] | None = None  # the root fields to draw from (None: all)
    variables: dict[str, tuple[str, Any]] = field(default_factory=dict)  # name → (type, value)
    fragments: list[str] = field(default_factory=list)
    counter: int = 0

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def chance(self, p: float) -> bool:
        # A window in the middle: hypothesis favours the ends of a range, and shrinks
        # towards 0, so a failing example loses its optional parts.
        return 400 <= self.draw(st.integers(0, 999)) < 400 + int(p * 1000)

    # -- selections -------------------------------------------------------------------

    def operation(self) -> Operation:
        query_type = self.schema.query_type
        assert query_type is not None
        names = sorted(query_type.fields)
        chosen = self.draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True))
        if self.roots is not None:
            # The root under test first; now and then another one beside it.
            chosen = [self.draw(st.sampled_from(self.roots)), *chosen[1:]]
        used: set[str] = set()
        body = [self.field_selection(query_type, name, 0, used) for name in chosen]
        header = ""
        if self.variables:
            definitions = ", ".join(f"${n}: {t}" for n, (t, _) in self.variables.items())
            header = f"query Read({definitions}) "
        elif self.chance(0.5):
            header = "query Read "
        text = header + "{\n" + "\n".join(body) + "\n}\n" + "".join(self.fragments)
        values = {n: _json_value(v) for n, (_, v) in self.variables.items()}
        return Operation(text, values)

    def selection_set(self, parent: GraphQLNamedType, depth: int, used: set[str]) -> str:
        """``{ … }`` for an object or interface type, ``depth`` records deep."""
        if isinstance(parent, GraphQLInterfaceType):
            return "{ " + self.interface_selections(parent, depth, used) + " }"
        assert isinstance(parent, GraphQLObjectType)
        return "{ " + self.object_selections(parent, depth, used) + " }"

    def object_selections(self, parent: GraphQLObjectType, depth: int, used: set[str]) -> str:
        names = sorted(n for n in parent.fields if self.can_select(parent, n, depth))
        if not names:
            return "__typename"
        chosen = self.draw(
            st.lists(st.sampled_from(names), min_size=1, max_size=MAX_FIELDS, unique=True)
        )
        parts = [self.field_selection(parent, name, depth, used) for name in chosen]
        if self.chance(0.1):
            parts.append("__typename")
        # Now and then, some of them inside a fragment on the same type.
        if len(parts) > 1 and self.chance(0.25):
            split = self.draw(st.integers(1, len(parts) - 1))
            inner = " ".join(parts[split:])
            if self.chance(0.5):
                name = self.fresh("F")
                self.fragments.append(f"fragment {name} on {parent.name} {{ {inner} }}\n")
                parts[split:] = [f"...{name}"]
            else:
                parts[split:] = [f"... on {parent.name} {{ {inner} }}"]
        return " ".join(parts)

    def interface_selections(self, parent: GraphQLInterfaceType, depth: int, used: set[str]) -> str:
        parts: list[str] = []
        if self.chance(0.5):
            parts.append(self.field_selection(parent, "id", depth, used))
        if self.chance(0.3):
            parts.append("__typename")
        possible = sorted(self.schema.get_possible_types(parent), key=lambda t: t.name)
        types = self.draw(st.lists(st.sampled_from(possible), min_size=1, max_size=2, unique=True))
        for concrete in types:
            parts.append(
                f"... on {concrete.name} {{ {self.object_selections(concrete, depth, used)} }}"
            )
        return " ".join(parts)

    def can_select(self, parent: GraphQLObjectType, name: str, depth: int) -> bool:
        target = get_named_type(parent.fields[name].type)
        if is_leaf_type(target):
            return True
        return depth + (1 if _is_record(target) else 0) <= MAX_ENTITY_DEPTH

    def field_selection(
        self,
        parent: GraphQLObjectType | GraphQLInterfaceType,
        name: str,
        depth: int,
        used: set[str],
    ) -> str:
        definition = parent.fields[name]
        key = name
        if name in used or self.chance(0.05):
            key = self.fresh("a")
        used.add(key)
        text = name if key == name else f"{key}: {name}"
        args = self.arguments(definition.args, get_named_type(definition.type), depth)
        if args:
            text += "(" + ", ".join(args) + ")"
        if self.chance(0.04):
            text += self.directive()
        target = get_named_type(definition.type)
        if not is_leaf_type(target):
            inner_depth = depth + (1 if _is_record(target) else 0)
            text += " " + self.selection_set(target, inner_depth, set())
        return text

    def directive(self) -> str:
        which = self.draw(st.sampled_from(["include", "skip"]))
        value = self.draw(st.booleans())
        if self.chance(0.5):
            return f" @{which}(if: {str(value).lower()})"
        return f" @{which}(if: {self.variable('Boolean!', value)})"

    # -- arguments --------------------------------------------------------------------

    def arguments(
        self, args: dict[str, GraphQLArgument], target: GraphQLNamedType, depth: int
    ) -> list[str]:
        out: list[str] = []
        if "first" in args and "last" in args:
            out += self.page_arguments(target, depth)
        for name, arg in args.items():
            if name in ("first", "last", "after", "before"):
                continue
            required = isinstance(arg.type, GraphQLNonNull)
            # search narrows most lists to nothing: drawn less often than where and orderBy
            if not required and not self.chance(0.15 if name == "search" else 0.35):
                continue
            value = self.value(arg.type, name, 0)
            out.append(f"{name}: {self.literal_or_variable(arg.type, value)}")
        return out

    def page_arguments(self, connection: GraphQLNamedType, depth: int) -> list[str]:
        out: list[str] = []
        size_name = "last" if self.chance(0.3) else "first"
        if self.chance(0.04):
            size: int | None = self.draw(st.sampled_from(ODD_SIZES))
        elif depth + 1 >= MAX_ENTITY_DEPTH and self.chance(0.1):
            size = None  # the default page size, on the innermost level only
        else:
            size = self.draw(st.integers(1, 3))
        if size is not None:
            out.append(f"{size_name}: {self.literal_or_variable(GraphQLInt, size)}")
        if self.chance(0.02):
            out.append("last: 1" if size_name == "first" else "first: 1")  # both: refused
        if self.chance(0.2):
            cursor_arg = "before" if size_name == "last" else "after"
            out.append(f"{cursor_arg}: {json.dumps(self.cursor(connection.name))}")
        return out

    def cursor(self, connection: str) -> str:
        own = self.pools.cursors.get(connection, ())
        if own and self.chance(0.8):
            return self.draw(st.sampled_from(own))
        everything = sorted(c for cs in self.pools.cursors.values() for c in cs)
        if everything and self.chance(0.7):
            return self.draw(st.sampled_from(everything))  # another connection's: refused
        return self.draw(st.sampled_from(["", "bm9wZQ==", "not a cursor", "eyJ9"]))

    def literal_or_variable(self, type_: GraphQLInputType, value: Any) -> str:
        if self.chance(0.2):
            return self.variable(str(type_), value)
        return _literal(value)

    def variable(self, type_text: str, value: Any) -> str:
        name = self.fresh("v")
        self.variables[name] = (type_text, value)
        return f"${name}"

    def value(
        self, type_: GraphQLInputType, name: str, depth: int, owner: str | None = None
    ) -> Any:
        """A value of ``type_``; ``owner`` names the node type an ID should belong to."""
        if isinstance(type_, GraphQLNonNull):
            return self.value(type_.of_type, name, depth, owner)
        if isinstance(type_, GraphQLList):
            count = self.draw(st.integers(1, 2))
            return [self.value(type_.of_type, name, depth + 1, owner) for _ in range(count)]
        if isinstance(type_, GraphQLEnumType):
            return Enum(self.draw(st.sampled_from(sorted(type_.values))))
        if isinstance(type_, GraphQLScalarType):
            return self.scalar(type_.name, name, owner)
        assert isinstance(type_, GraphQLInputObjectType)
        return self.input_object(type_, depth, owner)

    def input_object(
        self, type_: GraphQLInputObjectType, depth: int, owner: str | None = None
    ) -> dict[str, Any]:
        fields = type_.fields
        required = [n for n, f in fields.items() if isinstance(f.type, GraphQLNonNull)]
        optional = sorted(n for n in fields if n not in required)
        if type_.name.endswith("Where"):
            if depth >= MAX_WHERE_DEPTH:
                optional = [n for n in optional if _is_leaf_filter(fields[n].type)]
            count = (1, 2)
        elif type_.name.endswith("Filter"):
            count = (1, 1)  # one operator
        else:
            count = (0, len(optional))
        chosen = required + self.draw(
            st.lists(st.sampled_from(optional), min_size=count[0], max_size=count[1], unique=True)
            if optional
            else st.just([])
        )
        if type_.name.endswith("Where"):
            owner = type_.name.removesuffix("Where")  # its id filter takes that type's ids
        elif not type_.name.endswith("Filter"):
            owner = None
        values: dict[str, Any] = {}
        for n in chosen:
            if type_.name == "StatisticsScopeInput" and n == "id":
                # Mostly an id of the level's own type (else the resolver's error).
                owner = SCOPE_TYPES.get(str(values.get("level")))
            values[n] = self.value(fields[n].type, n, depth + 1, owner)
        return values

    def scalar(self, scalar: str, name: str, owner: str | None = None) -> Any:
        if scalar == "ID":
            if self.chance(0.15):
                return self.draw(st.sampled_from(self.pools.forged_ids))
            own = self.pools.ids.get(owner or "", ())
            if own and not self.chance(0.1):
                return self.draw(st.sampled_from(own))
            return self.draw(st.sampled_from(self.pools.all_ids()))
        if scalar == "Int":
            if name == "year":
                # 1899 and 2101: outside the years statistics accept
                return self.draw(st.sampled_from([1990, 1992, 2020, 2021, 2024, 1899, 2101]))
            if name == "builtYear":
                return self.draw(st.sampled_from([1990, 1992, 2020, 2021, 2024]))
            return self.draw(st.integers(-1, 5) | st.sampled_from([100, 101, 1990]))
        if scalar == "Boolean":
            return self.draw(st.booleans())
        if scalar == "String":
            if self.chance(0.8):
                return self.draw(st.sampled_from(self.pools.strings))
            return self.draw(st.text(max_size=4))
        if scalar == "Date":
            return self.draw(st.sampled_from(["2020-03-01", "2020-07-01", "2021-01-01"]))
        if scalar == "DateTime":
            return self.draw(
                st.sampled_from(
                    ["2020-06-01T10:00:00+08:00", "2020-08-01T00:00:00Z", "2030-01-01T00:00:00"]
                )
            )
        raise AssertionError(f"no values for scalar {scalar} (argument {name})")


def _is_record(type_: GraphQLNamedType) -> bool:
    """Whether ``type_`` is a record (one level of nesting), not a connection or edge."""
    if isinstance(type_, GraphQLInterfaceType):
        return True
    return isinstance(type_, GraphQLObjectType) and any(i.name == "Node" for i in type_.interfaces)


def _is_leaf_filter(type_: GraphQLInputType) -> bool:
    named = get_named_type(type_)
    return named.name.endswith("Filter")


def _literal(value: Any) -> str:
    if isinstance(value, Enum):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, str)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_literal(v)}" for k, v in value.items()) + "}"
    raise AssertionError(f"cannot write {value!r} as a GraphQL literal")


def _json_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return str(value)
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    return value


@st.composite
def read_operations(
    draw: Any, schema: GraphQLSchema, pools: Pools, roots: tuple[str, ...] | None = None
) -> Operation:
    """One valid read operation of ``schema``, with values from ``pools``; its first
    root field one of ``roots`` when given."""
    return _Builder(draw, schema, pools, roots=roots).operation()
