"""One page of a to-many relation per parent, batched across parents.

Keys carry the relation and the full connection arguments (filter, ordering,
page size, cursors), so every parent asking the same sub-question shares one
window-function statement (see :func:`resolvers.queries.fetch_related_pages`).
"""

from __future__ import annotations

from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from resolvers.pagination import PageRequest
from resolvers.queries import Listing, Page, Relation, fetch_related_pages


@dataclass(frozen=True)
class RelationPageKey:
    relation: Relation
    listing: Listing
    request: PageRequest
    parent_id: int


class RelationPageLoader(DataLoader[RelationPageKey, Page]):
    """``load(key)`` → the page of ``key.relation`` for ``key.parent_id``."""

    def __init__(self) -> None:
        super().__init__(load_fn=self._load)

    async def _load(self, keys: list[RelationPageKey]) -> list[Page]:
        groups: dict[tuple[Relation, Listing, PageRequest], list[int]] = {}
        for key in keys:
            groups.setdefault((key.relation, key.listing, key.request), []).append(key.parent_id)
        pages: dict[RelationPageKey, Page] = {}
        for (relation, listing, request), parent_ids in groups.items():
            found = await fetch_related_pages(relation, listing, request, parent_ids)
            for parent_id, page in found.items():
                pages[RelationPageKey(relation, listing, request, parent_id)] = page
        return [pages[key] for key in keys]
