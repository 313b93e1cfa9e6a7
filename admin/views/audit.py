"""The audit log (审计日志) and request events: read-only lists with filters.

Who may read them follows ``hub.access``: the audit log is the administrators' alone;
request events are scoped like their requests.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from admin.contrib.tortoise.filters import EnumEqualFilter
from admin.i18n import lazy
from admin.views.labels import model_label
from admin.views.records import ReadOnlyView
from hub import models as m
from hub.services.specs import SPECS


def _entity(view: Any, context: Any, model: Any, name: str) -> Any:
    spec = SPECS.get(model.entity)
    return lazy(model_label(spec.model)) if spec else model.entity


def _json(view: Any, context: Any, model: Any, name: str) -> Markup:
    value = getattr(model, name, None)
    if value is None:
        return Markup("")
    shown = view._format(value, export=False)
    return Markup("<pre class='hub-json'>{}</pre>").format(escape(shown))


def entity_choices() -> list[tuple[str, Any]]:
    names = [(name, lazy(model_label(spec.model))) for name, spec in SPECS.items()]
    return [
        *names,
        ("ResidentRequest", lazy(model_label(m.ResidentRequest))),
        ("User", lazy("账号")),
    ]


class AuditLogView(ReadOnlyView):
    column_list = ("id", "at", "actor_name", "action", "entity", "entity_id", "address")
    column_filters = ("at", "action", "entity", "entity_id", "actor_name", "user", "address")
    column_details_list = (
        "id",
        "at",
        "user",
        "actor_name",
        "action",
        "entity",
        "entity_id",
        "address",
        "before",
        "after",
    )
    column_export_list = (
        "id",
        "at",
        "actor_name",
        "action",
        "entity",
        "entity_id",
        "address",
        "before",
        "after",
    )
    column_default_sort = ("id", True)
    column_formatters = {"entity": _entity}
    column_formatters_detail = {"entity": _entity, "before": _json, "after": _json}
    text_search = ("actor_name",)
    column_filter_choices = ("user",)
    can_set_page_size = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(m.AuditLog, **kwargs)

    def scaffold_filters(self, name: Any) -> Any:
        found = super().scaffold_filters(name)
        if name == "entity" and found:
            found.insert(
                0,
                EnumEqualFilter(
                    "entity", self.get_column_name("entity"), entity_choices, url_name="entity_is"
                ),
            )
        return found


class RequestEventView(ReadOnlyView):
    column_list = (
        "id",
        "request",
        "action",
        "from_status",
        "to_status",
        "actor_name",
        "at",
        "note",
    )
    column_filters = ("action", "from_status", "to_status", "actor_name", "at", "request")
    column_default_sort = ("id", True)
    text_search = ("actor_name",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(m.RequestEvent, **kwargs)
