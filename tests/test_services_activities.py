"""Service activities (hub.services.activities): recording, ids in scope, bulk participants."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from hub import models as m
from hub.enums import ActivityCategory, AuditAction, DeliveryMode, MemberCategory, ServiceForce
from hub.services import activities
from hub.services.errors import ErrorCode
from tests.conftest import count_statements
from tests.service_world import World, build_world, codes, error, refused

pytestmark = pytest.mark.usefixtures("orm")


@pytest.fixture
async def w(unique_name: str) -> World:
    return await build_world(unique_name)


async def members(w: World, count: int, branch: m.Branch | None = None) -> list[m.Member]:
    return [
        await m.Member.create(
            name=f"党员{i}", category=MemberCategory.RETIRED, branch=branch or w.branch
        )
        for i in range(count)
    ]


def patrol(w: World, **extra: Any) -> dict[str, Any]:
    return {
        "title": "华晨御园志愿巡逻",
        "branch_id": w.branch.id,
        "compound_id": w.compound.id,
        "category": "治安巡逻",
        "delivery_mode": "LIST",
        "service_force": "志愿者",
        "held_at": dt.datetime(2020, 6, 1, 19, 30),  # naive: a local (Asia/Shanghai) time
        "residents_served": 40,
        **extra,
    }


async def test_record_activity_with_participants_and_units(w: World) -> None:
    # given two members of the branch, a co-building unit and a venue in the compound
    people = await members(w, 2)
    unit = await m.CoBuildingUnit.create(name=f"{w.name}派出所", kind="AGENCY")
    venue = await m.Venue.create(compound=w.compound, name="居民活动中心")
    # when a curator of the community records the activity
    activity = await activities.record_activity(
        actor=w.curator,
        data=patrol(
            w,
            venue_id=venue.id,
            participant_ids=[p.id for p in people],
            co_building_unit_ids=[unit.id],
        ),
    )
    # then it is saved with its enums, links, and the local time converted to UTC
    assert (activity.category, activity.delivery_mode, activity.service_force) == (
        ActivityCategory.PATROL,
        DeliveryMode.LIST,
        ServiceForce.VOLUNTEERS,
    )
    assert activity.held_at == dt.datetime(2020, 6, 1, 11, 30, tzinfo=dt.UTC)
    assert sorted(p.id for p in await activity.participants.all()) == sorted(p.id for p in people)
    assert [u.id for u in await activity.co_building_units.all()] == [unit.id]
    entry = await m.AuditLog.get(entity="ServiceActivity", entity_id=str(activity.id))
    assert entry.action is AuditAction.CREATE
    assert sorted(entry.after["participant_ids"]) == sorted(p.id for p in people)


async def test_record_activity_reports_every_problem(w: World) -> None:
    outsider = (await members(w, 1, w.other_branch))[0]
    other_venue = await m.Venue.create(compound=w.other_compound, name="别处阵地")
    exc = await refused(
        activities.record_activity(
            actor=w.curator,
            data=patrol(
                w,
                title="",
                residents_served=-5,
                delivery_mode="外卖式",
                held_at="昨天",
                participant_ids=[w.member.id, outsider.id, 10**9],
                co_building_unit_ids=[10**9],
                venue_id=other_venue.id,
            ),
        )
    )
    assert {(e.field, e.code) for e in exc.errors} == {
        ("title", ErrorCode.REQUIRED),
        ("residents_served", ErrorCode.VALIDATION),
        ("delivery_mode", ErrorCode.VALIDATION),
        ("held_at", ErrorCode.VALIDATION),
        ("participant_ids", ErrorCode.NOT_FOUND),  # 10**9
        ("participant_ids", ErrorCode.FORBIDDEN),  # the other community's member
        ("co_building_unit_ids", ErrorCode.NOT_FOUND),
        ("venue_id", ErrorCode.FORBIDDEN),
    }
    scoped = await refused(
        activities.record_activity(actor=w.curator, data=patrol(w, participant_ids=[outsider.id]))
    )
    assert codes(scoped) == {"participant_ids": ErrorCode.FORBIDDEN}
    assert str(outsider.id) in error(scoped, "participant_ids").message
    other_branch = await refused(
        activities.record_activity(actor=w.curator, data=patrol(w, branch_id=w.other_branch.id))
    )
    assert codes(other_branch) == {"branch_id": ErrorCode.FORBIDDEN}
    mismatch = await refused(
        activities.record_activity(actor=w.admin, data=patrol(w, venue_id=other_venue.id))
    )
    assert codes(mismatch) == {"venue_id": ErrorCode.VALIDATION}


async def test_add_participants_in_one_insert_ignoring_duplicates(w: World) -> None:
    people = await members(w, 30)
    activity = await activities.record_activity(
        actor=w.curator, data=patrol(w, participant_ids=[people[0].id])
    )
    # when 30 members (one already in, one given twice) are added
    with count_statements() as counter:
        result = await activities.add_participants(
            actor=w.curator,
            activity_id=activity.id,
            member_ids=[p.id for p in people] + [people[5].id],
        )
    # then the 29 new links go in one statement and the existing one is ignored
    inserts = [
        s
        for s in counter.statements
        if s.lstrip().upper().startswith("INSERT") and "activity_participant" in s
    ]
    assert len(inserts) == 1
    assert (sorted(result.added), result.already) == (
        sorted(p.id for p in people[1:]),
        [people[0].id],
    )
    assert await activity.participants.all().count() == 30
    assert result.activity.version == activity.version + 1
    # adding them all again adds nothing and inserts nothing
    again = await activities.add_participants(
        actor=w.curator, activity_id=activity.id, member_ids=[p.id for p in people]
    )
    assert again.added == [] and len(again.already) == 30


async def test_add_participants_refuses_unknown_and_outside_ids(w: World) -> None:
    people = await members(w, 2)
    outsider = (await members(w, 1, w.other_branch))[0]
    activity = await activities.record_activity(actor=w.curator, data=patrol(w))
    exc = await refused(
        activities.add_participants(
            actor=w.curator,
            activity_id=activity.id,
            member_ids=[people[0].id, 10**9, 10**9 + 1, outsider.id],
        )
    )
    assert {e.field for e in exc.errors} == {"member_ids"}
    messages = " ".join(e.message for e in exc.errors)
    assert str(10**9) in messages and str(10**9 + 1) in messages and str(outsider.id) in messages
    assert {e.code for e in exc.errors} == {ErrorCode.NOT_FOUND, ErrorCode.FORBIDDEN}
    assert await activity.participants.all().count() == 0
    empty = await refused(
        activities.add_participants(actor=w.curator, activity_id=activity.id, member_ids=[])
    )
    assert codes(empty) == {"member_ids": ErrorCode.REQUIRED}
    missing = await refused(
        activities.add_participants(actor=w.curator, activity_id=10**9, member_ids=[people[0].id])
    )
    assert codes(missing) == {"id": ErrorCode.NOT_FOUND}
