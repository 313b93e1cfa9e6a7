"""Service and governance work of a generated district: venues, activities, WeChat
groups, joint meetings, and resident requests with their workflow history."""

from __future__ import annotations

import datetime as dt
import random

from hub.enums import ActivityCategory, DeliveryMode, MeetingLevel, RoomKind, ServiceForce
from seeds import tianyuan as ty
from seeds.names import day_in, new_year_morning, person_name, year_instant
from seeds.rows import (
    JointMeetingRow,
    ServiceActivityRow,
    VenueRoomRow,
    VenueRow,
    WeChatGroupRow,
)
from seeds.world import World, allocate, numeral


def populate(w: World) -> None:
    _venues(w)
    _activities(w)
    _wechat_groups(w)
    _joint_meetings(w)


# --- venues -----------------------------------------------------------------------------

OTHER_VENUES = ("党群服务站", "党员活动室", "邻里议事厅", "红色驿站")


def _venues(w: World) -> None:
    rng, d = w.rng, w.data
    for branch_id, branch in w.branches.items():
        if not branch.is_demonstration and rng.random() >= 0.85:
            continue
        # A branch's first compound is its own (shared ones come last): names stay unique.
        compound = w.compounds[w.branch_compounds[branch_id][0]]
        if branch.is_demonstration:
            name, kinds, area = ty.VENUE_CENTRE, list(RoomKind), rng.randint(300, 800)
        else:
            name = compound.name + rng.choice(OTHER_VENUES)
            others = [k for k in RoomKind if k is not RoomKind.BRANCH_OFFICE]
            kinds = [RoomKind.BRANCH_OFFICE, *rng.sample(others, rng.randint(0, 2))]
            area = rng.randint(30, 200)
        founded = branch.founded_on or dt.date(2020, 1, 1)
        venue = VenueRow(
            w.ids("venue"),
            name,
            compound.id,
            branch_id,
            compound.address,
            area,
            founded + dt.timedelta(days=rng.randint(10, 120)),
        )
        d.venues.append(venue)
        w.venue_of[branch_id] = (venue.id, compound.id)
        for kind in kinds:
            d.venue_rooms.append(VenueRoomRow(w.ids("venue_room"), venue.id, kind, kind.label))


# --- service activities -----------------------------------------------------------------

TITLES: dict[ActivityCategory, tuple[str, ...]] = {
    ActivityCategory.ENVIRONMENT: ("环境卫生大扫除", "楼道杂物清理行动", "垃圾分类宣传督导"),
    ActivityCategory.CLINIC: ("健康义诊进小区", "老年人免费体检", "家庭医生上门巡诊"),
    ActivityCategory.PATROL: ("红马甲义务巡逻", "平安小区夜间巡逻", "节前安全隐患巡查"),
    ActivityCategory.LEGAL_ADVICE: ("法律咨询进小区", "民法典宣讲会", "防范电信诈骗讲座"),
    ActivityCategory.EARLY_EDUCATION: ("亲子早教课堂", "绘本共读时光", "亲子手工坊"),
    ActivityCategory.TAILORING: ("裁缝修补便民服务", "义务缝补衣物", "家电小修便民摊"),
    ActivityCategory.DAY_CARE: ("老年人日间照料", "独居老人上门探访", "助餐送餐服务"),
    ActivityCategory.AFTER_SCHOOL: ("四点半课堂", "青苗呵护作业辅导", "暑期托管班"),
    ActivityCategory.POLICY_PROMOTION: ("政策宣传角开讲", "党的二十大精神宣讲", "医保政策宣传"),
    ActivityCategory.CULTURE: ("邻里文化节", "广场舞联谊", "重阳节敬老活动"),
}
# The five services of the 515 method at 庐山恋, by service force.
SERVICES_515: tuple[tuple[ServiceForce, ActivityCategory, str], ...] = (
    (ServiceForce.PARTY_MEMBERS, ActivityCategory.DAY_CARE, "党员连心：连心卡走访"),
    (ServiceForce.PROPERTY_COMPANY, ActivityCategory.TAILORING, "居家便民：便民维修服务"),
    (ServiceForce.OWNERS_COMMITTEE, ActivityCategory.LEGAL_ADVICE, "邻里和谐：邻里议事调解"),
    (ServiceForce.VOLUNTEERS, ActivityCategory.AFTER_SCHOOL, "青苗呵护：四点半课堂"),
    (ServiceForce.GRID_WORKERS, ActivityCategory.CULTURE, "文化生活：邻里文化节"),
)
PATROL = ActivityCategory.PATROL
CATEGORY_WEIGHTS = (18, 10, 14, 6, 6, 5, 9, 10, 10, 12)
SERVED = {  # typical residents served per activity
    ActivityCategory.ENVIRONMENT: 35,
    ActivityCategory.CLINIC: 45,
    ActivityCategory.PATROL: 20,
    ActivityCategory.LEGAL_ADVICE: 30,
    ActivityCategory.EARLY_EDUCATION: 20,
    ActivityCategory.TAILORING: 18,
    ActivityCategory.DAY_CARE: 15,
    ActivityCategory.AFTER_SCHOOL: 25,
    ActivityCategory.POLICY_PROMOTION: 45,
    ActivityCategory.CULTURE: 60,
}
FEATURED_ACTIVITIES = {2019: (4, 5), 2020: (16, 20), 2021: (6, 5)}  # (patrol, 515) per year


def _activities(w: World) -> None:
    rng = w.rng
    targets = {2019: ty.ACTIVITIES_2019, 2020: ty.ACTIVITIES_2020, 2021: ty.ACTIVITIES_2021}
    patrol_branch = w.branch_of(w.patrol_compound_id)
    method_branch = w.branch_of(w.method_compound_id)
    assert patrol_branch is not None and method_branch is not None
    branch_ids = list(w.branches)
    weights = [
        len(w.members_of[b]) * (3 if w.branches[b].is_demonstration else 1) for b in branch_ids
    ]
    for year, total in targets.items():
        plans: list[tuple[int, int | None, ActivityCategory, ServiceForce | None, str]] = []
        patrols, method = FEATURED_ACTIVITIES[year]
        for k in range(patrols):
            force = ServiceForce.VOLUNTEERS if k % 2 else ServiceForce.PARTY_MEMBERS
            plans.append(
                (
                    patrol_branch,
                    w.patrol_compound_id,
                    ActivityCategory.PATROL,
                    force,
                    "红马甲义务巡逻",
                )
            )
        for k in range(method):
            force, category, title = SERVICES_515[k % len(SERVICES_515)]
            plans.append((method_branch, w.method_compound_id, category, force, title))
        generic = 0  # the first generic activities take every category in turn
        for k, count in enumerate(allocate(total - len(plans), weights)):
            for _ in range(count):
                plans.append((branch_ids[k], None, _category(rng, generic), None, ""))
                generic += 1
        rows = [_activity(w, year, *plan, forced=i) for i, plan in enumerate(plans)]
        rows.sort(key=lambda row: row.held_at)
        # A few on New Year's morning: the previous year in UTC, this year in Shanghai.
        for row in rows[: ty.NEW_YEAR_MORNING[year]]:
            row.held_at = new_year_morning(rng, year)
        if year == 2020:
            _exact_served(rng, rows, ty.RESIDENTS_SERVED_2020)
        for row in rows:
            w.data.service_activities.append(row)


def _category(rng: random.Random, k: int) -> ActivityCategory:
    categories = list(ActivityCategory)
    if k < len(categories):
        return categories[k]
    return rng.choices(categories, CATEGORY_WEIGHTS)[0]


def _activity(
    w: World,
    year: int,
    branch_id: int,
    compound_id: int | None,
    category: ActivityCategory,
    force: ServiceForce | None,
    title: str,
    *,
    forced: int,
) -> ServiceActivityRow:
    rng = w.rng
    if compound_id is None:
        compound_id = rng.choice(w.branch_compounds[branch_id])
    if force is None and compound_id == w.patrol_compound_id and category is PATROL:
        force = rng.choice((ServiceForce.VOLUNTEERS, ServiceForce.PARTY_MEMBERS))
    if force is None:
        force = _force(w, compound_id)
    modes = list(DeliveryMode)
    mode = modes[forced] if forced < len(modes) else rng.choices(modes, (40, 30, 30))[0]
    venue_id = None
    if branch_id in w.venue_of and w.venue_of[branch_id][1] == compound_id and rng.random() < 0.6:
        venue_id = w.venue_of[branch_id][0]
    served = max(1, int(rng.gauss(SERVED[category], SERVED[category] / 3)))
    compound = w.compounds[compound_id].name
    row = ServiceActivityRow(
        w.ids("service_activity"),
        title or rng.choice(TITLES[category]),
        branch_id,
        compound_id,
        venue_id,
        category,
        mode,
        force,
        year_instant(rng, year),
        served,
        f"{compound}{force.label}开展{category.label}服务（{mode.label}）。",
    )
    members = w.active_members(branch_id)
    count = rng.randint(4, 12) if force is ServiceForce.PARTY_MEMBERS else rng.randint(1, 6)
    for member in rng.sample(members, min(count, len(members))):
        w.data.activity_participants.append((row.id, member.id))
    units = w.units_of.get(branch_id)
    if units and rng.random() < 0.3:
        for unit_id in rng.sample(sorted(set(units)), min(len(set(units)), rng.randint(1, 2))):
            w.data.activity_units.append((row.id, unit_id))
    return row


def _force(w: World, compound_id: int) -> ServiceForce:
    """Any service force the compound has (no property company, no 物业公司 force)."""
    forces = list(ServiceForce)
    weights = [40, 15, 10, 10, 25]
    compound = w.compounds[compound_id]
    if compound.property_company_id is None:
        weights[forces.index(ServiceForce.PROPERTY_COMPANY)] = 0
    if compound_id not in w.committee_of:
        weights[forces.index(ServiceForce.OWNERS_COMMITTEE)] = 0
    return w.rng.choices(forces, weights)[0]


def _exact_served(rng: random.Random, rows: list[ServiceActivityRow], total: int) -> None:
    """Nudge residents_served so the year's rows add up to exactly ``total``."""
    gap = total - sum(row.residents_served for row in rows)
    step = 1 if gap > 0 else -1
    while gap:
        row = rng.choice(rows)
        if row.residents_served + step >= 1:
            row.residents_served += step
            gap -= step


# --- WeChat groups and joint meetings -----------------------------------------------------


def _wechat_groups(w: World) -> None:
    rng = w.rng
    covered = [c for c in w.data.compounds if c.id in w.covered]
    plans = [(c, "业主群") for c in covered]
    kinds = ("党员群", "邻里互助群", "物业服务群")
    extra = rng.sample(
        [(c, kind) for c in w.data.compounds for kind in kinds], ty.WECHAT_GROUPS - len(plans)
    )
    for compound, kind in plans + extra:
        households = compound.households
        if kind == "党员群":
            size = max(8, min(500, len(w.residents_of.get(compound.id, [])) + rng.randint(0, 10)))
        else:
            size = max(20, min(500, int(households * rng.uniform(0.35, 0.95))))
        branch_id = w.branch_of(compound.id)
        admin = w.secretary_of[branch_id].name if branch_id and rng.random() < 0.5 else None
        w.data.wechat_groups.append(
            WeChatGroupRow(
                w.ids("wechat_group"),
                compound.id,
                f"{compound.name}{kind}",
                size,
                admin or person_name(rng),
                day_in(rng, dt.date(2017, 1, 1), dt.date(2020, 11, 30)),
            )
        )


MEETING_NAMES = {
    MeetingLevel.DISTRICT: "小区党建四级联席会议",
    MeetingLevel.STREET: "小区党建联席会议",
    MeetingLevel.COMMUNITY: "小区党建联席会议",
    MeetingLevel.COMPOUND: "小区治理联席会议",
}
TOPICS = (
    "小区停车难问题治理",
    "老旧小区改造推进",
    "物业服务质量提升",
    "业委会换届选举",
    "垃圾分类工作部署",
    "小区消防安全隐患排查",
    "在职党员进小区报到",
    "共建单位资源对接",
    "小区监控设施完善",
    "疫情防控常态化",
    "文明城市创建",
    "幸福邻聚里阵地建设",
)
DECISIONS = (
    "明确责任单位和完成时限，一周内反馈办理情况",
    "由小区党支部牵头，物业公司配合落实",
    "提请街道党工委协调解决经费",
    "纳入下季度重点工作清单",
    "成立专项工作小组跟踪督办",
)


def _joint_meetings(w: World) -> None:
    rng, d = w.rng, w.data
    district = d.districts[0]
    per_year = {2019: 1, 2020: 3, 2021: 1}

    def meeting(level: MeetingLevel, place: str, year: int, n: int, ids: tuple, lines: list[str]):
        topics = rng.sample(TOPICS, 3)
        d.joint_meetings.append(
            JointMeetingRow(
                w.ids("joint_meeting"),
                level,
                day_in(rng, dt.date(year, 1, 5), dt.date(year, 12, 20)),
                f"{place}{MEETING_NAMES[level]}（{year}年第{numeral(n)}次）",
                "\n".join(topics),
                "\n".join(rng.sample(DECISIONS, 2)),
                "\n".join(lines),
                *ids,
            )
        )

    for year, count in {2019: 2, 2020: 4, 2021: 2}.items():
        for n in range(1, count + 1):
            lines = ["区委组织部", *(s.committee_name for s in d.streets), "区住房和城乡建设局"]
            meeting(
                MeetingLevel.DISTRICT,
                district.name,
                year,
                n,
                (district.id, None, None, None),
                lines,
            )
    for street in d.streets:
        for year, count in per_year.items():
            for n in range(1, count + 1):
                lines = [
                    street.committee_name,
                    *(c.name for c in d.communities if c.street_id == street.id),
                ]
                meeting(
                    MeetingLevel.STREET,
                    street.name,
                    year,
                    n,
                    (district.id, street.id, None, None),
                    lines,
                )
    for community in d.communities:
        for year, n in ((2019, 1), (2020, 1), (2020, 2)):
            lines = [f"{community.name}党委", "社区网格员", "辖区物业企业代表", "业委会代表"]
            meeting(
                MeetingLevel.COMMUNITY,
                community.name,
                year,
                n,
                (district.id, community.street_id, community.id, None),
                lines,
            )
    featured = [w.compounds[w.patrol_compound_id], w.compounds[w.method_compound_id]]
    others = rng.sample([c for c in d.compounds if c.id in w.covered], 80)
    communities = {c.id: c for c in d.communities}
    held: dict[tuple[int, int], int] = {}
    for compound in featured * 4 + others:
        community = communities[compound.community_id]
        branch = w.branches[w.covered[compound.id][0]]
        year = rng.choice((2019, 2020, 2021))
        n = held[compound.id, year] = held.get((compound.id, year), 0) + 1
        lines = [branch.name, "业主委员会", "物业服务企业", "楼栋长代表"]
        meeting(
            MeetingLevel.COMPOUND,
            compound.name,
            year,
            n,
            (district.id, community.street_id, community.id, compound.id),
            lines,
        )
