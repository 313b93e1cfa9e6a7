"""Service activities through GraphQL: recordActivity, updateActivity and
addActivityParticipants (in bulk), with their error codes."""

from __future__ import annotations

from typing import Any

import pytest

from hub import models as m
from hub.access import Viewer
from hub.enums import MemberCategory, UnitKind
from hub.settings import Settings
from tests.api_data import gid
from tests.mutation_calls import codes, mutate, ok
from tests.service_world import World, build_world

pytestmark = pytest.mark.usefixtures("orm")

ACTIVITY_FIELDS = """
  activity {
    id version title deliveryMode serviceForce residentsServed heldAt
    venue { name } compound { name } branch { name }
    participants(first: 100) { totalCount }
    coBuildingUnits { nodes { name } }
  }
  errors { field message code }
"""
RECORD = f"""mutation($input: RecordActivityInput!) {{
  recordActivity(input: $input) {{ {ACTIVITY_FIELDS} }} }}"""
UPDATE = f"""mutation($input: UpdateActivityInput!) {{
  updateActivity(input: $input) {{ {ACTIVITY_FIELDS} }} }}"""
ADD = """mutation($input: AddActivityParticipantsInput!) {
  addActivityParticipants(input: $input) {
    activity { version participants { totalCount } }
    added { id name }
    alreadyParticipating
    errors { field message code }
  }
}"""


@pytest.fixture
async def w(unique_name: str) -> World:
    return await build_world(unique_name)


async def _members(w: World, count: int) -> list[m.Member]:
    await m.Member.bulk_create(
        [
            m.Member(name=f"志愿者{i}", category=MemberCategory.RETIRED, branch_id=w.branch.id)
            for i in range(count)
        ]
    )
    return list(await m.Member.filter(branch_id=w.branch.id, name__startswith="志愿者"))


def activity_input(w: World, **extra: Any) -> dict[str, Any]:
    return {
        "title": "华晨御园志愿巡逻",
        "branchId": gid(w.branch),
        "compoundId": gid(w.compound),
        "category": "PATROL",
        "deliveryMode": "ORDER",
        "serviceForce": "VOLUNTEERS",
        "heldAt": "2020-06-01T19:30:00+08:00",
        "residentsServed": 120,
        **extra,
    }


async def test_record_an_activity_with_participants_units_and_venue(
    orm: Settings, w: World
) -> None:
    venue = await m.Venue.create(compound=w.compound, name="幸福邻聚里居民活动中心")
    unit = await m.CoBuildingUnit.create(name=f"{w.name}派出所", kind=UnitKind.AGENCY)
    members = await _members(w, 3)

    payload = await mutate(
        orm,
        RECORD,
        w.curator,
        input=activity_input(
            w,
            venueId=gid(venue),
            participantIds=[gid(x) for x in members],
            coBuildingUnitIds=[gid(unit)],
        ),
    )

    activity = ok(payload)["activity"]
    assert activity["version"] == 1 and activity["residentsServed"] == 120
    assert activity["deliveryMode"] == "ORDER" and activity["serviceForce"] == "VOLUNTEERS"
    assert activity["venue"] == {"name": "幸福邻聚里居民活动中心"}
    assert activity["participants"]["totalCount"] == 3
    assert activity["coBuildingUnits"]["nodes"] == [{"name": f"{w.name}派出所"}]
    assert activity["heldAt"].startswith("2020-06-01T11:30:00")  # stored in UTC
    assert await m.AuditLog.exists(entity="ServiceActivity", user_id=w.curator.user_id)


async def test_record_errors(orm: Settings, w: World) -> None:
    elsewhere = await m.Member.create(
        name="外支部党员", category=MemberCategory.DIRECT, branch_id=w.other_branch.id
    )
    other_venue = await m.Venue.create(compound=w.other_compound, name="乙阵地")

    outside = await mutate(
        orm, RECORD, w.curator, input=activity_input(w, participantIds=[gid(elsewhere)])
    )
    wrong_venue = await mutate(
        orm, RECORD, w.admin, input=activity_input(w, venueId=gid(other_venue))
    )
    bad_unit = await mutate(
        orm, RECORD, w.admin, input=activity_input(w, coBuildingUnitIds=[gid(w.member)])
    )
    blank = await mutate(orm, RECORD, w.admin, input=activity_input(w, title=""))
    anonymous = await mutate(orm, RECORD, Viewer(), input=activity_input(w))

    assert codes(outside) == {"participantIds": "FORBIDDEN"}
    assert codes(wrong_venue) == {"venueId": "VALIDATION"}
    assert codes(bad_unit) == {"coBuildingUnitIds": "NOT_FOUND"}
    assert codes(blank) == {"title": "REQUIRED"}
    assert codes(anonymous) == {None: "UNAUTHENTICATED"}
    assert not await m.ServiceActivity.exists(branch_id=w.branch.id)


async def test_add_participants_in_bulk(orm: Settings, w: World) -> None:
    # given an activity with two participants, and fifty more members
    members = await _members(w, 52)
    first_two = members[:2]
    recorded = ok(
        await mutate(
            orm,
            RECORD,
            w.admin,
            input=activity_input(w, participantIds=[gid(x) for x in first_two]),
        )
    )["activity"]

    # when all 52 are added at once
    payload = ok(
        await mutate(
            orm,
            ADD,
            w.curator,
            input={"activityId": recorded["id"], "memberIds": [gid(x) for x in members]},
        )
    )

    # then the 50 new ones are added, the two already there are named, the version moves on
    assert len(payload["added"]) == 50
    assert sorted(payload["alreadyParticipating"]) == sorted(gid(x) for x in first_two)
    assert payload["activity"] == {"version": 2, "participants": {"totalCount": 52}}


async def test_add_participants_errors_add_nothing(orm: Settings, w: World) -> None:
    members = await _members(w, 3)
    recorded = ok(await mutate(orm, RECORD, w.admin, input=activity_input(w)))["activity"]

    bad = await mutate(
        orm,
        ADD,
        w.admin,
        input={"activityId": recorded["id"], "memberIds": [gid(members[0]), gid(w.branch)]},
    )
    missing = await mutate(
        orm,
        ADD,
        w.admin,
        input={"activityId": recorded["id"], "memberIds": [gid(m.Member(id=99_999_999))]},
    )
    foreign = await mutate(
        orm, ADD, w.admin, input={"activityId": gid(w.compound), "memberIds": [gid(members[0])]}
    )
    reader = await mutate(
        orm, ADD, w.reader, input={"activityId": recorded["id"], "memberIds": [gid(members[0])]}
    )

    assert codes(bad) == {"memberIds": "NOT_FOUND"}
    assert codes(missing) == {"memberIds": "NOT_FOUND"}
    assert codes(foreign) == {"activityId": "NOT_FOUND"}
    assert codes(reader) == {None: "FORBIDDEN"}
    activity = await m.ServiceActivity.get(title="华晨御园志愿巡逻", branch_id=w.branch.id)
    assert await activity.participants.all().count() == 0 and activity.version == 1


async def test_update_activity_needs_the_current_version(orm: Settings, w: World) -> None:
    recorded = ok(await mutate(orm, RECORD, w.admin, input=activity_input(w)))["activity"]

    changed = ok(
        await mutate(
            orm, UPDATE, w.admin, input={"id": recorded["id"], "version": 1, "residentsServed": 150}
        )
    )["activity"]
    stale = await mutate(
        orm, UPDATE, w.admin, input={"id": recorded["id"], "version": 1, "residentsServed": 1}
    )

    assert changed["residentsServed"] == 150 and changed["version"] == 2
    assert codes(stale) == {"version": "CONFLICT"}
