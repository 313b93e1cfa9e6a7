"""The permission matrix: every role × every entity × list / node / relation / search /
statistics, with personal data masked — generated from the tables below.

``PARTNER_OWN`` and ``ADMIN_ONLY`` classify every node type of the schema; a new
entity that is not classified fails ``test_every_entity_is_classified``. The
expected rows are computed from the test world through plain ORM relations, not
through hub.access, so the test checks the policy rather than repeating it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from graphql import GraphQLNonNull, GraphQLObjectType

from hub import models as m
from hub.access import Viewer
from hub.enums import ActivityCategory, DeliveryMode, Role, ServiceForce, UnitKind
from hub.settings import Settings
from schema.node import NODE_MODELS, TYPE_NAMES
from tests.api_data import World, build_world, execute, gid, schema_for

pytestmark = pytest.mark.usefixtures("orm")

Rows = Callable[["Fixture"], Awaitable[set[int]]]


@dataclass
class Fixture:
    world: World
    unit: m.CoBuildingUnit  # the partner's unit
    other_unit: m.CoBuildingUnit
    other_activity: m.ServiceActivity

    def rows(self, type_name: str) -> list[m.Record]:
        model = NODE_MODELS[type_name]
        rows = [row for row in self.world.all_rows() if type(row) is model]
        return rows + [r for r in (self.other_unit, self.other_activity) if type(r) is model]


async def _partner_units(f: Fixture) -> set[int]:
    return {f.unit.pk}


async def _partner_agreements(f: Fixture) -> set[int]:
    return set(await m.CoBuildingAgreement.filter(unit=f.unit).values_list("id", flat=True))


async def _partner_branches(f: Fixture) -> set[int]:
    return set(await m.CoBuildingAgreement.filter(unit=f.unit).values_list("branch_id", flat=True))


async def _partner_compounds(f: Fixture) -> set[int]:
    branches = await m.Branch.filter(id__in=await _partner_branches(f)).prefetch_related(
        "compounds"
    )
    return {compound.pk for branch in branches for compound in branch.compounds}


async def _partner_activities(f: Fixture) -> set[int]:
    return {activity.pk for activity in await f.unit.activities.all()}


# What a PARTNER reads: its unit, its agreements, the branches and compounds they
# name, and the activities its unit took part in. Every other entity: nothing.
PARTNER_OWN: dict[str, Rows] = {
    "CoBuildingUnit": _partner_units,
    "CoBuildingAgreement": _partner_agreements,
    "Branch": _partner_branches,
    "Compound": _partner_compounds,
    "ServiceActivity": _partner_activities,
}
PARTNER_NOTHING = {
    "District", "Street", "Community", "Building", "Member", "CommitteeSeat", "PartyGroup",
    "PropertyCompany", "OwnersCommittee", "Venue", "VenueRoom", "WeChatGroup", "JointMeeting",
    "ResidentRequest", "RequestEvent", "User", "AuditLog",
}  # fmt: skip
# Only ADMINs read the hub's own records; CURATORs and READERs read everything else.
ADMIN_ONLY = {"User", "AuditLog"}
ROLES = ("anonymous", "admin", "curator", "reader", "partner")


def viewer(role: str, f: Fixture) -> Viewer:
    return {
        "anonymous": Viewer(),
        "admin": Viewer(user_id=None, username="admin", role=Role.ADMIN),
        "curator": Viewer(user_id=None, role=Role.CURATOR, street_id=f.world.street.pk),
        "reader": Viewer(user_id=None, role=Role.READER),
        "partner": Viewer(user_id=None, role=Role.PARTNER, unit_id=f.unit.pk),
    }[role]


async def expected(role: str, type_name: str, f: Fixture) -> set[int]:
    """Primary keys of this fixture's ``type_name`` rows that ``role`` may read."""
    everything = {row.pk for row in f.rows(type_name)}
    if role == "admin":
        return everything
    if role in ("curator", "reader"):
        return set() if type_name in ADMIN_ONLY else everything
    if role == "partner" and type_name in PARTNER_OWN:
        return await PARTNER_OWN[type_name](f) & everything
    return set()


@pytest.fixture
async def fixture(unique_name: str) -> Fixture:
    world = await build_world(unique_name)
    unit = world.units[0]
    # A second unit, co-building with the other branch: the partner must not see it.
    other_unit = await m.CoBuildingUnit.create(name=f"{unique_name}他单位", kind=UnitKind.SCHOOL)
    await m.CoBuildingAgreement.create(
        unit=other_unit, branch=world.branches[1], signed_on=dt.date(2021, 1, 1)
    )
    other_activity = await m.ServiceActivity.create(
        title="巡逻",
        branch=world.branches[1],
        category=ActivityCategory.PATROL,
        delivery_mode=DeliveryMode.LIST,
        service_force=ServiceForce.VOLUNTEERS,
        held_at=dt.datetime(2020, 9, 1, tzinfo=dt.UTC),
    )
    await other_activity.co_building_units.add(other_unit)
    world.agreements.extend(await m.CoBuildingAgreement.filter(unit=other_unit))
    return Fixture(world, unit, other_unit, other_activity)


def _schema_type(settings: Settings, type_name: str) -> GraphQLObjectType:
    gql_type = schema_for(settings)._schema.type_map[type_name]
    assert isinstance(gql_type, GraphQLObjectType)
    return gql_type


def _root_field(settings: Settings, type_name: str) -> str:
    query = schema_for(settings)._schema.query_type
    assert query is not None
    for name, field in query.fields.items():
        inner = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
        if getattr(inner, "name", "") == f"{type_name}Connection":
            return name
    raise AssertionError(f"no root connection lists {type_name}")


def _relations(settings: Settings, type_name: str) -> dict[str, str]:
    """The type's to-many relation fields and the node type each lists."""
    out: dict[str, str] = {}
    for name, field in _schema_type(settings, type_name).fields.items():
        inner = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
        inner_name = getattr(inner, "name", "")
        if inner_name.endswith("Connection"):
            out[name] = inner_name.removesuffix("Connection")
    return out


def _pk(global_id: str) -> int:
    from schema.node import decode_global_id

    decoded = decode_global_id(global_id)
    assert decoded is not None
    return decoded[1]


async def _run(settings: Settings, who: Viewer, query: str, **variables: Any) -> dict[str, Any]:
    result = await execute(settings, query, viewer=who, **variables)
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


def test_every_entity_is_classified() -> None:
    assert set(NODE_MODELS) == set(PARTNER_OWN) | PARTNER_NOTHING
    assert not set(PARTNER_OWN) & PARTNER_NOTHING


@pytest.mark.parametrize("role", ROLES)
async def test_root_connections_list_exactly_the_readable_rows(
    settings: Settings, fixture: Fixture, role: str
) -> None:
    who = viewer(role, fixture)
    for type_name in NODE_MODELS:
        field = _root_field(settings, type_name)
        ids = [gid(row) for row in fixture.rows(type_name)]
        query = (
            f"query($ids: [ID!]) {{ {field}(where: {{id: {{in: $ids}}}}, first: 500) "
            "{ totalCount edges { node { id } } } }"
        )
        answer = (await _run(settings, who, query, ids=ids))[field]
        got = {_pk(edge["node"]["id"]) for edge in answer["edges"]}
        want = await expected(role, type_name, fixture)
        assert got == want, (role, type_name)
        assert answer["totalCount"] == len(want), (role, type_name)


@pytest.mark.parametrize("role", ROLES)
async def test_node_answers_only_for_readable_rows(
    settings: Settings, fixture: Fixture, role: str
) -> None:
    who = viewer(role, fixture)
    for type_name in NODE_MODELS:
        rows = fixture.rows(type_name)
        query = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
        answer = (await _run(settings, who, query, ids=[gid(r) for r in rows]))["nodes"]
        got = {row.pk for row, node in zip(rows, answer, strict=True) if node is not None}
        assert got == await expected(role, type_name, fixture), (role, type_name)


@pytest.mark.parametrize("role", ROLES)
async def test_relations_never_reach_unreadable_rows(
    settings: Settings, fixture: Fixture, role: str
) -> None:
    who = viewer(role, fixture)
    for type_name in NODE_MODELS:
        relations = _relations(settings, type_name)
        parents = fixture.rows(type_name)
        if not relations or not parents:
            continue
        selections = " ".join(
            f"{name}(first: 100) {{ totalCount edges {{ node {{ id }} }} }}" for name in relations
        )
        query = (
            "query($ids: [ID!]!) { nodes(ids: $ids) { "
            f"... on {type_name} {{ {selections} }} }} }}"
        )
        answer = (await _run(settings, who, query, ids=[gid(p) for p in parents]))["nodes"]
        for node in answer:
            if node is None:
                continue
            for name, target in relations.items():
                listed = {_pk(edge["node"]["id"]) for edge in node[name]["edges"]}
                readable_anywhere = await _readable_anywhere(role, target, fixture)
                assert listed <= readable_anywhere, (role, type_name, name)
                assert node[name]["totalCount"] == len(listed), (role, type_name, name)


async def _readable_anywhere(role: str, type_name: str, f: Fixture) -> set[int]:
    """Rows of ``type_name`` in the whole database that ``role`` may read (a superset
    check: relations may list rows of other tests too, never unreadable ones)."""
    model = NODE_MODELS[type_name]
    ours = {row.pk for row in f.rows(type_name)}
    theirs = set(await model.exclude(id__in=list(ours) or [0]).values_list("id", flat=True))
    if role == "admin" or (role in ("curator", "reader") and type_name not in ADMIN_ONLY):
        return ours | theirs
    return await expected(role, type_name, f)


SEARCHES = {
    "Compound": "compounds",
    "Branch": "branches",
    "Member": "members",
    "CoBuildingUnit": "coBuildingUnits",
    "Community": "communities",
    "PropertyCompany": "propertyCompanies",
}


@pytest.mark.parametrize("role", ROLES)
async def test_search_finds_only_readable_rows(
    settings: Settings, fixture: Fixture, role: str
) -> None:
    who = viewer(role, fixture)
    for type_name, field in SEARCHES.items():
        for row in fixture.rows(type_name):
            query = (
                f"query($q: String!) {{ {field}(search: $q, first: 500) "
                "{ edges { node { id } } } }"
            )
            answer = (await _run(settings, who, query, q=row.name))[field]  # type: ignore[attr-defined]
            found = {_pk(edge["node"]["id"]) for edge in answer["edges"]}
            mine = found & {r.pk for r in fixture.rows(type_name)}
            assert (row.pk in mine) == (row.pk in await expected(role, type_name, fixture))


MEMBER_PERSONAL = """
query($id: ID!) { node(id: $id) { ... on Member { name phone birthDate } } }
"""
REQUEST_PERSONAL = """
query($id: ID!) { node(id: $id) { ... on ResidentRequest { reporterName reporterContact } } }
"""


async def test_personal_data_is_masked_for_readers(settings: Settings, fixture: Fixture) -> None:
    member = next(row for row in fixture.world.members if row.phone)
    member.birth_date = dt.date(1960, 5, 4)
    await member.save()
    request = fixture.world.requests[0]
    seen = {}
    for role in ("admin", "curator", "reader"):
        who = viewer(role, fixture)
        person = (await _run(settings, who, MEMBER_PERSONAL, id=gid(member)))["node"]
        case = (await _run(settings, who, REQUEST_PERSONAL, id=gid(request)))["node"]
        seen[role] = (person, case)
    for role in ("admin", "curator"):
        person, case = seen[role]
        assert person["phone"] == member.phone and person["birthDate"] == "1960-05-04"
        assert case["reporterContact"] == request.reporter_contact
    person, case = seen["reader"]
    assert person["name"] == member.name
    assert person["phone"] == f"{member.phone[:3]}****{member.phone[-4:]}"
    assert person["birthDate"] is None
    assert case["reporterContact"] == "139****0000" and case["reporterName"] == "居*"


async def test_a_hidden_record_answers_like_a_missing_one(
    settings: Settings, fixture: Fixture
) -> None:
    partner = viewer("partner", fixture)
    member = fixture.world.members[0]
    query = "query($id: ID!) { node(id: $id) { id } }"
    hidden = await execute(settings, query, viewer=partner, id=gid(member))
    missing = await execute(settings, query, viewer=partner, id=gid(member)[:-2] + "OTk5OTk5")
    assert (hidden.data, hidden.errors) == (missing.data, missing.errors) == ({"node": None}, None)


async def test_filters_through_relations_cannot_probe_hidden_rows(
    settings: Settings, fixture: Fixture
) -> None:
    # The partner's own agreement names a branch whose members the partner may not read:
    # a filter on those members' names must not tell whether such a member exists.
    partner = viewer("partner", fixture)
    member = await m.Member.filter(branch_id=fixture.world.branches[0].pk).first()
    assert member is not None
    query = """
    query($name: String!) {
      coBuildingAgreements(where: {branch: {members: {name: {eq: $name}}}}) { totalCount }
    }"""
    answer = await _run(settings, partner, query, name=member.name)
    assert answer["coBuildingAgreements"]["totalCount"] == 0
    admin = await _run(settings, viewer("admin", fixture), query, name=member.name)
    assert admin["coBuildingAgreements"]["totalCount"] >= 1


STATISTICS = """
query($scope: StatisticsScopeInput) {
  statistics(scope: $scope) { coverage { branches compoundsCovered } membersTotal }
}"""


async def test_partner_statistics_cover_only_its_branches(
    settings: Settings, fixture: Fixture
) -> None:
    district = {"level": "DISTRICT", "id": gid(fixture.world.district)}
    reader = await _run(settings, viewer("reader", fixture), STATISTICS, scope=district)
    assert reader["statistics"]["coverage"]["branches"] == len(fixture.world.branches)
    partner = await _run(settings, viewer("partner", fixture), STATISTICS, scope=None)
    coverage = partner["statistics"]["coverage"]
    assert coverage["branches"] == len(await _partner_branches(fixture))
    assert coverage["compoundsCovered"] == len(await _partner_compounds(fixture))
    # A partner cannot name a district it may not read: it is not found, like a missing one.
    refused = await execute(settings, STATISTICS, viewer=viewer("partner", fixture), scope=district)
    assert refused.errors and refused.errors[0].extensions["code"] == "NOT_FOUND"


async def test_statistics_need_a_login_unless_opened_to_the_public(
    settings: Settings, fixture: Fixture
) -> None:
    import dataclasses

    district = {"level": "DISTRICT", "id": gid(fixture.world.district)}
    closed = await execute(settings, STATISTICS, viewer=Viewer(), scope=district)
    assert closed.errors and closed.errors[0].extensions["code"] == "UNAUTHENTICATED"
    public = dataclasses.replace(settings, public_statistics=True)
    opened = await execute(public, STATISTICS, viewer=Viewer(), scope=district)
    assert opened.errors is None
    assert opened.data["statistics"]["coverage"]["branches"] == len(fixture.world.branches)
    street = {"level": "STREET", "id": gid(fixture.world.street)}
    narrower = await execute(public, STATISTICS, viewer=Viewer(), scope=street)
    assert narrower.errors and narrower.errors[0].extensions["code"] == "UNAUTHENTICATED"


def test_type_names_match_their_models() -> None:
    # Global ids carry the type name; filters check it against the model's name.
    assert all(TYPE_NAMES[model] == model.__name__ for model in NODE_MODELS.values())
