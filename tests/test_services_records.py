"""Curated writes (hub.services.records): every entity, every error code, concurrency, audit."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from hub import models as m
from hub.credit_code import make_credit_code
from hub.enums import AuditAction, Duty, MemberStatus, SeatRole
from hub.services import records
from hub.services.errors import ErrorCode
from hub.services.specs import CURATED, SPECS
from resolvers.input_values import validator_problem
from tests.service_world import World, build_world, codes, error, refused

pytestmark = pytest.mark.usefixtures("orm")


@pytest.fixture
async def w(unique_name: str) -> World:
    return await build_world(unique_name)


def code17(world: World, salt: int) -> str:
    return make_credit_code(f"9143{abs(hash((world.name, salt))) % 10**13:013d}")


@dataclass
class Case:
    entity: str
    create: Callable[[World], dict[str, Any]]
    change: dict[str, Any]


CASES = [
    Case("Street", lambda w: {"district_id": w.district.id, "name": "新街道"}, {"kind": "TOWN"}),
    Case("Community", lambda w: {"street_id": w.street.id, "name": "新社区"}, {"name": "新社区二"}),
    Case(
        "Compound",
        lambda w: {"community_id": w.community.id, "name": "新小区", "households": 120},
        {"households": 130, "built_year": 1998, "property_company_id": None},
    ),
    Case(
        "Building",
        lambda w: {"compound_id": w.compound.id, "name": "1栋", "floors": 6},
        {"head_name": "李四", "head_member_id": None},
    ),
    Case(
        "Branch",
        lambda w: {"community_id": w.community.id, "name": "新支部", "star_rating": 3},
        {"star_rating": 5, "is_demonstration": True},
    ),
    Case(
        "CommitteeSeat",
        lambda w: {"branch_id": w.branch.id, "role": "SECRETARY", "person_name": "王五"},
        {"role": SeatRole.DEPUTY_SECRETARY},
    ),
    Case(
        "PartyGroup",
        lambda w: {"branch_id": w.branch.id, "name": "一组"},
        {"leader_id": None, "name": "第一组"},
    ),
    Case(
        "Member",
        lambda w: {"name": "赵六", "category": "在职党员", "branch_id": w.branch.id},
        {"phone": "13800138000", "duties": ["宣传员", "PEACEMAKER"]},
    ),
    Case(
        "PropertyCompany",
        lambda w: {"name": f"{w.name}新物业", "credit_code": code17(w, 1)},
        {"contact_phone": "0731-22334455"},
    ),
    Case(
        "OwnersCommittee",
        lambda w: {"compound_id": w.compound.id, "director_name": "钱七", "seats": 7},
        {"term_start": "2021-01-01", "term_end": "2026-01-01"},
    ),
    Case(
        "CoBuildingUnit",
        lambda w: {"name": f"{w.name}医院", "kind": "医院"},
        {"credit_code": None, "address": "天元区"},
    ),
    Case(
        "CoBuildingAgreement",
        lambda w: {"unit_id": None, "branch_id": w.branch.id, "signed_on": "2020-03-01"},
        {"ends_on": "2023-03-01", "status": "EXPIRED"},
    ),
    Case(
        "Venue",
        lambda w: {"compound_id": w.compound.id, "name": "幸福邻聚里居民活动中心"},
        {"area_sqm": 300, "branch_id": None},
    ),
    Case("VenueRoom", lambda w: {"venue_id": None, "kind": "议事厅"}, {"name": "议事厅一"}),
    Case(
        "WeChatGroup",
        lambda w: {"compound_id": w.compound.id, "name": "业主群", "size": 300},
        {"size": 480},
    ),
]


async def _fill_placeholders(w: World, entity: str, data: dict[str, Any]) -> dict[str, Any]:
    """Records some cases need that only the admin can make (units, venues)."""
    if entity == "CoBuildingAgreement":
        unit = await m.CoBuildingUnit.create(name=f"{w.name}学校", kind="SCHOOL")
        data["unit_id"] = unit.id
    if entity == "VenueRoom":
        venue = await m.Venue.create(compound=w.compound, name="阵地")
        data["venue_id"] = venue.id
    return data


def test_every_curated_entity_has_a_case() -> None:
    assert {case.entity for case in CASES} == set(CURATED)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.entity)
async def test_create_update_archive_each_entity(w: World, case: Case) -> None:
    # given an admin and valid data
    data = await _fill_placeholders(w, case.entity, case.create(w))
    model = SPECS[case.entity].model

    # when creating, then the record is saved at version 1 and the creation is audited
    record = await records.create(actor=w.admin, entity=case.entity, data=data)
    assert record.version == 1
    created = await m.AuditLog.get(entity=case.entity, entity_id=str(record.id))
    assert created.action is AuditAction.CREATE and created.before is None
    assert created.after["id"] == record.id and created.user_id == w.admin.user_id

    # when updating at that version, then the values change and the version moves on
    updated = await records.update(
        actor=w.admin, entity=case.entity, id=record.id, version=1, data=case.change
    )
    assert updated.version == 2
    entry = await m.AuditLog.filter(entity=case.entity, entity_id=str(record.id)).first()
    assert entry is not None and entry.action is AuditAction.UPDATE
    assert entry.before["version"] == 1 and entry.after["version"] == 2
    for key, value in case.change.items():
        assert entry.after[key] is not None or value is None

    # when archiving, then members keep their row with status ARCHIVED, others are deleted
    await records.archive(actor=w.admin, entity=case.entity, id=record.id, version=2)
    remaining = await model.get_or_none(id=record.id)
    if case.entity == "Member":
        assert remaining is not None and remaining.status is MemberStatus.ARCHIVED
    else:
        assert remaining is None
    last = await m.AuditLog.filter(entity=case.entity, entity_id=str(record.id)).first()
    assert last is not None and last.before is not None
    assert last.action is (AuditAction.ARCHIVE if case.entity == "Member" else AuditAction.DELETE)


async def test_update_audit_holds_values_before_and_after(w: World) -> None:
    compound = await records.create(
        actor=w.admin,
        entity="Compound",
        data={"community_id": w.community.id, "name": "庐山恋", "households": 200},
    )
    await records.update(
        actor=w.admin,
        entity="Compound",
        id=compound.id,
        version=1,
        data={"households": 210, "is_old": True},
        address="127.0.0.1",
    )
    entry = await m.AuditLog.filter(entity="Compound", entity_id=str(compound.id)).first()
    assert entry is not None
    assert (entry.before["households"], entry.after["households"]) == (200, 210)
    assert (entry.before["is_old"], entry.after["is_old"]) == (False, True)
    assert entry.address == "127.0.0.1" and "search_text" not in entry.after


async def test_every_user_fixable_error_is_reported_at_once(w: World) -> None:
    exc = await refused(
        records.create(
            actor=w.admin,
            entity="Compound",
            data={"households": -1, "built_year": 1800, "is_old": "也许", "colour": "red"},
        )
    )
    assert codes(exc) == {
        "community_id": ErrorCode.REQUIRED,
        "name": ErrorCode.REQUIRED,
        "households": ErrorCode.VALIDATION,
        "built_year": ErrorCode.VALIDATION,
        "is_old": ErrorCode.VALIDATION,
        "colour": ErrorCode.VALIDATION,
    }
    assert "不能小于 0" in error(exc, "households").message


@pytest.mark.parametrize(
    ("entity", "bad", "field"),
    [
        ("Branch", {"star_rating": 6}, "star_rating"),
        ("Branch", {"star_rating": "三"}, "star_rating"),
        ("Compound", {"built_year": dt.date.today().year + 1}, "built_year"),
        ("Compound", {"name": "长" * 101}, "name"),
        ("Street", {"kind": "VILLAGE"}, "kind"),
        ("PropertyCompany", {"credit_code": "91430211MA4L000000"}, "credit_code"),
        ("PropertyCompany", {"credit_code": "9143021"}, "credit_code"),
        ("PropertyCompany", {"contact_phone": "12345"}, "contact_phone"),
        ("Member", {"phone": "12800138000"}, "phone"),
        ("Member", {"birth_date": "2999-01-01"}, "birth_date"),
        ("Member", {"joined_party_on": "1990-02-30"}, "joined_party_on"),
        ("WeChatGroup", {"size": 501}, "size"),
        ("CoBuildingAgreement", {"signed_on": "2021-05-01", "ends_on": "2021-04-30"}, "ends_on"),
        ("OwnersCommittee", {"term_start": "2021-01-01", "term_end": "2021-01-01"}, "term_end"),
    ],
)
async def test_validation_errors_name_the_field(
    w: World, entity: str, bad: dict[str, Any], field: str
) -> None:
    data = await _fill_placeholders(
        w, entity, next(c for c in CASES if c.entity == entity).create(w)
    )
    exc = await refused(records.create(actor=w.admin, entity=entity, data={**data, **bad}))
    found = error(exc, field)
    assert found.code is ErrorCode.VALIDATION and found.message


async def test_phone_formats_accepted(w: World) -> None:
    for number, stored in [
        ("13800138000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("0731-22334455", "0731-22334455"),
        ("073122334455", "073122334455"),
    ]:
        member = await records.create(
            actor=w.admin,
            entity="Member",
            data={
                "name": f"甲{number}",
                "category": "DIRECT",
                "branch_id": w.branch.id,
                "phone": number,
            },
        )
        assert member.phone == stored


async def test_unknown_references_are_not_found(w: World) -> None:
    exc = await refused(
        records.create(
            actor=w.admin,
            entity="Branch",
            data={"community_id": 10**9, "name": "某支部", "compound_ids": [w.compound.id, 10**9]},
        )
    )
    assert codes(exc) == {"community_id": ErrorCode.NOT_FOUND, "compound_ids": ErrorCode.NOT_FOUND}
    assert str(10**9) in error(exc, "compound_ids").message
    missing = await refused(
        records.update(actor=w.admin, entity="Compound", id=10**9, version=1, data={})
    )
    assert codes(missing) == {"id": ErrorCode.NOT_FOUND}


async def test_folded_names_are_unique_within_the_parent(w: World) -> None:
    # given 华晨御园 in a community
    first = await records.create(
        actor=w.admin, entity="Compound", data={"community_id": w.community.id, "name": "华晨御园"}
    )
    # when the same name arrives in Traditional script (and full-width spaces) in that community
    exc = await refused(
        records.create(
            actor=w.admin,
            entity="Compound",
            data={"community_id": w.community.id, "name": "華晨　御園"},
        )
    )
    # then it is refused as a duplicate
    assert error(exc, "name").code is ErrorCode.UNIQUE and "华晨御园" in error(exc, "name").message
    # but another community may have one, and renaming a record to its own folded form is fine
    await records.create(
        actor=w.admin,
        entity="Compound",
        data={"community_id": w.sibling_community.id, "name": "華晨御園"},
    )
    renamed = await records.update(
        actor=w.admin, entity="Compound", id=first.id, version=1, data={"name": "華晨御園"}
    )
    assert renamed.name == "華晨御園"
    # and moving a compound into a community where the name is taken is refused
    moved = await refused(
        records.update(
            actor=w.admin,
            entity="Compound",
            id=first.id,
            version=2,
            data={"community_id": w.sibling_community.id},
        )
    )
    assert error(moved, "name").code is ErrorCode.UNIQUE


async def test_district_wide_uniques_and_one_committee_per_compound(w: World) -> None:
    exc = await refused(
        records.create(
            actor=w.admin,
            entity="PropertyCompany",
            data={"name": f"{w.name}物業", "credit_code": w.company.credit_code.lower()},
        )
    )
    assert codes(exc) == {"name": ErrorCode.UNIQUE, "credit_code": ErrorCode.UNIQUE}
    await records.create(
        actor=w.admin, entity="OwnersCommittee", data={"compound_id": w.compound.id}
    )
    again = await refused(
        records.create(actor=w.admin, entity="OwnersCommittee", data={"compound_id": w.compound.id})
    )
    assert error(again, "compound_id").code is ErrorCode.UNIQUE


async def test_race_past_the_check_becomes_a_unique_error(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the name check skipped, as if another transaction inserted in between
    async def no_check(*args: Any, **kwargs: Any) -> None:
        return None

    monkeypatch.setattr(records, "check_unique", no_check)
    # when the database's own unique constraint fires
    exc = await refused(
        records.create(
            actor=w.admin,
            entity="Compound",
            data={"community_id": w.community.id, "name": "甲小区"},
        )
    )
    # then it arrives as a UNIQUE error on the name, not as a database exception
    assert codes(exc) == {"name": ErrorCode.UNIQUE}


async def test_curators_write_only_inside_their_scope(w: World) -> None:
    # a community curator creates and edits inside its community
    own = await records.create(
        actor=w.curator,
        entity="Compound",
        data={"community_id": w.community.id, "name": "自家小区"},
    )
    await records.update(
        actor=w.curator, entity="Compound", id=own.id, version=1, data={"households": 5}
    )
    # but not in another community, nor records of another community, nor moves out
    outside = await refused(
        records.create(
            actor=w.curator,
            entity="Compound",
            data={"community_id": w.sibling_community.id, "name": "别家小区"},
        )
    )
    assert codes(outside) == {"community_id": ErrorCode.FORBIDDEN}
    foreign = await refused(
        records.update(
            actor=w.curator,
            entity="Compound",
            id=w.other_compound.id,
            version=w.other_compound.version,
            data={"households": 1},
        )
    )
    assert codes(foreign) == {"id": ErrorCode.FORBIDDEN}
    move = await refused(
        records.update(
            actor=w.curator,
            entity="Compound",
            id=own.id,
            version=2,
            data={"community_id": w.sibling_community.id},
        )
    )
    assert codes(move) == {"community_id": ErrorCode.FORBIDDEN}
    gone = await refused(
        records.archive(actor=w.curator, entity="Compound", id=w.other_compound.id, version=1)
    )
    assert codes(gone) == {"id": ErrorCode.FORBIDDEN}
    # a street curator may use the sibling community of its street, not the other street
    await records.create(
        actor=w.street_curator,
        entity="Compound",
        data={"community_id": w.sibling_community.id, "name": "街道小区"},
    )
    far = await refused(
        records.create(
            actor=w.street_curator,
            entity="Member",
            data={"name": "某人", "category": "DIRECT", "branch_id": w.other_branch.id},
        )
    )
    assert codes(far) == {"branch_id": ErrorCode.FORBIDDEN}
    # district-wide records and readers: refused outright
    company = await refused(
        records.create(
            actor=w.curator,
            entity="PropertyCompany",
            data={"name": "某物业", "credit_code": code17(w, 2)},
        )
    )
    reader = await refused(
        records.create(actor=w.reader, entity="Compound", data={"community_id": w.community.id})
    )
    assert codes(company) == codes(reader) == {"": ErrorCode.FORBIDDEN}


async def test_stale_version_is_a_conflict_and_changes_nothing(w: World) -> None:
    await records.update(
        actor=w.admin, entity="Compound", id=w.compound.id, version=1, data={"households": 10}
    )
    exc = await refused(
        records.update(
            actor=w.admin, entity="Compound", id=w.compound.id, version=1, data={"households": 99}
        )
    )
    assert codes(exc) == {"version": ErrorCode.CONFLICT}
    stale_archive = await refused(
        records.archive(
            actor=w.admin,
            entity="Building",
            id=(await m.Building.create(compound=w.compound, name="9栋")).id,
            version=7,
        )
    )
    assert codes(stale_archive) == {"version": ErrorCode.CONFLICT}
    stored = await m.Compound.get(id=w.compound.id)
    assert (stored.households, stored.version) == (10, 2)


async def test_concurrent_updates_exactly_one_wins(w: World) -> None:
    # given two editors who loaded the compound at version 1
    async def edit(households: int) -> int | Exception:
        try:
            await records.update(
                actor=w.admin,
                entity="Compound",
                id=w.compound.id,
                version=1,
                data={"households": households, "address": f"{households}号"},
            )
            return households
        except Exception as exc:  # collected and inspected below
            return exc

    # when both save at the same time
    results = await asyncio.gather(edit(111), edit(222))
    # then exactly one wins, the other gets CONFLICT, and the stored values are the winner's
    winners = [r for r in results if isinstance(r, int)]
    losers = [r for r in results if not isinstance(r, int)]
    assert len(winners) == 1 and len(losers) == 1
    assert codes(losers[0]) == {"version": ErrorCode.CONFLICT}  # type: ignore[arg-type]
    stored = await m.Compound.get(id=w.compound.id)
    assert (stored.households, stored.address, stored.version) == (winners[0], f"{winners[0]}号", 2)
    assert await m.AuditLog.filter(entity="Compound", entity_id=str(w.compound.id)).count() == 1


async def test_archive_refuses_while_records_depend(w: World) -> None:
    exc = await refused(
        records.archive(actor=w.admin, entity="Community", id=w.community.id, version=1)
    )
    message = error(exc, "id").message
    assert "小区" in message and "小区党支部" in message and "账号" in message
    assert await m.Community.exists(id=w.community.id)
    # a member is archived, never deleted, and only once
    await records.archive(actor=w.admin, entity="Member", id=w.member.id, version=1)
    again = await refused(
        records.archive(actor=w.admin, entity="Member", id=w.member.id, version=2)
    )
    assert error(again, "id").code is ErrorCode.VALIDATION


async def test_branch_compounds_and_member_duties_are_replaced_as_sets(w: World) -> None:
    extra = await m.Compound.create(community=w.community, name="乙区")
    branch = await records.create(
        actor=w.admin,
        entity="Branch",
        data={"community_id": w.community.id, "name": "联合支部", "compound_ids": [w.compound.id]},
    )
    await records.update(
        actor=w.admin, entity="Branch", id=branch.id, version=1, data={"compound_ids": [extra.id]}
    )
    assert [c.id for c in await branch.compounds.all()] == [extra.id]
    foreign = await refused(
        records.update(
            actor=w.admin,
            entity="Branch",
            id=branch.id,
            version=2,
            data={"compound_ids": [w.other_compound.id]},
        )
    )
    assert error(foreign, "compound_ids").code is ErrorCode.VALIDATION

    await records.update(
        actor=w.admin,
        entity="Member",
        id=w.member.id,
        version=1,
        data={"duties": ["宣傳員", "ORDERLY"]},
    )
    await records.update(
        actor=w.admin, entity="Member", id=w.member.id, version=2, data={"duties": "勤务兵、监督员"}
    )
    duties = await m.MemberDuty.filter(member_id=w.member.id).values_list("duty", flat=True)
    assert sorted(duties) == sorted([Duty.ORDERLY, Duty.SUPERVISOR])


async def test_member_rules_across_fields(w: World) -> None:
    group = await m.PartyGroup.create(branch=w.other_branch, name="外组")
    await records.update(
        actor=w.admin, entity="Member", id=w.member.id, version=1, data={"phone": "13912345678"}
    )
    exc = await refused(
        records.create(
            actor=w.admin,
            entity="Member",
            data={
                "name": "張三",  # same person as w.member, in Traditional script
                "phone": "139 1234 5678",
                "category": "DIRECT",
                "branch_id": w.branch.id,
                "party_group_id": group.id,
                "birth_date": "2000-05-01",
                "joined_party_on": "2015-05-01",
            },
        )
    )
    assert codes(exc) == {
        "phone": ErrorCode.UNIQUE,
        "party_group_id": ErrorCode.VALIDATION,
        "joined_party_on": ErrorCode.VALIDATION,
    }


async def test_the_version_guard_is_in_the_update_statement(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the early version check switched off, only the UPDATE ... WHERE version=? remains
    monkeypatch.setattr(records, "check_version", lambda *args: None)
    await records.update(
        actor=w.admin, entity="Compound", id=w.compound.id, version=1, data={"households": 10}
    )
    # when a stale writer saves, then nothing is overwritten and the writer gets CONFLICT
    exc = await refused(
        records.update(
            actor=w.admin, entity="Compound", id=w.compound.id, version=1, data={"households": 99}
        )
    )
    assert codes(exc) == {"version": ErrorCode.CONFLICT}
    assert (await m.Compound.get(id=w.compound.id)).households == 10


async def test_concurrent_creates_of_one_folded_name_let_one_through(w: World) -> None:
    # given two curators saving the same compound, one typing it in Traditional script
    async def save(name: str) -> Any:
        try:
            return await records.create(
                actor=w.admin,
                entity="Compound",
                data={"community_id": w.community.id, "name": name},
            )
        except Exception as exc:  # collected and inspected below
            return exc

    # when both save at the same time
    results = await asyncio.gather(save("华晨御园"), save("華晨御園"))
    # then one is saved and the other is told the name is taken (no database error leaks)
    saved = [r for r in results if isinstance(r, m.Compound)]
    refusals = [r for r in results if not isinstance(r, m.Compound)]
    assert len(saved) == 1 and len(refusals) == 1
    assert codes(refusals[0]) == {"name": ErrorCode.UNIQUE}  # type: ignore[arg-type]


async def test_blank_optional_text_clears_a_nullable_column(w: World) -> None:
    member = await records.create(
        actor=w.admin,
        entity="Member",
        data={
            "name": "孙八",
            "category": "IN_SERVICE",
            "branch_id": w.branch.id,
            "work_unit": "株洲市中心医院",
        },
    )
    cleared = await records.update(
        actor=w.admin, entity="Member", id=member.id, version=1, data={"work_unit": "  "}
    )
    assert cleared.work_unit is None


async def test_blank_choice_for_a_column_that_cannot_be_null(unique_name: str) -> None:
    # Given a branch to put members in
    w = await build_world(unique_name)
    data = {"name": "王五", "category": "RETIRED", "branch_id": w.branch.id, "status": ""}
    # When a member is created with a blank status, the column's default applies
    member = await records.create(actor=w.admin, entity="Member", data=data)
    assert member.status is MemberStatus.ACTIVE
    # And blanking it later is refused on that field, not a crash
    exc = await refused(
        records.update(
            actor=w.admin,
            entity="Member",
            id=member.id,
            version=member.version,
            data={"status": ""},
        )
    )
    assert codes(exc) == {"status": ErrorCode.REQUIRED}


def test_a_refused_value_is_echoed_only_in_part() -> None:
    # given a value the column's own validation refuses (20,000 characters)
    value = "长" * 20_000
    field = m.Compound._meta.fields_map["name"]
    # when it reaches the database layer of a write, or a filter's validator check
    with (
        pytest.raises(records.ServiceError) as refused,
        records.integrity_as_errors(SPECS["Compound"]),
    ):
        field.validate(value)
    problem = validator_problem(field, value)
    # then the message says what is wrong and repeats only the value's first 50 characters
    [found] = refused.value.errors
    assert found.code is ErrorCode.VALIDATION
    assert problem is not None
    for message in (found.message, problem):
        assert "长" * 50 + "…" in message and "长" * 51 not in message
        assert "20000" in message and len(message) < 200
