"""The row pointing at a parent through a unique key (reverse one-to-one), by parent id."""

from __future__ import annotations

from typing import Generic, TypeVar

from strawberry.dataloader import DataLoader
from tortoise.models import Model

from hub.access import Viewer, row_scope

M = TypeVar("M", bound=Model)


class ReverseOneLoader(DataLoader[int, M | None], Generic[M]):
    """E.g. a compound's owners' committee: ``load(compound_id)`` → committee or None."""

    def __init__(self, model: type[M], key: str, viewer: Viewer) -> None:
        self.model = model
        self.key = key  # the model's field holding the parent id, e.g. "compound_id"
        self.scope = row_scope(viewer, model)
        super().__init__(load_fn=self._load)

    async def _load(self, parent_ids: list[int]) -> list[M | None]:
        rows = await self.model.filter(self.scope, **{f"{self.key}__in": parent_ids})
        by_parent = {getattr(row, self.key): row for row in rows}
        return [by_parent.get(pid) for pid in parent_ids]
