"""``linju backup`` and ``linju restore``: one file per snapshot, checked before use.

A backup file holds a manifest (format, hub version, backend, applied migrations, rows
per table, creation time, payload checksum) and the compressed snapshot; see
:mod:`hub.backup.archive`. SQLite snapshots with the online backup API
(:mod:`hub.backup.sqlite`), PostgreSQL with a logical export in one snapshot
(:mod:`hub.backup.postgres`).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hub
from hub.backup import postgres, sqlite
from hub.backup.archive import read_manifest, temporary_path, write_archive
from hub.backup.common import BackupError, check_schema_supported, describe_rows
from hub.settings import Settings

__all__ = [
    "BackupError",
    "Restored",
    "backend_of",
    "check_backup",
    "create_backup",
    "restore_backup",
]


def backend_of(url: str) -> str:
    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite":
        return "sqlite"
    if scheme in {"postgres", "postgresql", "asyncpg", "psycopg"}:
        return "postgres"
    raise BackupError(f"不支持备份此数据库 (backups support sqlite and postgres, not {scheme})")


def row_counts(manifest: dict[str, Any]) -> dict[str, int]:
    return {table["name"]: table["rows"] for table in manifest["tables"]}


async def create_backup(
    *, settings: Settings, target: Path, overwrite: bool = False
) -> dict[str, Any]:
    """Snapshot the database of ``settings`` into ``target``; returns the manifest."""
    backend = backend_of(settings.database_url)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise BackupError(f"目录不存在 (no such folder): {folder}")
    if target.exists() and not overwrite:
        raise BackupError(f"文件已存在 (file exists, use --overwrite): {target}")
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with temporary_path(folder, ".payload") as payload:
        if backend == "sqlite":
            data = sqlite.snapshot(settings, payload)
        else:
            data = await postgres.snapshot(settings, payload)
        manifest = {"hub_version": hub.__version__, "created_at": created, **data}
        return write_archive(target, manifest, payload)


def check_backup(source: Path) -> tuple[dict[str, Any], int]:
    """The file's manifest after every check a restore makes before touching anything."""
    manifest, offset = read_manifest(source)
    check_schema_supported(manifest["migrations"])
    return manifest, offset


@dataclass(frozen=True)
class Restored:
    manifest: dict[str, Any]
    counts: dict[str, int]
    warning: str | None = None


async def restore_backup(*, settings: Settings, source: Path, force: bool = False) -> Restored:
    """Replace the data of ``settings``' database with the backup in ``source``."""
    manifest, offset = check_backup(source)
    backend = backend_of(settings.database_url)
    if manifest["backend"] != backend:
        raise BackupError(
            f"备份来自 {manifest['backend']}，目标是 {backend} "
            "(restore into the same kind of database the backup came from)"
        )
    if backend == "sqlite":
        existing = sqlite.existing_rows(settings)
    else:
        existing = await postgres.existing_rows(settings)
    if any(existing.values()) and not force:
        raise BackupError(
            f"目标数据库非空 (target is not empty: {describe_rows(existing)}); "
            "加 --force 覆盖 (use --force to replace it)"
        )
    if backend == "sqlite":
        counts = await sqlite.restore(settings, source, offset, manifest)
    else:
        with temporary_path(Path(tempfile.gettempdir()), ".data") as scratch:
            counts = await postgres.restore(settings, source, offset, manifest, scratch)
    return Restored(
        manifest=manifest, counts=counts, warning=await _invalidate_shared_cache(settings, counts)
    )


async def _invalidate_shared_cache(settings: Settings, counts: dict[str, int]) -> str | None:
    """Bump every restored table's data version in Redis: cached answers about the old
    data must not outlive the restore (servers are restarted, Redis is not)."""
    if not settings.redis_url:
        return None
    # Imported here: hub.cache brings the models and observability, which `linju backup`
    # and `linju restore` need only when a shared cache is configured.
    from hub.cache.redis_state import RedisState

    try:
        await RedisState(settings.redis_url).bump(frozenset(counts))
    except Exception as exc:  # the restore is done; say what is left to do
        return (
            f"警告：无法使 Redis 中的响应缓存失效 (could not invalidate the cache in Redis: "
            f"{type(exc).__name__}); 缓存最迟在 LINJU_CACHE_TTL_SECONDS 后过期"
        )
    return None
