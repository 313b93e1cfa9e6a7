"""SQLite: snapshot with the online backup API; restore aside, then copy in with it too.

``Connection.backup`` with ``pages=-1`` copies the whole database in one step under one
read transaction, so the snapshot is consistent while the server keeps writing; on
restore the same one step writes the destination in one transaction (all or nothing).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from tortoise.backends.base.config_generator import expand_db_url

from hub.backup.archive import compress, extract_payload, temporary_path
from hub.backup.common import (
    MIGRATIONS_TABLE,
    BackupError,
    compare_counts,
)
from hub.db import APP_LABEL, migrate_config, tortoise_config
from hub.settings import Settings


def database_path(url: str) -> Path:
    path = expand_db_url(url)["credentials"].get("file_path", "")
    if not path or path == ":memory:":
        raise BackupError(f"无法备份内存数据库 (not a database file): {url}")
    return Path(path)


def table_counts(db: sqlite3.Connection) -> dict[str, int]:
    names = [
        row[0]
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {name: db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}


def applied(db: sqlite3.Connection) -> list[str]:
    try:
        rows = db.execute(
            f'SELECT name FROM "{MIGRATIONS_TABLE}" WHERE app = ? ORDER BY applied_at, name',
            (APP_LABEL,),
        ).fetchall()
    except sqlite3.OperationalError:
        return []
    return [row[0] for row in rows]


def snapshot(settings: Settings, payload: Path) -> dict[str, Any]:
    """Copy the live database to a compressed payload; the manifest's data part."""
    source = database_path(settings.database_url)
    if not source.is_file():
        raise BackupError(f"数据库文件不存在 (no database file): {source}")
    with temporary_path(payload.parent, ".db") as copy:
        with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(copy)) as out:
            live.backup(out)  # pages=-1: one step, one consistent read
            # Counts and migrations from the copy: the very snapshot being saved.
            counts = table_counts(out)
            migrations = applied(out)
            out.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        if not migrations:
            raise BackupError("数据库尚未迁移 (schema not migrated): 请先运行 `linju migrate`")
        compress(copy, payload)
    return {
        "backend": "sqlite",
        "migrations": migrations,
        "tables": [{"name": name, "rows": rows} for name, rows in sorted(counts.items())],
    }


def existing_rows(settings: Settings) -> dict[str, int]:
    """Rows per table already in the target (migration records aside)."""
    path = database_path(settings.database_url)
    if not path.is_file() or path.stat().st_size == 0:
        return {}
    with closing(sqlite3.connect(path)) as db:
        counts = table_counts(db)
    counts.pop(MIGRATIONS_TABLE, None)
    return counts


def _counts_of(path: Path) -> dict[str, int]:
    with closing(sqlite3.connect(path)) as db:
        return table_counts(db)


async def restore(
    settings: Settings, archive: Path, offset: int, manifest: dict[str, Any]
) -> dict[str, int]:
    """Rebuild aside (decompress, check, migrate up, check), then copy into the target."""
    target = database_path(settings.database_url)
    if not target.parent.is_dir():
        raise BackupError(f"目录不存在 (no such folder): {target.parent}")
    expected = {t["name"]: t["rows"] for t in manifest["tables"]}
    with temporary_path(target.parent, ".restore.db") as aside:
        extract_payload(archive, offset, aside)
        with closing(sqlite3.connect(aside)) as db:
            try:
                check = db.execute("PRAGMA quick_check").fetchone()[0]
            except sqlite3.DatabaseError as exc:
                raise BackupError(
                    f"备份数据不是有效的 SQLite 数据库 (bad payload: {exc})"
                ) from None
            if check != "ok":
                raise BackupError(f"备份数据库校验失败 (payload integrity check: {check})")
            if applied(db) != manifest["migrations"]:
                raise BackupError("备份清单与数据不符 (manifest migrations differ from the data)")
        compare_counts(expected, _counts_of(aside))
        config = tortoise_config(Settings(database_url=f"sqlite://{aside}"))
        await migrate_config(config)  # an older backup comes up to this code's schema
        # New migrations add their own records: the other tables must still match.
        compare_counts(expected, _counts_of(aside), skip=frozenset({MIGRATIONS_TABLE}))
        with closing(sqlite3.connect(aside)) as source, closing(sqlite3.connect(target)) as dest:
            try:
                source.backup(dest)  # one step: the target changes whole or not at all
            except sqlite3.Error as exc:
                raise BackupError(f"无法写入目标数据库 (cannot write the target: {exc})") from None
    restored = _counts_of(target)
    compare_counts(expected, restored, skip=frozenset({MIGRATIONS_TABLE}))
    return restored
