"""totalCount of a to-many relation per parent: one grouped COUNT across parents."""

from __future__ import annotations

from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from resolvers.queries import Listing, Relation, count_related


@dataclass(frozen=True)
class RelationCountKey:
    relation: Relation
    listing: Listing
    parent_id: int


class RelationCountLoader(DataLoader[RelationCountKey, int]):
    """``load(key)`` → how many rows ``key.relation`` holds for ``key.parent_id``."""

    def __init__(self) -> None:
        super().__init__(load_fn=self._load)

    async def _load(self, keys: list[RelationCountKey]) -> list[int]:
        groups: dict[tuple[Relation, Listing], list[int]] = {}
        for key in keys:
            groups.setdefault((key.relation, key.listing), []).append(key.parent_id)
        counts: dict[RelationCountKey, int] = {}
        for (relation, listing), parent_ids in groups.items():
            found = await count_related(relation, listing, parent_ids)
            for parent_id, n in found.items():
                counts[RelationCountKey(relation, listing, parent_id)] = n
        return [counts[key] for key in keys]
