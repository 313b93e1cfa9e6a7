"""Row scopes declared in hub.access.policy, checked against real rows."""

from __future__ import annotations

import datetime as dt

import pytest

from hub import models as m
from hub.access import Viewer, row_scope, write_scope
from hub.access.policy import SCOPE_PATHS
from hub.enums import (
    ActivityCategory,
    DeliveryMode,
    MemberCategory,
    Role,
    ServiceForce,
    UnitKind,
)

pytestmark = pytest.mark.usefixtures("orm")

ROLES = [
    Viewer(),
    Viewer(user_id=1, role=Role.ADMIN),
    Viewer(user_id=2, role=Role.CURATOR, street_id=1),
    Viewer(user_id=3, role=Role.CURATOR, community_id=1),
    Viewer(user_id=4, role=Role.READER),
    Viewer(user_id=5, role=Role.PARTNER, unit_id=1),
]


def test_every_model_has_declared_scopes() -> None:
    assert set(m.__models__) == set(SCOPE_PATHS)


@pytest.mark.parametrize("viewer", ROLES, ids=lambda v: str(v.role))
async def test_every_declared_scope_runs_as_sql(viewer: Viewer) -> None:
    for model in m.__models__:
        await model.filter(row_scope(viewer, model)).count()
        await model.filter(write_scope(viewer, model)).count()


class World:
    """Two streets; a partner unit with an agreement with a branch in the first."""

    async def build(self, name: str) -> World:
        district = await m.District.create(name=f"{name}区")
        self.street = await m.Street.create(district=district, name=f"{name}一街道")
        self.other_street = await m.Street.create(district=district, name=f"{name}二街道")
        self.community = await m.Community.create(street=self.street, name="甲社区")
        other_community = await m.Community.create(street=self.other_street, name="乙社区")
        self.compound = await m.Compound.create(community=self.community, name="甲小区")
        self.other_compound = await m.Compound.create(community=other_community, name="乙小区")
        self.branch = await m.Branch.create(community=self.community, name="甲支部")
        self.other_branch = await m.Branch.create(community=other_community, name="乙支部")
        await self.branch.compounds.add(self.compound)
        await self.other_branch.compounds.add(self.other_compound)
        self.member = await m.Member.create(
            name="张三", category=MemberCategory.DIRECT, branch=self.branch
        )
        self.unit = await m.CoBuildingUnit.create(name=f"{name}医院", kind=UnitKind.HOSPITAL)
        self.agreement = await m.CoBuildingAgreement.create(
            unit=self.unit, branch=self.branch, signed_on=dt.date(2020, 3, 1)
        )
        # A second agreement with the same branch must not duplicate rows.
        await m.CoBuildingAgreement.create(
            unit=self.unit, branch=self.branch, signed_on=dt.date(2021, 3, 1)
        )
        held = dt.datetime(2020, 6, 1, 9, tzinfo=dt.UTC)
        common = {
            "category": ActivityCategory.CLINIC,
            "delivery_mode": DeliveryMode.LIST,
            "service_force": ServiceForce.VOLUNTEERS,
            "held_at": held,
        }
        self.activity = await m.ServiceActivity.create(title="义诊", branch=self.branch, **common)
        await self.activity.co_building_units.add(self.unit)
        self.other_activity = await m.ServiceActivity.create(
            title="巡逻", branch=self.other_branch, **common
        )
        return self


@pytest.fixture
async def world(unique_name: str) -> World:
    return await World().build(unique_name)


async def _ids(viewer: Viewer, model: type[m.Record], among: list[int]) -> set[int]:
    rows = await model.filter(row_scope(viewer, model), id__in=among).values_list("id", flat=True)
    assert len(rows) == len(set(rows)), "a scope must not repeat rows"
    return set(rows)


async def test_partner_reads_only_its_own_joint_building_data(world: World) -> None:
    partner = Viewer(user_id=9, role=Role.PARTNER, unit_id=world.unit.id)
    both_compounds = [world.compound.id, world.other_compound.id]
    assert await _ids(partner, m.Compound, both_compounds) == {world.compound.id}
    assert await _ids(partner, m.Branch, [world.branch.id, world.other_branch.id]) == {
        world.branch.id
    }
    activities = [world.activity.id, world.other_activity.id]
    assert await _ids(partner, m.ServiceActivity, activities) == {world.activity.id}
    assert await _ids(partner, m.CoBuildingUnit, [world.unit.id]) == {world.unit.id}
    assert await _ids(partner, m.Member, [world.member.id]) == set()


async def test_readers_read_everything_but_accounts(world: World) -> None:
    reader = Viewer(user_id=9, role=Role.READER)
    assert await _ids(reader, m.Member, [world.member.id]) == {world.member.id}
    assert await m.User.filter(row_scope(reader, m.User)).count() == 0


async def test_anonymous_reads_nothing(world: World) -> None:
    assert await _ids(Viewer(), m.Compound, [world.compound.id]) == set()


async def test_curators_write_only_inside_their_street_or_community(world: World) -> None:
    by_street = Viewer(user_id=9, role=Role.CURATOR, street_id=world.street.id)
    by_community = Viewer(user_id=9, role=Role.CURATOR, community_id=world.community.id)
    compounds = [world.compound.id, world.other_compound.id]
    for curator in (by_street, by_community):
        writable = await m.Compound.filter(
            write_scope(curator, m.Compound), id__in=compounds
        ).values_list("id", flat=True)
        assert set(writable) == {world.compound.id}
    assert await m.PropertyCompany.filter(write_scope(by_street, m.PropertyCompany)).count() == 0
