"""Where the key that signs tokens and console sessions comes from.

Never from the source: ``LINJU_SECRET_KEY`` (at least 32 bytes), or the file named by
``LINJU_SECRET_KEY_FILE``, or — for a SQLite installation with neither — a random key
made on first start and kept beside the database file (``<database>.secret-key``, mode
0600), which every worker and command of that installation reads. The file is created
whole or not at all (written aside, then hard-linked into place, which fails if another
process won), so concurrent first starts agree on one key.

PostgreSQL with neither setting is refused by ``linju serve`` and ``linju demo``: its
processes may run on several machines, which no local file can keep in agreement (set
``LINJU_SECRET_KEY``, or ``LINJU_SECRET_KEY_FILE`` for a single machine). Commands that
sign nothing (migrate, backup, createuser, token) still run; they get a random key.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from tortoise.backends.base.config_generator import expand_db_url

MIN_KEY_BYTES = 32
KEY_FILE_SUFFIX = ".secret-key"
# SHA-256 of keys that were once published (the old demo constant): refused by value.
PUBLISHED_KEYS = frozenset({"0d96e13d9df7166a4d5bc81c80dbe6f355900254d78a1589d8aede7daee07a1a"})
PROCESS_KEY = "本进程的随机密钥 (a random key of this process only)"
SHARED_KEY_NEEDED = (
    "使用 PostgreSQL 时须设置 LINJU_SECRET_KEY 或 LINJU_SECRET_KEY_FILE (the processes of a "
    "PostgreSQL hub may run on several machines, and all must sign with one key)"
)
_READ_ATTEMPTS = 50  # x 0.02 s: a file another process is still writing (no-link fallback)


class SecretKeyError(ValueError):
    """The configured key cannot be used; the message is one line."""


@dataclass(frozen=True)
class SecretKey:
    value: str
    source: str  # one line for `linju serve`: where the key came from
    refusal: str | None = None  # why a server must not start with this key


def random_key() -> str:
    return secrets.token_urlsafe(48)  # 64 characters, 384 bits


def check_key(value: str, *, origin: str) -> str:
    """``value`` if it is strong enough to sign with, else SecretKeyError."""
    if hashlib.sha256(value.encode()).hexdigest() in PUBLISHED_KEYS:
        raise SecretKeyError(
            f"{origin} 是公开过的演示密钥 (is the published demo key): 任何人都能用它伪造令牌"
        )
    if len(value.encode()) < MIN_KEY_BYTES:
        raise SecretKeyError(
            f"{origin} 太短 (too short): 至少 {MIN_KEY_BYTES} 字节 (at least {MIN_KEY_BYTES} "
            "bytes), e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    return value


def resolve_secret_key(*, key: str | None, key_file: str | None, database_url: str) -> SecretKey:
    """The signing key for these settings (see the module's docstring)."""
    if key and key_file:
        raise SecretKeyError(
            "LINJU_SECRET_KEY 与 LINJU_SECRET_KEY_FILE 只能设置一个 (set only one of them)"
        )
    if key:
        return SecretKey(check_key(key, origin="LINJU_SECRET_KEY"), "LINJU_SECRET_KEY")
    if key_file:
        return load_or_create(Path(key_file))
    if not database_url.startswith("sqlite"):
        return SecretKey(random_key(), PROCESS_KEY, refusal=SHARED_KEY_NEEDED)
    path = sqlite_key_path(database_url)
    if path is None or not path.parent.is_dir():
        # An in-memory database lives in this one process; a missing folder fails the
        # database itself, with its own message.
        return SecretKey(random_key(), PROCESS_KEY)
    return load_or_create(path)


def sqlite_key_path(database_url: str) -> Path | None:
    """``<database file>.secret-key``, or None for an in-memory database."""
    try:
        file_path = str(expand_db_url(database_url)["credentials"].get("file_path", ""))
    except Exception:  # a bad URL is reported when the database is opened
        return None
    if not file_path or ":memory:" in file_path or file_path.startswith("file::memory:"):
        return None
    return Path(file_path).with_name(Path(file_path).name + KEY_FILE_SUFFIX)


def load_or_create(path: Path) -> SecretKey:
    """The key kept in ``path``, made there (mode 0600) if the file does not exist."""
    created = False
    if not path.exists():
        try:
            created = _create(path)
        except OSError as exc:
            raise SecretKeyError(
                f"无法创建密钥文件 (cannot create the key file) {path}: {exc.strerror or exc}"
            ) from None
    value = _read(path)
    state = "新生成 generated now" if created else "已有 existing"
    return SecretKey(
        check_key(value, origin=f"密钥文件 (key file) {path}"),
        f"密钥文件 (key file) {path} ({state})",
    )


def _create(path: Path) -> bool:
    """Put a new random key at ``path`` unless another process got there first."""
    data = (random_key() + "\n").encode()
    aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    _write_private(os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), data)
    try:
        os.link(aside, path)  # atomic, and the file is complete when it appears
        return True
    except FileExistsError:
        return False
    except OSError:
        # A file system without hard links: create in place; readers wait for the bytes.
        return _create_in_place(path, data)
    finally:
        aside.unlink(missing_ok=True)


def _create_in_place(path: Path, data: bytes) -> bool:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    _write_private(fd, data)
    return True


def _write_private(fd: int, data: bytes) -> None:
    """Write ``data`` to the new file ``fd``, owner-only whatever the umask, on disk
    before it is used; then close it."""
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _read(path: Path) -> str:
    for _ in range(_READ_ATTEMPTS):
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SecretKeyError(
                f"无法读取密钥文件 (cannot read the key file) {path}: {exc.strerror or exc}"
            ) from None
        except UnicodeDecodeError:
            raise SecretKeyError(f"密钥文件不是文本 (the key file is not text) {path}") from None
        if value:
            return value
        time.sleep(0.02)  # only in the no-link fallback can a reader see it still empty
    raise SecretKeyError(f"密钥文件为空 (the key file is empty) {path}")
