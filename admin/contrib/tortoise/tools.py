"""Model metadata helpers for the Tortoise backend: field kinds, display names, time zones."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from tortoise import fields
from tortoise.fields.relational import (
    BackwardFKRelation,
    ForeignKeyFieldInstance,
    ManyToManyFieldInstance,
    OneToOneFieldInstance,
)
from tortoise.models import Model

# Attributes that name a record, in order of preference.
NAME_ATTRIBUTES = ("name", "title", "person_name", "display_name", "username")

TEXT = "text"
INT = "int"
FLOAT = "float"
BOOL = "bool"
DATE = "date"
DATETIME = "datetime"
ENUM = "enum"
FK = "fk"
M2M = "m2m"
JSON = "json"
OTHER = "other"


# The range of the database's integer columns (ids are 32-bit): a number outside it is
# no record and no value, and must not reach the database (PostgreSQL refuses it).
DB_INT_MIN = -(2**31)
DB_INT_MAX = 2**31 - 1


IntBounds = tuple[int, int]
INT_BOUNDS: IntBounds = (DB_INT_MIN, DB_INT_MAX)


def int_bounds(field: Any) -> IntBounds:
    """The values an integer column holds (a SMALLINT's are fewer)."""
    if isinstance(field, fields.SmallIntField):
        return (-(2**15), 2**15 - 1)
    if isinstance(field, fields.BigIntField):
        return (-(2**63), 2**63 - 1)
    return INT_BOUNDS


def db_int(raw: Any, bounds: IntBounds = INT_BOUNDS) -> int:
    """``raw`` as an integer the column can hold; ValueError otherwise."""
    text = str(raw).strip()
    if len(text) > 20:  # never parse a huge number: int() of 100k digits is slow
        raise ValueError(f"not a database integer: {text[:20]}…")
    value = int(text)
    low, high = bounds
    if not low <= value <= high:
        raise ValueError(f"out of range: {value}")
    return value


def record_id(raw: Any) -> int | None:
    """A record id from a URL or a form, or None for anything that cannot be one."""
    try:
        value = db_int(raw)
    except (TypeError, ValueError):
        return None
    return value if value > 0 else None


def get_primary_key(model: type[Model]) -> str:
    return model._meta.pk_attr


def model_fields(model: type[Model]) -> Iterator[tuple[str, fields.Field[Any]]]:
    """(name, field) of every field declared on the model, in declaration order.

    FK id columns (``branch_id``) are left out: their relation field stands for them.
    Backward relations are left out too.
    """
    meta = model._meta
    hidden = {fk_column(field) for field in _forward_fks(model)}
    for name, field in meta.fields_map.items():
        if name in hidden or isinstance(field, BackwardFKRelation):
            continue
        yield name, field


def _forward_fks(model: type[Model]) -> list[Any]:
    meta = model._meta
    return [meta.fields_map[name] for name in meta.fk_fields | meta.o2o_fields]


def field_kind(field: fields.Field[Any]) -> str:
    """What a field holds, as the filter and form converters see it."""
    if isinstance(field, ForeignKeyFieldInstance | OneToOneFieldInstance):
        return FK
    if isinstance(field, ManyToManyFieldInstance):
        return M2M
    if getattr(field, "enum_type", None) is not None:
        return ENUM
    if isinstance(field, fields.BooleanField):
        return BOOL
    if isinstance(field, fields.DatetimeField):
        return DATETIME
    if isinstance(field, fields.DateField):
        return DATE
    if isinstance(field, fields.IntField | fields.SmallIntField | fields.BigIntField):
        return INT
    if isinstance(field, fields.FloatField | fields.DecimalField):
        return FLOAT
    if isinstance(field, fields.JSONField):
        return JSON
    if isinstance(field, fields.CharField | fields.TextField):
        return TEXT
    return OTHER


def is_long_text(field: fields.Field[Any]) -> bool:
    return isinstance(field, fields.TextField)


def related_model(field: fields.Field[Any]) -> type[Model]:
    """The model a relation points at, also before ``Tortoise.init`` has resolved it.

    Views are built when the app is assembled, before the lifespan opens the ORM.
    """
    resolved = getattr(field, "related_model", None)
    if resolved is not None:
        return resolved
    name = field.model_name.rsplit(".", 1)[-1]  # type: ignore[attr-defined]
    found = _model_named(Model, name)
    if found is None:
        raise LookupError(f"no model named {field.model_name!r}")  # type: ignore[attr-defined]
    return found


def _model_named(base: type[Model], name: str) -> type[Model] | None:
    for sub in base.__subclasses__():
        if sub.__name__ == name and not sub._meta.abstract:
            return sub
        found = _model_named(sub, name)
        if found is not None:
            return found
    return None


def fk_column(field: fields.Field[Any]) -> str:
    """The id column of a forward FK or one-to-one (``branch`` → ``branch_id``)."""
    return getattr(field, "source_field", None) or f"{field.model_field_name}_id"


def name_attribute(model: type[Model]) -> str | None:
    names = model._meta.fields_map
    return next((attr for attr in NAME_ATTRIBUTES if attr in names), None)


def display(obj: Any) -> str:
    """A short human name for a record (what lists and selects show)."""
    if obj is None:
        return ""
    if isinstance(obj, enum.Enum):
        return str(getattr(obj, "label", obj.value))
    if not isinstance(obj, Model):
        return str(obj)
    for attr in NAME_ATTRIBUTES:
        value = getattr(obj, attr, None)
        if isinstance(value, str) and value:
            return value
    shown = getattr(obj, "display_label", None)
    if isinstance(shown, str) and shown:
        return shown
    return f"#{obj.pk}"


# --- time zones: shown in the district's zone, stored in UTC -----------------------------


def to_local(value: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    if value.tzinfo is None:  # naive values from the ORM are UTC
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(zone)


def local_to_utc(value: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """A naive datetime typed in ``zone`` (a form, a filter) as an aware UTC datetime."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(dt.UTC)


def format_local(value: dt.datetime, zone: ZoneInfo, *, seconds: bool = False) -> str:
    shown = to_local(value, zone)
    return shown.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
