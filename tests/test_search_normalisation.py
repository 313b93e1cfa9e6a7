"""hub.search folds names and queries alike: script, width, case, spaces; pinyin and initials."""

from __future__ import annotations

import pytest

from hub.search import fold, like_pattern, query_term, search_text


def _finds(name: str, entry: str) -> bool:
    """What the database does: the folded entry is a substring of the search column."""
    term = query_term(entry)
    return bool(term) and term in search_text(name)


def test_column_holds_simplified_name_full_pinyin_and_initials() -> None:
    # given a compound name in Traditional script
    # when its search column is built
    column = search_text("華晨御園")
    # then it holds the Simplified name, the full pinyin and the initials, in that order
    assert column.split("|") == ["华晨御园", "huachenyuyuan", "hcyy"]


@pytest.mark.parametrize(
    ("name", "entry"),
    [
        ("華晨御園", "华晨"),  # Simplified entry finds a Traditional name
        ("华晨御园", "華晨"),  # and the reverse
        ("某某小區", "小区"),
        ("某某小区", "小區"),
        ("廬山戀", "庐山恋"),
        ("華晨御園", "huachen"),  # full pinyin, a prefix of the name
        ("華晨御園", "huachenyuyuan"),
        ("華晨御園", "yuyuan"),  # pinyin of the middle of the name
        ("華晨御園", "hcyy"),  # initials
        ("華晨御園", "cy"),
        ("華晨御園", "HuaChen"),  # letter case does not matter
        ("華晨御園", "ｈｃｙｙ"),  # full-width letters fold to ASCII
        ("華晨御園", "hua chen"),  # spaces are ignored
        ("華晨御園", "華晨\u3000御園"),  # ideographic space too
        ("ＡＢＣ小區", "abc小区"),  # full-width in the name folds as well
    ],
)
def test_entry_finds_name(name: str, entry: str) -> None:
    assert _finds(name, entry), (name, entry, search_text(name))


@pytest.mark.parametrize(
    ("name", "entry"),
    [
        ("華晨御園", "廬山"),  # other characters
        ("華晨御園", "lushan"),
        ("華晨御園", "园hua"),  # must not match across the parts of the column
        ("華晨御園", "yy|hc"),  # the separator cannot be typed in
        ("華晨御園", "hcyyx"),
    ],
)
def test_entry_does_not_find_name(name: str, entry: str) -> None:
    assert not _finds(name, entry), (name, entry, search_text(name))


def test_query_term_folds_like_the_column() -> None:
    assert query_term("  華晨 御園 ") == "华晨御园"
    assert query_term("ＨＵＡ Chen") == "huachen"
    assert fold("小區") == fold("小区") == "小区"


def test_blank_entry_is_no_search() -> None:
    assert query_term("   ") == ""
    assert query_term("\u3000") == ""


def test_several_names_feed_one_column_without_repeats() -> None:
    column = search_text("华晨御园", None, "", "華晨御園")
    assert column == "华晨御园|huachenyuyuan|hcyy"


def test_latin_and_digits_keep_their_own_letters_as_initials() -> None:
    column = search_text("A座 1号楼")
    assert column.split("|") == ["a座1号楼", "azuo1haolou", "az1hl"]


def test_like_pattern_escapes_wildcards() -> None:
    assert like_pattern("100%_a\\b") == "100\\%\\_a\\\\b"
