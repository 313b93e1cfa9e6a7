"""The ``linju`` CLI's failures: known exceptions mapped to one clear line each.

``friendly_errors`` wraps every command: a failure the user can fix (bad database URL,
unreachable server, schema not migrated, port in use, bad setting) becomes one line,
Chinese with the English cause, and exit status 1 — never a traceback.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlsplit, urlunsplit

import click
from tortoise.exceptions import ConfigurationError, OperationalError

from hub.assets import AssetError
from hub.db_status import BadDatabaseURL, DatabaseUnreachable, SchemaNotMigrated
from hub.settings import Settings, SettingsError, setting_from_environment

__all__ = [
    "BadDatabaseURL",
    "DatabaseUnreachable",
    "HubCLIError",
    "PortInUse",
    "SchemaNotMigrated",
    "describe",
    "fail",
    "friendly_errors",
    "redact",
]

F = TypeVar("F", bound=Callable[..., Any])


class HubCLIError(click.ClickException):
    """A failure the user can act on: shown as one line, exit status 1."""

    def show(self, file: Any = None) -> None:
        click.echo(f"错误：{self.message}", err=True)


class PortInUse(Exception):
    def __init__(self, host: str, port: int) -> None:
        super().__init__(f"{host}:{port}")
        self.host, self.port = host, port


def redact(url: str) -> str:
    """The database URL without its password."""
    try:
        parts = urlsplit(url)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
            return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        pass
    return url


def _cause(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _is_missing_table(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)


def describe(exc: BaseException) -> str | None:
    """One line for an error the user can fix, or None for an unexpected one."""
    if isinstance(exc, PortInUse):
        return (
            f"端口 {exc.port} 已被占用 (port already in use on {exc.host}): "
            "换一个端口 --port，或先停止占用它的程序"
        )
    if isinstance(exc, DatabaseUnreachable):
        return f"无法连接数据库 (database unreachable) {redact(exc.url)}: {_cause(exc.cause)}"
    if isinstance(exc, BadDatabaseURL):
        return f"数据库地址无效 (bad database URL) {redact(exc.url)!r}: {exc.cause}"
    if isinstance(exc, SchemaNotMigrated):
        missing = ", ".join(exc.status.pending)
        return f"数据库尚未迁移 (schema not migrated, pending: {missing}): 请先运行 `linju migrate`"
    if isinstance(exc, SettingsError):
        return f"配置有误 (bad setting): {exc}"
    if isinstance(exc, ConfigurationError):
        url = os.environ.get("LINJU_DATABASE_URL", Settings.database_url)
        return f"数据库地址无效 (bad database URL) {redact(url)!r}: {exc}"
    if isinstance(exc, OperationalError) and _is_missing_table(exc):
        return "数据库尚未迁移 (schema not migrated): 请先运行 `linju migrate`"
    if isinstance(exc, AssetError):
        return f"无法获取 GraphiQL 文件 (assets not fetched): {exc}"
    return None


def friendly_errors(func: F) -> F:
    """Turn known failures into one line and a non-zero exit, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            message = describe(exc)
            if message is None:
                if _debugging():
                    raise
                message = f"意外错误 (unexpected error) {_cause(exc)}；设置 LINJU_DEBUG=1 查看详情"
            raise HubCLIError(message) from None

    return wrapper  # type: ignore[return-value]


def _debugging() -> bool:
    """LINJU_DEBUG as the settings read it; a bad value here (no settings were loaded,
    or the failure came first) shows no traceback."""
    try:
        return bool(setting_from_environment("debug"))
    except SettingsError:
        return False


def fail(message: str) -> NoReturn:
    raise HubCLIError(message)
