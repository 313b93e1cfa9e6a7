"""Settings: one declaration (variable, type, default, meaning) read from ``LINJU_*``."""

from __future__ import annotations

from dataclasses import fields
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


def test_every_field_is_declared_as_a_variable_or_derived() -> None:
    # A plain field would never be read from the environment: declare it with setting().
    for field in fields(Settings):
        declared = "doc" in field.metadata or field.metadata.get("derived")
        assert declared or field.name == "secret_key", field.name


def test_unset_variables_give_the_declared_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for setting in variables():
        monkeypatch.delenv(variable(setting), raising=False)
    loaded = load_settings()
    for setting in variables():
        assert getattr(loaded, setting.name) == setting.default, setting.name


class Refused(str):
    """What the refusal of a value says after the variable's name."""


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("PORT", "8080", 8080),
        ("PORT", " ", 8000),  # empty: as if unset
        ("PORT", "eighty", Refused("must be a whole number")),
        ("DEBUG", "yes", True),
        ("METRICS", "off", False),
        ("DEBUG", "maybe", Refused("must be true or false (1/0, yes/no, on/off)")),
        ("ALLOWED_ORIGINS", "https://a.cn, https://b.cn,", ("https://a.cn", "https://b.cn")),
        ("READ_DATABASE_URL", "", None),
        ("REDIS_URL", "redis://r:6379/0", "redis://r:6379/0"),
        ("REDIS_URL", "http://r", Refused("must be a redis:// URL")),
        ("LOG_LEVEL", "debug", "DEBUG"),
        ("LOG_FORMAT", "xml", Refused("must be one of json, text")),
        ("BROKER", "Postgres", "postgres"),
        (
            "BROKER",
            "kafka://k",
            Refused("must be memory, postgres, or a redis:// or postgres:// URL"),
        ),
        ("READ_PATH", "Resolvers", "resolvers"),
        ("TIMEZONE", "UTC", "UTC"),
    ],
)
def test_a_value_is_parsed_by_its_type_or_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, name: str, raw: str, expected: object
) -> None:
    monkeypatch.setenv(f"LINJU_{name}", raw)
    if isinstance(expected, Refused):
        with pytest.raises(SettingsError) as refused:
            load_settings()
        assert str(refused.value) == f"LINJU_{name} {expected}, got {raw!r}"
    else:
        assert getattr(load_settings(), name.lower()) == expected


def test_settings_built_in_code_ignore_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINJU_PAGE_SIZE_MAX", "7")
    assert Settings().page_size_max == 500
