"""Model rows from SQL records, cheaply: hydration and key lookups without the query builder.

:func:`hydrate` builds exactly the object ``Model._init_from_db(**record)`` builds (same
attributes, same conversions) by filling the instance dictionary in one pass and
turning enum columns into members with a dictionary lookup. :func:`fetch_by_key` is
``model.filter(scope, <column>__in=values)`` for the unrestricted scope, with the
statement Tortoise builds kept per model, column and number of values, so a loader
batch costs one prepared statement and no query building.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from functools import cache
from typing import Any, TypeVar

from tortoise.expressions import Q
from tortoise.fields.data import CharEnumFieldInstance, IntEnumFieldInstance
from tortoise.models import Model

M = TypeVar("M", bound=Model)

_ENUM_FIELDS = (CharEnumFieldInstance, IntEnumFieldInstance)


class _Spec:
    """How to hydrate one model: the column groups of ``_init_from_db``."""

    __slots__ = ("complex", "default", "generated_pk", "native")

    def __init__(self, model: type[Model]) -> None:
        meta = model._meta
        self.native = tuple((key, attr) for key, attr, _ in meta.db_native_fields)
        self.default = tuple((key, attr, f.field_type) for key, attr, f in meta.db_default_fields)
        complex_: list[tuple[str, str, Any, Mapping[Any, Enum] | None]] = []
        for key, attr, field in meta.db_complex_fields:
            members = None
            if isinstance(field, _ENUM_FIELDS) and type(field).to_python_value in (
                CharEnumFieldInstance.to_python_value,
                IntEnumFieldInstance.to_python_value,
            ):
                # enum_type(value) is this lookup for any value it accepts.
                members = field.enum_type._value2member_map_
            complex_.append((key, attr, field.to_python_value, members))
        self.complex = tuple(complex_)
        self.generated_pk = meta.db_pk_column not in meta.generated_db_fields


@cache
def _spec(model: type[Model]) -> _Spec:
    return _Spec(model)


def hydrate(model: type[M], record: Mapping[str, Any]) -> M:
    """``model._init_from_db(**record)``, faster; a partial record takes Tortoise's path."""
    spec = _spec(model)
    values: dict[str, Any] = {
        "_partial": False,
        "_saved_in_db": True,
        "_custom_generated_pk": spec.generated_pk,
        "_await_when_save": {},
    }
    try:
        for key, attr in spec.native:
            values[attr] = record[key]
        for key, attr, kind in spec.default:
            value = record[key]
            values[attr] = value if value is None else kind(value)
        for key, attr, convert, members in spec.complex:
            value = record[key]
            if members is not None and value is not None:
                member = members.get(value)
                values[attr] = member if member is not None else convert(value)
            else:
                values[attr] = convert(value)
    except (KeyError, IndexError):
        return model._init_from_db(**record)
    row = model.__new__(model)
    row.__dict__.update(values)
    return row


def _unrestricted(q: Q) -> bool:
    return not q.children and not q.filters and not q._is_negated


# Statements by (model, column, number of values, connection): bounded by the page size.
_STATEMENTS: dict[tuple[type[Model], str, int, str], str] = {}
_MAX_STATEMENTS = 4096


async def fetch_by_key(model: type[M], scope: Q, column: str, values: Sequence[Any]) -> list[M]:
    """``await model.filter(scope, **{column + "__in": values})``, with a kept statement."""
    queryset = model.filter(scope, **{f"{column}__in": list(values)})
    if not values or not _unrestricted(scope):
        return await queryset
    queryset._choose_db_if_not_chosen()
    db = queryset._db
    key = (model, column, len(values), db.connection_name)
    sql = _STATEMENTS.get(key)
    if sql is None:
        queryset._make_query()
        sql, params = queryset.query.get_parameterized_sql()
        if list(params) != list(values):
            return await queryset  # not the plain IN list expected: Tortoise's own path
        if len(_STATEMENTS) >= _MAX_STATEMENTS:
            _STATEMENTS.clear()
        _STATEMENTS[key] = sql
    _, records = await db.execute_query(sql, list(values))
    return [hydrate(model, record) for record in records]
