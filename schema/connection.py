"""Relay connections: ``XConnection { edges { node cursor } nodes pageInfo totalCount }``.

A connection is resolved in two steps: its field checks the arguments at once (so a
bad cursor or page size is an error on that field), and the page and the count are
fetched only when ``edges``/``nodes``/``pageInfo`` or ``totalCount`` are selected.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import strawberry

from resolvers.queries import Page

NodeT = TypeVar("NodeT")

PageFn = Callable[[], Awaitable[Page]]
CountFn = Callable[[], Awaitable[int]]


@strawberry.type(description="分页信息 Page information (Relay)")
class PageInfo:
    has_next_page: bool = strawberry.field(description="后面还有记录 More records follow")
    has_previous_page: bool = strawberry.field(
        description="前面还有记录 Records come before this page"
    )
    start_cursor: str | None = strawberry.field(
        description="首条记录的游标 Cursor of the first edge"
    )
    end_cursor: str | None = strawberry.field(description="末条记录的游标 Cursor of the last edge")


@strawberry.type(description="边：一条记录及其游标 An edge: one record and its cursor")
class Edge(Generic[NodeT]):
    node: NodeT = strawberry.field(description="记录 The record")
    _page: strawberry.Private[Page]

    @strawberry.field(description="游标（不透明）Opaque cursor for after/before")
    def cursor(self) -> str:
        # Made only when asked for: most queries read nodes, not cursors.
        return self._page.cursor(self.node)  # type: ignore[arg-type]


@strawberry.type(description="分页连接 One page of records (Relay connection)")
class Connection(Generic[NodeT]):
    _fetch_page: strawberry.Private[PageFn]
    _count: strawberry.Private[CountFn]
    _page: strawberry.Private[Awaitable[Page] | None] = None

    def page(self) -> Awaitable[Page]:
        """The page, fetched once however many of its fields are selected."""
        if self._page is None:
            self._page = asyncio.ensure_future(self._fetch_page())
        return self._page

    @strawberry.field(description="本页的边 The edges of this page")
    async def edges(self) -> list[Edge[NodeT]]:
        page = await self.page()
        return [Edge(node=row, _page=page) for row in page.rows]  # type: ignore[arg-type]  # rows stand for NodeT

    @strawberry.field(description="本页的记录 The records of this page (edges without cursors)")
    async def nodes(self) -> list[NodeT]:
        return (await self.page()).rows  # type: ignore[return-value]

    @strawberry.field(description="分页信息 Page information")
    async def page_info(self) -> PageInfo:
        page = await self.page()
        return PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=page.cursor(page.rows[0]) if page.rows else None,
            end_cursor=page.cursor(page.rows[-1]) if page.rows else None,
        )

    @strawberry.field(
        description="符合条件的记录总数（不分页）Number of records matching the filter, all pages"
    )
    async def total_count(self) -> int:
        return await self._count()

    @classmethod
    def of(cls, page: PageFn, count: CountFn) -> Any:
        """A connection that fetches ``page()`` / ``count()`` only when selected."""
        return cls(_fetch_page=page, _count=count)
