"""Structured logs: one JSON object per line (or a readable line), with the request id.

The hub's handler is attached to the root logger once per process; later calls only
adjust its format and level. Handlers others installed (pytest's, an operator's) stay.
Every log record made while a request runs carries ``request_id`` (a record factory
reads it from the request's context), whichever handler formats it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any, TextIO

from hub.observability.context import current_request_id
from hub.settings import Settings

# Attributes every LogRecord has: anything else on a record came as ``extra``.
_STANDARD = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "request_id", "color_message", "taskName"}
)


def _timestamp(record: logging.LogRecord) -> str:
    moment = dt.datetime.fromtimestamp(record.created, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", "request_id"?, "exc_info"?, extras…}``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``2026-01-31T08:00:00.000Z INFO linju.access [request id] message``."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        line = (
            f"{_timestamp(record)} {record.levelname} {record.name} "
            f"[{request_id or '-'}] {record.getMessage()}"
        )
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


def formatter_for(log_format: str) -> logging.Formatter:
    return TextFormatter() if log_format == "text" else JsonFormatter()


class HubLogHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the process's standard error as it is when the record comes.

    Looked up at each record (not kept from start-up): tools that swap ``sys.stderr``
    for a while (click's test runner, pytest) never get the hub's lines in their output.
    """

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.__stderr__ or sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass  # always the process's stderr


_previous_factory = logging.getLogRecordFactory()
_factory_installed = False


def _record_with_request_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _previous_factory(*args, **kwargs)
    record.request_id = current_request_id()
    return record


def setup_logging(settings: Settings) -> None:
    """Root logging in the hub's format and level (idempotent)."""
    global _factory_installed, _previous_factory
    if not _factory_installed:
        _previous_factory = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_record_with_request_id)
        _factory_installed = True
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, HubLogHandler)), None)
    if handler is None:
        handler = HubLogHandler()
        root.addHandler(handler)
    handler.setFormatter(formatter_for(settings.log_format))
    handler.setLevel(settings.log_level)
    root.setLevel(settings.log_level)


def uvicorn_log_config(settings: Settings) -> dict[str, Any]:
    """uvicorn's ``log_config``: its loggers in the hub's format, its access log off.

    :class:`hub.observability.RequestContext` logs each request (with its id) instead.
    """
    formatter = "TextFormatter" if settings.log_format == "text" else "JsonFormatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"hub": {"()": f"hub.observability.logs.{formatter}"}},
        "handlers": {
            "hub": {
                "()": "hub.observability.logs.HubLogHandler",
                "formatter": "hub",
                "level": settings.log_level,
            }
        },
        "loggers": {
            "uvicorn": {"handlers": [], "level": "INFO", "propagate": True},
            "uvicorn.error": {"handlers": [], "level": "INFO", "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
        "root": {"handlers": ["hub"], "level": settings.log_level},
    }
