"""Forms generated from Tortoise model metadata.

Fields keep what a person typed (dates and numbers as text) and leave the checking to
whoever saves the record — for the hub, the same services the API uses, so a refused
value gets the same message in both. Foreign keys and many-to-many fields are select2
ajax selects holding ids; enums are selects showing their labels; datetimes are shown
in the district's time zone and handed on in UTC.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from flask_admin.babel import gettext
from flask_admin.form import (
    BaseForm,
    DatePickerWidget,
    DateTimePickerWidget,
    Select2Widget,
    recreate_field,
)
from flask_admin.helpers import get_url
from markupsafe import Markup
from tortoise.models import Model
from wtforms import fields as wtf
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import UnboundField
from wtforms.widgets import TextArea, html_params

from admin.contrib.tortoise import tools
from admin.contrib.tortoise.ajax import QueryAjaxModelLoader

LabelOf = Callable[[Any], Any]


class Required:
    """Marks a field as required (asterisk, ``required`` attribute) without a message of
    its own: the service that saves the record says what is missing."""

    field_flags = {"required": True}

    def __call__(self, form: Any, field: Any) -> None:
        return None


# --- fields ------------------------------------------------------------------------------


class TextField(wtf.StringField):
    """Text as typed (no stripping to None: the service decides what blank means)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            self.data = valuelist[0]


class LongTextField(TextField):
    widget = TextArea()


class DateTextField(TextField):
    widget = DatePickerWidget()

    def _value(self) -> str:
        if isinstance(self.data, dt.date):
            return self.data.isoformat()
        return "" if self.data is None else str(self.data)


class LocalDateTimeField(TextField):
    """Shows a stored (UTC) datetime in ``zone``; a typed naive time is read in ``zone``
    and handed on as an aware UTC datetime. Text it cannot read is handed on as it is."""

    widget = DateTimePickerWidget()

    def __init__(self, *args: Any, zone: ZoneInfo, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone

    def _value(self) -> str:
        if isinstance(self.data, dt.datetime):
            return tools.format_local(self.data, self.zone, seconds=True)
        return "" if self.data is None else str(self.data)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        raw = (valuelist[0] or "").strip()
        try:
            self.data = tools.local_to_utc(dt.datetime.fromisoformat(raw), self.zone)
        except ValueError:
            self.data = raw


class EnumSelectField(wtf.SelectField):
    """A select of an enum's values shown by their labels; "" is no value."""

    widget = Select2Widget()

    def __init__(self, *args: Any, enum: Any, label_of: LabelOf, **kwargs: Any) -> None:
        kwargs["choices"] = [
            SelectChoice("", ""),
            *(SelectChoice(m.value, label_of(m)) for m in enum),
        ]
        kwargs.setdefault("validate_choice", False)
        super().__init__(*args, **kwargs)
        self.allow_blank = True

    def process_data(self, value: Any) -> None:
        self.data = getattr(value, "value", value) or ""


class EnumMultipleField(wtf.SelectMultipleField):
    widget = Select2Widget(multiple=True)

    def __init__(self, *args: Any, enum: Any, label_of: LabelOf, **kwargs: Any) -> None:
        kwargs["choices"] = [SelectChoice(m.value, label_of(m)) for m in enum]
        kwargs.setdefault("validate_choice", False)
        super().__init__(*args, **kwargs)

    def process_data(self, value: Any) -> None:
        self.data = [getattr(v, "value", v) for v in value or []]


class AjaxIdField(wtf.Field):
    """A related record's id, picked with a select2 ajax search."""

    def __init__(
        self,
        label: Any = None,
        validators: Any = None,
        *,
        loader: QueryAjaxModelLoader,
        allow_blank: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(label, validators, **kwargs)
        self.loader = loader
        self.allow_blank = allow_blank

    def process_data(self, value: Any) -> None:
        self.data = value.pk if isinstance(value, Model) else value

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            raw = (valuelist[0] or "").strip()
            self.data = None if raw in ("", "__None") else raw

    def __call__(self, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", self.id)
        attrs = _ajax_attrs(self, kwargs)
        if self.allow_blank:
            attrs["data-allow-blank"] = "1"
        if self.data not in (None, ""):
            shown = self.loader.format(self.data)
            attrs["value"] = str(self.data)
            attrs["data-json"] = json.dumps(shown, ensure_ascii=False)
        return Markup(f"<input {html_params(name=self.name, **attrs)}>")


class AjaxIdsField(wtf.Field):
    """Ids of related records (many-to-many), picked with a multiple select2 ajax search."""

    separator = ","

    def __init__(
        self,
        label: Any = None,
        validators: Any = None,
        *,
        loader: QueryAjaxModelLoader,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("default", list)
        super().__init__(label, validators, **kwargs)
        self.loader = loader

    def process_data(self, value: Any) -> None:
        items: Iterable[Any] = value or []
        self.data = [item.pk if isinstance(item, Model) else item for item in items]

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            parts = [p.strip() for v in valuelist for p in (v or "").split(self.separator)]
            self.data = [p for p in parts if p]

    def __call__(self, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", self.id)
        attrs = _ajax_attrs(self, kwargs)
        ids = [str(i) for i in self.data or []]
        labels = self.loader.labels(ids)
        shown = [[i, labels.get(int(i), f"#{i}") if i.isdigit() else i] for i in ids]
        attrs.update(
            {
                "value": self.separator.join(ids),
                "data-json": json.dumps(shown, ensure_ascii=False),
                "data-multiple": "1",
                "data-separator": self.separator,
            }
        )
        return Markup(f"<input {html_params(name=self.name, **attrs)}>")


def _ajax_attrs(field: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    attrs = dict(kwargs)
    attrs.setdefault("type", "hidden")
    attrs.setdefault("data-role", "select2-ajax")
    attrs.setdefault("data-url", get_url(".ajax_lookup", name=field.loader.name))
    attrs.setdefault(
        "data-placeholder",
        field.loader.options.get("placeholder") or gettext("Please select model"),
    )
    attrs.setdefault(
        "data-minimum-input-length", int(field.loader.options.get("minimum_input_length", 0))
    )
    attrs.setdefault("data-separator", ",")
    attrs.pop("required", None)  # a hidden input cannot be "required" in the browser
    return attrs


# --- conversion --------------------------------------------------------------------------


class ModelConverter:
    """Turns a Tortoise field into an unbound WTForms field (see ``get_form``)."""

    def __init__(
        self,
        *,
        zone: ZoneInfo,
        loaders: dict[str, QueryAjaxModelLoader],
        label_of: LabelOf = tools.display,
    ) -> None:
        self.zone = zone
        self.loaders = loaders
        self.label_of = label_of

    def convert(
        self, model: type[Model], name: str, field: Any, field_args: dict[str, Any]
    ) -> UnboundField[Any] | None:
        kind = tools.field_kind(field)
        kwargs: dict[str, Any] = {
            "label": getattr(field, "description", None) or name,
            "validators": [],
            "description": "",
            **field_args,
        }
        if field_args.get("required", _is_required(field)):
            kwargs["validators"] = [*kwargs["validators"], Required()]
        kwargs.pop("required", None)
        if kind == tools.TEXT:
            return (LongTextField if tools.is_long_text(field) else TextField)(**kwargs)
        if kind in (tools.INT, tools.FLOAT):
            kwargs.setdefault("render_kw", {"inputmode": "numeric"})
            return TextField(**kwargs)
        if kind == tools.BOOL:
            kwargs["validators"] = []  # unticked is a value, not a missing one
            return wtf.BooleanField(**kwargs)
        if kind == tools.DATE:
            return DateTextField(**kwargs)
        if kind == tools.DATETIME:
            return LocalDateTimeField(zone=self.zone, **kwargs)
        if kind == tools.ENUM:
            return EnumSelectField(enum=field.enum_type, label_of=self.label_of, **kwargs)
        if kind == tools.FK:
            loader = self.loaders[name]
            return AjaxIdField(loader=loader, allow_blank=bool(field.null), **kwargs)
        if kind == tools.M2M:
            return AjaxIdsField(loader=self.loaders[name], **kwargs)
        return None  # JSON and others are not edited in forms


def _is_required(field: Any) -> bool:
    kind = tools.field_kind(field)
    if kind in (tools.BOOL, tools.M2M) or field.null or field.generated:
        return False
    return (
        field.default is None
        and not getattr(field, "auto_now", False)
        and not getattr(field, "auto_now_add", False)
    )


def form_field_name(name: str, field: Any) -> str:
    """The form's name for a model field: FKs by their id column (``branch_id``)."""
    return tools.fk_column(field) if tools.field_kind(field) == tools.FK else name


def get_form(
    model: type[Model],
    converter: ModelConverter,
    *,
    base_class: type[BaseForm] = BaseForm,
    only: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    field_args: dict[str, dict[str, Any]] | None = None,
    extra_fields: dict[str, Any] | None = None,
) -> type[BaseForm]:
    """A form class for ``model``: ``only`` (in that order) or every editable field.

    Names are model field names; a foreign key's form field is named by its id column.
    """
    field_args = field_args or {}
    declared = dict(tools.model_fields(model))
    pk = tools.get_primary_key(model)
    names = list(only) if only else [n for n in declared if n != pk]
    if exclude:
        names = [n for n in names if n not in exclude]
    attrs: dict[str, Any] = {}
    for name in names:
        if extra_fields and name in extra_fields:
            attrs[name] = recreate_field(extra_fields[name])  # in its place in ``only``
            continue
        field = declared.get(name) or _fk_by_column(model, name)
        if field is None:
            raise ValueError(f"{model.__name__} has no field {name!r} to put in a form")
        own = getattr(field, "model_field_name", None) or name
        unbound = converter.convert(model, own, field, field_args.get(name, {}))
        if unbound is not None:
            attrs[form_field_name(own, field)] = unbound
    for name, extra in (extra_fields or {}).items():
        attrs.setdefault(name, extra)
    return type(f"{model.__name__}Form", (base_class,), attrs)


def _fk_by_column(model: type[Model], column: str) -> Any:
    for name in model._meta.fk_fields | model._meta.o2o_fields:
        field = model._meta.fields_map[name]
        if tools.fk_column(field) == column:
            return field
    return None
