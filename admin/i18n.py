"""The console's languages: Simplified Chinese by default, English per user.

flask-admin's own strings come from its catalogues (``zh_Hans_CN``, English as
written). The hub's labels — models, fields, enum values, the console's own pages —
are written in Chinese where they are declared (hub.enums, hub.services.specs, the
views); ``translations/<lang>/LC_MESSAGES/hub.po`` gives their English. The catalogue
is read from the .po text itself, so nothing compiled is kept in the repository.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.pofile import read_po
from flask import has_request_context, session
from flask_babel import LazyString, get_locale

TRANSLATIONS = Path(__file__).parent / "translations"
CHINESE = "zh_Hans_CN"
ENGLISH = "en"
LANGUAGES = {CHINESE: "简体中文", ENGLISH: "English"}
SESSION_KEY = "lang"


@cache
def catalogue(language: str) -> dict[str, str]:
    """msgid → msgstr of the hub's own labels for ``language`` (empty for Chinese)."""
    path = TRANSLATIONS / language / "LC_MESSAGES" / "hub.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        catalog = read_po(handle)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string}


def current_language() -> str:
    if not has_request_context():
        return CHINESE
    locale: Locale | None = get_locale()
    if locale is None or locale.language == "zh":
        return CHINESE
    return ENGLISH


def hub_gettext(text: str, **variables: Any) -> str:
    """``text`` (a Chinese label) in the current language."""
    translated = catalogue(current_language()).get(text, text) if text else text
    return translated % variables if variables else translated


def lazy(text: str, **variables: Any) -> LazyString:
    """A label translated when shown (labels are declared before any request)."""
    return LazyString(hub_gettext, text, **variables)


def label(value: Any) -> str:
    """An enum member's label in the current language."""
    return hub_gettext(str(getattr(value, "label", value)))


def select_locale(default: str) -> str:
    """Babel's locale selector: the session's choice, else the hub's setting."""
    if has_request_context():
        chosen = session.get(SESSION_KEY)
        if chosen in LANGUAGES:
            return str(chosen)
    return default if default in LANGUAGES else CHINESE
