"""What every domain record shares: id, optimistic-concurrency version, times, search."""

from __future__ import annotations

from typing import Any, ClassVar

from tortoise import fields
from tortoise.models import Model

from hub.search import search_text

# Names and short texts; long enough for any real compound or unit name.
NAME_LENGTH = 100
SEARCH_LENGTH = 400


class Record(Model):
    """Abstract base: every domain table has these columns."""

    id = fields.IntField(primary_key=True)
    version = fields.IntField(default=1, description="Optimistic-concurrency version")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        abstract = True


class Searchable(Record):
    """A record found by name in either script or by pinyin (see hub.search)."""

    # Fields whose values feed ``search_text``, in order.
    search_fields: ClassVar[tuple[str, ...]] = ("name",)

    search_text = fields.CharField(
        max_length=SEARCH_LENGTH,
        default="",
        db_index=True,
        description="Normalised name: Simplified script, pinyin, initials",
    )

    class Meta:
        abstract = True

    def refresh_search_text(self) -> None:
        """Recompute the search column; bulk inserts must call this themselves."""
        values = (getattr(self, name, None) for name in self.search_fields)
        self.search_text = search_text(*values)[:SEARCH_LENGTH]

    async def save(self, *args: Any, **kwargs: Any) -> None:
        self.refresh_search_text()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "search_text" not in update_fields:
            kwargs["update_fields"] = [*update_fields, "search_text"]
        await super().save(*args, **kwargs)
