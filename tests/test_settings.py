"""Settings: one declaration (variable, type, default, meaning) read from ``LINJU_*``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.settings import Settings, SettingsError, load_settings, variable, variables

README = Path(__file__).parent.parent / "README.md"


def _shown(default: Any) -> str:
    if default is None or default == ():
        return "*(none)*"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    return f"`{default}`"


def test_the_readme_table_is_the_declaration() -> None:
    lines = set(README.read_text(encoding="utf-8").splitlines())
    for setting in variables():
        row = f"| `{variable(setting)}` | {_shown(setting.default)} | {setting.metadata['doc']} |"
        assert row in lines, row


def test_unset_variables_give_the_declared_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for setting in variables():
        monkeypatch.delenv(variable(setting), raising=False)
    loaded = load_settings()
    for setting in variables():
        assert getattr(loaded, setting.name) == setting.default, setting.name


@pytest.mark.parametrize(
    ("name", "raw", "value"),
    [
        ("PORT", "8080", 8080),
        ("PORT", " ", 8000),  # empty: as if unset
        ("DEBUG", "yes", True),
        ("METRICS", "off", False),
        ("ALLOWED_ORIGINS", "https://a.cn, https://b.cn,", ("https://a.cn", "https://b.cn")),
        ("READ_DATABASE_URL", "", None),
        ("REDIS_URL", "redis://r:6379/0", "redis://r:6379/0"),
        ("LOG_LEVEL", "debug", "DEBUG"),
        ("BROKER", "Postgres", "postgres"),
        ("READ_PATH", "Resolvers", "resolvers"),
        ("TIMEZONE", "UTC", "UTC"),
    ],
)
def test_each_type_is_parsed(
    monkeypatch: pytest.MonkeyPatch, name: str, raw: str, value: object
) -> None:
    monkeypatch.setenv(f"LINJU_{name}", raw)
    assert getattr(load_settings(), name.lower()) == value


@pytest.mark.parametrize(
    ("name", "raw", "reason"),
    [
        ("PORT", "eighty", "must be a whole number"),
        ("DEBUG", "maybe", "must be true or false"),
        ("LOG_FORMAT", "xml", "must be one of json, text"),
        ("REDIS_URL", "http://r", "must be a redis:// URL"),
        ("BROKER", "kafka://k", "must be memory, postgres"),
    ],
)
def test_a_bad_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, raw: str, reason: str
) -> None:
    monkeypatch.setenv(f"LINJU_{name}", raw)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    message = str(refused.value)
    assert message.startswith(f"LINJU_{name} {reason}") and message.endswith(f"got {raw!r}")


def test_settings_built_in_code_ignore_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINJU_PAGE_SIZE_MAX", "7")
    assert Settings().page_size_max == 500
