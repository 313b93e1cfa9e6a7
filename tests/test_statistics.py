"""District statistics: every figure, for every scope level, through the service and GraphQL.

Each test builds its own small district (``unique_name``) whose figures can be counted
by hand, with records on both sides of year boundaries in Asia/Shanghai time.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import strawberry
from strawberry.relay import to_base64

from hub.credit_code import make_credit_code
from hub.enums import (
    ActivityCategory,
    DeliveryMode,
    LabeledEnum,
    MemberCategory,
    MemberStatus,
    RequestCategory,
    RequestChannel,
    RequestStatus,
    SeatRole,
    ServiceForce,
)
from hub.models import (
    Branch,
    CommitteeSeat,
    Community,
    Compound,
    District,
    Member,
    OwnersCommittee,
    PropertyCompany,
    ResidentRequest,
    ServiceActivity,
    Street,
    WeChatGroup,
)
from hub.services.statistics import (
    EVERYTHING,
    CompoundFigures,
    ScopeLevel,
    ScopeNotFound,
    Statistics,
    StatisticsError,
    compute_statistics,
    find_scope,
    year_bounds,
)
from resolvers.context import build_context
from schema.statistics import StatisticsQuery
from tests.api_data import ADMIN
from tests.conftest import count_statements

pytestmark = pytest.mark.usefixtures("orm")

SHANGHAI = ZoneInfo("Asia/Shanghai")
SCHEMA = strawberry.Schema(query=StatisticsQuery)

STATISTICS_QUERY = """
query Statistics($scope: StatisticsScopeInput, $year: Int) {
  statistics(scope: $scope, year: $year) {
    scope { level id name }
    year
    coverage { branches compoundsCovered compoundsTotal coverageRate }
    members { value label count }
    membersTotal
    demonstrationBranches
    starDistribution { stars count }
    activities {
      count residentsServed
      byCategory { value label count residentsServed }
      byDeliveryMode { value label count residentsServed }
      byServiceForce { value label count residentsServed }
    }
    requests {
      byStatus { value label count }
      byCategory { value label count }
      resolved medianHoursToResolve overdue
    }
    propertyCompanies
    ownersCommittees partyLedOwnersCommittees crossAppointments
    wechatGroups wechatGroupMembers
    inServiceRegistered
  }
}
"""

COVERAGE_AND_MEMBERS_QUERY = """
query Coverage($scope: StatisticsScopeInput) {
  statistics(scope: $scope) {
    coverage { branches compoundsCovered compoundsTotal coverageRate }
    members { value count }
    membersTotal
  }
}
"""

SCOPE_ONLY_QUERY = """
query Scope($scope: StatisticsScopeInput, $year: Int) {
  statistics(scope: $scope, year: $year) { scope { name } year }
}
"""


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """A moment in Asia/Shanghai time."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@dataclass
class Places:
    district: District
    streets: dict[str, Street]
    communities: dict[str, Community]
    compounds: dict[str, Compound]
    branches: dict[str, Branch]


# --- the hand-countable district ---------------------------------------------------
#
# S1: C1 {K1, K2, K3}, C2 {K4}      S2: C3 {K5, K6}
# B1 (C1, 5★, demo) covers K1 K2 · B2 (C1, 3★) covers K2 · B3 (C2, 3★, demo) covers K4
# B4 (C3, 0★) covers K5 · K3 and K6 uncovered · P1 manages K1 K2, P2 manages K4 K5


async def build_district(name: str) -> Places:
    district = await District.create(name=f"{name}区")
    s1 = await Street.create(district=district, name=f"{name}一街道")
    s2 = await Street.create(district=district, name=f"{name}二街道")
    c1 = await Community.create(street=s1, name=f"{name}甲社区")
    c2 = await Community.create(street=s1, name=f"{name}乙社区")
    c3 = await Community.create(street=s2, name=f"{name}丙社区")
    p1, p2 = [await _company(f"{name}物业{i}") for i in (1, 2)]
    k = {
        key: await Compound.create(
            community=community, name=f"{name}{key}小区", property_company=pc
        )
        for key, community, pc in [
            ("K1", c1, p1),
            ("K2", c1, p1),
            ("K3", c1, None),
            ("K4", c2, p2),
            ("K5", c3, p2),
            ("K6", c3, None),
        ]
    }
    b = {
        "B1": await Branch.create(
            community=c1, name="一支部", star_rating=5, is_demonstration=True
        ),
        "B2": await Branch.create(community=c1, name="二支部", star_rating=3),
        "B3": await Branch.create(
            community=c2, name="三支部", star_rating=3, is_demonstration=True
        ),
        "B4": await Branch.create(community=c3, name="四支部", star_rating=0),
    }
    await b["B1"].compounds.add(k["K1"], k["K2"])
    await b["B2"].compounds.add(k["K2"])
    await b["B3"].compounds.add(k["K4"])
    await b["B4"].compounds.add(k["K5"])

    direct, in_service = MemberCategory.DIRECT, MemberCategory.IN_SERVICE
    retired, floating = MemberCategory.RETIRED, MemberCategory.FLOATING
    secretary1 = await _member(b["B1"], direct)
    await _member(b["B1"], direct)
    await _member(b["B1"], in_service, registered_on=dt.date(2020, 6, 1))
    await _member(b["B1"], in_service, registered_on=dt.date(2021, 3, 1))
    await _member(b["B1"], retired, status=MemberStatus.TRANSFERRED)
    deputy2 = await _member(b["B2"], retired)
    await _member(b["B2"], in_service, registered_on=dt.date(2019, 12, 31))
    await _member(b["B3"], direct)
    secretary4 = await _member(b["B4"], retired)
    await _member(b["B4"], retired)
    await _member(b["B4"], floating, status=MemberStatus.ARCHIVED)  # FLOATING stays at zero

    await CommitteeSeat.create(
        branch=b["B1"], role=SeatRole.SECRETARY, person_name="一书记", member=secretary1
    )
    await CommitteeSeat.create(
        branch=b["B2"], role=SeatRole.DEPUTY_SECRETARY, person_name="二副书记", member=deputy2
    )
    await CommitteeSeat.create(branch=b["B3"], role=SeatRole.SECRETARY, person_name="外聘书记")
    await CommitteeSeat.create(
        branch=b["B4"], role=SeatRole.SECRETARY, person_name="四书记", member=secretary4
    )
    # Cross-appointed: OC1 (B1's secretary, B1 covers K1) and OC4 (B4's, covers K5).
    # OC2's director is only a deputy; OC3's director is B1's secretary but B1 does not
    # cover K4.
    await OwnersCommittee.create(compound=k["K1"], is_party_led=True, director_member=secretary1)
    await OwnersCommittee.create(compound=k["K2"], is_party_led=True, director_member=deputy2)
    await OwnersCommittee.create(compound=k["K4"], director_member=secretary1)
    await OwnersCommittee.create(compound=k["K5"], director_member=secretary4)

    for compound, size in [("K1", 100), ("K1", 200), ("K4", 50), ("K6", 30)]:
        await WeChatGroup.create(compound=k[compound], name=f"{compound}群{size}", size=size)

    cat, mode, force = ActivityCategory, DeliveryMode, ServiceForce
    for branch, category, delivery, served_by, served, held in [
        ("B1", cat.CLINIC, mode.LIST, force.PARTY_MEMBERS, 10, sh(2020, 12, 31, 23, 30)),
        ("B1", cat.PATROL, mode.ORDER, force.VOLUNTEERS, 20, sh(2021, 1, 1, 0, 30)),
        ("B1", cat.CLINIC, mode.MENU, force.PARTY_MEMBERS, 5, sh(2020, 1, 1, 0, 10)),
        ("B4", cat.ENVIRONMENT, mode.LIST, force.GRID_WORKERS, 7, sh(2020, 6, 15, 10)),
        ("B3", cat.CULTURE, mode.LIST, force.VOLUNTEERS, 3, sh(2019, 12, 31, 23, 50)),
    ]:
        await ServiceActivity.create(
            title=f"{category.label}{held:%Y%m%d}",
            branch=b[branch],
            category=category,
            delivery_mode=delivery,
            service_force=served_by,
            residents_served=served,
            held_at=held,
        )

    st, rc = RequestStatus, RequestCategory
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    for compound, topic, status, collected, resolved, due in [
        ("K1", rc.ENVIRONMENT, st.RESOLVED, sh(2020, 3, 1, 10), sh(2020, 3, 1, 16), None),  # 6 h
        ("K2", rc.PARKING, st.RESOLVED, sh(2020, 12, 31, 20), sh(2021, 1, 1, 6), None),  # 10 h
        ("K4", rc.PARKING, st.RESOLVED, sh(2020, 5, 1, 8), sh(2020, 5, 2, 8), None),  # 24 h
        ("K5", rc.SURVEILLANCE, st.ASSIGNED, sh(2020, 12, 31, 23, 30), None, sh(2021, 1, 2)),
        ("K3", rc.ENVIRONMENT, st.COLLECTED, sh(2021, 1, 1, 0, 30), None, future),
        ("K6", rc.OTHER, st.RESOLVED, sh(2019, 12, 20, 9), sh(2020, 1, 1, 1), None),  # 280 h
        ("K1", rc.ENVIRONMENT, st.RESOLVED, sh(2020, 2, 1, 10), sh(2020, 2, 1, 12), sh(2020, 2, 2)),
    ]:
        await ResidentRequest.create(
            compound=k[compound],
            category=topic,
            channel=RequestChannel.WECHAT_GROUP,
            status=status,
            description=topic.label,
            collected_at=collected,
            resolved_at=resolved,
            due_at=due,
        )
    return Places(
        district=district,
        streets={"S1": s1, "S2": s2},
        communities={"C1": c1, "C2": c2, "C3": c3},
        compounds=k,
        branches=b,
    )


async def grow_district(places: Places, size: int) -> None:
    """Add ``size`` of everything to the district: more rows, same figures' shape."""
    community = places.communities["C1"]
    company = await _company(f"{places.district.name}扩{size}")
    for i in range(size):
        compound = await Compound.create(
            community=community, name=f"扩展{i}小区", property_company=company
        )
        branch = await Branch.create(community=community, name=f"扩展{i}支部", star_rating=i % 6)
        await branch.compounds.add(compound)
        member = await _member(branch, MemberCategory.IN_SERVICE, registered_on=dt.date(2020, 1, 2))
        await CommitteeSeat.create(
            branch=branch, role=SeatRole.SECRETARY, person_name="书记", member=member
        )
        await OwnersCommittee.create(compound=compound, director_member=member)
        await WeChatGroup.create(compound=compound, name="群", size=i)
        for day in (1, 2):
            await ServiceActivity.create(
                title="扩展活动",
                branch=branch,
                category=ActivityCategory.AFTER_SCHOOL,
                delivery_mode=DeliveryMode.MENU,
                service_force=ServiceForce.OWNERS_COMMITTEE,
                residents_served=i,
                held_at=sh(2020, 7, day),
            )
            await ResidentRequest.create(
                compound=compound,
                category=RequestCategory.FACILITIES,
                channel=RequestChannel.VISIT,
                status=RequestStatus.RESOLVED,
                description="扩展诉求",
                collected_at=sh(2020, 8, day),
                resolved_at=sh(2020, 8, day, 9 + i % 10),
            )


async def _company(name: str) -> PropertyCompany:
    code = make_credit_code(f"92430211{uuid.uuid4().int % 10**9:09d}")
    return await PropertyCompany.create(name=name, credit_code=code)


async def _member(branch: Branch, category: MemberCategory, **fields: Any) -> Member:
    count = await Member.filter(branch=branch).count()
    return await Member.create(
        name=f"{branch.name}党员{count + 1}", branch=branch, category=category, **fields
    )


# --- expected figures, written out by hand ------------------------------------------


def _all(enum: type[LabeledEnum], counts: dict[str, Any], zero: Any = 0) -> dict[str, Any]:
    return {m.value: counts.get(m.value, zero) for m in enum}


def expect(
    *,
    branches: int,
    covered: int,
    compounds: int,
    rate: float,
    members: dict[str, int],
    demonstration: int,
    stars: dict[int, int],
    activities: tuple[int, int],
    by_category: dict[str, tuple[int, int]],
    by_mode: dict[str, tuple[int, int]],
    by_force: dict[str, tuple[int, int]],
    by_status: dict[str, int],
    request_categories: dict[str, int],
    resolved: int,
    median: float | None,
    overdue: int,
    companies: int,
    committees: tuple[int, int, int],
    wechat: tuple[int, int],
    registered: int,
) -> dict[str, Any]:
    return {
        "coverage": (branches, covered, compounds, rate),
        "members": _all(MemberCategory, members),
        "membersTotal": sum(members.values()),
        "demonstrationBranches": demonstration,
        "starDistribution": {s: stars.get(s, 0) for s in range(6)},
        "activities": activities,
        "activitiesByCategory": _all(ActivityCategory, by_category, (0, 0)),
        "activitiesByDeliveryMode": _all(DeliveryMode, by_mode, (0, 0)),
        "activitiesByServiceForce": _all(ServiceForce, by_force, (0, 0)),
        "requestsByStatus": _all(RequestStatus, by_status),
        "requestsByCategory": _all(RequestCategory, request_categories),
        "requests": (resolved, median, overdue),
        "propertyCompanies": companies,
        "ownersCommittees": committees,
        "wechat": wechat,
        "inServiceRegistered": registered,
    }


DISTRICT_COMMON: dict[str, Any] = dict(
    branches=4,
    covered=4,
    compounds=6,
    rate=0.6667,
    members={"DIRECT": 3, "IN_SERVICE": 3, "RETIRED": 3},
    demonstration=2,
    stars={0: 1, 3: 2, 5: 1},
    companies=2,
    committees=(4, 2, 2),
    wechat=(4, 380),
    overdue=1,
)
B1_ACTIVITIES_2020: dict[str, Any] = dict(
    activities=(2, 15),
    by_category={"CLINIC": (2, 15)},
    by_mode={"LIST": (1, 10), "MENU": (1, 5)},
    by_force={"PARTY_MEMBERS": (2, 15)},
)

CASES: dict[str, tuple[ScopeLevel | None, str, int | None, dict[str, Any]]] = {
    "district-2020": (
        ScopeLevel.DISTRICT,
        "",
        2020,
        expect(
            **DISTRICT_COMMON,
            # 2020-01-01 00:10 and 2020-12-31 23:30 Shanghai are in 2020; the others not.
            activities=(3, 22),
            by_category={"CLINIC": (2, 15), "ENVIRONMENT": (1, 7)},
            by_mode={"LIST": (2, 17), "MENU": (1, 5)},
            by_force={"PARTY_MEMBERS": (2, 15), "GRID_WORKERS": (1, 7)},
            by_status={"RESOLVED": 4, "ASSIGNED": 1},
            request_categories={"ENVIRONMENT": 2, "PARKING": 2, "SURVEILLANCE": 1},
            resolved=4,  # 2, 6, 24, 280 hours: R2 was resolved in 2021, R6 in 2020
            median=15.0,
            registered=2,
        ),
    ),
    "district-all-years": (
        ScopeLevel.DISTRICT,
        "",
        None,
        expect(
            **DISTRICT_COMMON,
            activities=(5, 45),
            by_category={
                "CLINIC": (2, 15),
                "PATROL": (1, 20),
                "ENVIRONMENT": (1, 7),
                "CULTURE": (1, 3),
            },
            by_mode={"LIST": (3, 20), "ORDER": (1, 20), "MENU": (1, 5)},
            by_force={"PARTY_MEMBERS": (2, 15), "VOLUNTEERS": (2, 23), "GRID_WORKERS": (1, 7)},
            by_status={"RESOLVED": 5, "ASSIGNED": 1, "COLLECTED": 1},
            request_categories={"ENVIRONMENT": 3, "PARKING": 2, "SURVEILLANCE": 1, "OTHER": 1},
            resolved=5,
            median=10.0,
            registered=3,
        ),
    ),
    "district-2021": (
        ScopeLevel.DISTRICT,
        "",
        2021,
        expect(
            **DISTRICT_COMMON,
            activities=(1, 20),
            by_category={"PATROL": (1, 20)},
            by_mode={"ORDER": (1, 20)},
            by_force={"VOLUNTEERS": (1, 20)},
            by_status={"COLLECTED": 1},
            request_categories={"ENVIRONMENT": 1},
            resolved=1,
            median=10.0,
            registered=3,
        ),
    ),
    "district-2019": (
        ScopeLevel.DISTRICT,
        "",
        2019,
        expect(
            **DISTRICT_COMMON,
            activities=(1, 3),
            by_category={"CULTURE": (1, 3)},
            by_mode={"LIST": (1, 3)},
            by_force={"VOLUNTEERS": (1, 3)},
            by_status={"RESOLVED": 1},
            request_categories={"OTHER": 1},
            resolved=0,  # R6 was resolved 2020-01-01 01:00 Shanghai (still 2019 in UTC)
            median=None,
            registered=1,
        ),
    ),
    "street-2020": (
        ScopeLevel.STREET,
        "S1",
        2020,
        expect(
            branches=3,
            covered=3,
            compounds=4,
            rate=0.75,
            members={"DIRECT": 3, "IN_SERVICE": 3, "RETIRED": 1},
            demonstration=2,
            stars={3: 2, 5: 1},
            **B1_ACTIVITIES_2020,
            by_status={"RESOLVED": 4},
            request_categories={"ENVIRONMENT": 2, "PARKING": 2},
            resolved=3,
            median=6.0,
            overdue=0,
            companies=2,
            committees=(3, 2, 1),
            wechat=(3, 350),
            registered=2,
        ),
    ),
    "community-2020": (
        ScopeLevel.COMMUNITY,
        "C1",
        2020,
        expect(
            branches=2,
            covered=2,
            compounds=3,
            rate=0.6667,
            members={"DIRECT": 2, "IN_SERVICE": 3, "RETIRED": 1},
            demonstration=1,
            stars={3: 1, 5: 1},
            **B1_ACTIVITIES_2020,
            by_status={"RESOLVED": 3},
            request_categories={"ENVIRONMENT": 2, "PARKING": 1},
            resolved=2,
            median=4.0,
            overdue=0,
            companies=1,
            committees=(2, 2, 1),
            wechat=(2, 300),
            registered=2,
        ),
    ),
    "branch-2020": (
        ScopeLevel.BRANCH,
        "B1",
        2020,
        expect(
            branches=1,
            covered=2,
            compounds=2,
            rate=1.0,
            members={"DIRECT": 2, "IN_SERVICE": 2},
            demonstration=1,
            stars={5: 1},
            **B1_ACTIVITIES_2020,
            by_status={"RESOLVED": 3},
            request_categories={"ENVIRONMENT": 2, "PARKING": 1},
            resolved=2,
            median=4.0,
            overdue=0,
            companies=1,
            committees=(2, 2, 1),
            wechat=(2, 300),
            registered=1,
        ),
    ),
    "branch-all-years": (
        ScopeLevel.BRANCH,
        "B4",
        None,
        expect(
            branches=1,
            covered=1,
            compounds=1,
            rate=1.0,
            members={"RETIRED": 2},
            demonstration=0,
            stars={0: 1},
            activities=(1, 7),
            by_category={"ENVIRONMENT": (1, 7)},
            by_mode={"LIST": (1, 7)},
            by_force={"GRID_WORKERS": (1, 7)},
            by_status={"ASSIGNED": 1},
            request_categories={"SURVEILLANCE": 1},
            resolved=0,
            median=None,
            overdue=1,
            companies=1,
            committees=(1, 0, 1),
            wechat=(0, 0),
            registered=0,
        ),
    ),
}


# --- reading the figures back in one shape ------------------------------------------


def from_service(s: Statistics) -> dict[str, Any]:
    def served(tallies: Any) -> dict[str, tuple[int, int]]:
        return {t.value.value: (t.count, t.residents_served) for t in tallies}

    return {
        "coverage": (
            s.branches.branches,
            s.compounds.covered,
            s.compounds.total,
            s.compounds.coverage_rate,
        ),
        "members": {t.value.value: t.count for t in s.members.by_category},
        "membersTotal": s.members.total,
        "demonstrationBranches": s.branches.demonstration,
        "starDistribution": {c.stars: c.count for c in s.branches.stars},
        "activities": (s.activities.count, s.activities.residents_served),
        "activitiesByCategory": served(s.activities.by_category),
        "activitiesByDeliveryMode": served(s.activities.by_delivery_mode),
        "activitiesByServiceForce": served(s.activities.by_service_force),
        "requestsByStatus": {t.value.value: t.count for t in s.requests.by_status},
        "requestsByCategory": {t.value.value: t.count for t in s.requests.by_category},
        "requests": (
            s.requests.resolved,
            s.requests.median_hours_to_resolve,
            s.requests.overdue,
        ),
        "propertyCompanies": s.compounds.property_companies,
        "ownersCommittees": (
            s.committees.total,
            s.committees.party_led,
            s.committees.cross_appointments,
        ),
        "wechat": (s.wechat.groups, s.wechat.members),
        "inServiceRegistered": s.members.in_service_registered,
    }


def _listed(enum: type[LabeledEnum], items: list[dict[str, Any]], *extra: str) -> dict[str, Any]:
    """Enum-keyed list → dict, checking every value is listed in order with its label."""
    assert [item["value"] for item in items] == [m.value for m in enum]
    assert [item["label"] for item in items] == [m.label for m in enum]
    return {
        item["value"]: tuple(item[k] for k in extra) if len(extra) > 1 else item[extra[0]]
        for item in items
    }


def from_graphql(data: dict[str, Any]) -> dict[str, Any]:
    coverage, activities, requests = data["coverage"], data["activities"], data["requests"]
    served = ("count", "residentsServed")
    return {
        "coverage": (
            coverage["branches"],
            coverage["compoundsCovered"],
            coverage["compoundsTotal"],
            coverage["coverageRate"],
        ),
        "members": _listed(MemberCategory, data["members"], "count"),
        "membersTotal": data["membersTotal"],
        "demonstrationBranches": data["demonstrationBranches"],
        "starDistribution": {c["stars"]: c["count"] for c in data["starDistribution"]},
        "activities": (activities["count"], activities["residentsServed"]),
        "activitiesByCategory": _listed(ActivityCategory, activities["byCategory"], *served),
        "activitiesByDeliveryMode": _listed(DeliveryMode, activities["byDeliveryMode"], *served),
        "activitiesByServiceForce": _listed(ServiceForce, activities["byServiceForce"], *served),
        "requestsByStatus": _listed(RequestStatus, requests["byStatus"], "count"),
        "requestsByCategory": _listed(RequestCategory, requests["byCategory"], "count"),
        "requests": (
            requests["resolved"],
            requests["medianHoursToResolve"],
            requests["overdue"],
        ),
        "propertyCompanies": data["propertyCompanies"],
        "ownersCommittees": (
            data["ownersCommittees"],
            data["partyLedOwnersCommittees"],
            data["crossAppointments"],
        ),
        "wechat": (data["wechatGroups"], data["wechatGroupMembers"]),
        "inServiceRegistered": data["inServiceRegistered"],
    }


def scope_of(places: Places, level: ScopeLevel | None, key: str) -> tuple[str, int] | None:
    """(GraphQL type name, pk) of the place a case is about."""
    if level is None:
        return None
    record: Any = {
        ScopeLevel.DISTRICT: places.district,
        ScopeLevel.STREET: places.streets.get(key),
        ScopeLevel.COMMUNITY: places.communities.get(key),
        ScopeLevel.BRANCH: places.branches.get(key),
    }[level]
    return type(record).__name__, record.id


async def run_query(query: str, settings: Any, **variables: Any) -> Any:
    return await SCHEMA.execute(
        query,
        variable_values=variables,
        context_value=build_context(settings=settings, viewer=ADMIN),
    )


def scope_variable(level: ScopeLevel, type_name: str, pk: int | str) -> dict[str, str]:
    return {"level": level.value, "id": to_base64(type_name, pk)}


# --- tests --------------------------------------------------------------------------


@pytest.fixture
async def places(unique_name: str) -> Places:
    return await build_district(unique_name)


@pytest.mark.parametrize("case", list(CASES))
async def test_every_figure_through_service_and_graphql(
    places: Places, settings: Any, case: str
) -> None:
    # given the hand-countable district and one scope/year
    level, key, year, expected = CASES[case]
    type_name, pk = scope_of(places, level, key) or ("", 0)
    assert level is not None

    # when the service counts
    scope = await find_scope(level=level, id=pk)
    figures = await compute_statistics(scope=scope, year=year)

    # then every figure is the hand count
    assert from_service(figures) == expected

    # and GraphQL answers the same, every enum value listed with its label
    result = await run_query(
        STATISTICS_QUERY, settings, scope=scope_variable(level, type_name, pk), year=year
    )
    assert result.errors is None, result.errors
    data = result.data["statistics"]
    assert data["scope"] == {
        "level": level.value,
        "id": to_base64(type_name, pk),
        "name": scope.name,
    }
    assert data["year"] == year
    assert from_graphql(data) == expected


async def test_whole_hub_counts_every_record(places: Places, settings: Any) -> None:
    # given at least the hand-countable district in the hub
    district = await compute_statistics(
        scope=await find_scope(level=ScopeLevel.DISTRICT, id=places.district.id)
    )

    # when the scope is null
    hub = await compute_statistics(scope=EVERYTHING)
    result = await run_query(STATISTICS_QUERY, settings)

    # then every record of the hub is counted, and GraphQL agrees with the service
    assert hub.branches.branches == await Branch.all().count() >= district.branches.branches
    assert hub.compounds.total == await Compound.all().count() >= district.compounds.total
    assert hub.committees.total == await OwnersCommittee.all().count()
    assert hub.wechat.groups == await WeChatGroup.all().count()
    assert hub.activities.count == await ServiceActivity.all().count()
    assert hub.members.total == await Member.filter(status=MemberStatus.ACTIVE).count()
    assert result.errors is None, result.errors
    assert result.data["statistics"]["scope"] is None
    assert from_graphql(result.data["statistics"]) == from_service(hub)


def test_coverage_rate_is_a_four_decimal_fraction() -> None:
    assert CompoundFigures(total=339, covered=244, property_companies=57).coverage_rate == 0.7198
    assert CompoundFigures(total=0, covered=0, property_companies=0).coverage_rate == 0.0


def test_year_bounds_are_shanghai_midnights_in_utc() -> None:
    start, end = year_bounds(2020)
    assert start == dt.datetime(2019, 12, 31, 16, tzinfo=dt.UTC)
    assert end == dt.datetime(2020, 12, 31, 16, tzinfo=dt.UTC)


async def test_unknown_scope_and_bad_year_are_refused_by_the_service() -> None:
    with pytest.raises(ScopeNotFound, match="不存在") as missing:
        await find_scope(level=ScopeLevel.STREET, id=2**31 - 1)
    assert missing.value.code == "NOT_FOUND"
    with pytest.raises(StatisticsError, match="year must be between") as bad_year:
        await compute_statistics(year=12020)
    assert bad_year.value.code == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("scope", "year", "code", "message"),
    [
        ({"level": "BRANCH", "id": "!!not base64!!"}, None, "BAD_USER_INPUT", "malformed"),
        (
            {"level": "BRANCH", "id": to_base64("Branch", "abc")},
            None,
            "BAD_USER_INPUT",
            "malformed",
        ),
        ({"level": "BRANCH", "id": to_base64("Member", 1)}, None, "BAD_USER_INPUT", "Branch id"),
        ({"level": "STREET", "id": to_base64("Street", 2**31 - 1)}, None, "NOT_FOUND", "no street"),
        ({"level": "DISTRICT", "id": to_base64("District", 10**15)}, None, "NOT_FOUND", "不存在"),
        (None, 99999, "BAD_USER_INPUT", "year must be between"),
    ],
)
async def test_bad_scope_gives_a_clear_graphql_error(
    settings: Any, scope: dict[str, str] | None, year: int | None, code: str, message: str
) -> None:
    # when the scope names nothing usable
    result = await run_query(SCOPE_ONLY_QUERY, settings, scope=scope, year=year)

    # then the error says why, with a code a client can act on, and no data
    assert result.data is None
    assert result.errors is not None and len(result.errors) == 1
    error = result.errors[0]
    assert message in error.message
    assert error.extensions == {"code": code}


async def test_unknown_level_is_a_graphql_validation_error(settings: Any) -> None:
    result = await run_query(
        SCOPE_ONLY_QUERY, settings, scope={"level": "COMPOUND", "id": to_base64("Compound", 1)}
    )
    assert result.errors and "StatisticsScopeLevel" in result.errors[0].message


async def test_statement_count_does_not_grow_with_the_data(
    places: Places, settings: Any, unique_name: str
) -> None:
    # given a district, counted once through the service and once through GraphQL
    scope = await find_scope(level=ScopeLevel.DISTRICT, id=places.district.id)
    variables = {"scope": scope_variable(ScopeLevel.DISTRICT, "District", places.district.id)}

    async def statements() -> tuple[int, int, Statistics]:
        with count_statements() as service_count:
            figures = await compute_statistics(scope=scope, year=2020)
        with count_statements() as graphql_count:
            result = await run_query(STATISTICS_QUERY, settings, year=2020, **variables)
        assert result.errors is None, result.errors
        return service_count.count, graphql_count.count, figures

    small_service, small_graphql, small = await statements()

    # when the district grows by many rows of every kind
    await grow_district(places, size=12)
    large_service, large_graphql, large = await statements()

    # then the figures grew but the statements did not
    assert large.activities.count == small.activities.count + 24
    assert large.requests.resolved == small.requests.resolved + 24
    assert large.committees.cross_appointments == small.committees.cross_appointments + 12
    assert (large_service, large_graphql) == (small_service, small_graphql)
    assert small_service <= 10
    assert small_graphql == small_service + 1  # GraphQL also looks the scope up


async def test_only_the_selected_figures_are_queried(places: Places, settings: Any) -> None:
    # when a dashboard asks for coverage and members only
    variables = {"scope": scope_variable(ScopeLevel.DISTRICT, "District", places.district.id)}
    with count_statements() as counter:
        result = await run_query(COVERAGE_AND_MEMBERS_QUERY, settings, **variables)

    # then it costs the scope look-up and three aggregates (branches, compounds, members)
    assert result.errors is None, result.errors
    assert result.data["statistics"]["coverage"] == {
        "branches": 4,
        "compoundsCovered": 4,
        "compoundsTotal": 6,
        "coverageRate": 0.6667,
    }
    assert result.data["statistics"]["membersTotal"] == 9
    assert counter.count == 4
