"""Service activities (服务活动): recording one, and adding participants in bulk.

An activity is written through the curated-record engine (its rules are the
``ServiceActivity`` spec), so every id it names is checked to exist and to lie in the
actor's scope, and a naive ``held_at`` is taken as Asia/Shanghai time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from pypika_tortoise.queries import Table
from tortoise.expressions import F
from tortoise.fields.relational import ManyToManyFieldInstance
from tortoise.transactions import in_transaction

from hub import models as m
from hub.access import Viewer
from hub.db_routing import PRIMARY
from hub.enums import AuditAction
from hub.services import audit, records
from hub.services.errors import REQUIRED, ErrorBag
from hub.services.fields import Invalid, parse_ids

ENTITY = "ServiceActivity"


@dataclass(frozen=True, slots=True)
class ParticipantsAdded:
    activity: Any
    added: list[int]  # newly linked members
    already: list[int]  # members who were participants already (ignored)


async def record_activity(*, actor: Viewer | None, data: dict[str, Any], address: str = "") -> Any:
    """Record an activity: title, branch, compound, venue, category, delivery mode, service
    force, held_at, residents served, ``participant_ids`` and ``co_building_unit_ids``."""
    return await records.create(actor=actor, entity=ENTITY, data=data, address=address)


async def update_activity(
    *, actor: Viewer | None, id: int, version: int, data: dict[str, Any], address: str = ""
) -> Any:
    return await records.update(
        actor=actor, entity=ENTITY, id=id, version=version, data=data, address=address
    )


async def add_participants(
    *, actor: Viewer | None, activity_id: int, member_ids: list[int], address: str = ""
) -> ParticipantsAdded:
    """Link members to an activity in one INSERT; existing links are ignored, unknown or
    out-of-scope ids refused (nothing is added then)."""
    spec, actor = records.writable_spec(actor, ENTITY)
    errors = ErrorBag()
    try:
        ids = parse_ids(member_ids)
    except Invalid as exc:
        errors.add("member_ids", exc.message)
        ids = []
    if not ids and not errors:
        errors.add("member_ids", "请选择参与的党员 (no members given)", REQUIRED)
    errors.raise_if_any()
    field = dataclasses.replace(spec.field("participant_ids"), key="member_ids")
    with records.integrity_as_errors(spec):
        async with in_transaction(PRIMARY) as conn:
            activity = await records.load(actor, spec, activity_id)
            await records.check_reference(actor, field, ids, errors)
            errors.raise_if_any()
            before = await records.snapshot(spec, activity)
            already = set(
                await activity.participants.filter(id__in=ids).values_list("id", flat=True)
            )
            new = [i for i in ids if i not in already]
            if new:
                relation = spec.model._meta.fields_map["participants"]
                assert isinstance(relation, ManyToManyFieldInstance)
                through = Table(relation.through)
                insert = conn.query_class.into(through).columns(
                    relation.backward_key, relation.forward_key
                )
                for member_id in new:
                    insert = insert.insert(activity_id, member_id)
                # A concurrent add of the same member is ignored, not an error.
                await conn.execute_query(*insert.on_conflict().do_nothing().get_parameterized_sql())
            await m.ServiceActivity.filter(id=activity_id).update(
                version=F("version") + 1, updated_at=dt.datetime.now(dt.UTC)
            )
            activity = await m.ServiceActivity.get(id=activity_id)
            await audit.record(
                actor=actor,
                action=AuditAction.UPDATE,
                entity=spec.name,
                entity_id=activity_id,
                before=before,
                after=await records.snapshot(spec, activity),
                address=address,
            )
            return ParticipantsAdded(activity, new, sorted(already))
