"""``orderBy`` inputs generated from the Tortoise models (sort keys: :mod:`resolvers.ordering`).

``order_input(Branch)`` builds ``BranchOrder { field: BranchOrderField!, direction:
SortDirection! = ASC }`` over the columns :func:`resolvers.ordering.sortable_columns` allows.
"""

from __future__ import annotations

from typing import Any

import strawberry
from tortoise.models import Model

from resolvers.ordering import SortDirection, order_field_enum, sortable_columns
from schema.filters import field_description

__all__ = ["SortDirection", "order_input"]

strawberry.enum(SortDirection, description="Sort direction")

_ORDER: dict[type[Model], type] = {}


def order_input(model: type[Model]) -> type:
    """The ``<Model>Order`` input for a model (built once, then cached)."""
    cached = _ORDER.get(model)
    if cached is not None:
        return cached
    columns = sortable_columns(model)
    field_enum = order_field_enum(model)
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
    return cls
