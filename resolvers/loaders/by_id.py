"""Rows of one model by primary key — also how every to-one (foreign key) relation loads."""

from __future__ import annotations

from typing import Generic, TypeVar

from strawberry.dataloader import DataLoader
from tortoise.models import Model

from hub.access import Viewer, row_scope

M = TypeVar("M", bound=Model)


class ByIdLoader(DataLoader[int, M | None], Generic[M]):
    """``load(pk)`` → the row or None; one ``WHERE id IN (...)`` per batch."""

    def __init__(self, model: type[M], viewer: Viewer) -> None:
        self.model = model
        self.scope = row_scope(viewer, model)
        super().__init__(load_fn=self._load)

    async def _load(self, ids: list[int]) -> list[M | None]:
        # A row outside the viewer's scope loads as None, exactly like a missing one.
        rows = await self.model.filter(self.scope, pk__in=ids)
        by_id = {row.pk: row for row in rows}
        return [by_id.get(pk) for pk in ids]
