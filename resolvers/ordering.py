"""``orderBy`` inputs generated from the Tortoise models, always ending with the id.

``order_input(Branch)`` builds ``BranchOrder { field: BranchOrderField!, direction:
SortDirection! = ASC }``; a query takes ``orderBy: [BranchOrder!]`` and
``to_order(Branch, order_by)`` returns ``[(column, descending), ...]`` with the id as the
last key, so that equal values still come in one stable order (cursor pagination needs
a total order).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from tortoise import fields
from tortoise.models import Model

from resolvers.filters import ensure_relations, field_description, is_private
from schema.errors import user_error

# More sort keys than this is never useful and only makes the SQL heavier.
MAX_ORDER_KEYS = 5


@strawberry.enum(description="Sort direction")
class SortDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


_SORTABLE = (
    fields.IntField,
    fields.FloatField,
    fields.DecimalField,
    fields.CharField,  # includes enum columns
    fields.BooleanField,
    fields.DateField,
    fields.DatetimeField,
)

_ORDER: dict[type[Model], type] = {}
_FIELD_ENUMS: dict[type[Model], type[Enum]] = {}


def sortable_columns(model: type[Model]) -> dict[str, fields.Field]:
    """Own columns a client may sort by: no relations, no long text, no personal data."""
    ensure_relations(model)
    return {
        name: field
        for name, field in model._meta.fields_map.items()
        if isinstance(field, _SORTABLE)
        and getattr(field, "reference", None) is None  # not a ``<fk>_id`` column
        and not is_private(model, name)
    }


def order_input(model: type[Model]) -> type:
    """The ``<Model>Order`` input for a model (built once, then cached)."""
    cached = _ORDER.get(model)
    if cached is not None:
        return cached
    columns = sortable_columns(model)
    field_enum = Enum(  # type: ignore[misc]
        f"{model.__name__}OrderField", {name.upper(): name for name in columns}
    )
    strawberry.enum(
        field_enum,
        name=f"{model.__name__}OrderField",
        description=f"Columns {model.__name__} records can be sorted by",
    )
    for value in field_enum.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = field_description(columns[value.value]) or None

    name = f"{model.__name__}Order"
    namespace: dict[str, Any] = {
        "__module__": __name__,
        "__annotations__": {"field": field_enum, "direction": SortDirection},
        "field": strawberry.field(description="Column to sort by"),
        "direction": strawberry.field(default=SortDirection.ASC, description="ASC or DESC"),
    }
    cls = strawberry.input(
        type(name, (), namespace),
        name=name,
        description=f"One sort key for {model.__name__} records; later keys break ties, "
        "and the id breaks any tie left",
    )
    _ORDER[model] = cls
    _FIELD_ENUMS[model] = field_enum
    return cls


def order_field_enum(model: type[Model]) -> type[Enum]:
    """The ``<Model>OrderField`` enum (members are column names in upper case)."""
    order_input(model)
    return _FIELD_ENUMS[model]


def to_order(model: type[Model], order_by: list[Any] | None) -> list[tuple[str, bool]]:
    """``[(column, descending), ...]`` for an ``orderBy`` value, ending with the id."""
    pk = model._meta.pk_attr
    keys: list[tuple[str, bool]] = []
    seen: set[str] = set()
    field_enum = _FIELD_ENUMS.get(model) if order_by else None
    for entry in order_by or ():
        if field_enum is None or not isinstance(entry.field, field_enum):
            raise TypeError(f"{type(entry).__name__} is not the order input of {model.__name__}")
        column = entry.field.value
        if column in seen:
            raise user_error(f"orderBy names {entry.field.name} twice", field="orderBy")
        seen.add(column)
        keys.append((column, entry.direction is SortDirection.DESC))
    if len(keys) > MAX_ORDER_KEYS:
        raise user_error(f"orderBy takes at most {MAX_ORDER_KEYS} keys", field="orderBy")
    if pk not in seen:
        keys.append((pk, False))
    return keys


def order_by_args(keys: list[tuple[str, bool]]) -> list[str]:
    """Tortoise ``order_by`` arguments for ``to_order``'s result: ``["-star_rating", "id"]``."""
    return [f"-{column}" if descending else column for column, descending in keys]
