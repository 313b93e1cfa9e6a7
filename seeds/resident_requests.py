"""Resident requests (居民诉求) and their workflow events for a generated district.

Every request follows 问题收集 → 及时交办 → 快速反应 → 有效解决 as far as its status:
the timestamps strictly increase, an assigned request has an assignee, and each step
has its event (plus a RATE event when the resident gave a satisfaction score).
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import dataclass

from hub.enums import AssigneeKind, RequestAction, RequestCategory, RequestChannel, RequestStatus
from seeds import tianyuan as ty
from seeds.names import day_in, mobile, new_year_morning, person_name, working_time, year_instant
from seeds.rows import RequestEventRow, ResidentRequestRow
from seeds.world import World

CATEGORY_WEIGHTS = (22, 18, 10, 8, 16, 8, 14, 4)  # in RequestCategory order
CHANNEL_WEIGHTS = (40, 25, 15, 12, 8)  # in RequestChannel order
DESCRIPTIONS: dict[RequestCategory, tuple[str, ...]] = {
    RequestCategory.ENVIRONMENT: (
        "{b}栋楼道堆放杂物，影响通行和消防安全",
        "小区绿化带垃圾长期无人清理",
        "{b}栋旁垃圾桶满溢，气味难闻",
    ),
    RequestCategory.PARKING: (
        "小区车位紧张，车辆乱停占用消防通道",
        "{b}栋门口长期被外来车辆占用",
        "晚上回家找不到停车位，希望增加车位",
    ),
    RequestCategory.SURVEILLANCE: (
        "{b}栋单元门口监控损坏，夜间存在安全隐患",
        "小区大门监控看不清车牌",
        "地下车库监控盲区多，电动车被盗",
    ),
    RequestCategory.SELF_GOVERNANCE: (
        "业委会长期未召开业主大会，公共收益去向不明",
        "业委会成员任期已满未换届",
        "小区公约无人执行，养犬扰民问题突出",
    ),
    RequestCategory.PROPERTY_SERVICE: (
        "物业电梯维修不及时，{b}栋电梯停运三天",
        "物业保安夜间不在岗",
        "物业收费标准不公开",
    ),
    RequestCategory.NEIGHBOUR_DISPUTE: (
        "{b}栋楼上漏水与楼下住户产生纠纷",
        "邻居装修噪音扰民",
        "楼道私装充电线引发邻里矛盾",
    ),
    RequestCategory.FACILITIES: (
        "{b}栋楼道路灯损坏",
        "小区健身器材老化存在安全隐患",
        "{b}栋屋顶漏水需维修",
    ),
    RequestCategory.OTHER: ("希望小区开设老年人活动场所", "咨询在职党员报到流程"),
}
RESOLUTIONS: dict[RequestCategory, tuple[str, ...]] = {
    RequestCategory.ENVIRONMENT: (
        "组织党员志愿者和物业开展集中清理，建立楼道长效保洁机制",
        "协调环卫部门增设垃圾桶并调整清运时间",
    ),
    RequestCategory.PARKING: (
        "规范停车秩序，清理僵尸车，设置消防通道禁停标识",
        "协调共建单位开放停车场夜间错时停车",
    ),
    RequestCategory.SURVEILLANCE: (
        "物业更换损坏摄像头并新增监控点位",
        "接入社区雪亮工程平台，消除监控盲区",
    ),
    RequestCategory.SELF_GOVERNANCE: (
        "小区党支部牵头召开业主大会，公示公共收益账目",
        "指导业委会依法依规完成换届选举",
    ),
    RequestCategory.PROPERTY_SERVICE: (
        "约谈物业企业负责人，限期整改并公开服务标准",
        "物业调整保安排班，增加夜间巡查",
    ),
    RequestCategory.NEIGHBOUR_DISPUTE: (
        "和事佬党员上门调解，双方达成和解",
        "组织邻里议事会协商，签订调解协议",
    ),
    RequestCategory.FACILITIES: ("物业维修更换完毕，经居民确认", "申请维修基金完成维修"),
    RequestCategory.OTHER: ("已答复居民并纳入小区服务清单", "现场解答并协助办理"),
}
# 庐山恋's parking fix: each resolution names one or more of the three measures.
PARKING_FIX = (
    "实施人车分流，划定步行通道，车辆停放秩序明显好转",
    "利用边角空地增划停车区域，新增停车位",
    "加强车辆登记管理，外来车辆登记后限时停放",
    "实施人车分流并增划停车区域，缓解停车难",
    "增划停车区域，同时加强车辆登记管理",
    "人车分流、增划停车区域、车辆登记管理三项措施同步推进",
)
FEATURED_PARKING = (2019, 2019, 2019, *(2020,) * 10, 2021, 2021)


@dataclass
class _Plan:
    compound_id: int
    category: RequestCategory
    status: RequestStatus
    year: int
    edge: bool = False  # resolved on New Year's morning (a different year in UTC)
    resolution: str = ""
    has_due: bool = True  # a deadline was set when it was assigned


def populate(w: World) -> None:
    rng = w.rng
    compounds = w.data.compounds
    weights = list(
        itertools.accumulate(c.households * (2 if c.id in w.covered else 1) for c in compounds)
    )
    plans = [
        _Plan(
            w.method_compound_id,
            RequestCategory.PARKING,
            RequestStatus.RESOLVED,
            year,
            resolution=PARKING_FIX[k % len(PARKING_FIX)],
        )
        for k, year in enumerate(FEATURED_PARKING)
    ]
    resolved = {
        2019: ty.REQUESTS_RESOLVED_2019,
        2020: ty.REQUESTS_RESOLVED_2020,
        2021: ty.REQUESTS_RESOLVED_2021,
    }
    categories = list(RequestCategory)
    for year, total in resolved.items():
        for i in range(total - FEATURED_PARKING.count(year)):
            if len(plans) < len(FEATURED_PARKING) + len(categories):
                category = categories[len(plans) - len(FEATURED_PARKING)]
            else:
                category = rng.choices(categories, CATEGORY_WEIGHTS)[0]
            compound = rng.choices(compounds, cum_weights=weights)[0]
            edge = i < ty.NEW_YEAR_MORNING[year]
            plan = _Plan(compound.id, category, RequestStatus.RESOLVED, year, edge=edge)
            if compound.id == w.method_compound_id and category is RequestCategory.PARKING:
                plan.resolution = rng.choice(PARKING_FIX)
            plans.append(plan)
    for status_name, total in ty.REQUESTS_OPEN.items():
        for i in range(total):
            compound = rng.choices(compounds, cum_weights=weights)[0]
            category = rng.choices(categories, CATEGORY_WEIGHTS)[0]
            has_due = status_name != "ASSIGNED" or i < ty.REQUESTS_ASSIGNED_OVERDUE
            plans.append(
                _Plan(compound.id, category, RequestStatus(status_name), 2021, has_due=has_due)
            )
    made = [_request(w, plan) for plan in plans]
    made.sort(key=lambda pair: pair[0].collected_at)
    for request, steps in made:
        request.id = w.ids("resident_request")
        w.data.resident_requests.append(request)
        for action, before, after, actor, at, note in steps:
            w.data.request_events.append(
                RequestEventRow(
                    w.ids("request_event"),
                    request.id,
                    action,
                    before,
                    after,
                    None,
                    actor[:50],
                    at,
                    note,
                )
            )


Step = tuple[RequestAction, RequestStatus | None, RequestStatus, str, dt.datetime, str]


def _minutes(rng: random.Random, low: int, high: int) -> dt.timedelta:
    return dt.timedelta(minutes=rng.randint(low, high))


def _request(w: World, plan: _Plan) -> tuple[ResidentRequestRow, list[Step]]:
    rng = w.rng
    compound = w.compounds[plan.compound_id]
    buildings = len(w.buildings_of[compound.id])
    description = rng.choice(DESCRIPTIONS[plan.category]).format(b=rng.randint(1, buildings))
    reporter = person_name(rng)
    channel = rng.choices(list(RequestChannel), CHANNEL_WEIGHTS)[0]
    resolved_at: dt.datetime | None = None
    responded_at: dt.datetime | None = None
    assigned_at: dt.datetime | None = None
    due_at = None
    if plan.status is RequestStatus.RESOLVED:
        if plan.edge:
            resolved_at = new_year_morning(rng, plan.year)
        else:
            resolved_at = year_instant(rng, plan.year)
        responded_at = resolved_at - _minutes(rng, 60, 7 * 24 * 60)
        assigned_at = responded_at - _minutes(rng, 20, 2 * 24 * 60)
        collected_at = assigned_at - _minutes(rng, 10, 24 * 60)
    else:
        collected_at = working_time(rng, day_in(rng, dt.date(2021, 1, 4), dt.date(2021, 6, 25)))
        if plan.status is not RequestStatus.COLLECTED:
            assigned_at = collected_at + _minutes(rng, 10, 24 * 60)
            if plan.status is RequestStatus.RESPONDED:
                responded_at = assigned_at + _minutes(rng, 60, 2 * 24 * 60)
    if assigned_at is not None and plan.has_due:
        due_at = assigned_at + dt.timedelta(days=rng.choice((3, 5, 7)))

    kind, name, member_id, company_id, committee_id = (None, "", None, None, None)
    if assigned_at is not None:
        kind, name, member_id, company_id, committee_id = _assignee(w, compound.id, plan.category)
    resolution = ""
    satisfaction = None
    if resolved_at is not None:
        resolution = plan.resolution or rng.choice(RESOLUTIONS[plan.category])
        if plan.resolution:
            satisfaction = rng.choice((4, 5, 5, 5))
        elif rng.random() < 0.85:
            satisfaction = rng.choices(range(1, 6), (2, 3, 10, 30, 55))[0]
    request = ResidentRequestRow(
        0,
        compound.id,
        plan.category,
        channel,
        plan.status,
        description,
        reporter,
        mobile(rng),
        kind,
        name,
        member_id,
        company_id,
        committee_id,
        collected_at,
        assigned_at,
        responded_at,
        resolved_at,
        due_at,
        resolution,
        satisfaction,
    )

    branch_id = w.branch_of(compound.id)
    collector = person_name(rng)
    if branch_id is not None and rng.random() < 0.6:
        collector = rng.choice(w.active_members(branch_id)).name
    steps: list[Step] = [
        (
            RequestAction.REPORT,
            None,
            RequestStatus.COLLECTED,
            collector,
            collected_at,
            f"通过{channel.label}收集：{description}",
        ),
    ]
    if assigned_at is not None:
        assigner = w.secretary_of[branch_id].name if branch_id else person_name(rng)
        note = f"交办{name}办理" + (f"，限{(due_at - assigned_at).days}日内办结" if due_at else "")
        steps.append(
            (
                RequestAction.ASSIGN,
                RequestStatus.COLLECTED,
                RequestStatus.ASSIGNED,
                assigner,
                assigned_at,
                note,
            )
        )
    if responded_at is not None:
        steps.append(
            (
                RequestAction.RESPOND,
                RequestStatus.ASSIGNED,
                RequestStatus.RESPONDED,
                name,
                responded_at,
                "已到现场核实情况，制定处理方案",
            )
        )
    if resolved_at is not None:
        steps.append(
            (
                RequestAction.RESOLVE,
                RequestStatus.RESPONDED,
                RequestStatus.RESOLVED,
                name,
                resolved_at,
                resolution,
            )
        )
        if satisfaction is not None:
            steps.append(
                (
                    RequestAction.RATE,
                    RequestStatus.RESOLVED,
                    RequestStatus.RESOLVED,
                    reporter,
                    resolved_at + _minutes(rng, 60, 3 * 24 * 60),
                    f"居民评价：{satisfaction}星",
                )
            )
    return request, steps


def _assignee(
    w: World, compound_id: int, category: RequestCategory
) -> tuple[AssigneeKind, str, int | None, int | None, int | None]:
    rng = w.rng
    compound = w.compounds[compound_id]
    branch_id = w.branch_of(compound_id)
    committee = w.committee_of.get(compound_id)
    options = [(AssigneeKind.GRID_WORKER, 20)]
    if branch_id is not None:
        options.append((AssigneeKind.MEMBER, 35))
    if compound.property_company_id is not None:
        busy = category in (RequestCategory.PROPERTY_SERVICE, RequestCategory.FACILITIES)
        options.append((AssigneeKind.PROPERTY_COMPANY, 45 if busy else 30))
    if committee is not None:
        own = category is RequestCategory.SELF_GOVERNANCE
        options.append((AssigneeKind.OWNERS_COMMITTEE, 30 if own else 15))
    kind = rng.choices([k for k, _ in options], [weight for _, weight in options])[0]
    if kind is AssigneeKind.MEMBER:
        assert branch_id is not None
        residents = [m for m in w.residents_of.get(compound_id, []) if m.branch_id == branch_id]
        member = rng.choice(residents or w.active_members(branch_id))
        return kind, member.name, member.id, None, None
    if kind is AssigneeKind.PROPERTY_COMPANY:
        company = w.companies[compound.property_company_id]  # type: ignore[index]
        return kind, company.name, None, company.id, None
    if kind is AssigneeKind.OWNERS_COMMITTEE:
        assert committee is not None
        return kind, f"{compound.name}业主委员会", None, None, committee.id
    return kind, person_name(rng), None, None, None
