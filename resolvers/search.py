"""The ``search`` argument of name-bearing connections, over the ``search_text`` column.

The folding lives in :mod:`hub.search` (shared with the console): the column holds the
name in Simplified script, its full pinyin and its initials, and a query is folded the
same way, so 小區, 小区, ``xiaoqu`` and ``xq`` all find 某某小区. One substring match on
the column: on PostgreSQL the ``pg_trgm`` GIN index of migration 0002 serves it.

A trigram index needs three characters in the pattern, and Chinese names are mostly
searched by two (华晨). When every character of such a short entry has one reading,
the entry's pinyin must also be in the column, so that second condition (华晨 →
``huachen``) lets the index find the rows and the first keeps the match exact.
"""

from __future__ import annotations

from pypinyin import Style, pinyin
from strawberry import UNSET
from tortoise.expressions import Q
from tortoise.models import Model

from hub.models import __models__
from hub.models.base import Searchable
from hub.search import query_term
from resolvers.errors import user_error
from resolvers.input_values import text_problem

SEARCHABLE_MODELS: frozenset[type[Model]] = frozenset(
    model for model in __models__ if issubclass(model, Searchable)
)

# Longer than any name; a longer entry is a mistake or an attempt to load the server.
MAX_SEARCH_LENGTH = 100
# Pattern length a pg_trgm index needs before it can narrow the rows down.
TRIGRAM = 3


def search_q(model: type[Model], search: str | None) -> Q:
    """Records whose name matches ``search`` in either script or in pinyin.

    ``None`` (or UNSET) or an entry that folds to nothing (only spaces) means no condition.
    """
    if model not in SEARCHABLE_MODELS:
        raise TypeError(f"{model.__name__} has no search column")
    if search is None or search is UNSET:
        return Q()
    if len(search) > MAX_SEARCH_LENGTH:
        raise user_error(f"search is longer than {MAX_SEARCH_LENGTH} characters", field="search")
    problem = text_problem(search)
    if problem is not None:
        raise user_error(f"search: 含有不允许的字符 (search {problem})", field="search")
    term = query_term(search)
    if not term:
        return Q()
    # Tortoise escapes LIKE wildcards itself: pass the folded term, not like_pattern().
    # ``contains`` (not ``icontains``): the column and the term are both lower case,
    # and UPPER() around the column would keep the trigram index from being used.
    condition = Q(search_text__contains=term)
    hint = _pinyin_hint(term)
    if hint:
        condition = Q(condition, Q(search_text__contains=hint))
    return condition


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def _pinyin_hint(term: str) -> str | None:
    """The pinyin of a one- or two-character Chinese entry, if it cannot be misread.

    A character with several readings (区: qu/ou) may be read differently inside a
    name, and requiring the wrong pinyin would hide a match: then no hint.
    """
    if len(term) > TRIGRAM or not all(_is_han(ch) for ch in term):
        return None
    syllables: list[str] = []
    for ch in term:  # one by one: a phrase lookup would settle 区 as qu, a name may not
        (readings,) = pinyin(ch, style=Style.NORMAL, heteronym=True)
        if len(set(readings)) != 1:
            return None
        syllables.append(readings[0])
    hint = "".join(syllables)
    return hint if len(hint) >= TRIGRAM else None
