"""PostgreSQL: a logical export (COPY per table) inside one REPEATABLE READ READ ONLY
transaction, so data, row counts and migration records share one snapshot.

Plain asyncpg COPY needs no pg_dump whose major version must match the server's.
A restore builds the database aside in a schema of its own (migrations at the backup's
level, data, foreign keys, sequences, migrations up to this code, counts), then swaps
the tables into place in one transaction: a failure anywhere leaves the target as it was.
"""

from __future__ import annotations

import gzip
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any, Protocol

import asyncpg
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import get_connection
from tortoise.context import TortoiseContext
from tortoise.exceptions import BaseORMException
from tortoise.migrations.recorder import MigrationRecorder
from tortoise.migrations.schema_editor import AsyncpgSchemaEditor

from hub.backup.archive import CHUNK, extract_payload
from hub.backup.common import MIGRATIONS_TABLE, BackupError, compare_counts
from hub.db import APP_LABEL, connection_config, migrate_config, tortoise_config
from hub.db_status import DatabaseUnreachable
from hub.settings import Settings

CONNECT_TIMEOUT = 10.0
PAYLOAD = "copy-text-gzip"  # COPY … (FORMAT text) of each table, in manifest order


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def connect(url: str) -> asyncpg.Connection:
    credentials = expand_db_url(url)["credentials"]
    try:
        return await asyncpg.connect(
            host=credentials.get("host"),
            port=credentials.get("port"),
            user=credentials.get("user"),
            password=credentials.get("password"),
            database=credentials.get("database"),
            timeout=CONNECT_TIMEOUT,
            # A backup or restore takes as long as the data needs.
            server_settings={"statement_timeout": "0"},
        )
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise DatabaseUnreachable(url, exc) from exc


async def _tables(conn: asyncpg.Connection, schema: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name",
        schema,
    )
    return [row["table_name"] for row in rows]


async def _columns(conn: asyncpg.Connection, schema: str, table: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = $1 AND table_name = $2 AND is_generated = 'NEVER' "
        "ORDER BY ordinal_position",
        schema,
        table,
    )
    return [row["column_name"] for row in rows]


async def _counts(conn: asyncpg.Connection, schema: str) -> dict[str, int]:
    return {
        table: await conn.fetchval(f"SELECT count(*) FROM {_quote(schema)}.{_quote(table)}")
        for table in await _tables(conn, schema)
    }


async def _applied(conn: asyncpg.Connection, schema: str) -> list[str]:
    if MIGRATIONS_TABLE not in await _tables(conn, schema):
        return []
    rows = await conn.fetch(
        f"SELECT name FROM {_quote(schema)}.{_quote(MIGRATIONS_TABLE)} "
        "WHERE app = $1 ORDER BY applied_at, name",
        APP_LABEL,
    )
    return [row["name"] for row in rows]


class _Sink(Protocol):
    def write(self, data: bytes, /) -> object: ...


class _Counting:
    """A file-like sink that counts what COPY writes through it."""

    def __init__(self, out: _Sink) -> None:
        self.out, self.bytes = out, 0

    def write(self, data: bytes) -> None:
        self.out.write(data)
        self.bytes += len(data)


async def snapshot(settings: Settings, payload: Path) -> dict[str, Any]:
    """Export every table of the hub's schema; the manifest's data part."""
    conn = await connect(settings.database_url)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            schema = await conn.fetchval("SELECT current_schema()")
            migrations = await _applied(conn, schema)
            if not migrations:
                raise BackupError("数据库尚未迁移 (schema not migrated): 请先运行 `linju migrate`")
            tables: list[dict[str, Any]] = []
            with gzip.open(payload, "wb", compresslevel=6) as packed:
                for table in await _tables(conn, schema):
                    columns = await _columns(conn, schema, table)
                    rows = await conn.fetchval(
                        f"SELECT count(*) FROM {_quote(schema)}.{_quote(table)}"
                    )
                    sink = _Counting(packed)
                    await conn.copy_from_table(
                        table, schema_name=schema, columns=columns, output=sink, format="text"
                    )
                    tables.append(
                        {"name": table, "rows": rows, "columns": columns, "bytes": sink.bytes}
                    )
            server = await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
    return {
        "backend": "postgres",
        "server_version": server,
        "payload_encoding": PAYLOAD,
        "migrations": migrations,
        "tables": tables,
    }


async def existing_rows(settings: Settings) -> dict[str, int]:
    """Rows per table already in the target (migration records aside)."""
    conn = await connect(settings.database_url)
    try:
        counts = await _counts(conn, await conn.fetchval("SELECT current_schema()"))
    finally:
        await conn.close()
    counts.pop(MIGRATIONS_TABLE, None)
    return counts


async def _slices(stream: IO[bytes], size: int) -> AsyncIterator[bytes]:
    while size > 0:
        chunk = stream.read(min(CHUNK, size))
        if not chunk:
            raise BackupError("备份数据比清单短 (payload shorter than the manifest says)")
        size -= len(chunk)
        yield chunk


async def _load(
    conn: asyncpg.Connection, aside: str, data: Path, tables: list[dict[str, Any]]
) -> None:
    """Copy the data into the aside schema: foreign keys off, load, keys back (validated)."""
    present = set(await _tables(conn, aside))
    missing = [t["name"] for t in tables if t["name"] not in present]
    if missing:
        raise BackupError(
            f"备份中的表在结构中不存在 (tables not in the schema): {', '.join(missing)}"
        )
    keys = await conn.fetch(
        "SELECT c.conname, r.relname, pg_get_constraintdef(c.oid) AS definition "
        "FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid "
        "JOIN pg_namespace n ON n.oid = r.relnamespace WHERE n.nspname = $1 AND c.contype = 'f'",
        aside,
    )
    for key in keys:
        await conn.execute(
            f"ALTER TABLE {_quote(key['relname'])} DROP CONSTRAINT {_quote(key['conname'])}"
        )
    await conn.execute("TRUNCATE " + ", ".join(_quote(name) for name in sorted(present)))
    with data.open("rb") as stream:
        for table in tables:
            await conn.copy_to_table(
                table["name"],
                schema_name=aside,
                columns=table["columns"],
                source=_slices(stream, table["bytes"]),
                format="text",
            )
    for key in keys:
        await conn.execute(
            f"ALTER TABLE {_quote(key['relname'])} ADD CONSTRAINT {_quote(key['conname'])} "
            f"{key['definition']}"
        )
    # Serial and identity columns: the next id follows the highest restored one.
    serials = await conn.fetch(
        "SELECT c.relname AS tab, a.attname AS col, "
        "pg_get_serial_sequence("
        "  quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname) AS seq "
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped",
        aside,
    )
    for row in serials:
        if row["seq"] is None:
            continue
        top = await conn.fetchval(f"SELECT max({_quote(row['col'])}) FROM {_quote(row['tab'])}")
        await conn.execute(
            "SELECT setval($1::regclass, $2, $3)", row["seq"], top or 1, top is not None
        )


async def _swap(conn: asyncpg.Connection, aside: str, schema: str) -> None:
    """In one transaction: replace the target's tables with the aside ones."""
    async with conn.transaction():
        for table in await _tables(conn, aside):
            await conn.execute(f"DROP TABLE IF EXISTS {_quote(schema)}.{_quote(table)} CASCADE")
            await conn.execute(
                f"ALTER TABLE {_quote(aside)}.{_quote(table)} SET SCHEMA {_quote(schema)}"
            )
        # An extension a migration created (e.g. pg_trgm) lands in the aside schema.
        for name in await conn.fetch(
            "SELECT e.extname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE n.nspname = $1",
            aside,
        ):
            await conn.execute(
                f"ALTER EXTENSION {_quote(name['extname'])} SET SCHEMA {_quote(schema)}"
            )
        # No CASCADE: anything else left behind fails the swap rather than vanish.
        await conn.execute(f"DROP SCHEMA {_quote(aside)}")


def _aside_config(url: str, aside: str, schema: str) -> dict[str, Any]:
    config = tortoise_config(Settings(database_url=url))
    default = connection_config(url)
    # The aside schema first: migrations create their tables there; extensions stay visible.
    credentials = default["credentials"]
    credentials["server_settings"] = {
        **credentials.get("server_settings", {}),
        "search_path": f"{_quote(aside)}, {_quote(schema)}",
    }
    config["connections"] = {"default": default}
    return config


async def _create_recorder(config: dict[str, Any]) -> None:
    """Tortoise's migration records in the aside schema, before migrating.

    Otherwise Tortoise, reading through the search path, would find the target's records
    and think every migration already applied to the (empty) aside schema.
    """
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        connection = get_connection("default")
        editor = AsyncpgSchemaEditor(connection, atomic=False)
        await MigrationRecorder(connection).ensure_schema(editor)


async def _build_aside(
    conn: asyncpg.Connection,
    url: str,
    aside: str,
    schema: str,
    archive: Path,
    offset: int,
    manifest: dict[str, Any],
    scratch: Path,
) -> None:
    """Schema at the backup's level, data, checks, then migrations up to this code."""
    expected = {t["name"]: t["rows"] for t in manifest["tables"]}
    config = _aside_config(url, aside, schema)
    await _create_recorder(config)
    await migrate_config(config, target=f"{APP_LABEL}.{max(manifest['migrations'])}")
    extract_payload(archive, offset, scratch)
    await conn.execute(f"SET search_path TO {_quote(aside)}, {_quote(schema)}")
    async with conn.transaction():
        await _load(conn, aside, scratch, manifest["tables"])
    compare_counts(expected, await _counts(conn, aside))
    if await _applied(conn, aside) != manifest["migrations"]:
        raise BackupError("备份清单与数据不符 (manifest migrations differ from the data)")
    await migrate_config(config)  # an older backup comes up to this code's schema
    # New migrations add their own records: the other tables must still match.
    compare_counts(expected, await _counts(conn, aside), skip=frozenset({MIGRATIONS_TABLE}))
    await conn.execute(f"SET search_path TO {_quote(schema)}")


async def restore(
    settings: Settings, archive: Path, offset: int, manifest: dict[str, Any], scratch: Path
) -> dict[str, int]:
    """Build the restored database in an aside schema, check it, swap it into place."""
    if manifest.get("payload_encoding") != PAYLOAD:
        raise BackupError(
            f"不支持的备份数据格式 (unknown payload {manifest.get('payload_encoding')})"
        )
    expected = {t["name"]: t["rows"] for t in manifest["tables"]}
    aside = f"linju_restore_{uuid.uuid4().hex[:10]}"
    conn = await connect(settings.database_url)
    try:
        schema = await conn.fetchval("SELECT current_schema()")
        try:
            await conn.execute(f"CREATE SCHEMA {_quote(aside)}")
            await _build_aside(
                conn, settings.database_url, aside, schema, archive, offset, manifest, scratch
            )
            await _swap(conn, aside, schema)
        except (asyncpg.PostgresError, BaseORMException) as exc:
            raise BackupError(
                f"恢复失败，目标未改动 (restore failed, target unchanged): {exc}"
            ) from exc
        finally:
            await conn.execute(f"SET search_path TO {_quote(schema)}")
            await conn.execute(f"DROP SCHEMA IF EXISTS {_quote(aside)} CASCADE")
        restored = await _counts(conn, schema)
    finally:
        await conn.close()
    compare_counts(expected, restored, skip=frozenset({MIGRATIONS_TABLE}))
    return restored
