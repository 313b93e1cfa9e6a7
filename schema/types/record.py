"""Fields every record type shares: row id, version and time stamps."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry


def _row_id(root: Any) -> int:
    return root.pk


@strawberry.type(description="记录的公共字段 Fields every record has")
class RecordFields:
    row_id: int = strawberry.field(
        resolver=_row_id,
        description="数据库主键 Database primary key (the global id is `id`)",
    )
    version: int = strawberry.field(
        description="版本号（乐观锁）Version, for optimistic concurrency"
    )
    created_at: dt.datetime = strawberry.field(description="创建时间 Created at (UTC)")
    updated_at: dt.datetime = strawberry.field(description="修改时间 Last changed at (UTC)")
