"""Curated mutations: create, update and delete/archive for every curated entity, through
GraphQL — payloads carry the record or errors { field message code } with one code per
kind of problem; writes are audited and guarded by the record's version."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from graphql import GraphQLInputObjectType, GraphQLObjectType, get_named_type

from hub import models as m
from hub.access import Viewer
from hub.credit_code import make_credit_code
from hub.enums import AuditAction, MemberStatus, Role, UnitKind
from hub.services.auth import viewer_for
from hub.services.specs import CURATED, SPECS, ArchivePolicy
from hub.settings import Settings
from tests.api_data import execute, gid, schema_for
from tests.mutation_calls import codes, mutate, ok
from tests.service_world import World, build_world

pytestmark = pytest.mark.usefixtures("orm")

ERRORS = "errors { field message code }"


def create_mutation(entity: str) -> str:
    field = entity[0].lower() + entity[1:]
    return (
        f"mutation($input: Create{entity}Input!) {{ create{entity}(input: $input) "
        f"{{ {field} {{ id version }} {ERRORS} }} }}"
    )


def update_mutation(entity: str) -> str:
    field = entity[0].lower() + entity[1:]
    return (
        f"mutation($input: Update{entity}Input!) {{ update{entity}(input: $input) "
        f"{{ {field} {{ id version }} {ERRORS} }} }}"
    )


def remove_mutation(entity: str) -> str:
    field = entity[0].lower() + entity[1:]
    verb = "Delete" if SPECS[entity].archive is ArchivePolicy.DELETE else "Archive"
    extra = "deletedId" if verb == "Delete" else ""
    return (
        f"mutation($input: {verb}{entity}Input!) {{ {verb.lower()}{entity}(input: $input) "
        f"{{ {field} {{ id version }} {extra} {ERRORS} }} }}"
    )


CREATE = {entity: create_mutation(entity) for entity in CURATED}
UPDATE = {entity: update_mutation(entity) for entity in CURATED}
REMOVE = {entity: remove_mutation(entity) for entity in CURATED}

UPDATE_COMPOUND = """
mutation($input: UpdateCompoundInput!) {
  updateCompound(input: $input) {
    compound { id version name households }
    errors { field message code }
  }
}"""
MEMBER_STATUS = "query($id: ID!) { node(id: $id) { ... on Member { status version } } }"


@pytest.fixture
async def w(unique_name: str) -> World:
    return await build_world(unique_name)


def credit(w: World, salt: int) -> str:
    return make_credit_code(f"9143{abs(hash((w.name, salt))) % 10**13:013d}")


@dataclass
class Case:
    entity: str
    create: Callable[[World, dict[str, Any]], dict[str, Any]]
    change: dict[str, Any]


CASES = [
    Case(
        "Street", lambda w, x: {"districtId": gid(w.district), "name": "新街道"}, {"kind": "TOWN"}
    ),
    Case(
        "Community",
        lambda w, x: {"streetId": gid(w.street), "name": "新社区"},
        {"name": "新社区二"},
    ),
    Case(
        "Compound",
        lambda w, x: {"communityId": gid(w.community), "name": "新小区", "households": 120},
        {"households": 130, "builtYear": 1998, "isOld": True},
    ),
    Case(
        "Building",
        lambda w, x: {"compoundId": gid(w.compound), "name": "1栋", "floors": 6},
        {"headName": "李四"},
    ),
    Case(
        "Branch",
        lambda w, x: {
            "communityId": gid(w.community),
            "name": "新支部",
            "starRating": 3,
            "compoundIds": [gid(w.compound)],
        },
        {"starRating": 5, "isDemonstration": True, "workMethod": "515党建工作法"},
    ),
    Case(
        "CommitteeSeat",
        lambda w, x: {"branchId": gid(w.branch), "role": "SECRETARY", "personName": "王五"},
        {"background": "GRID_WORKER"},
    ),
    Case(
        "PartyGroup",
        lambda w, x: {"branchId": gid(w.branch), "name": "第一党小组", "leaderId": gid(w.member)},
        {"name": "第二党小组"},
    ),
    Case(
        "Member",
        lambda w, x: {
            "name": "赵六",
            "category": "IN_SERVICE",
            "branchId": gid(w.branch),
            "phone": "13800138000",
            "workUnit": "株洲市第一医院",
        },
        {"duties": ["PROPAGANDIST", "SUPERVISOR"], "isDemonstrationPost": True},
    ),
    Case(
        "PropertyCompany",
        lambda w, x: {"name": f"{w.name}新物业", "creditCode": credit(w, 1)},
        {"contactName": "钱七", "contactPhone": "0731-22334455"},
    ),
    Case(
        "OwnersCommittee",
        lambda w, x: {"compoundId": gid(w.compound), "directorName": "孙八", "seats": 5},
        {"termStart": "2021-01-01", "termEnd": "2024-01-01", "isPartyLed": True},
    ),
    Case(
        "CoBuildingUnit",
        lambda w, x: {"name": f"{w.name}医院", "kind": "HOSPITAL"},
        {"address": "天元区长江南路"},
    ),
    Case(
        "CoBuildingAgreement",
        lambda w, x: {"unitId": x["unit"], "branchId": gid(w.branch), "signedOn": "2020-03-01"},
        {"endsOn": "2023-03-01", "status": "EXPIRED"},
    ),
    Case(
        "Venue",
        lambda w, x: {"compoundId": gid(w.compound), "name": "幸福邻聚里居民活动中心"},
        {"areaSqm": 300, "branchId": None},
    ),
    Case(
        "VenueRoom",
        lambda w, x: {"venueId": x["venue"], "kind": "DELIBERATION_HALL"},
        {"name": "议事厅一"},
    ),
    Case(
        "WeChatGroup",
        lambda w, x: {"compoundId": gid(w.compound), "name": "业主群", "size": 300},
        {"size": 480},
    ),
]


async def _extras(w: World) -> dict[str, Any]:
    """Records some cases refer to (made directly: they are not under test here)."""
    unit = await m.CoBuildingUnit.create(name=f"{w.name}学校", kind=UnitKind.SCHOOL)
    venue = await m.Venue.create(compound=w.compound, name="阵地")
    return {"unit": gid(unit), "venue": gid(venue)}


def test_every_curated_entity_has_a_case() -> None:
    assert {case.entity for case in CASES} == set(CURATED)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.entity)
async def test_create_update_remove_each_entity(orm: Settings, w: World, case: Case) -> None:
    field = case.entity[0].lower() + case.entity[1:]
    # given an admin and valid input with global ids
    data = case.create(w, await _extras(w))

    # when creating, then the payload carries the record at version 1, audited
    created = ok(await mutate(orm, CREATE[case.entity], w.admin, input=data))[field]
    assert created["version"] == 1
    model = SPECS[case.entity].model
    pk = (await model.filter().order_by("-id").first()).pk  # type: ignore[union-attr]
    assert gid(await model.get(id=pk)) == created["id"]
    log = await m.AuditLog.get(entity=case.entity, entity_id=str(pk), action=AuditAction.CREATE)
    assert log.user_id == w.admin.user_id and log.after and log.after["id"] == pk

    # when updating at that version, then the version moves on and before/after are logged
    update = {"id": created["id"], "version": 1, **case.change}
    updated = ok(await mutate(orm, UPDATE[case.entity], w.admin, input=update))[field]
    assert updated == {"id": created["id"], "version": 2}
    log = await m.AuditLog.get(entity=case.entity, entity_id=str(pk), action=AuditAction.UPDATE)
    assert log.before and log.after and log.before != log.after

    # when deleting (or archiving a member) at the new version
    removed = ok(
        await mutate(orm, REMOVE[case.entity], w.admin, input={"id": created["id"], "version": 2})
    )
    if SPECS[case.entity].archive is ArchivePolicy.STATUS:
        # then a member stays, archived
        assert (await m.Member.get(id=pk)).status is MemberStatus.ARCHIVED
        assert removed[field]["version"] == 3
    else:
        # then the record is gone and the payload says which
        assert removed["deletedId"] == created["id"]
        assert not await model.exists(id=pk)
        assert await m.AuditLog.exists(
            entity=case.entity, entity_id=str(pk), action=AuditAction.DELETE
        )


async def test_validation_required_and_unique_errors_name_the_input_fields(
    orm: Settings, w: World
) -> None:
    # given a compound, and input breaking three rules at once
    first = {"communityId": gid(w.community), "name": "华晨御园"}
    ok(await mutate(orm, CREATE["Compound"], w.admin, input=first))
    bad = {"communityId": gid(w.community), "name": "華晨御園", "builtYear": 1850, "households": -1}

    payload = await mutate(orm, CREATE["Compound"], w.admin, input=bad)

    # then every problem is reported, camelCased, each with its code, and nothing is saved
    assert payload["compound"] is None
    assert codes(payload) == {
        "name": "UNIQUE",
        "builtYear": "VALIDATION",
        "households": "VALIDATION",
    }
    assert all(e["message"] for e in payload["errors"])
    assert await m.Compound.filter(community_id=w.community.id).count() == 2  # 甲小区 and 华晨御园

    # and a blank required text is REQUIRED
    blank = await mutate(
        orm, CREATE["Street"], w.admin, input={"districtId": gid(w.district), "name": " "}
    )
    assert codes(blank) == {"name": "REQUIRED"}


async def test_phone_and_credit_code_are_validated(orm: Settings, w: World) -> None:
    member = {"name": "周九", "category": "DIRECT", "branchId": gid(w.branch), "phone": "12345"}
    company = {"name": f"{w.name}某物业", "creditCode": "91430211MA4L0000X0"}

    assert codes(await mutate(orm, CREATE["Member"], w.admin, input=member)) == {
        "phone": "VALIDATION"
    }
    assert codes(await mutate(orm, CREATE["PropertyCompany"], w.admin, input=company)) == {
        "creditCode": "VALIDATION"
    }


@pytest.mark.parametrize(
    "reference",
    [
        "not-a-global-id",  # malformed
        "U3RyZWV0OjE=",  # a Street's id where a Community's is expected
        "Q29tbXVuaXR5Ojk5OTk5OTk5",  # a Community that does not exist
    ],
)
async def test_bad_references_are_not_found_on_their_field(
    orm: Settings, w: World, reference: str
) -> None:
    payload = await mutate(
        orm, CREATE["Compound"], w.admin, input={"communityId": reference, "name": "某小区"}
    )
    assert payload["compound"] is None
    assert codes(payload) == {"communityId": "NOT_FOUND"}


async def test_bad_ids_in_a_list_are_not_found(orm: Settings, w: World) -> None:
    data = {
        "communityId": gid(w.community),
        "name": "某支部",
        "compoundIds": [gid(w.compound), gid(w.branch)],
    }
    payload = await mutate(orm, CREATE["Branch"], w.admin, input=data)
    assert codes(payload) == {"compoundIds": "NOT_FOUND"}


async def test_anonymous_is_unauthenticated_and_a_reader_forbidden(orm: Settings, w: World) -> None:
    data = {"communityId": gid(w.community), "name": "某小区"}

    anonymous = await mutate(orm, CREATE["Compound"], Viewer(), input=data)
    reader = await mutate(orm, CREATE["Compound"], w.reader, input=data)

    assert codes(anonymous) == {None: "UNAUTHENTICATED"} and anonymous["compound"] is None
    assert codes(reader) == {None: "FORBIDDEN"}
    assert not await m.Compound.exists(community_id=w.community.id, name="某小区")


async def test_curators_write_inside_their_scope_only(orm: Settings, w: World) -> None:
    # inside the community curator's community: allowed
    inside = {"communityId": gid(w.community), "name": "新小区"}
    ok(await mutate(orm, CREATE["Compound"], w.curator, input=inside))

    # a sibling community of the same street: FORBIDDEN on the parent field
    outside = {"communityId": gid(w.sibling_community), "name": "新小区"}
    payload = await mutate(orm, CREATE["Compound"], w.curator, input=outside)
    assert codes(payload) == {"communityId": "FORBIDDEN"}

    # changing a record outside the scope: FORBIDDEN (curators may read it, so no secret)
    other = await m.Compound.get(id=w.other_compound.id)
    change = {"id": gid(other), "version": other.version, "households": 10}
    assert codes(await mutate(orm, UPDATE_COMPOUND, w.curator, input=change)) == {"id": "FORBIDDEN"}

    # moving an own record out of the scope: refused, nothing changes
    own = await m.Compound.get(id=w.compound.id)
    move = {"id": gid(own), "version": own.version, "communityId": gid(w.other_community)}
    assert codes(await mutate(orm, UPDATE_COMPOUND, w.curator, input=move)) == {
        "communityId": "FORBIDDEN"
    }
    assert (await m.Compound.get(id=own.id)).community_id == w.community.id  # type: ignore[attr-defined]


async def test_records_outside_the_read_scope_are_not_found_whatever_the_reason(
    orm: Settings, w: World, unique_name: str
) -> None:
    # given a partner, who reads its own unit's branches only
    unit = await m.CoBuildingUnit.create(name=f"{unique_name}单位", kind=UnitKind.ENTERPRISE)
    user = await m.User.create(
        username=f"{unique_name}-partner", password_hash="-", role=Role.PARTNER, partner_unit=unit
    )
    partner = viewer_for(user)
    compound = await m.Compound.get(id=w.compound.id)
    change = {"id": gid(compound), "version": compound.version, "households": 1}
    missing = {"id": gid(m.Compound(id=99_999_999)), "version": 1, "households": 1}

    # when it tries to change a compound it cannot read, and one that does not exist
    hidden = await mutate(orm, UPDATE_COMPOUND, partner, input=change)
    absent = await mutate(orm, UPDATE_COMPOUND, partner, input=missing)

    # then both answers are the same NOT_FOUND
    assert hidden["errors"] == absent["errors"]
    assert codes(hidden) == {"id": "NOT_FOUND"}


async def test_a_stale_version_is_a_conflict_and_overwrites_nothing(
    orm: Settings, w: World
) -> None:
    compound = await m.Compound.get(id=w.compound.id)
    first = {"id": gid(compound), "version": compound.version, "households": 100}
    ok(await mutate(orm, UPDATE_COMPOUND, w.admin, input=first))

    stale = {"id": gid(compound), "version": compound.version, "households": 999}
    payload = await mutate(orm, UPDATE_COMPOUND, w.admin, input=stale)

    assert payload["compound"] is None and codes(payload) == {"version": "CONFLICT"}
    now = await m.Compound.get(id=compound.id)
    assert now.households == 100 and now.version == compound.version + 1


async def test_two_clients_with_the_same_version_one_wins_one_conflicts(
    orm: Settings, w: World
) -> None:
    # given two clients that read the compound at the same version
    compound = await m.Compound.get(id=w.compound.id)
    alice = {"id": gid(compound), "version": compound.version, "name": "甲小区（爱丽丝）"}
    bob = {"id": gid(compound), "version": compound.version, "name": "甲小区（鲍勃）"}

    # when both send their update at once
    answers = await asyncio.gather(
        mutate(orm, UPDATE_COMPOUND, w.admin, input=alice),
        mutate(orm, UPDATE_COMPOUND, w.curator, input=bob),
    )

    # then exactly one wins and the other gets CONFLICT; the winner's value stands
    winners = [a for a in answers if not a["errors"]]
    losers = [a for a in answers if a["errors"]]
    assert len(winners) == 1 and len(losers) == 1
    assert codes(losers[0]) == {"version": "CONFLICT"}
    stored = await m.Compound.get(id=compound.id)
    assert stored.name == winners[0]["compound"]["name"]
    assert stored.version == compound.version + 1
    assert (
        await m.AuditLog.filter(
            entity="Compound", entity_id=str(compound.id), action=AuditAction.UPDATE
        ).count()
        == 1
    )


async def test_delete_refused_while_in_use_and_archive_twice_refused(
    orm: Settings, w: World
) -> None:
    # a community with compounds cannot be deleted
    community = await m.Community.get(id=w.community.id)
    payload = await mutate(
        orm,
        REMOVE["Community"],
        w.admin,
        input={"id": gid(community), "version": community.version},
    )
    assert codes(payload) == {"id": "VALIDATION"} and await m.Community.exists(id=community.id)

    # a member is archived once
    member = await m.Member.get(id=w.member.id)
    first = {"id": gid(member), "version": member.version}
    ok(await mutate(orm, REMOVE["Member"], w.admin, input=first))
    again = {"id": gid(member), "version": member.version + 1}
    assert codes(await mutate(orm, REMOVE["Member"], w.admin, input=again)) == {"id": "VALIDATION"}
    result = await execute(orm, MEMBER_STATUS, viewer=w.admin, id=gid(member))
    assert result.data == {"node": {"status": "ARCHIVED", "version": member.version + 1}}


async def test_update_changes_only_the_fields_given_and_null_clears(
    orm: Settings, w: World
) -> None:
    compound = await m.Compound.get(id=w.compound.id)
    await m.Compound.filter(id=compound.id).update(property_company_id=w.company.id)
    update = {"id": gid(compound), "version": compound.version, "households": 77}
    ok(await mutate(orm, UPDATE_COMPOUND, w.admin, input=update))
    kept = await m.Compound.get(id=compound.id)
    assert kept.name == "甲小区" and kept.households == 77
    assert kept.property_company_id == w.company.id  # type: ignore[attr-defined]

    clear = {"id": gid(compound), "version": kept.version, "propertyCompanyId": None}
    ok(await mutate(orm, UPDATE_COMPOUND, w.admin, input=clear))
    assert (await m.Compound.get(id=compound.id)).property_company_id is None  # type: ignore[attr-defined]


async def test_all_curated_mutations_are_in_the_schema(orm: Settings) -> None:
    fields = schema_for(orm)._schema.mutation_type.fields  # type: ignore[union-attr]
    for entity in CURATED:
        verb = "delete" if SPECS[entity].archive is ArchivePolicy.DELETE else "archive"
        for name in (f"create{entity}", f"update{entity}", f"{verb}{entity}"):
            assert name in fields, name


async def test_every_write_type_and_field_is_described(orm: Settings) -> None:
    schema = schema_for(orm)._schema
    roots = [schema.mutation_type, schema.subscription_type]
    seen: set[str] = set()
    for root in roots:
        assert root is not None and root.description
        for name, field in root.fields.items():
            assert field.description, name
            for arg_name, arg in field.args.items():
                assert arg.description, f"{name}({arg_name})"
                seen.add(get_named_type(arg.type).name)
            seen.add(get_named_type(field.type).name)
    for type_name in sorted(seen):
        named = schema.type_map[type_name]
        if not isinstance(named, GraphQLInputObjectType | GraphQLObjectType):
            continue
        assert named.description, type_name
        for field_name, member in named.fields.items():
            assert member.description, f"{type_name}.{field_name}"
