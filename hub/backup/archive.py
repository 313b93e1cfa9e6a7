"""The backup file: a header line, a manifest line, then the payload.

    LINJU-BACKUP 1 sha256=<digest of the manifest line>\\n
    {"format": 1, "payload": {"sha256": …, "bytes": …}, …}\\n
    <payload: gzip-compressed snapshot>

Both digests are checked before a restore touches anything: a damaged or truncated
file fails at once with one line.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from hub.backup.common import BackupError

MAGIC = b"LINJU-BACKUP"
FORMAT_VERSION = 1
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
CHUNK = 1024 * 1024


def _digest(path: Path) -> tuple[str, int]:
    sha, size = hashlib.sha256(), 0
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


def compress(source: Path, target: Path) -> None:
    with source.open("rb") as raw, gzip.open(target, "wb", compresslevel=6) as packed:
        shutil.copyfileobj(raw, packed, CHUNK)


@contextlib.contextmanager
def temporary_path(folder: Path, suffix: str) -> Iterator[Path]:
    """A fresh file name in ``folder`` (same file system, so replacing it is atomic); removed."""
    handle, name = tempfile.mkstemp(prefix=".linju-", suffix=suffix, dir=folder)
    os.close(handle)
    path = Path(name)
    try:
        yield path
    finally:
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
            leftover.unlink(missing_ok=True)


def write_archive(target: Path, manifest: dict[str, Any], payload: Path) -> dict[str, Any]:
    """Write manifest + payload to ``target`` atomically (a crash leaves no half file)."""
    sha, size = _digest(payload)
    manifest = {**manifest, "format": FORMAT_VERSION, "payload": {"sha256": sha, "bytes": size}}
    line = json.dumps(manifest, ensure_ascii=False, sort_keys=True).encode() + b"\n"
    header = MAGIC + f" {FORMAT_VERSION} sha256={hashlib.sha256(line).hexdigest()}\n".encode()
    with temporary_path(target.parent, ".partial") as partial:
        with partial.open("wb") as out, payload.open("rb") as data:
            out.write(header)
            out.write(line)
            shutil.copyfileobj(data, out, CHUNK)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
    return manifest


def _read_header(stream: IO[bytes], path: Path) -> dict[str, Any]:
    header = stream.readline(256)
    parts = header.split()
    if len(parts) != 3 or parts[0] != MAGIC or not parts[2].startswith(b"sha256="):
        raise BackupError(f"不是邻聚备份文件 (not a linju backup): {path}")
    if parts[1] != str(FORMAT_VERSION).encode():
        raise BackupError(
            f"备份格式版本 {parts[1].decode(errors='replace')} 不受支持 "
            f"(unsupported backup format; this hub reads {FORMAT_VERSION}): {path}"
        )
    line = stream.readline(MAX_MANIFEST_BYTES)
    if not line.endswith(b"\n") or hashlib.sha256(line).hexdigest().encode() != parts[2][7:]:
        raise BackupError(f"备份文件已损坏 (damaged backup: manifest checksum mismatch): {path}")
    manifest = json.loads(line)
    if not isinstance(manifest, dict):
        raise BackupError(f"备份文件已损坏 (damaged backup: manifest is not an object): {path}")
    return manifest


def read_manifest(path: Path) -> tuple[dict[str, Any], int]:
    """The verified manifest and the payload's offset; raises BackupError on any damage."""
    try:
        with path.open("rb") as stream:
            manifest = _read_header(stream, path)
            offset = stream.tell()
            expected = manifest["payload"]
            sha, size = hashlib.sha256(), 0
            while chunk := stream.read(CHUNK):
                sha.update(chunk)
                size += len(chunk)
    except FileNotFoundError:
        raise BackupError(f"备份文件不存在 (no such file): {path}") from None
    except IsADirectoryError:
        raise BackupError(f"不是文件 (is a folder): {path}") from None
    if size != expected["bytes"]:
        raise BackupError(
            f"备份文件不完整 (truncated backup: {size} of {expected['bytes']} payload bytes): "
            f"{path}"
        )
    if sha.hexdigest() != expected["sha256"]:
        raise BackupError(f"备份文件已损坏 (damaged backup: payload checksum mismatch): {path}")
    return manifest, offset


def extract_payload(path: Path, offset: int, target: Path) -> None:
    """Decompress the (already verified) payload into ``target``."""
    with path.open("rb") as stream:
        stream.seek(offset)
        try:
            with gzip.open(stream, "rb") as data, target.open("wb") as out:
                shutil.copyfileobj(data, out, CHUNK)
        except (OSError, EOFError) as exc:
            raise BackupError(f"备份数据无法解压 (payload does not decompress: {exc})") from exc
