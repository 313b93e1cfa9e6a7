"""The audit log: who did what to which record, before and after."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from collections.abc import Iterable, Mapping
from typing import Any

from tortoise.models import Model

from hub.access.viewer import Viewer
from hub.enums import AuditAction
from hub.models import AuditLog

# Never written to the audit log, whatever a caller passes.
SECRET_FIELDS = frozenset({"password", "password_hash", "token", "token_hash", "secret"})


def snapshot(record: Model, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """A JSON-safe dict of a record's own columns, secrets left out."""
    skip = SECRET_FIELDS | set(exclude) | {"search_text"}
    values: dict[str, Any] = {}
    for field_name in record._meta.fields_db_projection:
        if field_name in skip:
            continue
        values[field_name] = jsonable(getattr(record, field_name, None))
    return values


def jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _clean(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: jsonable(v) for k, v in values.items() if k not in SECRET_FIELDS}


async def record(
    *,
    actor: Viewer | None,
    action: AuditAction,
    entity: str,
    entity_id: int | str | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    address: str = "",
    actor_name: str | None = None,
) -> AuditLog:
    """Write one audit entry (inside the caller's transaction, if any)."""
    return await AuditLog.create(
        user_id=actor.user_id if actor else None,
        actor_name=(actor_name if actor_name is not None else (actor.username if actor else ""))[
            :50
        ],
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        before=_clean(before),
        after=_clean(after),
        address=address[:64],
    )
