"""The curated-record engine: create, update and archive any entity declared in specs.

Every write runs in one transaction: parse and check everything (collecting all
errors), write, confirm the row is still inside the actor's write scope, and log
before/after to the audit log. Updates are a real compare-and-set on ``version``
(``UPDATE … WHERE id=? AND version=?``): a stale version changes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError, ValidationError
from tortoise.expressions import F
from tortoise.fields.relational import BackwardFKRelation, ManyToManyFieldInstance
from tortoise.models import Model
from tortoise.transactions import in_transaction

from hub import models as m
from hub.access import Viewer, row_scope, write_scope
from hub.access.policy import EVERYTHING, NOTHING
from hub.db_routing import PRIMARY
from hub.enums import AuditAction
from hub.models.base import Record, Searchable
from hub.search import fold
from hub.services import audit
from hub.services.errors import (
    CONFLICT,
    FORBIDDEN,
    NOT_FOUND,
    REQUIRED,
    UNIQUE,
    VALIDATION,
    ErrorBag,
    FieldError,
    ServiceError,
    validation_detail,
)
from hub.services.fields import FieldSpec, Kind, parse_all
from hub.services.references import check_links
from hub.services.specs import (
    MODEL_LABELS,
    WRITE,
    ArchivePolicy,
    EntitySpec,
    UniqueRule,
    get_spec,
)

RELATION_KINDS = (Kind.M2M, Kind.ENUM_SET)


# --- the three writes ----------------------------------------------------------------


async def create(
    *, actor: Viewer | None, entity: str, data: dict[str, Any], address: str = ""
) -> Any:
    """Create a record of ``entity`` from ``data``; the saved record, or ServiceError."""
    spec, actor = writable_spec(actor, entity)
    with integrity_as_errors(spec):
        async with in_transaction(PRIMARY) as conn:
            errors = ErrorBag()
            values = parse_all(spec.fields, data, errors, creating=True)
            _blank_columns(spec, values, errors, creating=True)
            await validate(actor, spec, values, values, set(values), errors, conn)
            errors.raise_if_any()
            record = spec.model(**{f.target: values[f.key] for f in _columns(spec, values)})
            await record.save()
            await _write_relations(spec, record, values, current={})
            await ensure_in_scope(actor, spec, record.pk)
            record = await spec.model.get(id=record.pk)
            await audit.record(
                actor=actor,
                action=AuditAction.CREATE,
                entity=spec.name,
                entity_id=record.pk,
                after=await snapshot(spec, record),
                address=address,
            )
            return record


async def update(
    *,
    actor: Viewer | None,
    entity: str,
    id: int,
    version: int,
    data: dict[str, Any],
    address: str = "",
) -> Any:
    """Change the given fields of record ``id`` if it is still at ``version``."""
    spec, actor = writable_spec(actor, entity)
    with integrity_as_errors(spec):
        async with in_transaction(PRIMARY) as conn:
            current = await load(actor, spec, id)
            check_version(spec, current, version)
            errors = ErrorBag()
            values = parse_all(spec.fields, data, errors, creating=False)
            _blank_columns(spec, values, errors, creating=False)
            existing = await current_values(spec, current)
            changed = {key for key, value in values.items() if not _same(existing[key], value)}
            state = {**existing, **values, "id": current.pk}
            await validate(actor, spec, values, state, changed, errors, conn)
            errors.raise_if_any()
            before = await snapshot(spec, current)
            columns = {f.target: values[f.key] for f in _columns(spec, values) if f.key in changed}
            for name, value in columns.items():
                setattr(current, name, value)
            if isinstance(current, Searchable):
                current.refresh_search_text()
                columns["search_text"] = current.search_text
            await compare_and_set(spec, id, version, columns)
            await _write_relations(spec, current, values, current=existing)
            await ensure_in_scope(actor, spec, id)
            record = await spec.model.get(id=id)
            await audit.record(
                actor=actor,
                action=AuditAction.UPDATE,
                entity=spec.name,
                entity_id=id,
                before=before,
                after=await snapshot(spec, record),
                address=address,
            )
            return record


async def archive(
    *, actor: Viewer | None, entity: str, id: int, version: int, address: str = ""
) -> Any:
    """Archive record ``id``: a status change (members) or a deletion when nothing depends
    on it. Returns the record (as it was, for a deletion)."""
    spec, actor = writable_spec(actor, entity)
    with integrity_as_errors(spec):
        async with in_transaction(PRIMARY):
            current = await load(actor, spec, id, lock=True)
            check_version(spec, current, version)
            before = await snapshot(spec, current)
            if spec.archive is ArchivePolicy.STATUS:
                assert spec.archive_status is not None
                field, value = spec.archive_status
                if getattr(current, field) == value:
                    raise ServiceError.single(
                        "id", f"该{spec.label}已归档 (already archived)", VALIDATION
                    )
                await compare_and_set(spec, id, version, {field: value})
                record = await spec.model.get(id=id)
                action, after = AuditAction.ARCHIVE, await snapshot(spec, record)
            else:
                dependents = await dependents_of(spec, current)
                if dependents:
                    listed = "、".join(f"{count} 个{label}" for label, count in dependents)
                    raise ServiceError.single(
                        "id",
                        f"该{spec.label}仍有{listed}，不能删除 (still in use)",
                        VALIDATION,
                    )
                if not await spec.model.filter(id=id, version=version).delete():
                    raise _conflict(spec)
                record, action, after = current, AuditAction.DELETE, None
            await audit.record(
                actor=actor,
                action=action,
                entity=spec.name,
                entity_id=id,
                before=before,
                after=after,
                address=address,
            )
            return record


# --- building blocks (also used by the workflow, activity and roster services) ------------


def require_writer(actor: Viewer | None, model: type[Model], label: str) -> Viewer:
    """Refuse at once a caller who may change no row of ``model`` at all; the caller."""
    if actor is None or write_scope(actor, model) is NOTHING:
        raise ServiceError.single("", f"您无权修改{label} (not allowed)", FORBIDDEN)
    return actor


def writable_spec(actor: Viewer | None, entity: str) -> tuple[EntitySpec, Viewer]:
    """The spec of ``entity`` and the caller, once :func:`require_writer` let it write."""
    spec = get_spec(entity)
    return spec, require_writer(actor, spec.model, spec.label)


async def load(actor: Viewer, spec: EntitySpec, id: int, *, lock: bool = False) -> Any:
    query = spec.model.filter(id=id)
    if lock:
        query = query.select_for_update()
    row = await query.first()
    readable = row_scope(actor, spec.model)
    if row is None or (
        readable is not EVERYTHING and not await spec.model.filter(readable, id=id).exists()
    ):
        # What the actor may not read answers as if it did not exist.
        raise ServiceError.single("id", f"{spec.label}不存在（编号 {id}）(not found)", NOT_FOUND)
    scope = write_scope(actor, spec.model)
    if scope is not EVERYTHING and not await spec.model.filter(scope, id=id).exists():
        raise ServiceError.single(
            "id", f"该{spec.label}不在您的维护范围内 (outside your scope)", FORBIDDEN
        )
    return row


def check_version(spec: EntitySpec, current: Record, version: int) -> None:
    if current.version != version:
        raise _conflict(spec)


def _conflict(spec: EntitySpec) -> ServiceError:
    return ServiceError.single(
        "version",
        f"该{spec.label}已被他人修改，请刷新后重试 (changed by someone else: reload and retry)",
        CONFLICT,
    )


async def compare_and_set(spec: EntitySpec, id: int, version: int, columns: dict[str, Any]) -> None:
    """``UPDATE … SET …, version = version + 1 WHERE id = ? AND version = ?``; 0 rows → CONFLICT."""
    count = await spec.model.filter(id=id, version=version).update(
        **columns, version=F("version") + 1, updated_at=dt.datetime.now(dt.UTC)
    )
    if not count:
        raise _conflict(spec)


async def ensure_in_scope(actor: Viewer, spec: EntitySpec, id: int) -> None:
    """After a write: the row must still be one the actor may change (else roll back)."""
    scope = write_scope(actor, spec.model)
    if scope is EVERYTHING or await spec.model.filter(scope, id=id).exists():
        return
    parent = next((f.key for f in spec.fields if f.scope == WRITE and f.kind is Kind.FK), "")
    raise ServiceError.single(
        parent, f"不能把{spec.label}放到您的维护范围之外 (outside your scope)", FORBIDDEN
    )


async def validate(
    actor: Viewer,
    spec: EntitySpec,
    values: dict[str, Any],
    state: dict[str, Any],
    changed: set[str],
    errors: ErrorBag,
    conn: BaseDBAsyncClient,
) -> None:
    """References, cross-field checks and uniqueness of parsed ``values`` (errors collected)."""
    for field in spec.fields:
        if field.key in changed and field.model is not None and not errors.has(field.key):
            await check_reference(actor, field, values[field.key], errors)
    # Checks and uniqueness look only at values that passed so far, never at rejected ones.
    good = {key: value for key, value in state.items() if not errors.has(key)}
    for check in spec.checks:
        await check(good, changed, errors)
    for rule in spec.unique:
        if rule.key in changed or (rule.within and rule.within in changed):
            await check_unique(spec, rule, good, errors, conn)


async def check_reference(actor: Viewer, field: FieldSpec, value: Any, errors: ErrorBag) -> None:
    """FK and M2M ids must exist and be readable (NOT_FOUND) and lie where the writer may
    link to (FORBIDDEN): see hub.services.references."""
    if value is None or value == []:
        return
    assert field.model is not None
    ids = value if field.kind is Kind.M2M else [value]
    await check_links(
        actor, field.model, ids, key=field.key, label=field.label, errors=errors, scope=field.scope
    )


async def check_unique(
    spec: EntitySpec,
    rule: UniqueRule,
    state: dict[str, Any],
    errors: ErrorBag,
    conn: BaseDBAsyncClient,
) -> None:
    value = state.get(rule.key)
    parent = state.get(rule.within) if rule.within else None
    if value in (None, "") or (rule.within and parent is None):
        return
    wanted = fold(value) if rule.folded else value
    # Two transactions could both see "free" and both insert names that differ only in
    # script, which no DB constraint catches: serialise them on PostgreSQL.
    if conn.capabilities.dialect == "postgres":
        key = f"{spec.name}:{rule.key}:{parent}:{wanted}"
        await conn.execute_query("SELECT pg_advisory_xact_lock(hashtext($1))", [key])
    query = spec.model.all()
    if rule.within:
        query = query.filter(**{rule.within: parent})
    if state.get("id"):
        query = query.exclude(id=state["id"])
    if not rule.folded:
        query = query.filter(**{rule.key: value})
    elif not rule.within and issubclass(spec.model, Searchable) and rule.key == "name":
        query = query.filter(search_text__startswith=wanted)  # narrows; fold() decides below
    for _, other in await query.values_list("id", rule.key):
        if (fold(other) if rule.folded else other) == wanted:
            errors.add(rule.key, _unique_message(spec, rule, other), UNIQUE)
            return


def _unique_message(spec: EntitySpec, rule: UniqueRule, other: Any) -> str:
    if rule.message:
        return f"{rule.message} (already exists)"
    label = spec.field(rule.key).label
    if rule.within:
        parent_model = spec.field(rule.within).model
        assert parent_model is not None  # ``within`` names a reference (specs are checked)
        parent = MODEL_LABELS[parent_model]
        return f"同一{parent}下已有{label}为「{other}」的{spec.label} (already exists)"
    return f"{label}「{other}」已被其他{spec.label}使用 (already exists)"


async def dependents_of(spec: EntitySpec, record: Model) -> list[tuple[str, int]]:
    """(label, count) of every kind of row that still points at ``record``."""
    meta = spec.model._meta
    found: list[tuple[str, int]] = []
    for name in sorted(meta.backward_fk_fields | meta.backward_o2o_fields):
        if name in spec.owned:
            continue
        field = meta.fields_map[name]
        assert isinstance(field, BackwardFKRelation)  # a backward one-to-one is one too
        related = field.related_model
        count = await related.filter(**{field.relation_field: record.pk}).count()
        if count:
            found.append((MODEL_LABELS.get(related, related.__name__), count))
    for name in sorted(meta.m2m_fields):
        field = meta.fields_map[name]
        # Links the record owns (a branch's compounds) go with it; links others own stay.
        # Tortoise's public field description says which side it generated (the side
        # the other model declared).
        if isinstance(field, ManyToManyFieldInstance) and field.describe(False)["_generated"]:
            count = await getattr(record, name).all().count()
            if count:
                found.append((MODEL_LABELS.get(field.related_model, name), count))
    return found


async def current_values(spec: EntitySpec, record: Model) -> dict[str, Any]:
    """The record's present value for every key of the spec (relations included)."""
    values: dict[str, Any] = {}
    for field in spec.fields:
        if field.kind is Kind.M2M:
            values[field.key] = sorted(
                await getattr(record, field.target).all().values_list("id", flat=True)
            )
        elif field.kind is Kind.ENUM_SET:
            values[field.key] = await _enum_set(spec, field, record)
        else:
            values[field.key] = getattr(record, field.target)
    return values


async def snapshot(spec: EntitySpec, record: Model) -> dict[str, Any]:
    """The audit snapshot: own columns plus the spec's relation lists."""
    values = audit.snapshot(record)
    for field in spec.fields:
        if field.kind is Kind.M2M:
            values[field.key] = sorted(
                await getattr(record, field.target).all().values_list("id", flat=True)
            )
        elif field.kind is Kind.ENUM_SET:
            values[field.key] = [d.value for d in await _enum_set(spec, field, record)]
    return values


# --- relations -------------------------------------------------------------------------


def _blank_columns(
    spec: EntitySpec, values: dict[str, Any], errors: ErrorBag, *, creating: bool
) -> None:
    """A blank input for a column that cannot be NULL: on create the column's default
    applies (as if the input were left out); on update it cannot be emptied."""
    for field in _columns(spec, values):
        column = spec.model._meta.fields_map.get(field.target)
        if values[field.key] is not None or column is None or column.null:
            continue
        if creating and column.default is not None:
            del values[field.key]
        else:
            errors.add(field.key, f"{field.label}不能为空 (required)", REQUIRED)


def _columns(spec: EntitySpec, values: dict[str, Any]) -> list[FieldSpec]:
    return [f for f in spec.fields if f.key in values and f.kind not in RELATION_KINDS]


def _same(old: Any, new: Any) -> bool:
    if isinstance(new, list):
        return sorted(old or [], key=str) == sorted(new, key=str)
    return bool(old == new)


async def _write_relations(
    spec: EntitySpec, record: Model, values: dict[str, Any], *, current: dict[str, Any]
) -> None:
    for field in spec.fields:
        if field.key not in values or field.kind not in RELATION_KINDS:
            continue
        new, old = set(values[field.key]), set(current.get(field.key) or [])
        if field.kind is Kind.M2M:
            assert field.model is not None
            relation = getattr(record, field.target)
            if old - new:
                await relation.remove(*await field.model.filter(id__in=list(old - new)))
            if new - old:
                await relation.add(*await field.model.filter(id__in=list(new - old)))
        else:
            await _write_enum_set(spec, field, record, new, old)


# Enum sets are child rows holding one enum value each (a member's 亮身份 duties).
ENUM_SETS: dict[tuple[type[Model], str], tuple[type[Model], str, str]] = {
    (m.Member, "duties"): (m.MemberDuty, "member_id", "duty"),
}


async def _enum_set(spec: EntitySpec, field: FieldSpec, record: Model) -> list[Any]:
    child, parent_key, column = ENUM_SETS[(spec.model, field.key)]
    rows = (
        await child.filter(**{parent_key: record.pk}).order_by("id").values_list(column, flat=True)
    )
    return list(rows)


async def _write_enum_set(
    spec: EntitySpec, field: FieldSpec, record: Model, new: set[Any], old: set[Any]
) -> None:
    child, parent_key, column = ENUM_SETS[(spec.model, field.key)]
    if old - new:
        await child.filter(**{parent_key: record.pk, f"{column}__in": list(old - new)}).delete()
    if new - old:
        assert field.enum is not None
        ordered = [member for member in field.enum if member in new - old]
        await child.bulk_create([child(**{parent_key: record.pk, column: v}) for v in ordered])


# --- database errors that slipped past the checks ---------------------------------------


@contextmanager
def integrity_as_errors(spec: EntitySpec) -> Iterator[None]:
    """Turn an IntegrityError (a race on a unique, a check constraint) into FieldErrors."""
    try:
        yield
    except IntegrityError as exc:
        raise ServiceError(integrity_errors(spec, exc)) from None
    except ValidationError as exc:
        detail = validation_detail(exc)
        raise ServiceError.single("", f"{detail} (invalid value)", VALIDATION) from None


def integrity_errors(spec: EntitySpec, exc: Exception) -> list[FieldError]:
    """FieldErrors for a database integrity error, matched to the spec's fields by name."""
    message = str(exc).lower()
    keys = sorted((f.key for f in spec.fields), key=len, reverse=True)

    def key_in(candidates: Iterable[str]) -> str:
        for key in candidates:
            column = key.removesuffix("_ids")
            if re.search(rf"(?<![a-z]){re.escape(column)}(?![a-z])", message):
                return key
        return ""

    if "unique" in message or "duplicate" in message:
        key = key_in([r.key for r in spec.unique]) or key_in(keys)
        rule = next((r for r in spec.unique if r.key == key), None)
        text = _unique_message(spec, rule, "…") if rule else f"{spec.label}已存在 (already exists)"
        return [FieldError(key, text, UNIQUE)]
    if "foreign key" in message:
        return [
            FieldError(
                key_in(keys),
                f"关联的记录不存在或仍被引用 ({spec.label}: a related record is missing or in use)",
                NOT_FOUND,
            )
        ]
    return [FieldError(key_in(keys), f"{spec.label}的取值不符合要求 (violates a rule)", VALIDATION)]


__all__ = [
    "archive",
    "check_reference",
    "compare_and_set",
    "create",
    "integrity_as_errors",
    "load",
    "require_writer",
    "update",
    "validate",
    "writable_spec",
]
