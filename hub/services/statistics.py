"""District statistics (统计), computed from the records by aggregate SQL.

Every figure is counted by the database for a scope — the whole hub, a district,
a street, a community or one branch — and an optional year in the district's time
zone. Each ``*_figures`` function issues a fixed number of statements whatever the
data size: scopes are id subqueries (so the outer query has no joins and Tortoise
adds no per-row GROUP BY), and breakdowns are GROUP BY over enum columns.
Nothing here stores or special-cases a figure.

The queries are functions of their own (``*_rows``/``*_row``/``*_requests``): the
resolvers run them through the ``*_figures`` functions, and the compiled read path
(``schema.compiled.statistics``) folds the same queries into one SQL statement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from tortoise.expressions import Q, RawSQL, Subquery
from tortoise.functions import Count, Sum
from tortoise.queryset import QuerySet, ValuesQuery

from hub.access import Viewer, row_scope
from hub.enums import (
    ActivityCategory,
    DeliveryMode,
    LabeledEnum,
    MemberCategory,
    MemberStatus,
    RequestCategory,
    RequestStatus,
    Role,
    SeatRole,
    ServiceForce,
)
from hub.models import (
    Branch,
    Community,
    Compound,
    District,
    Member,
    OwnersCommittee,
    ResidentRequest,
    ServiceActivity,
    Street,
    WeChatGroup,
)

DEFAULT_TIMEZONE = "Asia/Shanghai"
FIRST_YEAR, LAST_YEAR = 1900, 2100
STAR_RATINGS = range(6)
# Decimals of the figures that are fractions (Python's round(): half to even, on the float).
RATE_DIGITS = 4
HOURS_DIGITS = 2
# Primary keys are INT columns: a larger number cannot name a record (and would
# overflow the driver's parameter on PostgreSQL).
MAX_PK = 2**31 - 1

E = TypeVar("E", bound=LabeledEnum)


class ScopeLevel(LabeledEnum):
    """The level of the place the statistics are for."""

    DISTRICT = ("DISTRICT", "区")
    STREET = ("STREET", "街道/镇")
    COMMUNITY = ("COMMUNITY", "社区")
    BRANCH = ("BRANCH", "小区党支部")


SCOPE_MODELS: dict[ScopeLevel, type[District | Street | Community | Branch]] = {
    ScopeLevel.DISTRICT: District,
    ScopeLevel.STREET: Street,
    ScopeLevel.COMMUNITY: Community,
    ScopeLevel.BRANCH: Branch,
}


class StatisticsError(ValueError):
    """The caller asked for something the statistics cannot answer."""

    code = "BAD_USER_INPUT"


class ScopeNotFound(StatisticsError):
    code = "NOT_FOUND"


# --- results ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scope:
    """What is counted: ``level`` None means everything in the hub.

    ``branches`` and ``compounds``, when set, narrow the count to the rows a viewer
    may read (hub.access.row_scope): a partner's statistics cover only its branches.
    """

    level: ScopeLevel | None = None
    id: int | None = None
    name: str = ""
    branches: Q | None = field(default=None, compare=False)
    compounds: Q | None = field(default=None, compare=False)


def seen_by(scope: Scope, viewer: Viewer) -> Scope:
    """``scope`` narrowed to what ``viewer`` may read."""
    if viewer.role is Role.PARTNER or not viewer.is_authenticated:
        return replace(
            scope, branches=row_scope(viewer, Branch), compounds=row_scope(viewer, Compound)
        )
    return scope


EVERYTHING = Scope()


@dataclass(frozen=True, slots=True)
class Tally(Generic[E]):
    """How many records have one enum value."""

    value: E
    count: int

    @property
    def label(self) -> str:
        return self.value.label


@dataclass(frozen=True, slots=True)
class ServiceTally(Tally[E]):
    """Activities with one enum value, and the residents they served."""

    residents_served: int


@dataclass(frozen=True, slots=True)
class StarCount:
    stars: int
    count: int


@dataclass(frozen=True, slots=True)
class BranchFigures:
    branches: int
    demonstration: int
    stars: list[StarCount]


@dataclass(frozen=True, slots=True)
class CompoundFigures:
    total: int
    covered: int
    property_companies: int

    @property
    def coverage_rate(self) -> float:
        """Covered / total, 0–1, four decimals (0.0 when the scope has no compound)."""
        return round(self.covered / self.total, RATE_DIGITS) if self.total else 0.0


@dataclass(frozen=True, slots=True)
class MemberFigures:
    by_category: list[Tally[MemberCategory]]
    in_service_registered: int

    @property
    def total(self) -> int:
        return sum(t.count for t in self.by_category)


@dataclass(frozen=True, slots=True)
class ActivityFigures:
    count: int
    residents_served: int
    by_category: list[ServiceTally[ActivityCategory]]
    by_delivery_mode: list[ServiceTally[DeliveryMode]]
    by_service_force: list[ServiceTally[ServiceForce]]


@dataclass(frozen=True, slots=True)
class RequestFigures:
    by_status: list[Tally[RequestStatus]]
    by_category: list[Tally[RequestCategory]]
    resolved: int
    median_hours_to_resolve: float | None
    overdue: int


@dataclass(frozen=True, slots=True)
class CommitteeFigures:
    total: int
    party_led: int
    cross_appointments: int


@dataclass(frozen=True, slots=True)
class WeChatFigures:
    groups: int
    members: int


@dataclass(frozen=True, slots=True)
class Statistics:
    """Every figure for one scope and year."""

    scope: Scope
    year: int | None
    branches: BranchFigures
    compounds: CompoundFigures
    members: MemberFigures
    activities: ActivityFigures
    requests: RequestFigures
    committees: CommitteeFigures
    wechat: WeChatFigures


# --- scope and time --------------------------------------------------------------


async def find_scope(*, level: ScopeLevel, id: int, viewer: Viewer | None = None) -> Scope:
    """The place ``level``/``id`` names, or ``ScopeNotFound`` (one statement).

    With a ``viewer``, a place it may not read is not found either, and the scope is
    narrowed to what it may read (``seen_by``); None is the public, unnarrowed view.
    """
    names = (
        await scope_rows(level=level, id=id, viewer=viewer).values_list("name", flat=True)
        if 0 < id <= MAX_PK
        else []
    )
    if not names:
        raise ScopeNotFound(
            f"找不到统计范围：{level.label} {id} 不存在 (no {level.value.lower()} with id {id})"
        )
    scope = Scope(level=level, id=id, name=str(names[0]))
    return scope if viewer is None else seen_by(scope, viewer)


def scope_rows(
    *, level: ScopeLevel, id: int, viewer: Viewer | None = None
) -> QuerySet[District] | QuerySet[Street] | QuerySet[Community] | QuerySet[Branch]:
    """The row of the place ``level``/``id`` names, if ``viewer`` may read it (None:
    the public, unnarrowed view)."""
    model = SCOPE_MODELS[level]
    visible = row_scope(viewer, model) if viewer is not None else Q()
    return model.filter(visible, id=id)


def check_year(year: int | None) -> None:
    if year is not None and not FIRST_YEAR <= year <= LAST_YEAR:
        raise StatisticsError(
            f"年份须在 {FIRST_YEAR}–{LAST_YEAR} 之间 "
            f"(year must be between {FIRST_YEAR} and {LAST_YEAR}, got {year})"
        )


def year_bounds(year: int, timezone: str = DEFAULT_TIMEZONE) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants [start, end) of a calendar year in the district's time zone.

    Filtering the stored UTC column against these keeps the range on its index.
    """
    check_year(year)
    zone = ZoneInfo(timezone)
    start = dt.datetime(year, 1, 1, tzinfo=zone)
    end = dt.datetime(year + 1, 1, 1, tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _q(filters: dict[str, Any]) -> Q:
    """A Q from computed field names."""
    return Q(**filters)


def _in_year(field: str, year: int | None, timezone: str) -> Q:
    if year is None:
        return Q()
    start, end = year_bounds(year, timezone)
    return _q({f"{field}__gte": start, f"{field}__lt": end})


_BRANCH_PATHS = {
    ScopeLevel.DISTRICT: "community__street__district_id",
    ScopeLevel.STREET: "community__street_id",
    ScopeLevel.COMMUNITY: "community_id",
}
_COMPOUND_PATHS = {
    **_BRANCH_PATHS,
    # A branch's compounds are the ones it covers.
    ScopeLevel.BRANCH: "branches__id",
}


def in_branches(scope: Scope, column: str) -> Q:
    """Rows whose ``column`` is a branch of the scope."""
    if scope.branches is not None:
        place = Q() if scope.level is None else _place(scope, _BRANCH_PATHS, "id")
        ids = Branch.filter(place, scope.branches).values("id")
        return _q({f"{column}__in": Subquery(ids)})
    if scope.level is None:
        return Q()
    if scope.level is ScopeLevel.BRANCH:
        return _q({column: scope.id})
    ids = Branch.filter(**{_BRANCH_PATHS[scope.level]: scope.id}).values("id")
    return _q({f"{column}__in": Subquery(ids)})


def in_compounds(scope: Scope, column: str) -> Q:
    """Rows whose ``column`` is a compound of the scope."""
    if scope.level is None and scope.compounds is None:
        return Q()
    place = Q() if scope.level is None else _place(scope, _COMPOUND_PATHS, "branches__id")
    ids = Compound.filter(place, scope.compounds or Q()).values("id")
    return _q({f"{column}__in": Subquery(ids)})


def _place(scope: Scope, paths: Mapping[ScopeLevel, str], branch_path: str) -> Q:
    assert scope.level is not None
    return _q({paths.get(scope.level, branch_path): scope.id})


def _tallies(enum: type[E], counts: Mapping[E, int]) -> list[Tally[E]]:
    """Every value of ``enum`` in declaration order, zero included."""
    return [Tally(value=v, count=counts.get(v, 0)) for v in enum]


def _service_tallies(
    enum: type[E], rows: Iterable[Mapping[str, Any]], key: str
) -> list[ServiceTally[E]]:
    counts: dict[E, list[int]] = {v: [0, 0] for v in enum}
    for row in rows:
        counts[row[key]][0] += row["n"]
        counts[row[key]][1] += row["served"] or 0
    return [ServiceTally(value=v, count=n, residents_served=s) for v, (n, s) in counts.items()]


# --- figures ---------------------------------------------------------------------


# Each group of figures is one query below (shared with the compiled read path, which
# folds them into one statement) and a function that runs it and shapes the result.


def branch_rows(*, scope: Scope) -> ValuesQuery[Any]:
    """Branches per (star_rating, is_demonstration): ``n``."""
    return (
        Branch.filter(in_branches(scope, "id"))
        .group_by("star_rating", "is_demonstration")
        .annotate(n=Count("id"))
        .values("star_rating", "is_demonstration", "n")
    )


async def branch_figures(*, scope: Scope) -> BranchFigures:
    """Branches, demonstration branches and the star distribution (one statement)."""
    rows = await branch_rows(scope=scope)
    stars = dict.fromkeys(STAR_RATINGS, 0)
    for row in rows:
        stars[row["star_rating"]] += row["n"]
    return BranchFigures(
        branches=sum(row["n"] for row in rows),
        demonstration=sum(row["n"] for row in rows if row["is_demonstration"]),
        stars=[StarCount(stars=s, count=n) for s, n in stars.items()],
    )


def compound_row(*, scope: Scope) -> ValuesQuery[Any]:
    """One row: compounds ``total``, ``covered`` by a branch, property ``companies``."""
    covered = Subquery(Compound.filter(branches__id__isnull=False).values("id"))
    return (
        Compound.filter(in_compounds(scope, "id"))
        .annotate(
            total=Count("id"),
            covered=Count("id", _filter=Q(id__in=covered)),
            companies=Count("property_company_id", distinct=True),
        )
        .values("total", "covered", "companies")
    )


async def compound_figures(*, scope: Scope) -> CompoundFigures:
    """Compounds, those covered by a branch, and their property companies (one statement)."""
    row = (await compound_row(scope=scope))[0]
    return CompoundFigures(
        total=row["total"], covered=row["covered"], property_companies=row["companies"]
    )


def member_rows(*, scope: Scope, year: int | None = None) -> ValuesQuery[Any]:
    """ACTIVE members per ``category``: ``n``, and ``registered`` in their compound."""
    registered = Q(registered_on__isnull=False)
    if year is not None:
        check_year(year)
        registered &= Q(registered_on__lte=dt.date(year, 12, 31))
    return (
        Member.filter(in_branches(scope, "branch_id"), status=MemberStatus.ACTIVE)
        .group_by("category")
        .annotate(n=Count("id"), registered=Count("id", _filter=registered))
        .values("category", "n", "registered")
    )


async def member_figures(*, scope: Scope, year: int | None = None) -> MemberFigures:
    """ACTIVE members of the scope's branches per category, and those registered in
    their compound (by the end of ``year`` when given) — one statement."""
    rows = await member_rows(scope=scope, year=year)
    return MemberFigures(
        by_category=_tallies(MemberCategory, {row["category"]: row["n"] for row in rows}),
        in_service_registered=sum(row["registered"] for row in rows),
    )


def activity_rows(
    *, scope: Scope, year: int | None = None, timezone: str = DEFAULT_TIMEZONE
) -> ValuesQuery[Any]:
    """Activities per (category, delivery_mode, service_force): ``n`` and ``served``."""
    return (
        ServiceActivity.filter(in_branches(scope, "branch_id"), _in_year("held_at", year, timezone))
        .group_by("category", "delivery_mode", "service_force")
        .annotate(n=Count("id"), served=Sum("residents_served"))
        .values("category", "delivery_mode", "service_force", "n", "served")
    )


async def activity_figures(
    *, scope: Scope, year: int | None = None, timezone: str = DEFAULT_TIMEZONE
) -> ActivityFigures:
    """Service activities of the scope's branches held in ``year`` (one statement)."""
    rows = await activity_rows(scope=scope, year=year, timezone=timezone)
    return ActivityFigures(
        count=sum(row["n"] for row in rows),
        residents_served=sum(row["served"] or 0 for row in rows),
        by_category=_service_tallies(ActivityCategory, rows, "category"),
        by_delivery_mode=_service_tallies(DeliveryMode, rows, "delivery_mode"),
        by_service_force=_service_tallies(ServiceForce, rows, "service_force"),
    )


def hours_to_resolve() -> RawSQL:
    """resolved_at − collected_at in hours, in the connection's SQL dialect."""
    resolved, collected = '"resident_request"."resolved_at"', '"resident_request"."collected_at"'
    if ResidentRequest._meta.db.capabilities.dialect == "sqlite":
        # Tortoise stores ISO text with its UTC offset, which julianday() understands.
        return RawSQL(f"(julianday({resolved}) - julianday({collected})) * 24.0")
    return RawSQL(f"EXTRACT(EPOCH FROM ({resolved} - {collected})) / 3600.0")


def request_rows(
    *, scope: Scope, year: int | None = None, timezone: str = DEFAULT_TIMEZONE
) -> ValuesQuery[Any]:
    """Requests collected in ``year`` per (status, category): ``n``."""
    return (
        ResidentRequest.filter(
            in_compounds(scope, "compound_id"), _in_year("collected_at", year, timezone)
        )
        .group_by("status", "category")
        .annotate(n=Count("id"))
        .values("status", "category", "n")
    )


def resolved_requests(
    *, scope: Scope, year: int | None = None, timezone: str = DEFAULT_TIMEZONE
) -> QuerySet[ResidentRequest]:
    """Requests RESOLVED in ``year``."""
    return ResidentRequest.filter(
        in_compounds(scope, "compound_id"),
        _in_year("resolved_at", year, timezone),
        status=RequestStatus.RESOLVED,
    )


def overdue_requests(*, scope: Scope, now: dt.datetime) -> QuerySet[ResidentRequest]:
    """Requests not resolved and past due at ``now``."""
    return ResidentRequest.filter(in_compounds(scope, "compound_id"), due_at__lt=now).exclude(
        status=RequestStatus.RESOLVED
    )


async def request_figures(
    *,
    scope: Scope,
    year: int | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    now: dt.datetime | None = None,
) -> RequestFigures:
    """Resident requests of the scope's compounds (four statements).

    ``year`` selects by ``collected_at`` for the breakdowns and by ``resolved_at`` for
    ``resolved`` and the median; ``overdue`` is the state at ``now`` whatever the year.
    """
    now = now or dt.datetime.now(dt.UTC)
    rows = await request_rows(scope=scope, year=year, timezone=timezone)
    by_status: dict[RequestStatus, int] = {}
    by_category: dict[RequestCategory, int] = {}
    for row in rows:
        by_status[row["status"]] = by_status.get(row["status"], 0) + row["n"]
        by_category[row["category"]] = by_category.get(row["category"], 0) + row["n"]

    resolved_set = resolved_requests(scope=scope, year=year, timezone=timezone)
    resolved = await resolved_set.count()
    # The median is the middle one or two durations of the sorted resolved set:
    # the database sorts, and at most two values come back.
    middle: list[Any] = (
        await resolved_set.annotate(hours=hours_to_resolve())
        .order_by("hours")
        .offset(max(resolved - 1, 0) // 2)
        .limit(2 - resolved % 2)
        .values_list("hours", flat=True)
    )
    median = round(sum(float(h) for h in middle) / len(middle), HOURS_DIGITS) if middle else None

    overdue = await overdue_requests(scope=scope, now=now).count()
    return RequestFigures(
        by_status=_tallies(RequestStatus, by_status),
        by_category=_tallies(RequestCategory, by_category),
        resolved=resolved,
        median_hours_to_resolve=median,
        overdue=overdue,
    )


def committee_row(*, scope: Scope) -> ValuesQuery[Any]:
    """One row: owners' committees ``total``, ``party_led`` and ``cross`` appointments.

    A cross-appointment (交叉任职) is a committee whose director is the member holding
    the SECRETARY seat of a branch that covers the committee's compound.
    """
    cross = OwnersCommittee.filter(
        compound__branches__committee_seats__role=SeatRole.SECRETARY,
        # Column against column: a qualified name resolves to the innermost FROM, so
        # this is the subquery's own committee row, not the outer query's.
        compound__branches__committee_seats__member_id=RawSQL(
            '"owners_committee"."director_member_id"'
        ),
    ).values("id")
    return (
        OwnersCommittee.filter(in_compounds(scope, "compound_id"))
        .annotate(
            total=Count("id"),
            party_led=Count("id", _filter=Q(is_party_led=True)),
            cross=Count("id", _filter=Q(id__in=Subquery(cross))),
        )
        .values("total", "party_led", "cross")
    )


async def committee_figures(*, scope: Scope) -> CommitteeFigures:
    """Owners' committees, party-led ones and cross-appointments (one statement)."""
    row = (await committee_row(scope=scope))[0]
    return CommitteeFigures(
        total=row["total"], party_led=row["party_led"], cross_appointments=row["cross"]
    )


def wechat_row(*, scope: Scope) -> ValuesQuery[Any]:
    """One row: WeChat ``groups`` and their ``members`` (NULL for no group)."""
    return (
        WeChatGroup.filter(in_compounds(scope, "compound_id"))
        .annotate(groups=Count("id"), members=Sum("size"))
        .values("groups", "members")
    )


async def wechat_figures(*, scope: Scope) -> WeChatFigures:
    """WeChat groups of the scope's compounds and their total size (one statement)."""
    row = (await wechat_row(scope=scope))[0]
    return WeChatFigures(groups=row["groups"], members=row["members"] or 0)


async def compute_statistics(
    *,
    scope: Scope = EVERYTHING,
    year: int | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    now: dt.datetime | None = None,
) -> Statistics:
    """Every figure for ``scope`` and ``year`` (ten statements, whatever the data size)."""
    check_year(year)
    return Statistics(
        scope=scope,
        year=year,
        branches=await branch_figures(scope=scope),
        compounds=await compound_figures(scope=scope),
        members=await member_figures(scope=scope, year=year),
        activities=await activity_figures(scope=scope, year=year, timezone=timezone),
        requests=await request_figures(scope=scope, year=year, timezone=timezone, now=now),
        committees=await committee_figures(scope=scope),
        wechat=await wechat_figures(scope=scope),
    )
