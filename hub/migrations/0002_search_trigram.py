"""Trigram (GIN) indexes on the search columns, PostgreSQL only.

``search_text LIKE '%term%'`` cannot use a B-tree index; pg_trgm's GIN index serves
it. SQLite keeps the plain index from 0001 (district-sized tables scan in a few ms).
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

SEARCH_TABLES = (
    "district", "street", "community", "compound", "branch", "member",
    "property_company", "co_building_unit",
)


def _is_postgres(schema_editor) -> bool:
    return schema_editor.DIALECT == "postgres"


async def forward(apps, schema_editor) -> None:
    if not _is_postgres(schema_editor):
        return
    await schema_editor.client.execute_script("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table in SEARCH_TABLES:
        await schema_editor.client.execute_script(
            f'CREATE INDEX IF NOT EXISTS "trgm_{table}_search" '
            f'ON "{table}" USING GIN ("search_text" gin_trgm_ops)'
        )


async def backward(apps, schema_editor) -> None:
    if not _is_postgres(schema_editor):
        return
    for table in SEARCH_TABLES:
        await schema_editor.client.execute_script(f'DROP INDEX IF EXISTS "trgm_{table}_search"')


class Migration(migrations.Migration):
    dependencies = [("hub", "0001_initial")]

    operations = [ops.RunPython(forward, backward)]
