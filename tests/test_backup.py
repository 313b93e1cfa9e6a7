"""``linju backup`` / ``linju restore``: every row comes back, damage changes nothing.

Each test module run builds databases of its own (SQLite files, or PostgreSQL databases
with unique names, dropped afterwards): a source holding the demo dataset plus an
account and a token, and empty targets. Commands run as subprocesses, as a user runs them.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from hub.backup.archive import extract_payload, read_manifest, write_archive
from hub.db_status import migrations_on_disk
from hub.shared import shared_redis
from tests.conftest import BACKEND, PG_SERVER, _pg_admin

NewDatabase = Callable[[], Awaitable[str]]


def linju(*args: str, database_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LINJU_")}
    environ["LINJU_DATABASE_URL"] = database_url
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "hub.app.cli", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def one_line_error(done: subprocess.CompletedProcess[str], fragment: str) -> str:
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Traceback" not in output, output
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("错误："), output
    assert fragment in lines[0], lines[0]
    return lines[0]


# ---------------------------------------------------------------- databases and rows


@pytest.fixture(scope="module")
async def new_database(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[NewDatabase]:
    """Make empty databases of this module's own; PostgreSQL ones are dropped at the end."""
    made: list[str] = []

    async def make() -> str:
        name = f"linju_backup_{uuid.uuid4().hex[:10]}"
        if BACKEND == "sqlite":
            return f"sqlite://{tmp_path_factory.mktemp('backup') / f'{name}.db'}"
        await _pg_admin(f'CREATE DATABASE "{name}"')
        made.append(name)
        return f"{PG_SERVER}/{name}"

    yield make
    for name in made:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def table_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (all columns), in a stable order."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    if url.startswith("sqlite"):
        db = sqlite3.connect(url.removeprefix("sqlite://"))
        try:
            names = db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            ).fetchall()
            for (name,) in names:
                rows[name] = sorted(db.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
        finally:
            db.close()
        return rows
    conn = await asyncpg.connect(url)
    try:
        names = await conn.fetch(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        for record in names:
            name = record["table_name"]
            fetched = await conn.fetch(f'SELECT * FROM "{name}"')
            rows[name] = sorted((tuple(r.values()) for r in fetched), key=repr)
    finally:
        await conn.close()
    return rows


def counts(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, int]:
    return {name: len(table) for name, table in rows.items()}


def assert_same_rows(expected: dict[str, list[Any]], actual: dict[str, list[Any]]) -> None:
    assert sorted(actual) == sorted(expected)
    for name in expected:
        assert actual[name] == expected[name], f"table {name} differs"


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
async def source(new_database: NewDatabase) -> str:
    """The demo dataset plus an account and its token: every kind of column."""
    url = await new_database()
    ok(linju("migrate", database_url=url))
    ok(linju("seed", database_url=url))
    ok(linju("createuser", "backup-admin", "--role=ADMIN", "--generate", database_url=url))
    ok(linju("token", "create", "backup-admin", "--name=nightly", database_url=url))
    return url


@pytest.fixture(scope="module")
def backup_file(source: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("files") / "nightly.linju"
    output = ok(linju("backup", str(path), database_url=source))
    assert "已备份 (backup written)" in output
    return path


def damaged_copies(backup: Path, folder: Path) -> dict[str, Path]:
    """The backup truncated, with a payload byte flipped, with a manifest byte flipped."""
    data = backup.read_bytes()
    manifest_end = data.index(b"\n", data.index(b"\n") + 1)
    copies = {
        "truncated": data[: len(data) * 2 // 3],
        "payload flipped": _flip(data, manifest_end + (len(data) - manifest_end) // 2),
        "manifest flipped": _flip(data, manifest_end - 20),
    }
    paths = {}
    for label, content in copies.items():
        paths[label] = folder / f"{label.replace(' ', '-')}.linju"
        paths[label].write_bytes(content)
    return paths


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def resigned(backup: Path, target: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of ``backup`` with its manifest changed and every checksum made right again."""
    manifest, offset = read_manifest(backup)
    change(manifest)
    payload = target.with_suffix(".gz")
    with backup.open("rb") as stream, payload.open("wb") as out:
        stream.seek(offset)
        out.write(stream.read())
    write_archive(target, manifest, payload)
    return target


# ---------------------------------------------------------------- the main path


async def test_backup_then_restore_reproduces_every_row(
    source: str, backup_file: Path, new_database: NewDatabase
) -> None:
    # Given the backup of a database with data, and an empty database
    target = await new_database()
    expected = await table_rows(source)
    manifest, _ = read_manifest(backup_file)
    assert manifest["backend"] == BACKEND
    assert manifest["migrations"] == migrations_on_disk()
    assert {t["name"]: t["rows"] for t in manifest["tables"]} == counts(expected)
    assert manifest["hub_version"] and manifest["created_at"]

    # When it is restored
    output = ok(linju("restore", str(backup_file), database_url=target))

    # Then every table holds the same rows, column by column
    assert "已恢复 (restored)" in output and "counts verified" in output
    assert_same_rows(expected, await table_rows(target))

    # And new rows get fresh ids (sequences follow the restored rows)
    ok(linju("createuser", "after-restore", "--role=READER", "--generate", database_url=target))
    users = (await table_rows(target))["hub_user"]
    assert len(users) == len(expected["hub_user"]) + 1
    ok(linju("token", "create", "after-restore", "--name=fresh", database_url=target))
    assert len((await table_rows(target))["api_token"]) == len(expected["api_token"]) + 1


async def test_restore_refuses_a_database_that_is_not_empty(source: str, backup_file: Path) -> None:
    before = await table_rows(source)

    done = linju("restore", str(backup_file), database_url=source)

    message = one_line_error(done, "目标数据库非空")
    assert "--force" in message and "member" in message
    assert_same_rows(before, await table_rows(source))


async def test_restore_with_force_replaces_the_data(
    source: str, backup_file: Path, new_database: NewDatabase
) -> None:
    # Given a database holding other data (the backup, plus one more account)
    target = await new_database()
    ok(linju("restore", str(backup_file), database_url=target))
    ok(linju("createuser", "extra", "--role=READER", "--generate", database_url=target))

    # When the backup is restored over it with --force (a Redis cache configured)
    redis_url = f"redis://127.0.0.1:6379/0?prefix=t{uuid.uuid4().hex[:12]}"
    ok(
        linju(
            "restore", "--force", str(backup_file), database_url=target, LINJU_REDIS_URL=redis_url
        )
    )

    # Then it holds exactly the backup's rows again
    assert_same_rows(await table_rows(source), await table_rows(target))
    # And cached answers about the old data are invalid: every table's version moved on
    redis = shared_redis(redis_url)
    try:
        versions = await redis.client.hgetall(redis.key("versions"))
        assert {b"member", b"hub_user", b"branch"} <= set(versions)
    finally:
        await redis.client.delete(redis.key("versions"), redis.key("bumped"))
        await redis.client.aclose()


async def test_damaged_backups_fail_clearly_and_change_nothing(
    source: str, backup_file: Path, new_database: NewDatabase, tmp_path: Path
) -> None:
    empty = await new_database()
    ok(linju("migrate", database_url=empty))
    empty_rows = await table_rows(empty)
    with_data = await table_rows(source)
    fragments = {
        "truncated": "备份文件不完整",
        "payload flipped": "备份文件已损坏",
        "manifest flipped": "备份文件已损坏",
    }
    for label, path in damaged_copies(backup_file, tmp_path).items():
        one_line_error(linju("restore", str(path), database_url=empty), fragments[label])
        one_line_error(linju("restore", "--check", str(path), database_url=empty), "备份文件")
        forced = linju("restore", "--force", str(path), database_url=source)
        one_line_error(forced, fragments[label])
    # Still empty, and still the old data
    assert_same_rows(empty_rows, await table_rows(empty))
    assert_same_rows(with_data, await table_rows(source))


async def test_restore_refuses_a_newer_schema(
    backup_file: Path, new_database: NewDatabase, tmp_path: Path
) -> None:
    newer = resigned(
        backup_file,
        tmp_path / "newer.linju",
        lambda manifest: manifest["migrations"].append("0999_from_the_future"),
    )
    target = await new_database()

    done = linju("restore", str(newer), database_url=target)

    one_line_error(done, "0999_from_the_future")
    assert "newer" in done.stderr
    assert await table_rows(target) == {}


async def test_restore_fails_on_counts_that_differ_from_the_manifest(
    backup_file: Path, new_database: NewDatabase, tmp_path: Path
) -> None:
    # A manifest that lies about one table's rows (re-signed, so only the count check sees it)
    def lie(manifest: dict[str, Any]) -> None:
        table = next(t for t in manifest["tables"] if t["name"] == "member")
        table["rows"] += 1

    lying = resigned(backup_file, tmp_path / "lying.linju", lie)
    target = await new_database()
    ok(linju("migrate", database_url=target))
    before = await table_rows(target)

    done = linju("restore", str(lying), database_url=target)

    one_line_error(done, "member")
    assert "row counts differ" in done.stderr
    assert_same_rows(before, await table_rows(target))


async def test_an_older_backup_is_migrated_up_on_restore(
    source: str, backup_file: Path, new_database: NewDatabase, tmp_path: Path
) -> None:
    # Given a backup taken at the first migration
    first = migrations_on_disk()[0]
    older = await new_database()
    ok(linju("restore", str(backup_file), database_url=older))
    ok(linju("migrate", "--target", first, database_url=older))
    old_file = tmp_path / "older.linju"
    ok(linju("backup", str(old_file), database_url=older))
    assert read_manifest(old_file)[0]["migrations"] == [first]

    # When it is restored by this code
    target = await new_database()
    ok(linju("restore", str(old_file), database_url=target))

    # Then the target is at this code's schema, with every row of the source
    restored = await table_rows(target)
    applied = sorted(row[2] for row in restored.pop("tortoise_migrations"))
    assert applied == migrations_on_disk()
    expected = await table_rows(source)
    expected.pop("tortoise_migrations")
    assert_same_rows(expected, restored)
    assert "数据库已是最新" in ok(linju("migrate", database_url=target))


def test_backup_refuses_to_overwrite_and_restore_checks(
    source: str, backup_file: Path, tmp_path: Path
) -> None:
    one_line_error(linju("backup", str(backup_file), database_url=source), "--overwrite")
    checked = ok(linju("restore", "--check", str(backup_file), database_url=source))
    assert "备份完好 (backup is sound)" in checked
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello\n")
    one_line_error(linju("restore", str(not_a_backup), database_url=source), "不是邻聚备份文件")
    one_line_error(linju("restore", str(tmp_path / "missing"), database_url=source), "不存在")


def test_extracted_payload_matches_the_manifest(backup_file: Path, tmp_path: Path) -> None:
    manifest, offset = read_manifest(backup_file)
    out = tmp_path / "payload"
    extract_payload(backup_file, offset, out)
    if manifest["backend"] == "postgres":
        assert out.stat().st_size == sum(t["bytes"] for t in manifest["tables"])
    else:
        assert out.read_bytes()[:16] == b"SQLite format 3\x00"
