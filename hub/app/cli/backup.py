"""``linju backup FILE`` and ``linju restore FILE`` (see hub.backup and the README's cron notes)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from hub.app.cli.errors import fail, friendly_errors, redact
from hub.backup import BackupError, check_backup, create_backup, restore_backup
from hub.settings import load_settings


def _size(path: Path) -> str:
    size = float(path.stat().st_size)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace FILE when it exists.")
@friendly_errors
def backup(file: Path, overwrite: bool) -> None:
    """Write a consistent snapshot of all data to FILE (safe while the hub runs).

    The database is LINJU_DATABASE_URL: SQLite through its online backup API,
    PostgreSQL through one read-only snapshot. FILE carries a manifest (schema
    version, rows per table, checksum) that `linju restore` checks first.
    """
    settings = load_settings()
    try:
        manifest = asyncio.run(create_backup(settings=settings, target=file, overwrite=overwrite))
    except BackupError as exc:
        fail(str(exc))
    rows = sum(table["rows"] for table in manifest["tables"])
    click.echo(
        f"已备份 (backup written) {file}: {len(manifest['tables'])} 张表 tables, "
        f"{rows} 行 rows, {_size(file)}, 结构 schema {manifest['migrations'][-1]}"
    )


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the data of a database that is not empty.")
@click.option("--check", is_flag=True, help="Only verify FILE (checksum, schema); touch nothing.")
@friendly_errors
def restore(file: Path, force: bool, check: bool) -> None:
    """Restore FILE into the database of LINJU_DATABASE_URL.

    FILE is verified first (checksum; a schema newer than this hub is refused);
    the data is rebuilt aside and put in place in one step, migrated up to this
    hub's schema, and its rows are counted table by table against the manifest.
    Stop the server while restoring.
    """
    settings = load_settings()
    try:
        if check:
            manifest, _ = check_backup(file)
            click.echo(
                f"备份完好 (backup is sound) {file}: {manifest['backend']}, "
                f"{manifest['created_at']}, 结构 schema {manifest['migrations'][-1]}"
            )
            return
        done = asyncio.run(restore_backup(settings=settings, source=file, force=force))
    except BackupError as exc:
        fail(str(exc))
    rows = sum(done.counts.get(table["name"], 0) for table in done.manifest["tables"])
    click.echo(
        f"已恢复 (restored) {file} → {redact(settings.database_url)}: "
        f"{len(done.manifest['tables'])} 张表 tables, {rows} 行 rows, "
        "行数核对一致 (counts verified)"
    )
    click.echo(f"备份时间 (backup taken) {done.manifest['created_at']}")
    if done.warning:
        click.echo(done.warning, err=True)
