"""flask-admin's ``BaseModelView`` over Tortoise models, a sibling of its peewee and sqla
backends.

Every database call is one coroutine handed to the server's event loop through
:mod:`admin.bridge` (Flask runs in a2wsgi's worker threads). Queries are built and
run inside that coroutine, and everything a template will touch (foreign keys,
many-to-many lists) is fetched there, so rendering never reaches for the database.
Request state — who is signed in, the language — is read in the worker thread
*before* the coroutine is submitted: the loop thread has no Flask context.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import json
import logging
import time
from collections.abc import Callable, Coroutine, Iterable, Iterator, Sequence
from typing import Any, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Response, flash, g, has_request_context, stream_with_context
from flask_admin.actions import action
from flask_admin.babel import gettext, lazy_gettext, ngettext
from flask_admin.base import expose
from flask_admin.form import BaseForm
from flask_admin.model import BaseModelView
from flask_admin.model.filters import BaseFilter
from flask_admin.model.form import create_editable_list_form
from flask_admin.model.typefmt import BASE_FORMATTERS
from tortoise.exceptions import NoValuesFetched
from tortoise.expressions import Q
from tortoise.fields.relational import ReverseRelation
from tortoise.models import Model
from tortoise.queryset import QuerySet

from admin import bridge
from admin.contrib.tortoise import tools
from admin.contrib.tortoise.ajax import QueryAjaxModelLoader
from admin.contrib.tortoise.filters import BaseTortoiseFilter, FilterConverter
from admin.contrib.tortoise.form import ModelConverter, form_field_name, get_form
from hub.lookups import lookup
from hub.spreadsheet import csv_row, xlsx_row

log = logging.getLogger("linju.admin")
T = TypeVar("T")
MAX_PAGE = 10_000_000  # x the largest page size: still an offset every database takes
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def default_search(model: type[Model], fields: Sequence[str], term: str) -> Q:
    """Any of ``fields`` contains ``term`` (case-insensitive)."""
    return Q(*(lookup(f"{name}__icontains", term) for name in fields), join_type=Q.OR)


class ModelView(BaseModelView):
    """A model view over a Tortoise model. Subclasses may override ``get_scope`` (rows
    the current user may see), ``related_scope`` (choices of relation fields),
    ``search_q`` (what the search box matches) and the write coroutines."""

    # flask-admin declares these through casts of its ObsoleteAttr descriptor, which mypy
    # cannot follow; declared here with their types (the values are flask-admin's).
    column_type_formatters: dict[type, Any] | None = None
    column_type_formatters_detail: dict[type, Any] | None = None
    column_type_formatters_export: dict[type, Any] | None = None
    column_searchable_list: Sequence[str] | None = None
    form_columns: Sequence[str] | None = None
    form_args: dict[str, dict[str, Any]] | None = None
    form_extra_fields: dict[str, Any] | None = None

    named_filter_urls = True
    can_view_details = True
    can_export = True
    can_set_page_size = True
    page_size = 20
    page_size_options = (20, 50, 100)
    export_types = ["csv", "xlsx"]
    # The zone datetimes are shown and typed in; storage is UTC.
    timezone = "Asia/Shanghai"
    # Relation filters offering every related record as a choice (small tables only).
    column_filter_choices: Sequence[str] = ()
    # FK columns fetched with the list (joined); defaults to the FKs among list columns.
    list_related: Sequence[str] | None = None

    def __init__(
        self,
        model: type[Model],
        name: Any = None,
        category: Any = None,
        endpoint: str | None = None,
        url: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.zone = ZoneInfo(self.timezone)
        self._search_fields: list[str] = []
        self.filter_converter = FilterConverter(self.zone, self.search_q, self.label_of)
        self.model = model
        self._primary_key = tools.get_primary_key(model)
        self._declared = dict(tools.model_fields(model))
        super().__init__(model, name, category, endpoint, url, **kwargs)

    # --- hooks ------------------------------------------------------------------------------

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run one unit of database work on the server's loop (see admin.bridge)."""
        return bridge.run(work)

    def get_query(self) -> QuerySet[Any]:
        """The base query (built inside the coroutine, on the loop)."""
        return self.model.all()

    def get_scope(self) -> Q:
        """Rows of this view the current user may see (called in the request thread)."""
        return Q()

    def related_scope(self, model: type[Model], field: str) -> Q:
        """Records a relation field may point at (called in the request thread)."""
        return Q()

    def search_q(self, model: type[Model], term: str) -> Q:
        """What the search box (and related-name filters) match."""
        fields = self._search_fields if model is self.model else []
        if not fields:
            name = tools.name_attribute(model)
            fields = [name] if name else []
        return default_search(model, fields, term) if fields else Q()

    def label_of(self, value: Any) -> Any:
        """How an enum member or a record is shown."""
        return tools.display(value)

    # --- scaffolding -----------------------------------------------------------------------

    def scaffold_pk(self) -> str:
        return self._primary_key

    def get_pk_value(self, model: Any) -> Any:
        return model.pk

    def scaffold_list_columns(self) -> list[str]:
        return [
            name
            for name, field in self._declared.items()
            if tools.field_kind(field) not in (tools.M2M, tools.JSON)
            and (self.column_display_pk or name != self._primary_key)
        ]

    def scaffold_sortable_columns(self) -> dict[str, str]:
        columns: dict[str, str] = {}
        for name, field in self._declared.items():
            kind = tools.field_kind(field)
            if kind in (tools.M2M, tools.JSON):
                continue
            if name == self._primary_key and not self.column_display_pk:
                continue
            if kind == tools.FK:
                shown = tools.name_attribute(tools.related_model(field))
                columns[name] = f"{name}__{shown}" if shown else tools.fk_column(field)
            else:
                columns[name] = name
        return columns

    def init_search(self) -> bool:
        for name in self.column_searchable_list or ():
            field = self._declared.get(str(name))
            if field is None or tools.field_kind(field) != tools.TEXT:
                raise ValueError(f"can only search text columns, not {name!r}")
            self._search_fields.append(str(name))
        return bool(self._search_fields)

    def scaffold_filters(self, name: Any) -> list[BaseFilter] | None:
        field = self._declared.get(str(name))
        if field is None:
            raise ValueError(f"{self.model.__name__} has no field {name!r} to filter on")
        options = None
        if name in self.column_filter_choices:
            options = self._choices_loader(str(name), tools.related_model(field))
        return list(
            self.filter_converter.convert(
                self.model, str(name), field, self.get_column_name(str(name)), fk_options=options
            )
        )

    def _choices_loader(self, name: str, related: type[Model]) -> Callable[[], list[Any]]:
        def load() -> list[tuple[str, str]]:
            scope = self.related_scope(related, name)

            async def fetch() -> list[Model]:
                return await related.filter(scope).order_by("id")

            return [(str(r.pk), tools.display(r)) for r in self.run(fetch())]

        return load

    def is_valid_filter(self, filter: Any) -> bool:
        return isinstance(filter, BaseTortoiseFilter)

    def get_filter_arg(self, index: int, flt: BaseFilter) -> str:
        if self.named_filter_urls and isinstance(flt, BaseTortoiseFilter):
            return flt.key
        return super().get_filter_arg(index, flt)

    def _get_filter_groups(self) -> Any:
        """Filter groups with their options loaded now (relation choices change)."""
        groups = super()._get_filter_groups()
        if not groups or not self._filters:
            return groups
        for items in groups.values():
            for item in items:
                flt = self._filters[item["index"]]
                if callable(flt.options):
                    item["options"] = [(k, str(v)) for k, v in flt.get_options(self) or []]
        return groups

    # --- forms -------------------------------------------------------------------------------

    def relation_names(self) -> list[str]:
        """Model fields edited through ajax selects (every FK and many-to-many field)."""
        return [
            name
            for name, field in self._declared.items()
            if tools.field_kind(field) in (tools.FK, tools.M2M)
        ]

    def _process_ajax_references(self) -> dict[str, Any]:
        loaders: dict[str, Any] = dict(super()._process_ajax_references())
        for name in self.relation_names():
            if name not in loaders:
                loaders[name] = self._create_ajax_loader(name, {})
        return loaders

    def _create_ajax_loader(self, name: str, options: dict[str, Any]) -> QueryAjaxModelLoader:
        related = tools.related_model(self._declared[name])
        return QueryAjaxModelLoader(
            name,
            related,
            search=self.search_q,
            scope=lambda model: self.related_scope(model, name),
            **options,
        )

    def form_converter(self) -> ModelConverter:
        return ModelConverter(zone=self.zone, loaders=self._form_ajax_refs, label_of=self.label_of)

    def scaffold_form(self) -> type[BaseForm]:
        return get_form(
            self.model,
            self.form_converter(),
            base_class=self.form_base_class,
            only=self.form_columns,
            exclude=self.form_excluded_columns,
            field_args=self.form_args,
            extra_fields=self.form_extra_fields,
        )

    def scaffold_list_form(self, widget: Any = None, validators: Any = None) -> type[BaseForm]:
        form_class = get_form(
            self.model,
            self.form_converter(),
            base_class=self.form_base_class,
            only=list(self.column_editable_list or ()),
            field_args=validators,
        )
        return create_editable_list_form(self.form_base_class, form_class, widget)

    def form_values(self, form: BaseForm) -> dict[str, Any]:
        """What the form holds, by form field name (CSRF and hidden fields left out)."""
        skip = {"csrf_token", "version"}
        return {f.name: f.data for f in form if f.name not in skip}

    # --- reading -----------------------------------------------------------------------------

    def _fk_names(self, columns: Iterable[str]) -> list[str]:
        return [
            c
            for c in columns
            if c in self._declared and tools.field_kind(self._declared[c]) == tools.FK
        ]

    def _m2m_names(self, columns: Iterable[str]) -> list[str]:
        return [
            c
            for c in columns
            if c in self._declared and tools.field_kind(self._declared[c]) == tools.M2M
        ]

    def get_list(
        self,
        page: int | None,
        sort_column: str | None,
        sort_desc: bool | None,
        search: str | None,
        filters: Sequence[Any] | None,
        execute: bool = True,
        page_size: int | None = None,
        columns: Sequence[str] | None = None,
    ) -> tuple[int | None, list[Any]]:
        """(count, rows) of one page; ``page`` is 0-based, ``page_size`` 0 means all rows.

        ``columns``: the columns the rows are shown with, when not the list's (an export);
        their relations are fetched with the rows.
        """
        scope = self.get_scope()
        condition = (
            self.search_q(self.model, search.strip())
            if (self._search_supported and search and search.strip())
            else Q()
        )
        applied = (
            [
                (self._filters[index], self._filters[index].clean(value))
                for index, _name, value in filters or ()
            ]
            if self._filters
            else []
        )
        order = self._ordering(sort_column, sort_desc)
        size = self.page_size if page_size is None else page_size
        if columns is None and has_request_context():
            columns = g.get("linju_export_columns")  # set by export()
        shown = list(columns) if columns is not None else [c for c, _ in self._list_columns]
        related = list(self.list_related) if self.list_related is not None else []
        related += [c for c in self._fk_names(shown) if c not in related]
        prefetch = self._m2m_names(shown)
        counted = not self.simple_list_pager

        async def fetch() -> tuple[int | None, list[Any]]:
            query = self.get_query().filter(scope).filter(condition)
            for flt, value in applied:
                query = flt.apply(query, value)
            count = await query.count() if counted else None
            query = query.order_by(*order)
            if size:
                query = query.offset(_page(page) * size).limit(size)
            if related:
                query = query.select_related(*related)
            if prefetch:
                query = query.prefetch_related(*prefetch)
            return count, list(await query)

        return self.run(fetch())

    def _ordering(self, sort_column: str | None, sort_desc: bool | None) -> list[str]:
        if sort_column is not None and sort_column in self._sortable_columns:
            order = [(self._sortable_columns[sort_column], bool(sort_desc))]
        else:
            order = self._get_default_order() or []
        fields = [f"-{path}" if desc else str(path) for path, desc in order]
        if not any(f.lstrip("-") == self._primary_key for f in fields):
            fields.append(self._primary_key)  # a total order, so pages never overlap
        return fields

    def _get_default_order(self) -> list[tuple[str, bool]] | None:
        order = super()._get_default_order()
        if order is None:
            return None
        # Column names become their sort paths (an FK sorts by the related name).
        return [(self._sortable_columns.get(name, name), desc) for name, desc in order]

    def detail_related(self) -> tuple[list[str], list[str]]:
        """(FKs to join, relations to prefetch) for the details and edit views."""
        names = [c for c, _ in self._details_columns] if self.can_view_details else []
        form_names = list(self._declared)
        fks = self._fk_names(dict.fromkeys(names + form_names))
        return fks, self._m2m_names(dict.fromkeys(names + form_names))

    def get_one(self, id: Any) -> Any:
        pk = tools.record_id(id)
        if pk is None:
            return None
        scope = self.get_scope()
        related, prefetch = self.detail_related()

        async def fetch() -> Any:
            query = self.get_query().filter(scope).filter(**{self._primary_key: pk})
            if related:
                query = query.select_related(*related)
            record = await query.first()
            if record is not None and prefetch:
                await record.fetch_related(*prefetch)
            return record

        return self.run(fetch())

    # --- writing (plain ORM; the hub's views go through its services instead) --------------------

    def handle_form_error(self, form: BaseForm, exc: Exception) -> bool:
        """Show a refused write on the form; True when handled (no generic flash)."""
        return self.handle_view_exception(exc)

    def create_model(self, form: BaseForm) -> Any:
        values = self.form_values(form)
        try:
            model = self.run(self.insert(values))
        except Exception as exc:
            if not self.handle_form_error(form, exc):
                flash(gettext("Failed to create record. %(error)s", error=str(exc)), "error")
                log.exception("Failed to create record.")
            return False
        self.after_model_change(form, model, True)
        return model

    def update_model(self, form: BaseForm, model: Any) -> bool:
        values = self.form_values(form)
        version = getattr(getattr(form, "version", None), "data", None)
        try:
            self.run(self.change(model, values, version))
        except Exception as exc:
            if not self.handle_form_error(form, exc):
                flash(gettext("Failed to update record. %(error)s", error=str(exc)), "error")
                log.exception("Failed to update record.")
            return False
        self.after_model_change(form, model, False)
        return True

    def delete_model(self, model: Any) -> bool:
        try:
            self.on_model_delete(model)
            self.run(self.remove(model))
        except Exception as exc:
            if not self.handle_view_exception(exc):
                flash(gettext("Failed to delete record. %(error)s", error=str(exc)), "error")
                log.exception("Failed to delete record.")
            return False
        self.after_model_delete(model)
        return True

    def _split(self, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[Any]]]:
        relations = set(self._m2m_names(self._declared))
        columns = {k: v for k, v in values.items() if k not in relations}
        return columns, {k: list(v or []) for k, v in values.items() if k in relations}

    async def insert(self, values: dict[str, Any]) -> Any:
        columns, relations = self._split(values)
        record = await self.model.create(**columns)
        await self._set_relations(record, relations)
        return record

    async def change(self, record: Any, values: dict[str, Any], version: Any) -> Any:
        columns, relations = self._split(values)
        for name, value in columns.items():
            setattr(record, name, value)
        await record.save()
        await self._set_relations(record, relations)
        return record

    async def remove(self, record: Any) -> None:
        await record.delete()

    async def _set_relations(self, record: Any, relations: dict[str, list[Any]]) -> None:
        for name, ids in relations.items():
            related = tools.related_model(self._declared[name])
            relation = getattr(record, name)
            await relation.clear()
            if ids:
                wanted = [i for i in map(tools.record_id, ids) if i is not None]
                await relation.add(*await related.filter(id__in=wanted))

    @action(
        "delete",
        lazy_gettext("Delete"),
        lazy_gettext("Are you sure you want to delete selected records?"),
    )
    def action_delete(self, ids: Sequence[Any]) -> None:
        count = 0
        for id in ids:
            record = self.get_one(id)
            if record is not None and self.delete_model(record):
                count += 1
        if count:
            flash(
                ngettext(
                    "Record was successfully deleted.",
                    "%(count)s records were successfully deleted.",
                    count,
                    count=count,
                ),
                "success",
            )

    def is_action_allowed(self, name: str) -> bool:
        if name == "delete" and not self.can_delete:
            return False
        return super().is_action_allowed(name)

    # --- showing values ----------------------------------------------------------------------

    def _format(self, value: Any, *, export: bool) -> Any:
        if value is None:
            return ""
        if isinstance(value, bool):
            return gettext("Yes") if value else gettext("No")
        if isinstance(value, dt.datetime):
            return tools.format_local(value, self.zone)
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, enum.Enum | Model):
            return str(self.label_of(value))
        if isinstance(value, ReverseRelation | list | tuple):
            items = _fetched_items(value)
            return "、".join(str(self._format(item, export=export)) for item in items)
        if isinstance(value, dict):
            return json.dumps(value, ensure_ascii=False, indent=None if export else 1)
        return value

    def _list_formatters(self) -> dict[type, Callable[..., Any]]:
        def shown(view: Any, value: Any, name: str) -> Any:
            return self._format(value, export=False)

        formatters: dict[type, Callable[..., Any]] = {bool: BASE_FORMATTERS[bool]}
        for kind in (
            type(None),
            dt.datetime,
            dt.date,
            enum.Enum,
            Model,
            ReverseRelation,
            list,
            dict,
        ):
            formatters[kind] = shown
        return formatters

    def _refresh_cache(self) -> None:
        if self.column_type_formatters is None:
            self.column_type_formatters = self._list_formatters()
        if self.column_type_formatters_detail is None:
            self.column_type_formatters_detail = self._list_formatters()
        if self.column_type_formatters_export is None:

            def exported(view: Any, value: Any, name: str) -> Any:
                return self._format(value, export=True)

            self.column_type_formatters_export = {
                kind: exported
                for kind in (
                    type(None),
                    bool,
                    dt.datetime,
                    dt.date,
                    enum.Enum,
                    Model,
                    ReverseRelation,
                    list,
                    dict,
                )
            }
        super()._refresh_cache()

    # --- export ------------------------------------------------------------------------------

    def get_export_name(self, export_type: str = "csv") -> str:
        return f"{self.endpoint}_{time.strftime('%Y-%m-%d_%H-%M-%S')}.{export_type}"

    def _disposition(self, export_type: str) -> str:
        ascii_name = self.get_export_name(export_type)
        shown = f"{self.name}_{time.strftime('%Y-%m-%d_%H-%M-%S')}.{export_type}"
        return f"attachment; filename={ascii_name}; filename*=UTF-8''{quote(str(shown))}"

    def _export_rows(self) -> tuple[list[str], list[list[Any]]]:
        # flask-admin's own selection of the rows (the list's filters, search and sort),
        # through get_list, which fetches the export columns' relations (see export()).
        _count, data = self._export_data()
        columns = self.get_export_columns()
        titles = [str(title) for _, title in columns]
        rows = [[self.get_export_value(row, c) for c, _ in columns] for row in data]
        return titles, rows

    def _export_csv(self, return_url: Any) -> Response:
        """CSV in UTF-8 with a BOM, so that Excel shows the Chinese text right."""
        titles, rows = self._export_rows()

        def generate() -> Iterator[str]:
            out = io.StringIO()
            writer = csv.writer(out)
            out.write("\ufeff")
            writer.writerow(csv_row(titles))
            for row in rows:
                writer.writerow(csv_row(row))
                if out.tell() > 64 * 1024:
                    yield out.getvalue()
                    out.seek(0)
                    out.truncate()
            yield out.getvalue()

        return Response(
            stream_with_context(generate()),
            headers={"Content-Disposition": self._disposition("csv")},
            mimetype="text/csv",
        )

    @expose("/export/<export_type>/")
    def export(self, export_type: str) -> Any:
        # The rows are shown with the export columns, not the list's: get_list fetches
        # their relations (else e.g. a member's party group is exported as a repr).
        g.linju_export_columns = [c for c, _ in self.get_export_columns()]
        if export_type != "xlsx" or not self.can_export or "xlsx" not in self.export_types:
            return super().export(export_type)
        from openpyxl import Workbook  # openpyxl only when a sheet is exported

        titles, rows = self._export_rows()
        book = Workbook(write_only=True)
        sheet = book.create_sheet(str(self.name)[:31] or "Sheet1")
        sheet.append(xlsx_row(sheet, titles))
        for row in rows:
            sheet.append(xlsx_row(sheet, row))
        out = io.BytesIO()
        book.save(out)
        return Response(
            out.getvalue(),
            headers={"Content-Disposition": self._disposition("xlsx")},
            mimetype=XLSX_MIMETYPE,
        )


def _fetched_items(value: ReverseRelation[Any] | list[Any] | tuple[Any, ...]) -> list[Any]:
    """The related records fetched with the row (none when the relation was not)."""
    try:
        return list(value)
    except NoValuesFetched:
        return []


def _page(page: int | None) -> int:
    """A page number the database can take: ``?page=-1`` is the first page, and a page
    beyond any list is empty (rather than an offset no database accepts)."""
    return min(max(page or 0, 0), MAX_PAGE)


__all__ = ["ModelView", "form_field_name"]
