"""Typed ``where`` inputs generated from the Tortoise models (the translator is
:mod:`resolvers.filters`).

``where_input(Member)`` builds ``MemberWhere`` from the model's metadata: one operator
input per own column (by its type), a nested ``<Related>Where`` per relation, and
``and`` / ``or`` / ``not``. Each type is registered with the translator
(``OPERATORS``, ``WHERE_FIELDS``) as it is built, so ``to_q`` knows what its fields mean.

Personal data is never filterable: a filter is a way to read a value.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import strawberry
from strawberry import UNSET
from tortoise import fields
from tortoise.fields.relational import (
    BackwardFKRelation,
    ForeignKeyFieldInstance,
    ManyToManyFieldInstance,
)
from tortoise.models import Model

from hub.db import ensure_relations
from resolvers.filters import (
    EQUALITY,
    INTERNAL_MODELS,
    OPERATORS,
    OPS,
    ORDERED,
    TEXT,
    WHERE_FIELDS,
    WhereField,
    camel,
    is_private,
)
from schema.enums import ENUM_DESCRIPTIONS  # also registers the enums: only those filter

__all__ = [
    "BooleanFilter",
    "DateFilter",
    "DateTimeFilter",
    "DecimalFilter",
    "FloatFilter",
    "IDFilter",
    "IntFilter",
    "StringFilter",
    "field_description",
    "where_input",
]


def field_description(field: fields.Field) -> str:
    """A column's description for the schema (enum columns get their enum's)."""
    enum_type = getattr(field, "enum_type", None)
    if enum_type is not None:
        generated = "\n".join(f"{e.name}: {e.value}" for e in enum_type)
        if not field.description or field.description == generated:
            return ENUM_DESCRIPTIONS.get(enum_type, "")
    return field.description or ""


# --- operator inputs ------------------------------------------------------------


def _operator_input(name: str, value_type: Any, ops: tuple[str, ...], description: str) -> type:
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__module__": __name__, "__doc__": description}
    for attr in ops:
        op = OPS[attr]
        annotations[attr] = (
            bool | None if op.flag else (list[value_type] | None if op.many else value_type | None)
        )
        namespace[attr] = strawberry.field(name=op.name, default=UNSET, description=op.description)
    namespace["__annotations__"] = annotations
    cls = strawberry.input(type(name, (), namespace), name=name, description=description)
    OPERATORS[cls] = tuple(OPS[attr] for attr in ops)
    return cls


StringFilter = _operator_input("StringFilter", str, TEXT, "Conditions on a text value")
IntFilter = _operator_input("IntFilter", int, ORDERED, "Conditions on a whole number")
FloatFilter = _operator_input("FloatFilter", float, ORDERED, "Conditions on a number")
DecimalFilter = _operator_input(
    "DecimalFilter", decimal.Decimal, ORDERED, "Conditions on a decimal"
)
BooleanFilter = _operator_input("BooleanFilter", bool, ("eq", "is_null"), "Conditions on a flag")
DateFilter = _operator_input("DateFilter", dt.date, ORDERED, "Conditions on a date")
DateTimeFilter = _operator_input(
    "DateTimeFilter",
    dt.datetime,
    ORDERED,
    "Conditions on a moment; give it with its UTC offset, e.g. 2020-05-01T08:00:00+08:00",
)
IDFilter = _operator_input(
    "IDFilter",
    strawberry.ID,
    EQUALITY,
    "Conditions on a record's global ID; on a relation, isNull tells whether it is empty",
)
_ENUM_FILTERS: dict[type, type] = {}


def _enum_filter(enum_type: type) -> type:
    cls = _ENUM_FILTERS.get(enum_type)
    if cls is None:
        name = f"{enum_type.__name__}Filter"
        cls = _operator_input(name, enum_type, EQUALITY, f"Conditions on a {enum_type.__name__}")
        _ENUM_FILTERS[enum_type] = cls
    return cls


def _value_filter(field: fields.Field) -> type | None:
    """The operator input for an own column, or None if it is not filterable."""
    enum_type = getattr(field, "enum_type", None)
    if enum_type is not None:
        registered = hasattr(enum_type, "__strawberry_definition__")
        return _enum_filter(enum_type) if registered else None
    kinds: tuple[tuple[type, type], ...] = (
        (fields.BooleanField, BooleanFilter),
        (fields.DatetimeField, DateTimeFilter),
        (fields.DateField, DateFilter),
        (fields.IntField, IntFilter),
        (fields.FloatField, FloatFilter),
        (fields.DecimalField, DecimalFilter),
        (fields.CharField, StringFilter),
        (fields.TextField, StringFilter),
    )
    for field_class, filter_class in kinds:
        if isinstance(field, field_class):
            return filter_class
    return None  # JSON, binary, UUID, time: not filterable


# --- where inputs ---------------------------------------------------------------

_WHERE: dict[type[Model], type] = {}


def where_input(model: type[Model]) -> type:
    """The ``<Model>Where`` input for a model (built once, then cached)."""
    cached = _WHERE.get(model)
    if cached is not None:
        return cached
    ensure_relations(model)
    name = f"{model.__name__}Where"
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__module__": __name__}
    specs: dict[str, WhereField] = {}
    related_models: list[type[Model]] = []

    def add(spec: WhereField, annotation: Any, graphql_name: str, description: str) -> None:
        specs[spec.attr] = spec
        annotations[spec.attr] = annotation
        namespace[spec.attr] = strawberry.field(
            name=graphql_name, default=UNSET, description=description or None
        )

    for field_name, field in model._meta.fields_map.items():
        if is_private(model, field_name) or getattr(field, "reference", None) is not None:
            continue  # private, or the ``<fk>_id`` column (filtered through the relation)
        graphql_name = camel(field_name)
        description = field_description(field)
        if field_name == model._meta.pk_attr:
            add(WhereField(field_name, "id"), IDFilter | None, graphql_name, "Global ID")
            continue
        related = getattr(field, "related_model", None)
        if related is not None:
            if related in INTERNAL_MODELS and model not in INTERNAL_MODELS:
                continue  # domain records never filter through accounts; the audit log may
            related_models.append(related)
            annotation = f"{related.__name__}Where | None"
            if isinstance(field, ForeignKeyFieldInstance):  # also one-to-one
                column = field.source_field or f"{field_name}_id"
                spec = WhereField(field_name, "fk", column, bool(field.null), related)
                description = description or f"The {related.__name__} matches"
            elif isinstance(field, ManyToManyFieldInstance):
                spec = WhereField(field_name, "many", related=related)
                description = description or f"Some related {related.__name__} matches"
            elif isinstance(field, BackwardFKRelation):  # also backward one-to-one
                spec = WhereField(
                    field_name, "many", related=related, back_column=field.relation_field
                )
                description = f"Some related {related.__name__} matches"
            else:
                continue
            add(spec, annotation, graphql_name, description)
            continue
        filter_class = _value_filter(field)
        if filter_class is not None:
            spec = WhereField(field_name, "value", field_name, bool(field.null))
            add(spec, filter_class | None, graphql_name, description)

    for attr, graphql_name, annotation, description in (
        ("and_", "and", f"list[{name}] | None", "All of these hold"),
        ("or_", "or", f"list[{name}] | None", "At least one of these holds"),
        ("not_", "not", f"{name} | None", "This does not hold"),
    ):
        annotations[attr] = annotation
        namespace[attr] = strawberry.field(
            name=graphql_name, default=UNSET, description=description
        )
    namespace["__annotations__"] = annotations
    summary = (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else model.__name__
    cls = strawberry.input(
        type(name, (), namespace),
        name=name,
        description=f"Which {model.__name__} records to return ({summary}). "
        "Every condition given must hold.",
    )
    # String annotations (self and relation references) resolve in this module.
    globals()[name] = cls
    _WHERE[model] = cls
    WHERE_FIELDS[cls] = (model, specs)
    for related in related_models:
        where_input(related)
    return cls
