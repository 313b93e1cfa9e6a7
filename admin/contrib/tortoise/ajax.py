"""Ajax lookups for foreign-key and many-to-many form fields (select2 with a search box).

The loader runs in a Flask worker thread: each lookup is one coroutine on the server's
loop through the bridge. ``scope`` (called in the request thread, where the signed-in
viewer is known) narrows the choices, e.g. to a curator's own branches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask_admin.model.ajax import DEFAULT_PAGE_SIZE, AjaxModelLoader
from tortoise.expressions import Q
from tortoise.models import Model

from admin import bridge
from admin.contrib.tortoise.tools import display, get_primary_key, record_id, related_model

Scope = Callable[[type[Model]], Q]
Search = Callable[[type[Model], str], Q]


def _no_scope(model: type[Model]) -> Q:
    return Q()


class QueryAjaxModelLoader(AjaxModelLoader):
    """Looks up records of ``model`` by ``search`` (the hub's Chinese search, by default)."""

    def __init__(
        self,
        name: str,
        model: type[Model],
        *,
        search: Search,
        scope: Scope = _no_scope,
        order_by: tuple[str, ...] = ("id",),
        **options: Any,
    ) -> None:
        super().__init__(name, options)
        self.model = model
        self.search = search
        self.scope = scope
        self.order_by = order_by
        self.pk = get_primary_key(model)

    def format(self, model: Any) -> tuple[Any, str] | None:
        """(id, label) for a record, or for a bare id (looked up, one query)."""
        if model is None or model == "":
            return None
        if not isinstance(model, Model):
            found = self.get_one(model)
            return (model, f"#{model}") if found is None else self.format(found)
        return (model.pk, self.label(model))

    def label(self, record: Model) -> str:
        return f"{display(record)} · {record.pk}"

    def labels(self, ids: Iterable[Any]) -> dict[int, str]:
        """Labels of many records in one query (for multi-selects)."""
        wanted = [i for i in map(record_id, ids) if i is not None]
        if not wanted:
            return {}

        async def fetch() -> list[Model]:
            return await self.model.filter(**{f"{self.pk}__in": wanted})

        return {record.pk: self.label(record) for record in bridge.run(fetch())}

    def get_one(self, pk: Any) -> Any:
        wanted = record_id(pk)
        if wanted is None:
            return None
        scope = self.scope(self.model)

        async def fetch() -> Model | None:
            return await self.model.filter(scope, **{self.pk: wanted}).first()

        return bridge.run(fetch())

    def get_list(self, term: str, offset: int = 0, limit: int = DEFAULT_PAGE_SIZE) -> list[Any]:
        scope = self.scope(self.model)
        condition = self.search(self.model, term) if term else Q()
        limit = max(1, min(limit or DEFAULT_PAGE_SIZE, 50))

        async def fetch() -> list[Model]:
            query = self.model.filter(scope).filter(condition).order_by(*self.order_by)
            return await query.offset(max(offset or 0, 0)).limit(limit)

        return bridge.run(fetch())


def create_ajax_loader(
    model: type[Model], name: str, field_name: str, options: dict[str, Any]
) -> QueryAjaxModelLoader:
    """A loader for relation ``field_name`` of ``model`` (as flask-admin's backends have)."""
    field = model._meta.fields_map.get(field_name)
    if field is None:
        raise ValueError(f"{model.__name__} has no field {field_name}")
    return QueryAjaxModelLoader(name, related_model(field), **options)
