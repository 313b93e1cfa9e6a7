"""Every model round-trips; constraints refuse bad data with a clear error."""

from __future__ import annotations

import datetime as dt

import pytest
from tortoise.exceptions import IntegrityError, ValidationError

from hub.credit_code import make_credit_code
from hub.enums import MemberCategory, MemberStatus, StreetKind, UnitKind
from hub.models import (
    Branch,
    CoBuildingAgreement,
    CoBuildingUnit,
    Community,
    Compound,
    District,
    Member,
    OwnersCommittee,
    PropertyCompany,
    Street,
)

pytestmark = pytest.mark.usefixtures("orm")


async def _compound(name: str) -> Compound:
    district = await District.create(name=f"{name}区")
    street = await Street.create(district=district, name=f"{name}街道", kind=StreetKind.STREET)
    community = await Community.create(street=street, name=f"{name}社区")
    return await Compound.create(community=community, name=f"{name}小區", households=120)


async def test_compound_round_trips_with_search_text(unique_name: str) -> None:
    compound = await _compound(unique_name)
    loaded = await Compound.get(id=compound.id).select_related("community__street__district")
    assert loaded.name == f"{unique_name}小區"
    assert loaded.community.street.district.name == f"{unique_name}区"
    assert "小区" in loaded.search_text  # folded to Simplified script
    assert loaded.version == 1


async def test_star_rating_above_five_is_refused(unique_name: str) -> None:
    compound = await _compound(unique_name)
    with pytest.raises(IntegrityError):
        await Branch.create(community_id=compound.community_id, name="支部", star_rating=7)


async def test_second_owners_committee_for_one_compound_is_refused(unique_name: str) -> None:
    compound = await _compound(unique_name)
    await OwnersCommittee.create(compound=compound, director_name="张三")
    with pytest.raises(IntegrityError):
        await OwnersCommittee.create(compound=compound, director_name="李四")


async def test_invalid_credit_code_is_refused(unique_name: str) -> None:
    with pytest.raises(ValidationError, match="校验位"):
        await PropertyCompany.create(name=unique_name, credit_code="91430211MA4L0XXX1X")
    valid = make_credit_code("91430211MA4L" + unique_name[-5:].upper().replace("E", "H"))
    company = await PropertyCompany.create(name=unique_name, credit_code=valid)
    assert (await PropertyCompany.get(id=company.id)).credit_code == valid


async def test_agreement_must_end_after_it_starts(unique_name: str) -> None:
    compound = await _compound(unique_name)
    branch = await Branch.create(community_id=compound.community_id, name="支部")
    unit = await CoBuildingUnit.create(name=unique_name, kind=UnitKind.ENTERPRISE)
    with pytest.raises(IntegrityError):
        await CoBuildingAgreement.create(
            unit=unit, branch=branch, signed_on=dt.date(2020, 5, 1), ends_on=dt.date(2020, 1, 1)
        )


async def test_member_defaults_to_active(unique_name: str) -> None:
    compound = await _compound(unique_name)
    branch = await Branch.create(community_id=compound.community_id, name="支部")
    member = await Member.create(name="王芳", category=MemberCategory.RETIRED, branch=branch)
    assert (await Member.get(id=member.id)).status is MemberStatus.ACTIVE
