"""The hub's model views: the Tortoise backend plus the hub's rules.

- Who: only signed-in ADMINs and CURATORs; a curator sees and edits only the rows of
  its write scope (``hub.access.write_scope``), and picks related records the same way.
- Writes: every create, edit and archive goes through ``hub.services.records`` — the
  engine behind the GraphQL mutations — so validation, scope checks, optimistic
  concurrency (the form carries the version it was loaded at) and the audit log are
  the API's own, and a refusal shows the service's message on the form.
- Live events: a write the API would announce to subscribers (``hub.events``) is
  announced the same way, after its transaction committed (see ``announce``).
- Search: the hub's Chinese search (script-folding, pinyin, initials).
- Labels: Chinese, from the specs, translated when shown.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any

from flask import flash, redirect, url_for
from flask_admin.actions import action
from flask_admin.babel import gettext, lazy_gettext, ngettext
from flask_admin.helpers import get_form_data
from flask_admin.model.template import BaseListRowAction, DeleteRowAction
from markupsafe import Markup
from tortoise.expressions import Q
from tortoise.models import Model
from wtforms import HiddenField

from admin.auth import (
    CONSOLE_ROLES,
    HubSecureForm,
    client_address,
    console_path,
    current_viewer,
)
from admin.contrib.tortoise import ModelView, tools
from admin.contrib.tortoise.form import EnumMultipleField, Required
from admin.contrib.tortoise.view import default_search
from admin.i18n import lazy
from admin.views.labels import field_labels, model_label, spec_for
from hub.access import Viewer, row_scope, write_scope
from hub.access.policy import EVERYTHING, NOTHING
from hub.models.base import Searchable
from hub.search import query_term
from hub.services import records
from hub.services.errors import ServiceError
from hub.services.fields import Kind
from hub.services.references import reference_scope
from hub.services.specs import ArchivePolicy, EntitySpec
from resolvers.search import MAX_SEARCH_LENGTH
from resolvers.search import search_q as hub_search_q


def viewer() -> Viewer | None:
    return current_viewer()


def hub_search(model: type[Model], term: str) -> Q:
    """The hub's search: the ``search_text`` column for named records (either script,
    pinyin, initials), else the text columns with the entry folded the same way."""
    term = term.strip()[:MAX_SEARCH_LENGTH]
    if not term:
        return Q()
    if issubclass(model, Searchable):
        return hub_search_q(model, term)
    name = tools.name_attribute(model)
    if name is None:
        return Q()
    folded = query_term(term)
    return default_search(model, [name], term) | default_search(model, [name], folded)


class HubModelView(ModelView):
    """A console view of one model; ``entity`` names its write spec (None: read-only)."""

    form_base_class = HubSecureForm
    column_display_pk = True  # the id (编号) is how records are referred to
    entity: str | None = None
    # Text columns matched by the search box when the model has no search column.
    text_search: Sequence[str] = ()
    # Backward relations fetched for the details and edit views.
    prefetch: Sequence[str] = ()

    def __init__(self, model: type[Model], *, category: Any = None, **kwargs: Any) -> None:
        self.spec: EntitySpec | None = spec_for(model) if self.entity else None
        labels = field_labels(model)
        self.column_labels = {name: lazy(text) for name, text in labels.items()}
        if self.column_searchable_list is None:
            searchable = ["name"] if issubclass(model, Searchable) else list(self.text_search)
            self.column_searchable_list = searchable
        if self.spec is not None and self.form_columns is None:
            self.form_columns = [f.target for f in self.spec.fields]
            self.form_args = {**self._spec_form_args(), **(self.form_args or {})}
            self.form_extra_fields = {**self._enum_set_fields(), **(self.form_extra_fields or {})}
        super().__init__(model, lazy(model_label(model)), category, **kwargs)

    # --- who may see what --------------------------------------------------------------------

    def is_accessible(self) -> bool:
        who = viewer()
        if who is None or who.role not in CONSOLE_ROLES:
            return False
        return write_scope(who, self.model) is not NOTHING or who.is_admin

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        if viewer() is None:
            return redirect(url_for("login.index", next=console_path()))
        flash(str(lazy("您无权访问该页面")), "error")
        return redirect(url_for("admin.index"))

    def get_scope(self) -> Q:
        who = viewer()
        if who is None:
            return NOTHING
        return EVERYTHING if who.is_admin else write_scope(who, self.model)

    def related_scope(self, model: type[Model], field: str) -> Q:
        who = viewer()
        if who is None:
            return NOTHING
        spec_field = self._spec_field(field)
        if spec_field is None:
            return row_scope(who, model)
        # Offer what the write service will accept (hub.services.references), not
        # every readable row: a curator is not shown records it may not link to.
        return reference_scope(who, model, spec_field.scope)

    def _spec_field(self, name: str) -> Any:
        if self.spec is None:
            return None
        for field in self.spec.fields:
            if name in (field.target, field.target.removesuffix("_id"), field.key):
                return field
        return None

    @property
    def _writable(self) -> bool:
        who = viewer()
        return bool(self.spec and who and write_scope(who, self.model) is not NOTHING)

    @property
    def can_create(self) -> bool:
        return self._writable

    @property
    def can_edit(self) -> bool:
        return self._writable

    @property
    def can_delete(self) -> bool:
        return self._writable

    @property
    def archives(self) -> bool:
        """Members are archived (a status), never deleted."""
        return bool(self.spec and self.spec.archive is ArchivePolicy.STATUS)

    def search_q(self, model: type[Model], term: str) -> Q:
        return hub_search(model, term)

    def search_placeholder(self) -> str:
        return str(lazy("搜索：汉字（简繁均可）、拼音或首字母"))

    def label_of(self, value: Any) -> Any:
        if isinstance(value, Model):
            return tools.display(value)
        return lazy(str(getattr(value, "label", value)))

    # --- forms -------------------------------------------------------------------------------

    def _spec_form_args(self) -> dict[str, dict[str, Any]]:
        assert self.spec is not None
        return {
            f.target: {"label": lazy(f.label), "required": f.required}
            for f in self.spec.fields
            if f.kind is not Kind.ENUM_SET
        }

    def _enum_set_fields(self) -> dict[str, Any]:
        assert self.spec is not None
        return {
            f.target: EnumMultipleField(
                lazy(f.label),
                [Required()] if f.required else [],
                enum=f.enum,
                label_of=self.label_of,
            )
            for f in self.spec.fields
            if f.kind is Kind.ENUM_SET
        }

    def get_edit_form(self) -> Any:
        form_class = super().get_edit_form()
        # The version the record was loaded at travels with the form: a stale save is refused.
        return type(form_class.__name__, (form_class,), {"version": HiddenField()})

    def edit_form(self, obj: Any = None) -> Any:
        relations = {
            f.target: [getattr(item, "duty", item) for item in getattr(obj, f.target, [])]
            for f in (self.spec.fields if self.spec else ())
            if f.kind is Kind.ENUM_SET and obj is not None
        }
        return self._edit_form_class(get_form_data(), obj=obj, **relations)

    def detail_related(self) -> tuple[list[str], list[str]]:
        related, prefetch = super().detail_related()
        return related, [*prefetch, *self.prefetch]

    def service_data(self, form: Any, *, creating: bool) -> dict[str, Any]:
        """The form's values keyed as the service expects (``compounds`` → ``compound_ids``).

        A form sends every field, an API client only those it sets: a blank optional
        field is left out when creating (the model's default applies, as through the
        API), and a blank choice whose column cannot be NULL is left unchanged.
        """
        assert self.spec is not None
        values = self.form_values(form)
        data: dict[str, Any] = {}
        for field in self.spec.fields:
            if field.target not in values:
                continue
            value = values[field.target]
            blank = value is None or value == "" or value == []
            column = self.model._meta.fields_map.get(field.target)
            keeps_default = field.kind is Kind.ENUM and column is not None and not column.null
            if blank and not field.required and (creating or keeps_default):
                continue
            data[field.key] = value
        return data

    def handle_form_error(self, form: Any, exc: Exception) -> bool:
        if not isinstance(exc, ServiceError):
            return self.handle_view_exception(exc)
        show_service_errors(form, exc, self.spec)
        return True

    # --- writes: the services the API uses -----------------------------------------------------

    async def announce(self, record: Any, *, created: bool) -> None:
        """Tell live subscribers about a committed create (or edit) of ``record``.

        Nothing by default: only the views whose records have a subscription channel
        (requests, activities) announce, with the ``hub.events`` call their mutation makes.
        """

    async def committed(self, work: Awaitable[Any], *, created: bool) -> Any:
        """Await a service write, then announce it — one coroutine on the loop.

        The service commits its own transaction before it returns, so a subscriber that
        re-reads the record finds it; a refused write raises and announces nothing.
        """
        record = await work
        await self.announce(record, created=created)
        return record

    def create_model(self, form: Any) -> Any:
        if self.spec is None:
            return False
        data, who = self.service_data(form, creating=True), viewer()
        try:
            record = self.run(
                self.committed(
                    records.create(
                        actor=who, entity=self.spec.name, data=data, address=client_address()
                    ),
                    created=True,
                )
            )
        except ServiceError as exc:
            self.handle_form_error(form, exc)
            return False
        self.after_model_change(form, record, True)
        return record

    def update_model(self, form: Any, model: Any) -> bool:
        if self.spec is None:
            return False
        data, who = self.service_data(form, creating=False), viewer()
        try:
            version = int(form.version.data)
        except (TypeError, ValueError):
            version = model.version
        try:
            self.run(
                self.committed(
                    records.update(
                        actor=who,
                        entity=self.spec.name,
                        id=model.pk,
                        version=version,
                        data=data,
                        address=client_address(),
                    ),
                    created=False,
                )
            )
        except ServiceError as exc:
            self.handle_form_error(form, exc)
            return False
        return True

    def delete_model(self, model: Any) -> bool:
        try:
            self.archive_one(model.pk, model.version)
        except ServiceError as exc:
            for error in exc.errors:
                flash(error.message, "error")
            return False
        return True

    def archive_one(self, id: int, version: int) -> Any:
        assert self.spec is not None
        return self.run(
            records.archive(
                actor=viewer(),
                entity=self.spec.name,
                id=id,
                version=version,
                address=client_address(),
            )
        )

    @action(
        "delete",
        lazy_gettext("Delete"),
        lazy_gettext("Are you sure you want to delete selected records?"),
    )
    def action_delete(self, ids: Sequence[Any]) -> None:
        """Bulk archive / delete: each record through the service, each refusal reported."""
        if self.spec is None:
            return
        scope = self.get_scope()
        wanted = [i for i in map(tools.record_id, ids) if i is not None]

        async def versions() -> list[tuple[int, int]]:
            query = self.model.filter(scope).filter(id__in=wanted)
            return list(await query.values_list("id", "version"))

        done = 0
        for id, version in self.run(versions()):
            try:
                self.archive_one(id, version)
                done += 1
            except ServiceError as exc:
                for error in exc.errors:
                    flash(f"#{id}：{error.message}", "error")
        if done:
            message = (
                lazy("已归档 %(count)s 条记录", count=done)
                if self.archives
                else ngettext(
                    "Record was successfully deleted.",
                    "%(count)s records were successfully deleted.",
                    done,
                    count=done,
                )
            )
            flash(str(message), "success")

    def get_actions_list(self) -> Any:
        actions, confirmation = super().get_actions_list()
        if self.archives:
            actions = [(n, lazy("归档") if n == "delete" else t) for n, t in actions]
            confirmation = {
                n: str(lazy("确定归档所选党员吗？归档后记录保留，状态改为“已归档”。"))
                if n == "delete"
                else t
                for n, t in confirmation.items()
            }
        return actions, confirmation

    def get_list_row_actions(self) -> Any:
        found = super().get_list_row_actions()
        remove = RemoveRowAction(archive=self.archives)  # one per page: see its docstring
        return [remove if isinstance(a, DeleteRowAction) else a for a in found]


class RemoveRowAction(BaseListRowAction):
    """A row's delete (or, for members, archive) button with its small POST form.

    The hidden inputs other than the id are the same on every row: rendered once per
    page rather than once per row (a long page renders them hundreds of times).
    """

    def __init__(self, *, archive: bool) -> None:
        super().__init__(title=lazy("归档") if archive else gettext("Delete Record"))
        self.archive = archive
        self._shared: tuple[Markup, Markup] | None = None

    def _common(self, context: Any) -> tuple[Markup, Markup]:
        if self._shared is None:
            form = context.resolve("delete_form")
            action = Markup('action="{}"').format(context.resolve("get_url")(".delete_view"))
            hidden = Markup("{}{}").format(
                form.url(value=context.resolve("return_url")), form.csrf_token
            )
            self._shared = (action, hidden)
        return self._shared

    def render(self, context: Any, row_id: Any, row: Any) -> Markup:
        action, hidden = self._common(context)
        if self.archive:
            question = lazy("确定归档该党员吗？归档后记录保留，状态改为“已归档”。")
            icon = "fa fa-archive"
        else:
            question = gettext("Are you sure you want to delete this record?")
            icon = "fa fa-trash glyphicon glyphicon-trash"
        return Markup(
            '<form class="icon" method="POST" {action}>'
            '<input id="id" name="id" type="hidden" value="{id}">{hidden}'
            '<button data-hub-confirm="{question}" title="{title}">'
            '<span class="{icon}"></span></button></form>'
        ).format(
            action=action,
            id=row_id,
            hidden=hidden,
            question=str(question),  # asked by static/console.js (no inline script)
            title=str(self.title),
            icon=icon,
        )


def show_service_errors(form: Any, exc: ServiceError, spec: EntitySpec | None) -> None:
    """Put each refusal under its field; record-wide ones (version, scope) as a flash."""
    targets = {f.key: f.target for f in spec.fields} if spec else {}
    placed = False
    for error in exc.errors:
        name = targets.get(error.field, error.field)
        field = getattr(form, name, None) if name else None
        if field is not None and name not in ("version", "csrf_token"):
            field.errors = [*list(field.errors or []), error.message]
            placed = True
        else:
            flash(error.message, "error")
    if placed:
        flash(gettext("Failed to save record."), "error")


__all__ = ["HubModelView", "hub_search", "viewer"]
