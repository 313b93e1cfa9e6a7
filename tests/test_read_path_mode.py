"""The suite's read-path mode (tests/read_path_support.py): ``LINJU_TEST_READ_PATH``
reaches every Settings and hub process the tests make, and a ``read path mismatch``
fails the test it happened in — logged here or by a `linju serve` the test started.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from hub.settings import Settings
from tests import read_path_support as support
from tests.read_path_support import (
    LOGGER,
    MISMATCH,
    MismatchCollector,
    collect_mismatches,
    fail_on_mismatches,
    mismatches_in_logs,
    watch_log,
)

MESSAGE = f"{MISMATCH} in query {{ compounds {{ nodes {{ name }} }} }} as READER: data differs"


def test_a_logged_mismatch_is_caught_and_fails_the_test(
    read_path_mismatches: MismatchCollector,
) -> None:
    # Given the suite-wide collector (autouse), when the hub logs a mismatch
    logging.getLogger(LOGGER).error(MESSAGE)
    # Then it is caught, and the check the fixture runs after the test fails on it
    assert [r.getMessage() for r in read_path_mismatches.records] == [MESSAGE]
    with pytest.raises(pytest.fail.Exception, match="1 read path mismatch"):
        fail_on_mismatches(read_path_mismatches.records)
    read_path_mismatches.clear()  # this one was on purpose: let the test pass


def test_a_mismatch_is_caught_whatever_the_root_logger_level(
    read_path_mismatches: MismatchCollector,
) -> None:
    # setup_logging sets the root level from LINJU_LOG_FORMAT/LEVEL; tests change it too
    root = logging.getLogger()
    old = root.level
    root.setLevel(logging.CRITICAL)
    try:
        with collect_mismatches() as collector:
            logging.getLogger(LOGGER).error(MESSAGE)
    finally:
        root.setLevel(old)
    assert len(collector.records) == 1
    read_path_mismatches.clear()  # on purpose


def test_other_records_are_not_mismatches(read_path_mismatches: MismatchCollector) -> None:
    logger = logging.getLogger(LOGGER)
    logger.warning(MESSAGE)  # below ERROR
    logger.error("read path compiled in 3 ms")  # not a mismatch
    logging.getLogger("linju.other").error(MESSAGE)  # another logger
    assert read_path_mismatches.records == []
    fail_on_mismatches([])  # nothing found: no failure


def test_a_mismatch_in_a_hub_process_log_fails_the_test(
    tmp_path: Path, read_path_mismatches: MismatchCollector
) -> None:
    # Given the logs of two servers (JSON and text format), one with a mismatch
    clean, bad = tmp_path / "serve-1.log", tmp_path / "serve-2.log"
    clean.write_text(json.dumps({"level": "INFO", "message": "started"}) + "\n")
    bad.write_text("INFO started\n" + json.dumps({"level": "ERROR", "message": MESSAGE}) + "\n")
    # When they are checked as the fixture checks the logs of watched processes
    found = mismatches_in_logs([clean, bad, tmp_path / "never-written.log"])
    # Then the mismatch line is found, named by its log, and fails the test
    assert len(found) == 1 and found[0].startswith("serve-2.log: ") and MISMATCH in found[0]
    with pytest.raises(pytest.fail.Exception, match="1 read path mismatch"):
        fail_on_mismatches([], found)


def test_watched_logs_reach_the_autouse_check(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    log.write_text("INFO fine\n")
    watch_log(log)  # what tests/hub_processes.py and test_serve.py do for each server
    assert log in support._watched_logs  # the autouse fixture reads it after the test


def test_the_requested_mode_reaches_settings_and_subprocesses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(support, "read_path_supported", lambda: True)
    monkeypatch.setenv(support.ENV, "Differential")
    assert support.read_path_overrides() == {"read_path": "differential"}
    assert support.read_path_env() == {"LINJU_READ_PATH": "differential"}
    monkeypatch.delenv(support.ENV)
    assert support.read_path_overrides() == {} and support.read_path_env() == {}


def test_a_bad_mode_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(support, "read_path_supported", lambda: True)
    monkeypatch.setenv(support.ENV, "both")
    with pytest.raises(pytest.UsageError, match="compiled, resolvers, differential"):
        support.requested_read_path()


def test_a_mode_is_refused_while_the_hub_has_no_read_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A run that says it is differential must be: never silently the default path
    monkeypatch.setattr(support, "read_path_supported", lambda: False)
    monkeypatch.setenv(support.ENV, "differential")
    with pytest.raises(pytest.UsageError, match="no read_path field"):
        support.requested_read_path()


def test_the_settings_fixture_is_in_the_requested_mode(settings: Settings) -> None:
    if not support.read_path_supported():
        pytest.skip("hub.settings.Settings has no read_path field yet (issue 11)")
    requested = support.requested_read_path()
    default = Settings().read_path  # type: ignore[attr-defined]
    assert settings.read_path == (requested or default)  # type: ignore[attr-defined]
    assert support.with_read_path(settings, "compiled").read_path == "compiled"  # type: ignore[attr-defined]
