"""Service activities (服务活动): record one, change it, add participants in bulk.

The fields are the ``ServiceActivity`` write spec's (hub.services.specs): participants
and the branch, compound and venue must lie in the caller's scope; co-building units
must be ones the caller may read. Each committed write is announced to
``activityRecorded`` subscribers.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from hub import events
from hub import models as m
from hub.access import Viewer
from hub.events import ActivityChange
from hub.services import activities
from schema.info import Info
from schema.mutations.base import acted_on, client_address, perform, row_id, row_ids
from schema.mutations.crud import (
    Curated,
    create_fields,
    input_data,
    make_input,
    make_payload,
    update_fields,
)
from schema.node import encode_global_id
from schema.types.party import Member
from schema.types.work import ServiceActivity

ACTIVITY = Curated("ServiceActivity", ServiceActivity, "service activity")
SPEC = ACTIVITY.spec

RecordActivityInput = make_input(
    "RecordActivityInput",
    "记录一次服务活动 A service activity: participants, co-building units, venue, residents "
    "served, delivery mode (清单式/点单式/菜单式) and service force (515)",
    create_fields(ACTIVITY),
)
UpdateActivityInput = make_input(
    "UpdateActivityInput",
    "修改服务活动：只改给出的字段 Change an activity: only the fields given",
    update_fields(ACTIVITY),
)
_ACTIVITY_FIELD = [("activity", ServiceActivity | None, "服务活动 The activity")]
RecordActivityPayload = make_payload(
    "RecordActivityPayload", "记录活动的结果 Result of recording an activity", _ACTIVITY_FIELD
)
UpdateActivityPayload = make_payload(
    "UpdateActivityPayload", "修改活动的结果 Result of changing an activity", _ACTIVITY_FIELD
)
AddActivityParticipantsPayload = make_payload(
    "AddActivityParticipantsPayload",
    "添加参与党员的结果 Result of adding participants",
    [
        *_ACTIVITY_FIELD,
        ("added", list[Member] | None, "新加入的党员 Members newly added"),
        (
            "already_participating",
            list[strawberry.ID] | None,
            "原已参加（未重复添加）的党员全局ID Members who already took part (left as they were)",
        ),
    ],
)


@strawberry.input(description="批量添加参与党员 Members to add to an activity")
class AddActivityParticipantsInput:
    activity_id: strawberry.ID = strawberry.field(description="活动的全局ID Global id of it")
    member_ids: list[strawberry.ID] = strawberry.field(
        description="党员的全局ID Global ids of the members (existing participants are ignored)"
    )


def _argument(description: str) -> Any:
    return strawberry.argument(description=description)


def _member_gid(pk: int) -> strawberry.ID:
    return strawberry.ID(encode_global_id("Member", pk))


@strawberry.type
class ActivityMutation:
    @strawberry.mutation(description="记录服务活动 Record a service activity")
    async def record_activity(
        self,
        info: Info,
        input: Annotated[RecordActivityInput, _argument("活动 The activity")],  # type: ignore[valid-type]
    ) -> RecordActivityPayload:  # type: ignore[valid-type]
        async def work(viewer: Viewer) -> Any:
            data = input_data(SPEC, input)
            return await activities.record_activity(
                actor=viewer, data=data, address=client_address(info)
            )

        activity, errors = await perform(info, work)
        if activity is not None:
            await events.activity_changed(activity, ActivityChange.RECORDED)
        return RecordActivityPayload(activity=activity, errors=errors)

    @strawberry.mutation(description="修改服务活动（带版本号）Change an activity")
    async def update_activity(
        self,
        info: Info,
        input: Annotated[UpdateActivityInput, _argument("修改 The change")],  # type: ignore[valid-type]
    ) -> UpdateActivityPayload:  # type: ignore[valid-type]
        given: Any = input  # a generated input type: its fields are the spec's

        async def work(viewer: Viewer) -> Any:
            pk = row_id(given.id, m.ServiceActivity, "id")
            return await activities.update_activity(
                actor=viewer,
                id=pk,
                version=given.version,
                data=input_data(SPEC, given),
                address=client_address(info),
            )

        activity, errors = await perform(info, work, target=acted_on(m.ServiceActivity, given.id))
        if activity is not None:
            await events.activity_changed(activity, ActivityChange.UPDATED)
        return UpdateActivityPayload(activity=activity, errors=errors)

    @strawberry.mutation(
        description="批量添加参与党员（一条语句）Add members to an activity in bulk"
    )
    async def add_activity_participants(
        self,
        info: Info,
        input: Annotated[AddActivityParticipantsInput, _argument("党员 The members")],
    ) -> AddActivityParticipantsPayload:  # type: ignore[valid-type]
        async def work(viewer: Viewer) -> Any:
            pk = row_id(input.activity_id, m.ServiceActivity, "activityId")
            ids = row_ids(input.member_ids, m.Member, "memberIds")
            return await activities.add_participants(
                actor=viewer, activity_id=pk, member_ids=ids, address=client_address(info)
            )

        result, errors = await perform(
            info, work, target=acted_on(m.ServiceActivity, input.activity_id)
        )
        if result is None:
            # The service names the activity "id"; this input calls it activityId.
            for error in errors:
                error.field = "activityId" if error.field == "id" else error.field
            return AddActivityParticipantsPayload(errors=errors)
        await events.activity_changed(result.activity, ActivityChange.PARTICIPANTS_ADDED)
        added = await m.Member.filter(id__in=result.added).order_by("id") if result.added else []
        return AddActivityParticipantsPayload(
            activity=result.activity,
            added=added,
            already_participating=[_member_gid(pk) for pk in result.already],
            errors=[],
        )
