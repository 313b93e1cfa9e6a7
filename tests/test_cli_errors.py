"""The CLI's error handler: one line for an unexpected error, the traceback with
LINJU_DEBUG (read as the settings read it)."""

from __future__ import annotations

import click
import pytest

from hub.app.cli.errors import HubCLIError, friendly_errors


@friendly_errors
def broken() -> None:
    raise ZeroDivisionError("a bug")


@pytest.mark.parametrize("value", [None, "0", "off", "maybe"])
def test_an_unexpected_error_is_one_line(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    # Given LINJU_DEBUG unset, false, or not a flag at all
    if value is None:
        monkeypatch.delenv("LINJU_DEBUG", raising=False)
    else:
        monkeypatch.setenv("LINJU_DEBUG", value)
    # When a command fails unexpectedly, then the user sees one line and where to look
    with pytest.raises(HubCLIError) as failed:
        broken()
    assert isinstance(failed.value, click.ClickException)
    assert "ZeroDivisionError: a bug" in failed.value.message
    assert "LINJU_DEBUG=1" in failed.value.message


@pytest.mark.parametrize("value", ["1", "true", " Yes ", "ON"])
def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("LINJU_DEBUG", value)
    with pytest.raises(ZeroDivisionError):
        broken()
