"""The library internals the hub still relies on, each gated on the releases it was
checked against (README, "Library internals we rely on").

Everything else goes through the libraries' public API. What is left has no public
counterpart; each entry names the distribution, the release range checked, the
internal names it uses (probed: a release in range that lacks one fails here too) and
why. :func:`check_library_internals` runs when a :class:`hub.runtime.Runtime` starts
(the server's lifespan and every CLI command), so a release outside a range stops the
process at start with a message rather than failing somewhere in a request.
strawberry's one internal (``Schema._schema``) is gated by ``schema/internals.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

Release = tuple[int, ...]


def release(text: str) -> Release:
    """``"0.6.5"`` → ``(0, 6, 5)``; a pre-release or local tail is ignored."""
    match = re.match(r"\d+(?:\.\d+)*", text)
    return tuple(int(part) for part in match.group().split(".")) if match else ()


def dotted(value: Release) -> str:
    return ".".join(map(str, value))


def _tortoise_engines() -> bool:
    from tortoise.backends.asyncpg.client import AsyncpgDBClient
    from tortoise.backends.base.client import TransactionContextPooled
    from tortoise.backends.sqlite.client import SqliteClient

    return (
        callable(getattr(AsyncpgDBClient, "_in_transaction", None))
        and callable(getattr(SqliteClient, "_in_transaction", None))
        and "_pool_init_lock" in TransactionContextPooled.__slots__
    )


def _tortoise_index_sql() -> bool:
    from tortoise.migrations.schema_editor.base import BaseSchemaEditor

    return callable(getattr(BaseSchemaEditor, "_get_index_sql", None))


def _pypika_orderbys() -> bool:
    from pypika_tortoise import Query, Table

    return isinstance(getattr(Query.from_(Table("t")), "_orderbys", None), list)


def _flask_admin_exports() -> bool:
    from flask_admin.model import BaseModelView

    return all(
        callable(getattr(BaseModelView, name, None))
        for name in ("_export_data", "_export_csv", "_get_list_extra_args")
    )


@dataclass(frozen=True)
class LibraryInternal:
    """One library internal: where the hub uses it, why, and the releases checked."""

    distribution: str
    low: Release  # lowest release included
    high: Release  # highest excluded
    names: str  # the internal names used
    where: str
    why: str
    probe: Callable[[], bool]

    @property
    def specifier(self) -> str:
        return f">={dotted(self.low)},<{dotted(self.high)}"


INTERNALS: tuple[LibraryInternal, ...] = (
    LibraryInternal(
        "tortoise-orm",
        (1, 1, 9),
        (1, 2),
        "BaseDBAsyncClient._in_transaction, _pool_init_lock, SqliteClient._lock, "
        "TransactionWrapper._parent",
        "hub/db_engines/",
        "the only place that sees every statement and every COMMIT (Tortoise's signals "
        "are per model instance, fire before COMMIT and miss QuerySet.update(), bulk "
        "writes and raw SQL): the response cache's exact invalidation depends on it",
        _tortoise_engines,
    ),
    LibraryInternal(
        "tortoise-orm",
        (1, 1, 9),
        (1, 2),
        "BaseSchemaEditor._get_index_sql",
        "hub/migration_ops.py",
        "Tortoise's AddField does not create the new column's index and has no public "
        "method that renders the index statement for a column",
        _tortoise_index_sql,
    ),
    LibraryInternal(
        "pypika-tortoise",
        (0, 6),
        (0, 7),
        "QueryBuilder._orderbys",
        "hub/orm_sql.py (unordered)",
        "pypika cannot drop an ORDER BY; Tortoise adds the models' default ordering to "
        "every SELECT, and an ORDER BY inside IN (...) or a derived table stops "
        "PostgreSQL flattening the subquery into a join",
        _pypika_orderbys,
    ),
    LibraryInternal(
        "flask-admin",
        (2, 2),
        (3,),
        "BaseModelView._export_data, _export_csv, _export_tablib, _get_list_extra_args, "
        "_export_columns (and the contrib-backend hooks _get_filter_groups, "
        "_process_ajax_references, _get_default_order, _refresh_cache)",
        "admin/contrib/tortoise/view.py",
        "flask-admin has no public hook for the CSV encoding (a BOM, for Excel) or an "
        "XLSX export; contrib backends (flask-admin's own sqla, peewee, mongoengine) "
        "override the same hooks",
        _flask_admin_exports,
    ),
)


def installed(distribution: str) -> str | None:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def problems(versions: dict[str, str | None] | None = None) -> list[str]:
    """What is wrong with the installed releases (``versions`` overrides, for tests)."""
    found: list[str] = []
    for internal in INTERNALS:
        text = (versions or {}).get(internal.distribution, installed(internal.distribution))
        if text is None:
            continue  # not installed: the code that needs it cannot run either
        if not internal.low <= release(text) < internal.high:
            found.append(
                f"{internal.distribution} {text} is installed; Linju Hub supports "
                f"{internal.specifier} (it relies on {internal.names} in {internal.where})"
            )
        elif versions is None and not internal.probe():
            found.append(
                f"{internal.distribution} {text} no longer has {internal.names} "
                f"({internal.where} relies on it)"
            )
    return found


def check_library_internals(versions: dict[str, str | None] | None = None) -> None:
    """Refuse to start with a release outside a checked range, saying which."""
    found = problems(versions)
    if found:
        raise RuntimeError(
            "; ".join(found) + ". Install releases in these ranges: pip install -e . "
            "(see README, 'Library internals we rely on')"
        )
