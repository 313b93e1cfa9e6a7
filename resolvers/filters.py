"""The one translator of ``where`` inputs to Tortoise ``Q``, and what a filter may touch.

``schema.filters`` generates the typed inputs (``MemberWhere``: one operator input per own
column, a nested ``<Related>Where`` per relation, ``and`` / ``or`` / ``not``) and registers
what each means here (``OPERATORS``, ``WHERE_FIELDS``); ``to_q(Member, where)`` turns any
such input into a Tortoise ``Q``. Every relation hop is a semi-join
(``column IN (SELECT ...)``), so a filter through a list relation never duplicates rows
and ``not`` is a true complement.

Personal data is never filterable: a filter is a way to read a value.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pypika_tortoise import Query, Table
from pypika_tortoise.terms import Term
from strawberry import UNSET
from tortoise import fields
from tortoise.expressions import Q, Subquery
from tortoise.fields.relational import (
    ManyToManyFieldInstance,
)
from tortoise.models import Model

from hub.access.personal import PERSONAL_FIELDS
from hub.lookups import lookup
from hub.models import (
    ApiToken,
    AuditLog,
    User,
)
from hub.orm_sql import built_unordered
from resolvers.errors import user_error
from resolvers.input_values import (
    MAX_TEXT_LENGTH,
    column_problem,
    text_problem,
    validator_problem,
)

__all__ = [
    "EQUALITY",
    "INTERNAL_MODELS",
    "MAX_FILTER_CONDITIONS",
    "MAX_FILTER_DEPTH",
    "MAX_FILTER_NODES",
    "MAX_LIST_VALUES",
    "OPERATORS",
    "OPS",
    "ORDERED",
    "PRIVATE_FIELDS",
    "TEXT",
    "WHERE_FIELDS",
    "Op",
    "WhereField",
    "camel",
    "decode_id",
    "is_private",
    "node_type_name",
    "split_global_id",
    "to_q",
]

# Columns that hold personal data or secrets: no filter, sort or search may touch them.
# (A filter reads a value: ``phone: {startsWith: "138"}`` would enumerate numbers.)
# Personal data (hub.access.personal) and secrets: never filterable or sortable.
PRIVATE_FIELDS: dict[type[Model], frozenset[str]] = {
    **{model: frozenset(columns) for model, columns in PERSONAL_FIELDS.items()},
    User: frozenset({"password_hash"}),
    ApiToken: frozenset({"token_hash"}),
}
# Columns that are machinery, not data.
HIDDEN_FIELDS = frozenset({"search_text"})
# The hub's own account records: a filter on domain data must not reach into them.
INTERNAL_MODELS: frozenset[type[Model]] = frozenset({User, ApiToken, AuditLog})

# Limits on one filter, so that a variable cannot smuggle in an unbounded query.
MAX_FILTER_DEPTH = 8
MAX_FILTER_CONDITIONS = 100
MAX_LIST_VALUES = 500
# Every where object counts, empty ones included: ``or: [{}, {}, ...]`` has no
# conditions but still costs a visit each.
MAX_FILTER_NODES = 200


def is_private(model: type[Model], field_name: str) -> bool:
    """True for a column no client may filter, sort or search on."""
    return field_name in HIDDEN_FIELDS or field_name in PRIVATE_FIELDS.get(model, frozenset())


def node_type_name(model: type[Model]) -> str:
    """The GraphQL type (and global-id prefix) of a model's records."""
    return model.__name__


# --- operator inputs ------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    attr: str
    name: str
    lookup: str
    description: str
    many: bool = False
    flag: bool = False


OPS = {
    op.attr: op
    for op in (
        Op("eq", "eq", "", "Equal to"),
        Op("neq", "neq", "__not", "Not equal to (records without a value match too)"),
        Op("in_", "in", "__in", "Equal to one of these", many=True),
        Op("nin", "nin", "__not_in", "None of these (records without a value match too)", True),
        Op("gt", "gt", "__gt", "Greater than"),
        Op("gte", "gte", "__gte", "Greater than or equal to"),
        Op("lt", "lt", "__lt", "Less than"),
        Op("lte", "lte", "__lte", "Less than or equal to"),
        Op("contains", "contains", "__icontains", "Contains this text (letter case ignored)"),
        Op("starts_with", "startsWith", "__istartswith", "Starts with this text (case ignored)"),
        Op("is_null", "isNull", "__isnull", "true: has no value; false: has a value", flag=True),
    )
}
EQUALITY = ("eq", "neq", "in_", "nin", "is_null")
ORDERED = (*EQUALITY, "gt", "gte", "lt", "lte")
TEXT = (*EQUALITY, "contains", "starts_with")

# --- where inputs ---------------------------------------------------------------

Kind = Literal["id", "value", "fk", "many"]


@dataclass(frozen=True)
class WhereField:
    attr: str
    kind: Kind
    column: str = ""
    nullable: bool = False
    related: type[Model] | None = None
    # "many" relations: the related model's column pointing back, or "" for M2M.
    back_column: str = ""


# What each operator input and where input the schema generates means to the translator:
# ``schema.filters`` registers every input type as it builds it.
OPERATORS: dict[type, tuple[Op, ...]] = {}
WHERE_FIELDS: dict[type, tuple[type[Model], dict[str, WhereField]]] = {}


def camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.capitalize() for part in rest)


# --- translation ----------------------------------------------------------------


Scope = Callable[[type[Model]], Q]


def _refuse_null(value: Any, here: str) -> None:
    """A key sent as null: an error, not "no condition" (leaving it out says that)."""
    if value is None:
        raise user_error(f"{here} cannot be null: leave it out instead", field=here)


def _everything(model: type[Model]) -> Q:
    return Q()


def to_q(model: type[Model], where: Any, *, scope: Scope = _everything) -> Q:
    """The Tortoise ``Q`` for a ``<Model>Where`` value; None means no condition.

    ``scope(model)`` narrows every related table a filter reaches into, so a filter
    through a relation never tests rows the viewer may not read.
    """
    if where is None or where is UNSET:
        return Q()
    return _Translator(scope).where(model, where, "where", 0)


def split_global_id(value: str) -> tuple[str, str]:
    """``(type name, key)`` in a Relay global ID (base64 of ``Type:key``); ValueError if none."""
    try:
        type_name, sep, key = base64.b64decode(value.encode()).decode().partition(":")
    except Exception as exc:  # binascii.Error, UnicodeError: not an ID
        raise ValueError(str(exc)) from exc
    if not sep:
        raise ValueError(f"{value!r} is not Type:key")
    return type_name, key


def decode_id(value: str, model: type[Model], path: str = "id") -> int:
    """The primary key in a global ID, refusing IDs of another type."""
    expected = node_type_name(model)
    value = str(value)
    shown = value if len(value) <= 60 else f"{value[:60]}…"
    try:
        type_name, raw_pk = split_global_id(value)
        pk = int(raw_pk)
    except ValueError:
        raise user_error(f'{path}: "{shown}" is not a valid {expected} ID', field=path) from None
    if type_name != expected:
        raise user_error(
            f'{path}: "{shown}" is the ID of a {type_name}, not of a {expected}', field=path
        )
    if column_problem(model._meta.pk, pk) is not None:
        raise user_error(f'{path}: "{shown}" names no {expected} (id out of range)', field=path)
    return pk


class _SemiJoin(Subquery):
    """A subquery for ``IN (...)`` without the model's default ORDER BY.

    An ORDER BY is useless inside IN and stops PostgreSQL flattening the subquery
    into a semi-join.
    """

    def get_sql(self, ctx: Any) -> str:
        return built_unordered(self.query).get_parameterized_sql(ctx)[0]


def _ids(model: type[Model], condition: Q, column: str = "id") -> _SemiJoin:
    """``SELECT column FROM model WHERE condition``, for use in ``IN``."""
    return _SemiJoin(model.filter(condition).values(column))


def _linked_ids(field: ManyToManyFieldInstance, related_ids: Term) -> Term:
    """Our ids linked through the M2M table to any of ``related_ids``."""
    through = Table(field.through, schema=field.through_schema)
    query = Query.from_(through).select(through[field.backward_key])
    return query.where(through[field.forward_key].isin(related_ids))


_FALSE = Q(id__in=[])  # an empty "or": matches nothing
# Operators whose value is free text, not a value of the column.
_FREE_TEXT_OPS = frozenset({"contains", "startsWith"})


def _empty(q: Q) -> bool:
    return not q.children and not q.filters


def _all(parts: list[Q]) -> Q:
    parts = [part for part in parts if not _empty(part)]
    if not parts:
        return Q()
    return parts[0] if len(parts) == 1 else Q(*parts)


def _visible(column: str, op: Op, value: Any, readable: _SemiJoin) -> Q:
    """An id operator on a foreign key whose unreadable targets count as null."""
    has = lookup(f"{column}__in", readable)  # a value the viewer may read
    if op.flag:  # isNull
        return (~has | lookup(f"{column}__isnull", True)) if value else has
    if op.name in ("neq", "nin"):  # "records without a value match too"
        positive = lookup(f"{column}__in", value if op.many else [value])
        return lookup(f"{column}__isnull", True) | ~Q(positive, has)
    return Q(lookup(f"{column}{op.lookup}", value), has)


class _Translator:
    """One translation: counts conditions so a huge filter is refused, not run."""

    def __init__(self, scope: Scope) -> None:
        self.conditions = 0
        self.nodes = 0
        self.scope = scope

    def room_for(self, path: str, coming: int = 1) -> None:
        """Refuse when ``coming`` more where objects would pass the limit: an ``or``
        list is judged by its length, before any of its items is visited."""
        if self.nodes + coming > MAX_FILTER_NODES:
            raise user_error(
                f"{path}: 筛选条件过多 (the filter has more than {MAX_FILTER_NODES} parts, "
                "empty ones included)",
                field=path,
            )

    def ids(self, model: type[Model], condition: Q, column: str = "id") -> _SemiJoin:
        """The readable rows of ``model`` matching ``condition``, for use in ``IN``."""
        return _ids(model, _all([self.scope(model), condition]), column)

    def where(
        self, model: type[Model], where: Any, path: str, depth: int, skip_id: bool = False
    ) -> Q:
        spec_entry = WHERE_FIELDS.get(type(where))
        if spec_entry is None or spec_entry[0] is not model:
            raise TypeError(f"{type(where).__name__} is not the where input of {model.__name__}")
        if depth > MAX_FILTER_DEPTH:
            raise user_error(
                f"{path}: the filter nests more than {MAX_FILTER_DEPTH} levels deep", field=path
            )
        self.room_for(path)
        self.nodes += 1
        parts: list[Q] = []
        for attr, spec in spec_entry[1].items():
            if skip_id and spec.kind == "id":
                continue
            value = getattr(where, attr)
            if value is UNSET:
                continue
            here = f"{path}.{camel(attr)}"
            _refuse_null(value, here)
            parts.append(self.field(model, spec, value, here, depth))
        for attr, name in (("and_", "and"), ("or_", "or")):
            items = getattr(where, attr)
            if items is UNSET:
                continue
            here = f"{path}.{name}"
            _refuse_null(items, here)
            self.room_for(here, len(items))
            subs = [
                self.where(model, item, f"{here}[{i}]", depth + 1) for i, item in enumerate(items)
            ]
            if attr == "and_":
                parts.append(_all(subs))
            elif not subs:
                parts.append(_FALSE)
            elif any(_empty(sub) for sub in subs):
                continue  # one branch matches everything
            else:
                parts.append(Q(*subs, join_type="OR"))
        negated = where.not_
        if negated is not UNSET:
            if negated is None:
                raise user_error(f"{path}.not cannot be null: leave it out instead")
            inner = self.where(model, negated, f"{path}.not", depth + 1)
            parts.append(_FALSE if _empty(inner) else ~inner)
        return _all(parts)

    def field(self, model: type[Model], spec: WhereField, value: Any, path: str, depth: int) -> Q:
        if spec.kind == "id":
            return self.operators("id", value, path, nullable=False, id_of=model)
        if spec.kind == "value":
            column = model._meta.fields_map[spec.column]
            return self.operators(spec.column, value, path, nullable=spec.nullable, field=column)
        related = spec.related
        assert related is not None
        if spec.kind == "fk":
            if value.id is None:
                raise user_error(f"{path}.id cannot be null: leave it out instead")
            # A related row the viewer may not read reads as null (``to_one``): the
            # filter must see the same, or ``community: {id: {eq: …}}`` would tell
            # what the viewer cannot read.
            hidden = not _empty(self.scope(related))
            parts: list[Q] = []
            if value.id is not UNSET:
                ids = self.operators(
                    spec.column,
                    value.id,
                    f"{path}.id",
                    nullable=spec.nullable,
                    id_of=related,
                    readable=self.ids(related, Q()) if hidden else None,
                )
                parts.append(ids)
            rest = self.where(related, value, path, depth + 1, skip_id=True)
            if not _empty(rest):
                condition = lookup(f"{spec.column}__in", self.ids(related, rest))
                if spec.nullable:  # keeps ``not`` the exact complement
                    condition = Q(lookup(f"{spec.column}__isnull", False), condition)
                parts.append(condition)
            elif not parts and hidden:  # "has one": one the viewer may read
                condition = lookup(f"{spec.column}__in", self.ids(related, Q()))
                if spec.nullable:
                    condition = Q(lookup(f"{spec.column}__isnull", False), condition)
                parts.append(condition)
            elif spec.nullable and not parts:
                parts.append(lookup(f"{spec.column}__isnull", False))  # "has one"
            return _all(parts)
        inner = self.where(related, value, path, depth + 1)
        if spec.back_column:  # reverse foreign key: its rows point back at ours
            not_null = lookup(f"{spec.back_column}__isnull", False)
            return Q(id__in=self.ids(related, _all([inner, not_null]), spec.back_column))
        field = model._meta.fields_map[spec.attr]
        assert isinstance(field, ManyToManyFieldInstance)
        return Q(id__in=_linked_ids(field, self.ids(related, inner)))

    def operators(
        self,
        column: str,
        ops_input: Any,
        path: str,
        *,
        nullable: bool,
        id_of: type[Model] | None = None,
        readable: _SemiJoin | None = None,
        field: fields.Field | None = None,
    ) -> Q:
        """``readable``: for a foreign key, the related ids the viewer may read; any other
        value of the column is treated as null (as the relation reads)."""
        ops = OPERATORS.get(type(ops_input))
        if ops is None:
            raise TypeError(f"{type(ops_input).__name__} is not an operator input")
        parts: list[Q] = []
        for op in ops:
            value = getattr(ops_input, op.attr)
            if value is UNSET:
                continue
            here = f"{path}.{op.name}"
            if value is None:
                hint = " (use isNull to find records without a value)" if op.name == "eq" else ""
                raise user_error(f"{here} cannot be null{hint}", field=here)
            self.conditions += 1
            if self.conditions > MAX_FILTER_CONDITIONS:
                raise user_error(f"The filter has more than {MAX_FILTER_CONDITIONS} conditions")
            if op.many and len(value) > MAX_LIST_VALUES:
                raise user_error(f"{here} lists more than {MAX_LIST_VALUES} values", field=here)
            # contains/startsWith take any text, not a value of the column: only its
            # general text limits apply, not the column's length or validators.
            column_field = None if op.name in _FREE_TEXT_OPS else field
            value = self.value(value, here, id_of, column_field)
            if readable is not None:
                parts.append(_visible(column, op, value, readable))
                continue
            condition = lookup(f"{column}{op.lookup}", value)
            if nullable and not op.flag and op.name not in ("neq", "nin"):
                # NULL > x is unknown, and NOT unknown drops the row: spelling out
                # "has a value and ..." makes ``not`` the exact complement.
                condition = Q(lookup(f"{column}__isnull", False), condition)
            parts.append(condition)
        return _all(parts)

    def value(
        self, value: Any, path: str, id_of: type[Model] | None, field: fields.Field | None
    ) -> Any:
        if isinstance(value, list):
            return [self.value(item, path, id_of, field) for item in value]
        if id_of is not None and not isinstance(value, bool):
            return decode_id(value, id_of, path)
        problem = column_problem(field, value) if field is not None else None
        if problem is None and field is not None and not isinstance(value, bool):
            problem = validator_problem(field, value)
        elif problem is None and isinstance(value, str):
            problem = text_problem(value)
            if problem is None and len(value) > MAX_TEXT_LENGTH:
                problem = f"is longer than {MAX_TEXT_LENGTH} characters ({len(value)})"
        if problem is not None:
            raise user_error(f"{path}: 值无法用于此字段 (the value {problem})", field=path)
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            raise user_error(
                f"{path}: give the time with its UTC offset, e.g. {value.isoformat()}+08:00",
                field=path,
            )
        return value
