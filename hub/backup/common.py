"""What backups and restores share: the error type, schema and count checks."""

from __future__ import annotations

from collections.abc import Mapping

from hub.db_status import migrations_on_disk

MIGRATIONS_TABLE = "tortoise_migrations"  # Tortoise's record of applied migrations


class BackupError(Exception):
    """A backup or restore the user can act on failed; the message is one line."""


def check_schema_supported(migrations: list[str]) -> None:
    """Refuse a backup made by newer code: its schema has migrations this code lacks."""
    on_disk = set(migrations_on_disk())
    unknown = [name for name in migrations if name not in on_disk]
    if unknown:
        raise BackupError(
            f"备份的数据库结构比本程序新 (backup schema is newer than this hub: "
            f"unknown migration {', '.join(unknown)}); 请先升级邻聚 Hub"
        )
    if not migrations:
        raise BackupError("备份中没有已应用的迁移 (backup has no applied migrations)")


def compare_counts(
    expected: Mapping[str, int], actual: Mapping[str, int], *, skip: frozenset[str] = frozenset()
) -> None:
    """Fail loudly, naming every table whose row count differs from the manifest."""
    wrong = [
        f"{table}: {actual.get(table, 'missing')} != {rows}"
        for table, rows in sorted(expected.items())
        if table not in skip and actual.get(table) != rows
    ]
    if wrong:
        raise BackupError(
            f"恢复后行数与备份清单不符 (row counts differ from the manifest): {'; '.join(wrong)}"
        )


def describe_rows(counts: Mapping[str, int], *, limit: int = 4) -> str:
    """``member 1200 行, branch 117 行, …`` for the tables holding rows, largest first."""
    full = sorted(((rows, table) for table, rows in counts.items() if rows), reverse=True)
    text = ", ".join(f"{table} {rows} 行" for rows, table in full[:limit])
    return text + (f", … ({len(full)} 张表 tables)" if len(full) > limit else "")
