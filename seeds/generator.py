"""Pure, deterministic generation of one district's demo dataset (no database).

``generate(seed, district_index)`` builds every record of one district; the same
arguments always give an equal :class:`~seeds.rows.Dataset`. District 1 is Tianyuan
with the figures of :mod:`seeds.tianyuan`; other districts have the same shape under
other names. Primary keys are numbered from ``id_base`` (the loader passes the current
maximum of each table), so foreign keys are final and nothing is read back.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Mapping

from hub.enums import (
    AgreementStatus,
    Duty,
    Gender,
    MemberCategory,
    MemberStatus,
    Representative,
    SeatBackground,
    SeatRole,
    UnitKind,
)
from hub.search import fold
from seeds import names, resident_requests, work
from seeds import tianyuan as ty
from seeds.names import day_in, person_name, search_column
from seeds.rows import (
    BranchRow,
    BuildingRow,
    CoBuildingAgreementRow,
    CoBuildingUnitRow,
    CommitteeSeatRow,
    CommunityRow,
    CompoundRow,
    Dataset,
    DistrictRow,
    MemberDutyRow,
    MemberRow,
    OwnersCommitteeRow,
    PartyGroupRow,
    PropertyCompanyRow,
    StreetRow,
)
from seeds.world import Ids, World, allocate, district_profile, numeral, spread

DEFAULT_SEED = 2020
NEW, OLD, TOWN = "new", "old", "town"


def generate(
    seed: int = DEFAULT_SEED, district_index: int = 1, id_base: Mapping[str, int] | None = None
) -> Dataset:
    """Every record of district ``district_index`` (1 = Tianyuan) for this seed."""
    rng = random.Random(f"linju-demo:{seed}:{district_index}")
    world = World(rng, district_profile(district_index, rng), Ids(id_base))
    _geography(world)
    _property_companies(world)
    _buildings(world)
    _party_groups(world)
    _members(world)
    _committee_seats(world)
    _owners_committees(world)
    _co_building(world)
    work.populate(world)
    resident_requests.populate(world)
    return world.data


# --- geography and branches -----------------------------------------------------------


def _geography(w: World) -> None:
    rng, p, d = w.rng, w.profile, w.data
    w.district_id = w.ids("district")
    d.districts.append(DistrictRow(w.district_id, p.name, p.code, search_column(p.name)))
    # slots: (community id, kind, role); role "patrol" / "method" marks the featured compounds
    slots: list[tuple[int, str, str | None]] = []
    plans: list[tuple[int, int, list[int], bool]] = []  # community, branches, covered, featured
    extra_demos: list[list[int]] = []
    for s_index, plan in enumerate(p.streets):
        street_id = w.ids("street")
        d.streets.append(
            StreetRow(
                street_id,
                w.district_id,
                plan.name,
                plan.kind,
                plan.committee_name,
                search_column(plan.name),
            )
        )
        n = len(plan.communities)
        branches = spread(rng, plan.branches, [1] * n)
        # A featured compound's branch covers it alone: its community has less room.
        caps = [3 * b - (2 if i == 0 and s_index < 2 else 0) for i, b in enumerate(branches)]
        covered = spread(rng, plan.covered, branches, caps)
        compounds = spread(rng, plan.compounds, covered)
        street_communities = []
        for c_index, c_name in enumerate(plan.communities):
            community_id = w.ids("community")
            featured = c_index == 0 and s_index in (0, 1)
            d.communities.append(
                CommunityRow(
                    community_id,
                    street_id,
                    c_name,
                    featured and s_index == 1,
                    search_column(c_name),
                )
            )
            w.street_of_community[community_id] = street_id
            covered_at = set(rng.sample(range(1, compounds[c_index]), covered[c_index] - 1))
            first = len(slots)
            for k in range(compounds[c_index]):
                role = None
                if featured and k == 0:
                    kind, role = (NEW, "patrol") if s_index == 0 else (OLD, "method")
                elif plan.kind.value == "TOWN":
                    kind = rng.choices((TOWN, OLD, NEW), (55, 25, 20))[0]
                else:
                    kind = rng.choices((OLD, NEW), (27, 73))[0]
                slots.append((community_id, kind, role))
            cov = [first + k for k in range(compounds[c_index]) if k == 0 or k in covered_at]
            plans.append((community_id, branches[c_index], cov, featured))
            street_communities.append(len(plans) - 1)
        extra = ty.EXTRA_DEMONSTRATIONS.get(ty.STREETS[s_index].name, 0)
        extra_demos.append([extra, *street_communities])

    slot_ids = _compounds(w, slots)
    _branches(w, plans, slot_ids, extra_demos)


def _compounds(w: World, slots: list[tuple[int, str, str | None]]) -> list[int]:
    rng, p = w.rng, w.profile
    fixed_names = {"patrol": p.patrol_compound, "method": p.method_compound}
    fixed = [name for name in fixed_names.values() if name]
    count = {
        k: sum(1 for s in slots if s[1] == k)
        - sum(1 for s in slots if s[1] == k and s[2] and fixed_names[s[2]])
        for k in (NEW, OLD, TOWN)
    }
    new, old, town = names.compound_names(rng, count[NEW], count[OLD], count[TOWN], fixed)
    pools = {NEW: new, OLD: old, TOWN: town}
    roads = {}
    for street, plan in zip(w.data.streets, p.streets, strict=True):
        roads[street.id] = plan.roads
    ids = []
    for community_id, kind, role in slots:
        fixed_name = fixed_names[role] if role else None
        name = fixed_name or pools[kind].pop()
        if kind == NEW:
            households = min(2600, max(120, int(rng.lognormvariate(6.5, 0.5))))
            built = rng.randint(2001, 2019)
        elif kind == OLD:
            households = min(420, max(40, int(rng.lognormvariate(5.0, 0.5))))
            built = rng.randint(1978, 1999)
        else:
            households = min(800, max(60, int(rng.lognormvariate(5.5, 0.4))))
            built = rng.randint(2006, 2018)
        if role == "patrol":
            households, built = 1260, 2012
        elif role == "method":
            households, built = 436, 1996
        road = rng.choice(roads[w.street_of_community[community_id]])
        address = f"{ty.CITY}{p.name}{road}{rng.randint(1, 888)}号"
        row = CompoundRow(
            w.ids("compound"),
            community_id,
            name,
            address,
            households,
            built,
            kind == OLD,
            None,
            search_column(name),
        )
        w.data.compounds.append(row)
        w.compounds[row.id] = row
        ids.append(row.id)
        if role == "patrol":
            w.patrol_compound_id = row.id
        elif role == "method":
            w.method_compound_id = row.id
    return ids


def _branches(
    w: World,
    plans: list[tuple[int, int, list[int], bool]],
    slot_ids: list[int],
    extra_demos: list[list[int]],
) -> None:
    rng = w.rng
    by_community: dict[int, list[list[int]]] = {}
    for community_id, n_branches, cov, featured in plans:
        compounds = [slot_ids[i] for i in cov]
        head, rest = compounds[:1], rng.sample(compounds[1:], len(compounds) - 1)
        ordered = head + rest
        caps = [1 if featured and i == 0 else 4 for i in range(n_branches)]
        sizes = spread(rng, len(ordered), [1] * n_branches, caps)
        groups, start = [], 0
        for size in sizes:
            groups.append(ordered[start : start + size])
            start += size
        by_community[community_id] = groups
    # A few compounds are also covered by a neighbouring branch of the same community.
    candidates = [
        (community_id, i, j)
        for community_id, groups in by_community.items()
        for i in range(1, len(groups))
        for j in range(1, len(groups))
        if i != j and len(groups[i]) < 4
    ]
    shared: list[tuple[int, int, int]] = []
    used: set[int] = set()
    for community_id, i, j in rng.sample(candidates, len(candidates)):
        if len(shared) == ty.SHARED_COMPOUNDS:
            break
        if community_id in used:
            continue
        used.add(community_id)
        shared.append((community_id, i, j))

    plan_index = {plan[0]: k for k, plan in enumerate(plans)}
    demos = _pick_demonstrations(w, plans, by_community, extra_demos)
    for community_id, groups in by_community.items():
        featured = plans[plan_index[community_id]][3]
        for i, compounds in enumerate(groups):
            branch_id = w.ids("branch")
            names_ = [w.compounds[c].name for c in compounds]
            extra = [groups[j][0] for (cid, bi, j) in shared if cid == community_id and bi == i]
            is_demo = (community_id, i) in demos
            founded = _founded(rng, is_demo)
            method = ""
            if featured and i == 0:
                is_method = compounds[0] == w.method_compound_id
                method = ty.METHOD_515 if is_method else "红马甲巡逻工作法"
            elif is_demo or rng.random() < 0.1:
                method = rng.choice(WORK_METHODS)
            name = _branch_name(names_)
            row = BranchRow(
                branch_id,
                community_id,
                name,
                person_name(rng),
                5 if is_demo else _stars(rng),
                is_demo,
                method,
                founded,
                search_column(name),
            )
            w.data.branches.append(row)
            w.branches[branch_id] = row
            w.branch_compounds[branch_id] = compounds + extra
            for compound_id in compounds + extra:
                w.data.branch_compounds.append((branch_id, compound_id))
                w.covered[compound_id].append(branch_id)


WORK_METHODS = (
    "五心服务工作法",
    "邻里议事六步法",
    "党员积分管理法",
    "楼栋微治理工作法",
    "连心卡走访法",
    "红色物业共建法",
)


def _pick_demonstrations(
    w: World,
    plans: list[tuple[int, int, list[int], bool]],
    by_community: dict[int, list[list[int]]],
    extra_demos: list[list[int]],
) -> set[tuple[int, int]]:
    demos: set[tuple[int, int]] = set()
    for extra, *plan_indexes in extra_demos:
        pool = [
            (plans[k][0], i)
            for k in plan_indexes
            for i in range(len(by_community[plans[k][0]]))
            if not (plans[k][3] and i == 0)
        ]
        demos.update(w.rng.sample(pool, extra))
        demos.update((plans[k][0], 0) for k in plan_indexes if plans[k][3])
    return demos


def _branch_name(compound_names: list[str]) -> str:
    first = compound_names[0]
    if len(compound_names) > 1:
        return f"{first}片区联合党支部"
    return (
        f"{first}党支部"
        if first.endswith(("小区", "新村", "宿舍", "生活区"))
        else f"{first}小区党支部"
    )


def _founded(rng: random.Random, is_demo: bool) -> dt.date:
    if is_demo:
        return day_in(rng, dt.date(2019, 3, 1), dt.date(2019, 9, 30))
    year = rng.choices((2018, 2019, 2020), (10, 20, 70))[0]
    return day_in(rng, dt.date(year, 1, 10), dt.date(year, 10, 31))


def _stars(rng: random.Random) -> int:
    return rng.choices(range(6), (8, 12, 25, 30, 20, 5))[0]


# --- property companies and buildings -------------------------------------------------


def _property_companies(w: World) -> None:
    rng, p = w.rng, w.profile
    companies = []
    for brand in names.brands(rng, ty.PROPERTY_COMPANIES):
        name = rng.choice(names.COMPANY_FORMS).format(short=p.short, brand=brand)
        row = PropertyCompanyRow(
            w.ids("property_company"),
            name,
            names.credit_code(rng, "91", p.code, w.credit_codes),
            person_name(rng),
            names.mobile(rng),
            rng.random() < 0.6,
            rng.random() < 0.95,
            search_column(name),
        )
        companies.append(row)
        w.companies[row.id] = row
    w.data.property_companies.extend(companies)
    # Old compounds are often self-managed; every company manages at least one compound.
    managed = [
        c
        for c in w.data.compounds
        if c.id == w.method_compound_id
        or rng.random() < (0.45 if c.is_old else 0.7 if _is_town(c) else 1.0)
    ]
    managed = rng.sample(managed, len(managed))
    weights = [rng.paretovariate(1.3) for _ in companies]
    for k, compound in enumerate(managed):
        company = companies[k] if k < len(companies) else rng.choices(companies, weights)[0]
        compound.property_company_id = company.id


def _is_town(compound: CompoundRow) -> bool:
    return compound.name.endswith(names.TOWN_COMPOUND_TAILS)


def _buildings(w: World) -> None:
    rng = w.rng
    for compound in w.data.compounds:
        if compound.is_old:
            per, floors = rng.randint(24, 48), (5, 7)
        elif _is_town(compound):
            per, floors = rng.randint(20, 40), (3, 6)
        else:
            per, floors = rng.randint(60, 160), (11, 33)
        count = min(40, max(1, round(compound.households / per)))
        for k, households in enumerate(allocate(compound.households, [1.0] * count), start=1):
            row = BuildingRow(
                w.ids("building"),
                compound.id,
                f"{k}栋",
                rng.randint(*floors),
                households,
                "",
                None,
            )
            w.data.buildings.append(row)
            w.buildings_of[compound.id].append(row)


def _party_groups(w: World) -> None:
    """楼栋党小组: the first branch covering a compound groups its buildings."""
    rng = w.rng
    for branch_id, compounds in w.branch_compounds.items():
        for compound_id in compounds:
            if w.branch_of(compound_id) != branch_id:
                continue
            buildings = w.buildings_of[compound_id]
            count = min(6, len(buildings), max(1, round(len(buildings) / rng.uniform(1.5, 3.5))))
            start = 0
            for k, size in enumerate(allocate(len(buildings), [1.0] * count), start=1):
                group_id = w.ids("party_group")
                name = f"{w.compounds[compound_id].name}第{numeral(k)}党小组"
                w.data.party_groups.append(PartyGroupRow(group_id, branch_id, name, None))
                w.groups_of[compound_id].append((group_id, branch_id))
                for building in buildings[start : start + size]:
                    w.data.party_group_buildings.append((group_id, building.id))
                start += size


# --- members ----------------------------------------------------------------------------

CATEGORY_WEIGHTS = {
    MemberCategory.DIRECT: 34,
    MemberCategory.IN_SERVICE: 27,
    MemberCategory.RETIRED: 31,
    MemberCategory.FLOATING: 8,
}
BIRTH_YEARS = {
    MemberCategory.DIRECT: (1945, 1998),
    MemberCategory.IN_SERVICE: (1965, 1996),
    MemberCategory.RETIRED: (1938, 1962),
    MemberCategory.FLOATING: (1970, 1999),
}
STATUS_WEIGHTS = {
    MemberStatus.ACTIVE: 955,
    MemberStatus.TRANSFERRED: 25,
    MemberStatus.ARCHIVED: 12,
    MemberStatus.DECEASED: 8,
}
AGENCY_SUFFIXES = ("人民政府办公室", "委组织部", "发展和改革局", "民政局", "财政局", "卫生健康局")


def _members(w: World) -> None:
    rng, d = w.rng, w.data
    branch_ids = list(w.branch_compounds)
    weights = []
    for branch_id in branch_ids:
        households = sum(
            w.compounds[c].households / len(w.covered[c]) for c in w.branch_compounds[branch_id]
        )
        weights.append(households**0.85 * (1.6 if w.branches[branch_id].is_demonstration else 1))
    counts = allocate(ty.MEMBERS, weights, minimum=30)
    categories = list(CATEGORY_WEIGHTS)
    category_weights = list(itertools.accumulate(CATEGORY_WEIGHTS.values()))
    statuses = list(STATUS_WEIGHTS)
    status_weights = list(itertools.accumulate(STATUS_WEIGHTS.values()))
    for branch_id, count in zip(branch_ids, counts, strict=True):
        compounds = w.branch_compounds[branch_id]
        sizes = [w.compounds[c].households for c in compounds]
        members = w.members_of[branch_id] = []
        for _ in range(count):
            category = rng.choices(categories, cum_weights=category_weights)[0]
            status = rng.choices(statuses, cum_weights=status_weights)[0]
            gender = Gender.MALE if rng.random() < 0.58 else Gender.FEMALE
            name = person_name(rng, gender)
            born = day_in(
                rng,
                dt.date(BIRTH_YEARS[category][0], 1, 1),
                dt.date(BIRTH_YEARS[category][1], 12, 31),
            )
            joined = min(
                dt.date(2020, 6, 30),
                born + dt.timedelta(days=rng.randint(18 * 366, 40 * 365)),
            )
            home = None
            if category is not MemberCategory.FLOATING or rng.random() < 0.6:
                home = rng.choices(compounds, sizes)[0]
            group = None
            groups = [g for g, b in w.groups_of.get(home, ()) if b == branch_id] if home else []
            if groups and rng.random() < 0.9:
                group = rng.choice(groups)
            work_unit = None
            if category is MemberCategory.IN_SERVICE:
                if rng.random() < 0.3:
                    work_unit = w.profile.name + rng.choice(AGENCY_SUFFIXES)
                else:
                    work_unit = rng.choice(names.WORK_UNITS)
            row = MemberRow(
                w.ids("member"),
                name,
                gender,
                born,
                names.mobile(rng) if rng.random() < 0.92 else None,
                category,
                status,
                branch_id,
                group,
                home,
                work_unit,
                joined,
                status is MemberStatus.ACTIVE and rng.random() < 0.04,
                None,
                None,
                search_column(name),
            )
            members.append(row)
            d.members.append(row)
            if home is not None and status is MemberStatus.ACTIVE:
                w.residents_of[home].append(row)
    _registrations(w)
    _duties(w)
    _leaders_and_heads(w)


def _registrations(w: World) -> None:
    """两代表一委员 and in-service members registered in their home compound (2020)."""
    rng = w.rng
    active = [m for m in w.data.members if m.status is MemberStatus.ACTIVE and m.home_compound_id]
    settled = [m for m in active if m.category is not MemberCategory.FLOATING]
    picked = rng.sample(settled, sum(ty.REPRESENTATIVES.values()))
    start = 0
    for kind, count in ty.REPRESENTATIVES.items():
        for member in picked[start : start + count]:
            member.representative = Representative(kind)
        start += count
    in_service = [
        m for m in active if m.category is MemberCategory.IN_SERVICE and m.representative is None
    ]
    registered = picked + rng.sample(in_service, ty.REGISTERED_MEMBERS - len(picked))
    inactive = [
        m for m in w.data.members if m.status is not MemberStatus.ACTIVE and m.home_compound_id
    ]
    for member in registered + rng.sample(inactive, ty.REGISTERED_INACTIVE):
        member.registered_on = day_in(rng, dt.date(2020, 3, 1), dt.date(2020, 12, 15))


def _duties(w: World) -> None:
    rng, duties = w.rng, list(Duty)
    for member in w.data.members:
        if member.status is not MemberStatus.ACTIVE:
            continue
        if member.category is MemberCategory.FLOATING:
            continue
        draw = rng.random()
        count = 2 if draw < 0.10 else 1 if draw < 0.45 else 0
        for duty in rng.sample(duties, count):
            w.data.member_duties.append(MemberDutyRow(w.ids("member_duty"), member.id, duty))


def _leaders_and_heads(w: World) -> None:
    rng = w.rng
    in_group: dict[int, list[MemberRow]] = {}
    for member in w.data.members:
        if member.party_group_id and member.status is MemberStatus.ACTIVE:
            in_group.setdefault(member.party_group_id, []).append(member)
    for group in w.data.party_groups:
        pool = in_group.get(group.id) or w.active_members(group.branch_id)
        group.leader_id = rng.choice(pool).id
    for compound_id, buildings in w.buildings_of.items():
        residents = w.residents_of.get(compound_id, [])
        for building in buildings:
            if residents and rng.random() < 0.35:
                head = rng.choice(residents)
                building.head_name, building.head_member_id = head.name, head.id
            else:
                building.head_name = person_name(rng)


PART_TIME_BACKGROUNDS = (
    SeatBackground.GRID_WORKER,
    SeatBackground.DOCTOR,
    SeatBackground.NURSE,
    SeatBackground.POLICE,
    SeatBackground.IN_SERVICE_MEMBER,
)


def _committee_seats(w: World) -> None:
    """支委: a secretary, usually a deputy and members; part-time members from outside."""
    rng = w.rng
    cycle = 0  # part-time backgrounds take turns, so every one of them appears
    for branch_id, branch in w.branches.items():
        pool = rng.sample(w.active_members(branch_id), 8)
        resident = SeatBackground.RESIDENT_MEMBER
        secretary = w.secretary_of[branch_id] = pool[0]
        staff = rng.random() < 0.3
        seats: list[tuple[SeatRole, SeatBackground, MemberRow | str]] = [
            (SeatRole.SECRETARY, SeatBackground.COMMUNITY_STAFF if staff else resident, secretary)
        ]
        if branch.is_demonstration or rng.random() < 0.75:
            seats.append((SeatRole.DEPUTY_SECRETARY, resident, pool[1]))
        count = 3 if branch.is_demonstration else rng.randint(1, 3)
        seats += [(SeatRole.COMMITTEE_MEMBER, resident, m) for m in pool[2 : 2 + count]]
        part_time = 3 if branch.is_demonstration else rng.choices(range(4), (25, 35, 25, 15))[0]
        seated = {m.id for m in pool}
        for _ in range(part_time):
            background = PART_TIME_BACKGROUNDS[cycle % len(PART_TIME_BACKGROUNDS)]
            cycle += 1
            member: MemberRow | None = None
            if background is SeatBackground.IN_SERVICE_MEMBER:
                options = [
                    m
                    for m in w.active_members(branch_id)
                    if m.category is MemberCategory.IN_SERVICE and m.id not in seated
                ]
                member = rng.choice(options) if options else None
            seats.append((SeatRole.PART_TIME_MEMBER, background, member or person_name(rng)))
        for role, background, holder in seats:
            name, member_id = (
                (holder, None) if isinstance(holder, str) else (holder.name, holder.id)
            )
            w.data.committee_seats.append(
                CommitteeSeatRow(
                    w.ids("committee_seat"),
                    branch_id,
                    role,
                    background,
                    name,
                    member_id,
                    branch.founded_on,
                )
            )


# --- owners' committees and co-building -------------------------------------------------


def _owners_committees(w: World) -> None:
    rng = w.rng
    secretaries = {m.id for m in w.secretary_of.values()}
    featured = {w.patrol_compound_id, w.method_compound_id}
    for compound in w.data.compounds:
        if compound.is_old:
            chance = 0.28
        elif _is_town(compound):
            chance = 0.2
        else:
            chance = 0.72 if compound.households >= 200 else 0.4
        if compound.id not in featured and rng.random() >= chance:
            continue
        covering = w.covered.get(compound.id, [])
        party_led = rng.random() < (0.55 if covering else 0.15)
        director_name, director = person_name(rng), None
        if covering and (compound.id in featured or rng.random() < 0.24):
            # 交叉任职: the secretary of a covering branch directs the committee.
            director = w.secretary_of[rng.choice(covering)]
            party_led = True
        elif rng.random() < 0.15:
            residents = [m for m in w.residents_of.get(compound.id, []) if m.id not in secretaries]
            director = rng.choice(residents) if residents else None
        if director is not None:
            director_name = director.name
        start = day_in(rng, dt.date(2016, 1, 1), dt.date(2020, 10, 31))
        row = OwnersCommitteeRow(
            w.ids("owners_committee"),
            compound.id,
            director_name,
            director.id if director else None,
            party_led,
            start,
            start + dt.timedelta(days=5 * 365),
            rng.choice((5, 5, 7, 7, 9)),
        )
        w.data.owners_committees.append(row)
        w.committee_of[compound.id] = row


UNIT_PREFIX = {
    UnitKind.ENTERPRISE: "91",
    UnitKind.PUBLIC_INSTITUTION: "12",
    UnitKind.AGENCY: "11",
    UnitKind.SCHOOL: "12",
    UnitKind.HOSPITAL: "12",
    UnitKind.SOCIAL_ORGANISATION: "52",
}
COMMITMENTS = (
    "每季度组织职工志愿者进小区服务不少于一次",
    "结对帮扶小区困难党员和困难群众",
    "开放单位停车场夜间供小区居民错时停车",
    "参与小区环境卫生整治和文明创建",
    "为小区居民提供免费健康体检和义诊服务",
    "选派在职党员担任小区兼职委员",
)
RESOURCES = (
    "场地：单位会议室、活动室按需开放",
    "人员：在职党员志愿服务队",
    "资金：每年共建经费",
    "设备：便民服务器材、图书",
    "专业服务：法律咨询、医疗健康、心理疏导",
)


def _co_building(w: World) -> None:
    rng, p = w.rng, w.profile
    traditional = ty.TRADITIONAL_UNITS if p.index == 1 else {}
    folded = {fold(name) for name in traditional.values()}
    roads = [road for plan in p.streets for road in plan.roads]
    units: list[CoBuildingUnitRow] = []
    for kind_name, count in ty.CO_BUILDING_UNITS.items():
        kind = UnitKind(kind_name)
        templates = names.UNIT_TEMPLATES[kind_name]
        chosen = [traditional[kind_name]] if kind_name in traditional else []
        for attempt in range(1000):
            if len(chosen) == count:
                break
            # Each template once, in order; then the ones with a road or brand vary.
            template = templates[attempt] if attempt < len(templates) else rng.choice(templates)
            brand = names.brands(rng, 1)[0]
            name = template.format(
                district=p.name,
                short=p.short,
                brand=brand,
                road=rng.choice(roads).removesuffix("路"),
            )
            if name not in chosen and fold(name) not in folded:
                chosen.append(name)
        else:
            raise ValueError(f"not enough {kind_name} unit names")
        for name in chosen:
            code = None
            if rng.random() < 0.9:
                code = names.credit_code(rng, UNIT_PREFIX[kind], p.code, w.credit_codes)
            address = f"{ty.CITY}{p.name}{rng.choice(roads)}{rng.randint(1, 888)}号"
            units.append(
                CoBuildingUnitRow(
                    w.ids("co_building_unit"),
                    name,
                    kind,
                    code,
                    address,
                    person_name(rng),
                    names.mobile(rng),
                    search_column(name),
                )
            )
    w.data.co_building_units.extend(units)
    _agreements(w, units)


# status → (earliest signing, latest signing, shortest and longest term in years)
AGREEMENT_TERMS = {
    AgreementStatus.ACTIVE: (dt.date(2019, 7, 1), dt.date(2021, 3, 31), 2, 3),
    AgreementStatus.EXPIRED: (dt.date(2018, 1, 1), dt.date(2019, 6, 30), 1, 2),
    AgreementStatus.TERMINATED: (dt.date(2018, 6, 1), dt.date(2020, 6, 30), 3, 3),
    AgreementStatus.DRAFT: (dt.date(2021, 3, 1), dt.date(2021, 6, 30), 2, 2),
}


def _agreements(w: World, units: list[CoBuildingUnitRow]) -> None:
    rng = w.rng
    branch_ids = list(w.branches)
    statuses = list(AGREEMENT_TERMS)
    for k, unit in enumerate(units):
        for branch_id in rng.sample(branch_ids, rng.randint(1, 4)):
            # The first units take every status once; then mostly active or expired.
            status = statuses[k] if k < len(statuses) else rng.choices(statuses, (62, 26, 7, 5))[0]
            first, last, shortest, longest = AGREEMENT_TERMS[status]
            signed = day_in(rng, first, last)
            ends: dt.date | None = signed + dt.timedelta(days=365 * rng.randint(shortest, longest))
            if status is AgreementStatus.DRAFT and rng.random() < 0.5:
                ends = None
            branch = w.branches[branch_id]
            w.data.co_building_agreements.append(
                CoBuildingAgreementRow(
                    w.ids("co_building_agreement"),
                    unit.id,
                    branch_id,
                    f"{unit.name}与{branch.name}共建协议"[:100],
                    signed,
                    ends,
                    "；".join(rng.sample(COMMITMENTS, rng.randint(2, 3))),
                    "\n".join(rng.sample(RESOURCES, rng.randint(2, 3))),
                    status,
                )
            )
            if status is not AgreementStatus.DRAFT:
                w.units_of[branch_id].append(unit.id)
