"""Column filters for the Tortoise backend: each one turns a URL value into a ``Q``.

Filters are built when the views are (no event loop yet), and applied inside the
coroutine that runs the list query. Options that need the database (a foreign key's
choices) are loaded per request through the bridge. Each filter has a stable ASCII
``key`` for named filter URLs (``flt0_category_equals=RETIRED``), whatever the language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Self
from zoneinfo import ZoneInfo

from flask import has_request_context
from flask_admin.babel import lazy_gettext
from flask_admin.model import filters
from tortoise.expressions import Q, Subquery
from tortoise.models import Model

from admin.contrib.tortoise import tools
from hub.lookups import lookup

Options = Callable[[], list[tuple[str, str]]]
SearchQ = Callable[[type[Model], str], Q]


class BaseTortoiseFilter(filters.BaseFilter):
    """A filter on ``column`` (an ORM path such as ``branch_id`` or ``compound__name``)."""

    op = ""  # the operation's key in URLs

    def __init__(
        self,
        column: str,
        name: Any,
        options: Any = None,
        data_type: Any = None,
        *,
        url_name: str | None = None,
    ) -> None:
        super().__init__(name, options, data_type)
        self.column = column
        self.url_name = url_name or column

    @property
    def key(self) -> str:
        return f"{self.url_name}_{self.op}"

    def q(self, value: Any) -> Q:
        raise NotImplementedError

    def apply(self, query: Any, value: Any) -> Any:
        return query.filter(self.q(value))

    def get_options(self, view: Any) -> Any:
        """Callable options are called each time, so per-request choices stay fresh."""
        options = self.options
        if callable(options):
            # Built with the views, before any request: loaded per request instead.
            return options() if has_request_context() else None
        return options


# --- common operations -------------------------------------------------------------------


class FilterEqual(BaseTortoiseFilter):
    op = "equals"

    def q(self, value: Any) -> Q:
        return lookup(self.column, value)

    def operation(self) -> Any:
        return lazy_gettext("equals")


class FilterNotEqual(BaseTortoiseFilter):
    op = "not_equal"

    def q(self, value: Any) -> Q:
        # NULL is "not equal" to anything, as a person reads it.
        return Q(
            lookup(f"{self.column}__not", value),
            lookup(f"{self.column}__isnull", True),
            join_type="OR",
        )

    def operation(self) -> Any:
        return lazy_gettext("not equal")


class FilterLike(BaseTortoiseFilter):
    op = "contains"

    def q(self, value: Any) -> Q:
        return lookup(f"{self.column}__icontains", value)

    def operation(self) -> Any:
        return lazy_gettext("contains")


class FilterNotLike(FilterLike):
    op = "not_contains"

    def q(self, value: Any) -> Q:
        return ~super().q(value)

    def operation(self) -> Any:
        return lazy_gettext("not contains")


class FilterGreater(BaseTortoiseFilter):
    op = "gt"

    def q(self, value: Any) -> Q:
        return lookup(f"{self.column}__gt", value)

    def operation(self) -> Any:
        return lazy_gettext("greater than")


class FilterSmaller(BaseTortoiseFilter):
    op = "lt"

    def q(self, value: Any) -> Q:
        return lookup(f"{self.column}__lt", value)

    def operation(self) -> Any:
        return lazy_gettext("smaller than")


class FilterEmpty(BaseTortoiseFilter, filters.BaseBooleanFilter):
    """ "1": empty (NULL, or "" for text), "0": not empty."""

    op = "empty"

    def __init__(self, column: str, name: Any, *, text: bool = False, **kwargs: Any) -> None:
        super().__init__(column, name, **kwargs)
        self.text = text

    def q(self, value: Any) -> Q:
        empty = lookup(f"{self.column}__isnull", True)
        if self.text:
            empty = Q(empty, lookup(self.column, ""), join_type="OR")
        return empty if value == "1" else ~empty

    def operation(self) -> Any:
        return lazy_gettext("empty")


class FilterInList(BaseTortoiseFilter):
    op = "in_list"

    def __init__(self, column: str, name: Any, options: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("data_type", "select2-tags")
        super().__init__(column, name, options, **kwargs)

    def clean(self, value: str) -> list[Any]:
        return [part.strip() for part in value.split(",") if part.strip()]

    def q(self, value: Any) -> Q:
        return lookup(f"{self.column}__in", value or [])

    def operation(self) -> Any:
        return lazy_gettext("in list")


class FilterNotInList(FilterInList):
    op = "not_in_list"

    def q(self, value: Any) -> Q:
        return Q(~super().q(value), lookup(f"{self.column}__isnull", True), join_type="OR")

    def operation(self) -> Any:
        return lazy_gettext("not in list")


# --- typed filters -----------------------------------------------------------------------


class BooleanEqualFilter(FilterEqual, filters.BaseBooleanFilter):
    def clean(self, value: str) -> bool:
        return value == "1"


class BooleanNotEqualFilter(FilterEqual, filters.BaseBooleanFilter):
    op = "not_equal"

    def clean(self, value: str) -> bool:
        return value != "1"

    def operation(self) -> Any:
        return lazy_gettext("not equal")


class _Bounded:
    """An integer filter refuses a value its column cannot hold (PostgreSQL would fail
    the whole statement on it): flask-admin then ignores the filter."""

    bounds: tools.IntBounds = tools.INT_BOUNDS

    def bounded(self, bounds: tools.IntBounds) -> Self:
        self.bounds = bounds
        return self


class IntEqualFilter(_Bounded, FilterEqual, filters.BaseIntFilter):
    def clean(self, value: str) -> int:
        return tools.db_int(value, self.bounds)


class IntNotEqualFilter(_Bounded, FilterNotEqual, filters.BaseIntFilter):
    def clean(self, value: str) -> int:
        return tools.db_int(value, self.bounds)


class IntGreaterFilter(_Bounded, FilterGreater, filters.BaseIntFilter):
    def clean(self, value: str) -> int:
        return tools.db_int(value, self.bounds)


class IntSmallerFilter(_Bounded, FilterSmaller, filters.BaseIntFilter):
    def clean(self, value: str) -> int:
        return tools.db_int(value, self.bounds)


class IntInListFilter(_Bounded, FilterInList, filters.BaseIntListFilter):
    def clean(self, value: str) -> list[int]:
        return [tools.db_int(part, self.bounds) for part in super().clean(value)]


class IntNotInListFilter(_Bounded, FilterNotInList, filters.BaseIntListFilter):
    def clean(self, value: str) -> list[int]:
        return [tools.db_int(part, self.bounds) for part in FilterInList.clean(self, value)]


class FloatEqualFilter(FilterEqual, filters.BaseFloatFilter):
    pass


class FloatGreaterFilter(FilterGreater, filters.BaseFloatFilter):
    pass


class FloatSmallerFilter(FilterSmaller, filters.BaseFloatFilter):
    pass


class DateEqualFilter(FilterEqual, filters.BaseDateFilter):
    pass


class DateNotEqualFilter(FilterNotEqual, filters.BaseDateFilter):
    pass


class DateGreaterFilter(FilterGreater, filters.BaseDateFilter):
    pass


class DateSmallerFilter(FilterSmaller, filters.BaseDateFilter):
    pass


class DateBetweenFilter(BaseTortoiseFilter, filters.BaseDateBetweenFilter):
    op = "between"

    def __init__(self, column: str, name: Any, options: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("data_type", "daterangepicker")
        super().__init__(column, name, options, **kwargs)

    def q(self, value: Any) -> Q:
        start, end = value
        return Q(**{f"{self.column}__gte": start, f"{self.column}__lte": end})


class DateNotBetweenFilter(DateBetweenFilter):
    op = "not_between"

    def q(self, value: Any) -> Q:
        return ~super().q(value)

    def operation(self) -> Any:
        return lazy_gettext("not between")


class _Local:
    """Datetime filters read the district's wall-clock time and compare in UTC."""

    zone: ZoneInfo

    def utc(self, value: dt.datetime) -> dt.datetime:
        return tools.local_to_utc(value, self.zone)


class DateTimeGreaterFilter(_Local, FilterGreater, filters.BaseDateTimeFilter):
    def __init__(self, column: str, name: Any, *, zone: ZoneInfo, **kwargs: Any) -> None:
        super().__init__(column, name, **kwargs)
        self.zone = zone

    def clean(self, value: str) -> dt.datetime:
        return self.utc(super().clean(value))


class DateTimeSmallerFilter(_Local, FilterSmaller, filters.BaseDateTimeFilter):
    def __init__(self, column: str, name: Any, *, zone: ZoneInfo, **kwargs: Any) -> None:
        super().__init__(column, name, **kwargs)
        self.zone = zone

    def clean(self, value: str) -> dt.datetime:
        return self.utc(super().clean(value))


class DateTimeBetweenFilter(_Local, BaseTortoiseFilter, filters.BaseDateTimeBetweenFilter):
    op = "between"

    def __init__(self, column: str, name: Any, *, zone: ZoneInfo, **kwargs: Any) -> None:
        kwargs.setdefault("data_type", "datetimerangepicker")
        super().__init__(column, name, **kwargs)
        self.zone = zone

    def clean(self, value: str) -> list[dt.datetime]:
        return [self.utc(moment) for moment in super().clean(value)]

    def q(self, value: Any) -> Q:
        start, end = value
        return Q(**{f"{self.column}__gte": start, f"{self.column}__lte": end})


class DateTimeNotBetweenFilter(DateTimeBetweenFilter):
    op = "not_between"

    def q(self, value: Any) -> Q:
        return ~super().q(value)

    def operation(self) -> Any:
        return lazy_gettext("not between")


class EnumEqualFilter(FilterEqual):
    """Choices are the enum's members, shown by their labels."""

    def clean(self, value: str) -> str:
        return value


class EnumNotEqualFilter(FilterNotEqual):
    pass


class EnumInListFilter(FilterInList):
    def __init__(self, column: str, name: Any, options: Any = None, **kwargs: Any) -> None:
        kwargs["data_type"] = "select2-tags"
        super().__init__(column, name, options, **kwargs)


# --- relations ---------------------------------------------------------------------------


class ForeignKeyEqualFilter(FilterEqual, filters.BaseIntFilter):
    """The related record, chosen from per-request options (or typed as an id)."""

    def clean(self, value: str) -> int:
        return tools.db_int(value)


class ForeignKeyNotEqualFilter(FilterNotEqual, filters.BaseIntFilter):
    def clean(self, value: str) -> int:
        return tools.db_int(value)


class ForeignKeyEmptyFilter(FilterEmpty):
    pass


class RelatedSearchFilter(BaseTortoiseFilter):
    """The related record's name matches, through the hub's Chinese search
    (script-folding and pinyin): ``branch`` contains 华晨 / huachen / hc."""

    op = "name_contains"

    def __init__(
        self,
        column: str,
        name: Any,
        *,
        model: type[Model],
        related: type[Model],
        search: SearchQ,
        **kwargs: Any,
    ) -> None:
        super().__init__(column, name, **kwargs)
        self.model = model
        self.related = related
        self.search = search

    def q(self, value: Any) -> Q:
        matching = self.related.filter(self.search(self.related, value)).values("id")
        return lookup(f"{self.column}__in", Subquery(matching))

    def operation(self) -> Any:
        return lazy_gettext("contains")


class ManyToManyContainsFilter(BaseTortoiseFilter, filters.BaseIntFilter):
    """Records linked to the related record with this id (one subquery, no duplicates)."""

    op = "has"

    def __init__(self, column: str, name: Any, *, model: type[Model], **kwargs: Any) -> None:
        super().__init__(column, name, **kwargs)
        self.model = model

    def q(self, value: Any) -> Q:
        linked = self.model.filter(**{f"{self.column}__id": value}).values("id")
        return Q(id__in=Subquery(linked))

    def operation(self) -> Any:
        return lazy_gettext("equals")


# --- conversion --------------------------------------------------------------------------


class FilterConverter:
    """Which filters a field gets, by its kind (tools.field_kind)."""

    def __init__(
        self, zone: ZoneInfo, search: SearchQ, label_of: Callable[[Any], Any] = tools.display
    ) -> None:
        self.zone = zone
        self.search = search
        self.label_of = label_of  # how an enum member is shown among the choices

    def convert(
        self,
        model: type[Model],
        name: str,
        field: Any,
        label: Any,
        *,
        fk_options: Options | None = None,
    ) -> list[BaseTortoiseFilter]:
        kind = tools.field_kind(field)
        nullable = bool(getattr(field, "null", False))
        found: list[BaseTortoiseFilter] = []
        if kind == tools.TEXT:
            found = [
                FilterLike(name, label),
                FilterNotLike(name, label),
                FilterEqual(name, label),
                FilterNotEqual(name, label),
                FilterEmpty(name, label, text=True),
            ]
        elif kind == tools.INT:
            bounds = tools.int_bounds(field)
            found = [
                IntEqualFilter(name, label).bounded(bounds),
                IntNotEqualFilter(name, label).bounded(bounds),
                IntGreaterFilter(name, label).bounded(bounds),
                IntSmallerFilter(name, label).bounded(bounds),
                IntInListFilter(name, label).bounded(bounds),
                IntNotInListFilter(name, label).bounded(bounds),
            ]
            if nullable:
                found.append(FilterEmpty(name, label))
        elif kind == tools.FLOAT:
            found = [
                FloatEqualFilter(name, label),
                FloatGreaterFilter(name, label),
                FloatSmallerFilter(name, label),
            ]
        elif kind == tools.BOOL:
            found = [BooleanEqualFilter(name, label), BooleanNotEqualFilter(name, label)]
        elif kind == tools.DATE:
            found = [
                DateEqualFilter(name, label),
                DateNotEqualFilter(name, label),
                DateGreaterFilter(name, label),
                DateSmallerFilter(name, label),
                DateBetweenFilter(name, label),
                DateNotBetweenFilter(name, label),
            ]
            if nullable:
                found.append(FilterEmpty(name, label))
        elif kind == tools.DATETIME:
            found = [
                DateTimeGreaterFilter(name, label, zone=self.zone),
                DateTimeSmallerFilter(name, label, zone=self.zone),
                DateTimeBetweenFilter(name, label, zone=self.zone),
                DateTimeNotBetweenFilter(name, label, zone=self.zone),
            ]
            if nullable:
                found.append(FilterEmpty(name, label))
        elif kind == tools.ENUM:
            choices = [(member.value, self.label_of(member)) for member in field.enum_type]
            found = [
                EnumEqualFilter(name, label, choices),
                EnumNotEqualFilter(name, label, choices),
                EnumInListFilter(name, label),
            ]
            if nullable:
                found.append(FilterEmpty(name, label))
        elif kind == tools.FK:
            column = tools.fk_column(field)
            related = tools.related_model(field)
            found = [
                ForeignKeyEqualFilter(column, label, fk_options, url_name=name),
                RelatedSearchFilter(
                    column,
                    label,
                    model=model,
                    related=related,
                    search=self.search,
                    url_name=name,
                ),
            ]
            if nullable:
                found.append(ForeignKeyEmptyFilter(column, label, url_name=name))
        elif kind == tools.M2M:
            found = [ManyToManyContainsFilter(name, label, model=model, options=fk_options)]
        return found
