"""The demo dataset: deterministic, idempotent, and every reported figure exact.

Figures are computed here from the loaded records with ORM queries, scoped to
天元区 (other tests share the database), the way the statistics API computes them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from tortoise.connection import get_connection
from tortoise.context import TortoiseContext

from hub.credit_code import credit_code_error
from hub.db import migrate, tortoise_config
from hub.enums import (
    ActivityCategory,
    AgreementStatus,
    DeliveryMode,
    Duty,
    MeetingLevel,
    MemberCategory,
    MemberStatus,
    Representative,
    RequestAction,
    RequestCategory,
    RequestStatus,
    RoomKind,
    SeatBackground,
    SeatRole,
    ServiceForce,
    StreetKind,
    UnitKind,
)
from hub.models import (
    Branch,
    CoBuildingAgreement,
    CoBuildingUnit,
    CommitteeSeat,
    Community,
    Compound,
    District,
    JointMeeting,
    Member,
    MemberDuty,
    OwnersCommittee,
    PartyGroup,
    PropertyCompany,
    RequestEvent,
    ResidentRequest,
    ServiceActivity,
    Street,
    Venue,
    WeChatGroup,
)
from hub.models import __models__ as MODELS
from hub.settings import Settings
from seeds import tianyuan as ty
from seeds.generator import generate
from seeds.loader import SeedReport, load_demo
from seeds.rows import TABLES

needs_demo = pytest.mark.usefixtures("demo")

CST = dt.timezone(dt.timedelta(hours=8))
MOBILE = re.compile(r"^1[3-9]\d{9}$")
IN_DISTRICT = {"community__street__district__name": ty.DISTRICT_NAME}
BRANCH_IN_DISTRICT = {"branch__community__street__district__name": ty.DISTRICT_NAME}
COMPOUND_IN_DISTRICT = {"compound__community__street__district__name": ty.DISTRICT_NAME}


def year_bounds(year: int, tz: dt.tzinfo = CST) -> tuple[dt.datetime, dt.datetime]:
    """A calendar year in ``tz``, as UTC instants.

    Bounds must be UTC: SQLite compares the stored ISO strings, so a "+08:00" bound
    would be compared as text against "+00:00" values.
    """
    start, end = dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


async def table_counts() -> dict[str, int]:
    client = get_connection("default")
    counts = {}
    for spec in TABLES:
        _, rows = await client.execute_query(f'SELECT COUNT(*) AS n FROM "{spec.table}"')
        counts[spec.table] = rows[0]["n"]
    return counts


# --- generation -----------------------------------------------------------------------


def test_same_seed_gives_the_same_dataset_and_another_seed_a_different_one() -> None:
    # given two generations with the same seed and one with another
    first, second, other = generate(2020), generate(2020), generate(2021)
    # then the first two are identical, the third is not (but has the same figures)
    assert first == second
    assert first != other
    assert first.members[:50] != other.members[:50]
    assert other.counts()["compound"] == ty.COMPOUNDS
    assert other.counts()["branch"] == ty.BRANCHES


def test_ids_are_numbered_on_from_the_base_and_foreign_keys_follow() -> None:
    # when a district is generated after existing rows
    data = generate(2020, 1, {"member": 5000, "branch": 40, "party_group": 7})
    # then its keys start past them and its references use the shifted keys
    assert data.members[0].id == 5001
    assert data.branches[0].id == 41
    branch_ids = {b.id for b in data.branches}
    member_ids = {m.id for m in data.members}
    assert {m.branch_id for m in data.members} <= branch_ids
    assert {g.leader_id for g in data.party_groups} <= member_ids
    assert min(g.id for g in data.party_groups) == 8


def test_other_districts_have_the_same_shape_and_names_of_their_own() -> None:
    # given Tianyuan and the second district of a larger dataset
    tianyuan, lusong = generate(2020, 1), generate(2020, 2)
    # then the second has another name, the same figures, and no clash on global names
    assert lusong.districts[0].name == "芦淞区"
    assert len(lusong.members) == ty.MEMBERS
    assert len({c for _, c in lusong.branch_compounds}) == ty.COVERED_COMPOUNDS
    for attr in ("name", "credit_code"):
        for table in ("property_companies", "co_building_units"):
            ours = {getattr(r, attr) for r in getattr(tianyuan, table)} - {None}
            theirs = {getattr(r, attr) for r in getattr(lusong, table)} - {None}
            assert not ours & theirs, (table, attr)


@pytest.mark.usefixtures("orm")
async def test_table_specs_match_the_models() -> None:
    # the loader writes every column a model needs, under the model's column names
    by_table = {m._meta.db_table: m for m in MODELS}
    through = {
        f.through: (f.backward_key, f.forward_key)
        for m in MODELS
        for f in m._meta.fields_map.values()
        if getattr(f, "through", None)
    }
    for spec in TABLES:
        if not spec.record:
            assert set(through[spec.table]) == set(spec.columns), spec.table
            continue
        meta = by_table[spec.table]._meta
        columns = set(meta.fields_db_projection.values())
        written = set(spec.columns) | {"version", "created_at", "updated_at"}
        assert written <= columns, (spec.table, written - columns)
        required = {
            column
            for name, column in meta.fields_db_projection.items()
            if not meta.fields_map[name].null and meta.fields_map[name].default is None
        }
        assert required <= written, (spec.table, required - written)


# --- loading --------------------------------------------------------------------------


@needs_demo
async def test_loading_again_changes_nothing(demo: SeedReport) -> None:
    # given the loaded demo
    assert demo.inserted["member"] == ty.MEMBERS or demo.skipped
    before = await table_counts()
    # when it is loaded again
    again = await load_demo(scale=1)
    # then it skipped, and no table changed
    assert again.skipped
    assert again.skipped_districts == [ty.DISTRICT_NAME]
    assert sum(again.inserted.values()) == 0
    assert await table_counts() == before
    assert "跳过" in again.summary()


@needs_demo
async def test_bulk_rows_read_back_like_orm_rows() -> None:
    # search columns are what save() would store, and times are aware UTC
    for model in (District, Street, Community, Compound, Branch, PropertyCompany, CoBuildingUnit):
        for row in await model.filter(id__in=await _some_ids(model)):
            stored = row.search_text
            row.refresh_search_text()
            assert stored == row.search_text, (model.__name__, row.name)
    member = await Member.filter(**BRANCH_IN_DISTRICT).first()
    assert member is not None
    assert member.version == 1
    assert member.created_at.utcoffset() == dt.timedelta(0)
    assert member.updated_at == member.created_at
    unit = await CoBuildingUnit.get(name=ty.TRADITIONAL_UNITS["SCHOOL"])
    assert "泰山学校" in unit.search_text  # found by its Simplified name


async def _some_ids(model: type) -> list[int]:
    return list(await model.all().order_by("-id").limit(20).values_list("id", flat=True))


@pytest.mark.slow
async def test_a_second_district_loads_next_to_tianyuan(settings: Settings, tmp_path: Path) -> None:
    # given a fresh database of the session's backend
    url = await _scratch_database(settings, tmp_path)
    scratch = Settings(database_url=url)
    await migrate(scratch)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(scratch))
        # when two districts are loaded, then one more
        report = await load_demo(scale=2)
        more = await load_demo(scale=3)
        # then Tianyuan's figures hold and each district has its own
        assert report.loaded == ["天元区", "芦淞区"]
        assert more.loaded == ["荷塘区"] and more.skipped_districts == report.loaded
        for name in ("天元区", "芦淞区", "荷塘区"):
            scope = {"branch__community__street__district__name": name}
            assert await Member.filter(**scope).count() == ty.MEMBERS
        assert await Branch.filter(**IN_DISTRICT).count() == ty.BRANCHES
        assert await District.all().count() == 3
        # and new rows take ids after the loaded ones (sequences were moved on)
        district = await District.create(name="新建区")
        assert district.id == 4
    await _drop_scratch(settings, url)


async def _scratch_database(settings: Settings, tmp_path: Path) -> str:
    if settings.database_url.startswith("sqlite"):
        return f"sqlite://{tmp_path / 'scale.db'}"
    import asyncpg

    server, name = settings.database_url.rsplit("/", 1)
    scratch = f"{name}_scale"
    conn = await asyncpg.connect(f"{server}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{scratch}"')
    finally:
        await conn.close()
    return f"{server}/{scratch}"


async def _drop_scratch(settings: Settings, url: str) -> None:
    if url.startswith("sqlite"):
        return
    import asyncpg

    server, name = url.rsplit("/", 1)
    conn = await asyncpg.connect(f"{server}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


# --- geography and coverage -------------------------------------------------------------


@needs_demo
async def test_district_streets_and_communities() -> None:
    district = await District.get(name=ty.DISTRICT_NAME)
    assert district.code == "430211"
    streets = await Street.filter(district=district)
    kinds = {s.name: s.kind for s in streets}
    assert kinds == {
        "泰山路街道": StreetKind.STREET,
        "嵩山路街道": StreetKind.STREET,
        "栗雨街道": StreetKind.STREET,
        "马家河街道": StreetKind.STREET,
        "群丰镇": StreetKind.TOWN,
        "雷打石镇": StreetKind.TOWN,
        "三门镇": StreetKind.TOWN,
    }
    assert all(s.committee_name.startswith(s.name) for s in streets)
    xiaohutang = await Community.get(
        name=ty.XIAOHUTANG_COMMUNITY, street__district__name=ty.DISTRICT_NAME
    ).select_related("street")
    assert xiaohutang.street.name == "嵩山路街道"
    assert xiaohutang.is_provincial_model
    assert await Community.filter(street__district=district, is_provincial_model=True).count() == 1


@needs_demo
async def test_branches_cover_244_of_339_compounds() -> None:
    assert await Compound.filter(**IN_DISTRICT).count() == 339
    assert await Branch.filter(**IN_DISTRICT).count() == 117
    links = await Branch.filter(**IN_DISTRICT).values_list("id", "compounds__id")
    covered = {compound for _, compound in links}
    assert len(covered) == 244
    assert round(len(covered) / 339 * 100) == 72
    assert len(links) > len(covered)  # a few compounds have two branches
    sizes = Counter(branch for branch, _ in links)
    assert max(sizes.values()) == 4 and min(sizes.values()) == 1
    assert sum(1 for n in sizes.values() if n >= 2) >= 10
    # each branch belongs to the community of its compounds
    pairs = await Branch.filter(**IN_DISTRICT).values_list(
        "community_id", "compounds__community_id"
    )
    assert all(a == b for a, b in pairs)
    assert await Branch.filter(community__street__name="泰山路街道", **IN_DISTRICT).count() == 61


@needs_demo
async def test_demonstration_branches_and_stars() -> None:
    demos = await Branch.filter(**IN_DISTRICT, is_demonstration=True)
    assert len(demos) == 7
    assert all(b.star_rating == 5 for b in demos)
    stars = Counter(await Branch.filter(**IN_DISTRICT).values_list("star_rating", flat=True))
    assert set(stars) <= set(range(6)) and len(stars) >= 5
    assert all(b.instructor_name for b in await Branch.filter(**IN_DISTRICT))


@needs_demo
async def test_huachen_yuyuan_and_its_volunteer_patrol() -> None:
    compound = await Compound.get(name=ty.HUACHEN_COMPOUND, **IN_DISTRICT).select_related(
        "community__street"
    )
    assert compound.community.street.name == "泰山路街道"
    branch = await Branch.get(compounds=compound)
    assert branch.is_demonstration
    patrols = await ServiceActivity.filter(compound=compound, category=ActivityCategory.PATROL)
    assert len(patrols) >= 10
    assert {a.service_force for a in patrols} == {
        ServiceForce.VOLUNTEERS,
        ServiceForce.PARTY_MEMBERS,
    }
    assert all(a.branch_id == branch.id for a in patrols)


@needs_demo
async def test_lushanlian_the_515_method_and_the_parking_fix() -> None:
    compound = await Compound.get(name=ty.LUSHANLIAN_COMPOUND, **IN_DISTRICT).select_related(
        "community__street"
    )
    assert compound.is_old
    assert compound.community.name == "小湖塘社区"
    assert compound.community.street.name == "嵩山路街道"
    branch = await Branch.get(compounds=compound)
    assert branch.work_method == "515党建工作法" and branch.is_demonstration
    forces = await ServiceActivity.filter(compound=compound).values_list("service_force", flat=True)
    assert set(forces) == set(ServiceForce)
    parking = await ResidentRequest.filter(
        compound=compound, category=RequestCategory.PARKING, status=RequestStatus.RESOLVED
    )
    assert len(parking) >= 10
    assert all(any(m in r.resolution for m in ty.PARKING_MEASURES) for r in parking)
    for measure in ("人车分流", "增划停车区域", "车辆登记管理"):
        assert any(measure in r.resolution for r in parking), measure


# --- partners -------------------------------------------------------------------------


@needs_demo
async def test_57_property_companies_manage_the_district() -> None:
    managed = await Compound.filter(**IN_DISTRICT).values_list("property_company_id", flat=True)
    companies = {c for c in managed if c is not None}
    assert len(companies) == 57
    assert None in managed  # some compounds manage themselves
    self_managed_old = await Compound.filter(
        **IN_DISTRICT, is_old=True, property_company_id__isnull=True
    ).count()
    assert self_managed_old > 0
    for company in await PropertyCompany.filter(id__in=companies):
        assert credit_code_error(company.credit_code) is None
        assert MOBILE.match(company.contact_phone)


@needs_demo
async def test_owners_committees_party_led_and_cross_appointed() -> None:
    committees = await OwnersCommittee.filter(**COMPOUND_IN_DISTRICT)
    assert len(committees) > 100
    assert len({c.compound_id for c in committees}) == len(committees)
    assert 0 < sum(c.is_party_led for c in committees) < len(committees)
    secretaries = {
        (seat.member_id, compound)
        for seat in await CommitteeSeat.filter(**BRANCH_IN_DISTRICT, role=SeatRole.SECRETARY)
        for compound in await Branch.filter(id=seat.branch_id).values_list(
            "compounds__id", flat=True
        )
    }
    with_member = [c for c in committees if c.director_member_id]
    cross = [c for c in with_member if (c.director_member_id, c.compound_id) in secretaries]
    assert len(cross) >= 20
    assert len(with_member) > len(cross)  # other member directors are not secretaries
    assert all(c.is_party_led for c in cross)
    for committee in committees:
        assert committee.term_end is None or committee.term_end > committee.term_start


@needs_demo
async def test_co_building_units_agreements_and_meetings() -> None:
    agreements = await CoBuildingAgreement.filter(**BRANCH_IN_DISTRICT).select_related("unit")
    assert {a.unit.kind for a in agreements} == set(UnitKind)
    assert {a.status for a in agreements} == set(AgreementStatus)
    assert all(a.ends_on is None or a.ends_on > a.signed_on for a in agreements)
    units = {a.unit_id for a in agreements}
    assert len(units) == sum(ty.CO_BUILDING_UNITS.values())
    joined = await ServiceActivity.filter(**BRANCH_IN_DISTRICT, co_building_units__id__in=units)
    assert len(joined) > 100
    levels = await JointMeeting.filter(district__name=ty.DISTRICT_NAME).values_list(
        "level", flat=True
    )
    assert set(levels) == set(MeetingLevel)


# --- party organisation -----------------------------------------------------------------


@needs_demo
async def test_members_categories_statuses_and_registration() -> None:
    members = Member.filter(**BRANCH_IN_DISTRICT)
    assert await members.count() == 12_000
    categories = Counter(await members.values_list("category", flat=True))
    assert set(categories) == set(MemberCategory)
    statuses = Counter(await members.values_list("status", flat=True))
    assert statuses[MemberStatus.ACTIVE] > 0.9 * 12_000
    assert statuses[MemberStatus.TRANSFERRED] > 0 and statuses[MemberStatus.ARCHIVED] > 0
    registered = members.filter(registered_on__isnull=False)
    assert await registered.filter(status=MemberStatus.ACTIVE).count() == 1_236
    assert await registered.count() > 1_236
    assert await registered.filter(home_compound_id__isnull=True).count() == 0
    reps = set(
        await members.filter(representative__isnull=False).values_list("representative", flat=True)
    )
    assert reps == set(Representative)
    assert await members.filter(is_demonstration_post=True).count() > 100
    duties = set(
        await MemberDuty.filter(
            member__branch__community__street__district__name=ty.DISTRICT_NAME
        ).values_list("duty", flat=True)
    )
    assert duties == set(Duty)
    phones = await members.filter(phone__isnull=False).values_list("phone", flat=True)
    assert all(MOBILE.match(p) for p in phones)


@needs_demo
async def test_committee_seats_groups_and_venues() -> None:
    seats = await CommitteeSeat.filter(**BRANCH_IN_DISTRICT)
    by_branch: dict[int, list[CommitteeSeat]] = defaultdict(list)
    for seat in seats:
        by_branch[seat.branch_id].append(seat)
    assert len(by_branch) == 117
    for branch_seats in by_branch.values():
        secretaries = [s for s in branch_seats if s.role is SeatRole.SECRETARY]
        assert len(secretaries) == 1 and secretaries[0].member_id is not None
    part_time = {s.background for s in seats if s.role is SeatRole.PART_TIME_MEMBER}
    assert part_time == {
        SeatBackground.GRID_WORKER,
        SeatBackground.DOCTOR,
        SeatBackground.NURSE,
        SeatBackground.POLICE,
        SeatBackground.IN_SERVICE_MEMBER,
    }
    groups = await PartyGroup.filter(**BRANCH_IN_DISTRICT).prefetch_related("buildings")
    assert len(groups) > 117
    assert all(g.leader_id is not None and len(g.buildings) >= 1 for g in groups)
    centres = await Venue.filter(name=ty.VENUE_CENTRE, **COMPOUND_IN_DISTRICT).prefetch_related(
        "rooms", "branch"
    )
    assert len(centres) == 7
    assert all(v.branch.is_demonstration for v in centres)
    assert all({r.kind for r in v.rooms} == set(RoomKind) for v in centres)


# --- work ------------------------------------------------------------------------------


@needs_demo
async def test_1648_activities_in_2020_served_52736_residents() -> None:
    start, end = year_bounds(2020)
    in_2020 = ServiceActivity.filter(**BRANCH_IN_DISTRICT, held_at__gte=start, held_at__lt=end)
    assert await in_2020.count() == 1_648
    assert sum(await in_2020.values_list("residents_served", flat=True)) == 52_736
    # New Year's morning activities make the Shanghai year differ from the UTC one
    utc_start, utc_end = year_bounds(2020, dt.UTC)
    in_utc = ServiceActivity.filter(
        **BRANCH_IN_DISTRICT, held_at__gte=utc_start, held_at__lt=utc_end
    )
    assert await in_utc.count() == 1_648 - 3 + 1
    for year in (2019, 2021):
        start, end = year_bounds(year)
        assert (
            await ServiceActivity.filter(
                **BRANCH_IN_DISTRICT, held_at__gte=start, held_at__lt=end
            ).count()
            > 300
        )
    rows = await ServiceActivity.filter(**BRANCH_IN_DISTRICT).values_list(
        "category", "delivery_mode", "service_force"
    )
    assert {r[0] for r in rows} == set(ActivityCategory)
    assert {r[1] for r in rows} == set(DeliveryMode)
    assert {r[2] for r in rows} == set(ServiceForce)


@needs_demo
async def test_326_wechat_groups() -> None:
    sizes = await WeChatGroup.filter(**COMPOUND_IN_DISTRICT).values_list("size", flat=True)
    assert len(sizes) == 326
    assert all(0 < s <= 500 for s in sizes)


@needs_demo
async def test_1736_requests_resolved_in_2020() -> None:
    start, end = year_bounds(2020)
    requests = ResidentRequest.filter(**COMPOUND_IN_DISTRICT)
    resolved_2020 = requests.filter(
        status=RequestStatus.RESOLVED, resolved_at__gte=start, resolved_at__lt=end
    )
    assert await resolved_2020.count() == 1_736
    utc_start, utc_end = year_bounds(2020, dt.UTC)
    assert (
        await requests.filter(
            status=RequestStatus.RESOLVED, resolved_at__gte=utc_start, resolved_at__lt=utc_end
        ).count()
        == 1_736 - 3 + 1
    )
    statuses = Counter(await requests.values_list("status", flat=True))
    assert set(statuses) == set(RequestStatus)
    now = dt.datetime.now(dt.UTC)
    overdue = requests.filter(status=RequestStatus.ASSIGNED, due_at__lt=now)
    assert await overdue.count() == ty.REQUESTS_ASSIGNED_OVERDUE
    scores = await requests.filter(status=RequestStatus.RESOLVED).values_list(
        "satisfaction", flat=True
    )
    rated = [s for s in scores if s is not None]
    assert len(rated) > 0.8 * len(scores) and set(rated) <= {1, 2, 3, 4, 5}


@needs_demo
async def test_request_histories_follow_the_workflow() -> None:
    requests = await ResidentRequest.filter(**COMPOUND_IN_DISTRICT)
    events: dict[int, list[RequestEvent]] = defaultdict(list)
    for event in await RequestEvent.filter(
        request__compound__community__street__district__name=(ty.DISTRICT_NAME)
    ).order_by("id"):
        events[event.request_id].append(event)
    chain = [
        RequestStatus.COLLECTED,
        RequestStatus.ASSIGNED,
        RequestStatus.RESPONDED,
        RequestStatus.RESOLVED,
    ]
    for request in requests:
        steps = [e for e in events[request.id] if e.action is not RequestAction.RATE]
        reached = chain[: chain.index(request.status) + 1]
        assert [e.to_status for e in steps] == reached
        assert [e.from_status for e in steps] == [None, *reached[:-1]]
        times = [e.at for e in events[request.id]]
        assert times == sorted(times) and len(set(times)) == len(times)
        stamps = [
            request.collected_at,
            request.assigned_at,
            request.responded_at,
            request.resolved_at,
        ][: len(reached)]
        assert [e.at for e in steps] == stamps
        if request.status is not RequestStatus.COLLECTED:
            assert request.assignee_kind is not None and request.assignee_name
        rated = [e for e in events[request.id] if e.action is RequestAction.RATE]
        assert len(rated) == (request.satisfaction is not None)
