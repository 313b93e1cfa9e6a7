"""The migrated database has every column, index and link table the models declare.

Tortoise's own autodetector compares models with migration *state*; this test
compares them with the *database* the migrations actually built, on each backend.
"""

from __future__ import annotations

import pytest
from tortoise import connections
from tortoise.fields.relational import ManyToManyFieldInstance

from hub.models import __models__

pytestmark = pytest.mark.usefixtures("orm")


async def _columns(table: str) -> set[str]:
    conn = connections.get("default")
    if conn.capabilities.dialect == "sqlite":
        _, rows = await conn.execute_query(f'PRAGMA table_info("{table}")')
        return {row["name"] for row in rows}
    _, rows = await conn.execute_query(
        "SELECT column_name FROM information_schema.columns WHERE table_name = $1", [table]
    )
    return {row["column_name"] for row in rows}


async def _indexed_columns(table: str) -> set[str]:
    """Columns that lead some index (or unique constraint) of ``table``."""
    conn = connections.get("default")
    if conn.capabilities.dialect == "sqlite":
        _, indexes = await conn.execute_query(f'PRAGMA index_list("{table}")')
        leading = set()
        for index in indexes:
            _, cols = await conn.execute_query(f'PRAGMA index_info("{index["name"]}")')
            leading |= {c["name"] for c in cols if c["seqno"] == 0}
        return leading
    _, rows = await conn.execute_query(
        "SELECT a.attname FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
        "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0] "
        "WHERE t.relname = $1",
        [table],
    )
    return {row["attname"] for row in rows}


@pytest.mark.parametrize("model", __models__, ids=lambda model: model.__name__)
async def test_table_has_every_column_and_index(model: type) -> None:
    meta = model._meta
    columns = await _columns(meta.db_table)
    assert columns == set(meta.fields_db_projection.values())
    indexed = await _indexed_columns(meta.db_table)
    for name, column in meta.fields_db_projection.items():
        field = meta.fields_map[name]
        if (field.index or field.unique) and not field.pk:
            assert column in indexed, f"{meta.db_table}.{column} has no index"
    for name in meta.m2m_fields:
        field = meta.fields_map[name]
        assert isinstance(field, ManyToManyFieldInstance)
        if field._generated:
            continue
        through = await _columns(field.through)
        assert {field.forward_key, field.backward_key} <= through
