"""Chinese search normalisation, shared by the API and the console.

A record's ``search_text`` column holds its name folded to Simplified script and
lower case, then its full pinyin and its pinyin initials, so that one substring
match finds 華晨御園 by 华晨, 華晨, ``huachen`` or ``hcyy``. Queries are folded the
same way with :func:`fold`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import opencc
from pypinyin import lazy_pinyin

_SEPARATOR = "|"
_SPACES = re.compile(r"\s+")
_t2s = opencc.OpenCC("t2s")


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Traditional → Simplified, full-width → ASCII, lower case, no spaces."""
    simplified = _t2s.convert(text)
    narrow = "".join(_narrow(ch) for ch in simplified)
    return _SPACES.sub("", narrow).lower().replace(_SEPARATOR, "")


def _one_by_one(text: str) -> Any:
    # pypinyin takes a list from its ``errors`` callback (one item per character),
    # though its annotation says str.
    return list(text)

def _narrow(ch: str) -> str:
    code = ord(ch)
    if 0xFF01 <= code <= 0xFF5E:
        return chr(code - 0xFEE0)
    if code == 0x3000:
        return " "
    return ch


def search_text(*names: str | None) -> str:
    """The normalised search column for a record with these names."""
    parts: list[str] = []
    for name in names:
        if not name:
            continue
        folded = fold(name)
        # Non-Han characters come back one by one, so "ABC" keeps its initials.
        syllables = lazy_pinyin(folded, errors=_one_by_one)
        full = "".join(syllables)
        initials = "".join(s[0] for s in syllables if s)
        for part in (folded, full, initials):
            if part and part not in parts:
                parts.append(part)
    return _SEPARATOR.join(parts)


def query_term(raw: str) -> str:
    """Fold a search box entry; an empty result means "no search"."""
    return fold(raw.strip())


def like_pattern(term: str) -> str:
    """Escape LIKE wildcards in a folded term (used with ``contains``)."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
