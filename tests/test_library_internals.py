"""The library internals the hub relies on are gated: the ranges checked are the ones
pyproject.toml declares, a release outside one (or one lacking an internal) stops the
start with a message, and the internals are used only where the gate says."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from hub import library_internals
from hub.library_internals import INTERNALS, check_library_internals, dotted, problems
from tests.test_library_range import declared

ROOT = Path(__file__).resolve().parent.parent


def test_the_installed_releases_are_accepted() -> None:
    assert problems() == []
    check_library_internals()


@pytest.mark.parametrize("internal", INTERNALS, ids=lambda i: f"{i.distribution}:{i.where}")
def test_pyproject_declares_the_range_checked(internal: library_internals.LibraryInternal) -> None:
    name = (
        "tortoise-orm[asyncpg]"
        if internal.distribution == "tortoise-orm"
        else internal.distribution
    )
    assert declared(name) == internal.specifier


@pytest.mark.parametrize("internal", INTERNALS, ids=lambda i: f"{i.distribution}:{i.where}")
def test_a_release_outside_the_range_is_refused(
    internal: library_internals.LibraryInternal,
) -> None:
    for outside in (dotted(internal.high), "0.0.1"):
        with pytest.raises(RuntimeError, match=re.escape(f"{internal.distribution} {outside} is")):
            check_library_internals({internal.distribution: outside})
    check_library_internals({internal.distribution: dotted(internal.low)})


def test_a_release_in_range_without_the_internal_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gone = dataclasses.replace(INTERNALS[0], probe=lambda: False)
    monkeypatch.setattr(library_internals, "INTERNALS", (gone, *INTERNALS[1:]))
    with pytest.raises(RuntimeError, match="no longer has"):
        check_library_internals()


# Each gated internal name, and the only files allowed to use it.
USES = {
    r"\._in_transaction\b|\._pool_init_lock\b|\._parent\b": {
        "hub/db_engines/__init__.py",
        "hub/db_engines/asyncpg.py",
        "hub/db_engines/sqlite.py",
    },
    r"\._get_index_sql\b": {"hub/migration_ops.py"},
    r"\._orderbys\b|\._selects\b|\._make_query\b|\._choose_db": {"hub/orm_sql.py"},
    r"\._export_data\b": {"admin/contrib/tortoise/view.py"},
    r"\._schema\b": {"schema/internals.py"},
}


@pytest.mark.parametrize("pattern", sorted(USES))
def test_internals_are_used_only_where_gated(pattern: str) -> None:
    users = {
        str(path.relative_to(ROOT))
        for package in ("hub", "schema", "resolvers", "admin", "seeds")
        for path in (ROOT / package).rglob("*.py")
        if path.name != "library_internals.py"  # the register itself
        if re.search(
            pattern,
            "\n".join(
                line
                for line in path.read_text(encoding="utf-8").splitlines()
                if not line.lstrip().startswith("#")
            ),
        )
    }
    assert users <= USES[pattern]
