"""The suite's read-path mode: run every read through the compiled path, the resolvers, or both.

``LINJU_TEST_READ_PATH`` (``compiled``, ``resolvers`` or ``differential``) chooses the
hub's ``read_path`` setting for the whole test session: the ``settings`` fixture, the
e2e server and every `linju serve` a test starts pass it on. In ``differential`` mode
the hub answers with the resolver path and logs ``read path mismatch…`` at ERROR on
the ``linju.read_path`` logger when the compiled path answered otherwise; the autouse
fixture in ``tests/conftest.py`` fails the test that logged one.

The interface assumed of the hub (issue 11, item 5):

- ``hub.settings.Settings.read_path: str`` (env ``LINJU_READ_PATH``), one of
  ``compiled``, ``resolvers``, ``differential``;
- in ``differential`` mode, a disagreement is logged on logger ``linju.read_path`` at
  ERROR (or above) with a message that starts with ``read path mismatch``.

Until the setting exists, nothing is passed on and asking for a mode is a usage error
(``.ci/test`` checks ``read_path_supported()`` first and skips its extra run).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from hub.settings import Settings

ENV = "LINJU_TEST_READ_PATH"
HUB_ENV = "LINJU_READ_PATH"
READ_PATHS = ("compiled", "resolvers", "differential")
LOGGER = "linju.read_path"
MISMATCH = "read path mismatch"


def read_path_supported() -> bool:
    """Whether this hub has the ``read_path`` setting (the query compiler is merged)."""
    return "read_path" in {f.name for f in dataclasses.fields(Settings)}


def requested_read_path() -> str | None:
    """The mode ``LINJU_TEST_READ_PATH`` asks for; None when unset (the hub's default)."""
    raw = os.environ.get(ENV, "").strip().lower()
    if not raw:
        return None
    if raw not in READ_PATHS:
        raise pytest.UsageError(f"{ENV} must be one of {', '.join(READ_PATHS)}, not {raw!r}")
    if not read_path_supported():
        # Refuse rather than ignore: a run that claims to be differential must be.
        raise pytest.UsageError(
            f"{ENV}={raw}, but hub.settings.Settings has no read_path field "
            "(the query compiler of issue 11 is not merged)"
        )
    return raw


def read_path_overrides() -> dict[str, Any]:
    """Keyword arguments that put ``Settings(...)`` in the session's read-path mode."""
    mode = requested_read_path()
    return {} if mode is None else {"read_path": mode}


def with_read_path(settings: Settings, mode: str | None = None) -> Settings:
    """``settings`` in read-path ``mode`` (the session's when None); unchanged when there
    is no mode or the hub has no such setting."""
    if mode is None:
        return dataclasses.replace(settings, **read_path_overrides())
    if not read_path_supported():
        return settings
    return dataclasses.replace(settings, read_path=mode)  # type: ignore[call-arg]


def read_path_env() -> dict[str, str]:
    """Environment for a `linju serve` (or any hub) subprocess in the session's mode."""
    mode = requested_read_path()
    return {} if mode is None else {HUB_ENV: mode}


def is_mismatch(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.ERROR and record.getMessage().startswith(MISMATCH)


class MismatchCollector(logging.Handler):
    """Keeps every ``read path mismatch`` record of the ``linju.read_path`` logger."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if is_mismatch(record):
            self.records.append(record)

    def clear(self) -> None:
        self.records.clear()


@contextmanager
def collect_mismatches() -> Iterator[MismatchCollector]:
    """Collect the mismatches logged in this process inside the block.

    The handler sits on the logger itself, so neither propagation nor the root
    logger's level (tests and ``setup_logging`` change it) can hide a record.
    """
    logger = logging.getLogger(LOGGER)
    collector = MismatchCollector()
    old_level = logger.level
    if logger.getEffectiveLevel() > logging.ERROR:
        logger.setLevel(logging.ERROR)
    logger.addHandler(collector)
    try:
        yield collector
    finally:
        logger.removeHandler(collector)
        logger.setLevel(old_level)


def mismatches_in_log(text: str) -> list[str]:
    """The mismatch lines of a subprocess's log (text or JSON log format alike)."""
    return [line for line in text.splitlines() if MISMATCH in line]


# Logs of the hub processes the running test started (reset for every test).
_watched_logs: list[Path] = []


def watch_log(path: Path) -> None:
    """Have the running test fail on mismatches its hub subprocess writes to ``path``."""
    _watched_logs.append(path)


def watched_logs() -> list[Path]:
    """A fresh list of the logs ``watch_log`` registers from now on (for one test)."""
    _watched_logs.clear()
    return _watched_logs


def mismatches_in_logs(paths: Sequence[Path]) -> list[str]:
    found: list[str] = []
    for path in paths:
        if path.exists():
            found += [
                f"{path.name}: {line}"
                for line in mismatches_in_log(path.read_text(errors="replace"))
            ]
    return found


def fail_on_mismatches(records: Sequence[logging.LogRecord], logs: Sequence[str] = ()) -> None:
    """Fail the test with every mismatch it caused (in this process and in its servers)."""
    found = [record.getMessage() for record in records] + list(logs)
    if found:
        shown = "\n\n".join(found[:5])
        more = f"\n\n… and {len(found) - 5} more" if len(found) > 5 else ""
        pytest.fail(
            f"{len(found)} read path mismatch(es): the compiled and resolver paths "
            f"answered differently\n\n{shown}{more}",
            pytrace=False,
        )
