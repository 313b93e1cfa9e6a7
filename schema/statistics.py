"""GraphQL types for the district statistics (统计) and the ``statistics`` query field.

The figures come from ``hub.services.statistics``. A ``Statistics`` object computes
each group of figures only when a selected field needs it, and once: asking for
``coverage`` and ``members`` costs three statements, the whole object about ten.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.relay import from_base64, to_base64

from hub.services import statistics as service
from hub.services.statistics import SCOPE_MODELS, ScopeLevel, StatisticsError
from schema.enums import (
    ActivityCategory,
    DeliveryMode,
    MemberCategory,
    RequestCategory,
    RequestStatus,
    ServiceForce,
)
from schema.info import Info

T = TypeVar("T")

StatisticsScopeLevel = strawberry.enum(
    ScopeLevel,
    name="StatisticsScopeLevel",
    description="统计范围层级 (level of a statistics scope)",
)
for _value in StatisticsScopeLevel.__strawberry_definition__.values:  # type: ignore[attr-defined]
    _value.description = ScopeLevel[_value.name].label


@strawberry.input(
    description="统计范围 (statistics scope): one district, street, community or branch"
)
class StatisticsScopeInput:
    level: ScopeLevel = strawberry.field(description="层级 (level)")
    id: strawberry.ID = strawberry.field(
        description="该层级记录的全局 ID (global ID of a District, Street, Community or Branch)"
    )


@strawberry.type(description="统计范围 (statistics scope): the place counted")
class StatisticsScope:
    level: ScopeLevel = strawberry.field(description="层级 (level)")
    id: strawberry.ID = strawberry.field(description="全局 ID (global ID)")
    name: str = strawberry.field(description="名称 (name)")


@strawberry.type(description="党组织覆盖 (coverage): compounds covered by a party branch")
class StatisticsCoverage:
    branches: int = strawberry.field(description="小区党支部数 (party branches)")
    compounds_covered: int = strawberry.field(
        description="已覆盖小区数 (compounds covered by at least one branch)"
    )
    compounds_total: int = strawberry.field(
        description="小区总数 (compounds in scope; for a branch: the compounds it covers)"
    )
    coverage_rate: float = strawberry.field(
        description="覆盖率 (coverage rate, covered ÷ total, 0–1; 0 when there is no compound)"
    )


@strawberry.type(description="各类党员人数 (members of one category)")
class MemberCategoryCount:
    value: MemberCategory = strawberry.field(description="党员类别 (category)")
    label: str = strawberry.field(description="中文名称 (Chinese label)")
    count: int = strawberry.field(description="正常状态党员数 (ACTIVE members)")


@strawberry.type(description="星级分布 (branches with one star rating)")
class StarRatingCount:
    stars: int = strawberry.field(description="星级 (stars, 0–5)")
    count: int = strawberry.field(description="支部数 (branches)")


_TALLY_COUNT = "活动次数 (activities)"
_TALLY_SERVED = "服务居民人次 (resident visits served)"


@strawberry.type(description="按活动类别 (activities of one category)")
class ActivityCategoryCount:
    value: ActivityCategory = strawberry.field(description="活动类别 (category)")
    label: str = strawberry.field(description="中文名称 (Chinese label)")
    count: int = strawberry.field(description=_TALLY_COUNT)
    residents_served: int = strawberry.field(description=_TALLY_SERVED)


@strawberry.type(description="按服务方式 (activities of one delivery mode)")
class DeliveryModeCount:
    value: DeliveryMode = strawberry.field(description="服务方式 (delivery mode)")
    label: str = strawberry.field(description="中文名称 (Chinese label)")
    count: int = strawberry.field(description=_TALLY_COUNT)
    residents_served: int = strawberry.field(description=_TALLY_SERVED)


@strawberry.type(description="按服务力量 (activities of one of the five service forces)")
class ServiceForceCount:
    value: ServiceForce = strawberry.field(description="服务力量 (service force)")
    label: str = strawberry.field(description="中文名称 (Chinese label)")
    count: int = strawberry.field(description=_TALLY_COUNT)
    residents_served: int = strawberry.field(description=_TALLY_SERVED)


@strawberry.type(description="服务活动统计 (service activities of the scope's branches)")
class ActivityStatistics:
    count: int = strawberry.field(description=_TALLY_COUNT)
    residents_served: int = strawberry.field(description=_TALLY_SERVED)
    by_category: list[ActivityCategoryCount] = strawberry.field(
        description="按类别 (by category, every category listed)"
    )
    by_delivery_mode: list[DeliveryModeCount] = strawberry.field(
        description="按服务方式：清单式/点单式/菜单式 (by delivery mode)"
    )
    by_service_force: list[ServiceForceCount] = strawberry.field(
        description="按五支服务力量 (by service force of the 515 method)"
    )


@strawberry.type(description="按诉求状态 (requests in one status)")
class RequestStatusCount:
    value: RequestStatus = strawberry.field(description="诉求状态 (status)")
    label: str = strawberry.field(description="中文名称 (Chinese label)")
    count: int = strawberry.field(description="诉求数 (requests)")


@strawberry.type(description="按诉求类别 (requests of one category)")
class RequestCategoryCount:
    value: RequestCategory = strawberry.field(description="诉求类别 (category)")
    label: str = strawberry.field(description="中文名称 (Chinese label)")
    count: int = strawberry.field(description="诉求数 (requests)")


@strawberry.type(description="居民诉求统计 (resident requests of the scope's compounds)")
class RequestStatistics:
    by_status: list[RequestStatusCount] = strawberry.field(
        description="按状态 (by status; collected in the year when a year is given)"
    )
    by_category: list[RequestCategoryCount] = strawberry.field(
        description="按类别 (by category; collected in the year when a year is given)"
    )
    resolved: int = strawberry.field(
        description="已解决 (resolved; resolved in the year when a year is given)"
    )
    median_hours_to_resolve: float | None = strawberry.field(
        description="解决用时中位数（小时）(median hours from collection to resolution)"
    )
    overdue: int = strawberry.field(
        description="超期未解决 (not resolved and past due now, whatever the year)"
    )


class _Figures:
    """Each group of figures, computed on first demand and once per ``Statistics``."""

    def __init__(self, scope: service.Scope, year: int | None, timezone: str) -> None:
        self.scope, self.year, self.timezone = scope, year, timezone
        self._pending: dict[str, asyncio.Future[Any]] = {}

    def _once(self, key: str, compute: Callable[[], Awaitable[T]]) -> Awaitable[T]:
        # Sibling fields resolve concurrently: share one task, not one call each.
        if key not in self._pending:
            self._pending[key] = asyncio.ensure_future(compute())
        return self._pending[key]

    def branches(self) -> Awaitable[service.BranchFigures]:
        return self._once("branches", lambda: service.branch_figures(scope=self.scope))

    def compounds(self) -> Awaitable[service.CompoundFigures]:
        return self._once("compounds", lambda: service.compound_figures(scope=self.scope))

    def members(self) -> Awaitable[service.MemberFigures]:
        return self._once(
            "members", lambda: service.member_figures(scope=self.scope, year=self.year)
        )

    def activities(self) -> Awaitable[service.ActivityFigures]:
        return self._once(
            "activities",
            lambda: service.activity_figures(
                scope=self.scope, year=self.year, timezone=self.timezone
            ),
        )

    def requests(self) -> Awaitable[service.RequestFigures]:
        return self._once(
            "requests",
            lambda: service.request_figures(
                scope=self.scope, year=self.year, timezone=self.timezone
            ),
        )

    def committees(self) -> Awaitable[service.CommitteeFigures]:
        return self._once("committees", lambda: service.committee_figures(scope=self.scope))

    def wechat(self) -> Awaitable[service.WeChatFigures]:
        return self._once("wechat", lambda: service.wechat_figures(scope=self.scope))


@strawberry.type(
    description="统计 (statistics): figures counted from the records for one scope and year"
)
class Statistics:
    scope: StatisticsScope | None = strawberry.field(
        description="统计范围 (the place counted; null: everything in the hub)"
    )
    year: int | None = strawberry.field(
        description="年度（Asia/Shanghai 时间）(calendar year in the district's time zone)"
    )
    figures: strawberry.Private[_Figures]

    @strawberry.field(description="党组织覆盖 (coverage of compounds by party branches)")
    async def coverage(self) -> StatisticsCoverage:
        branches, compounds = await self.figures.branches(), await self.figures.compounds()
        return StatisticsCoverage(
            branches=branches.branches,
            compounds_covered=compounds.covered,
            compounds_total=compounds.total,
            coverage_rate=compounds.coverage_rate,
        )

    @strawberry.field(
        description="各类党员人数 (ACTIVE members of the scope's branches per category)"
    )
    async def members(self) -> list[MemberCategoryCount]:
        figures = await self.figures.members()
        return [
            MemberCategoryCount(value=t.value, label=t.label, count=t.count)
            for t in figures.by_category
        ]

    @strawberry.field(description="党员总数 (ACTIVE members in all categories)")
    async def members_total(self) -> int:
        return (await self.figures.members()).total

    @strawberry.field(description="示范点支部数 (demonstration branches)")
    async def demonstration_branches(self) -> int:
        return (await self.figures.branches()).demonstration

    @strawberry.field(description="星级分布 (branches per star rating, 0 to 5)")
    async def star_distribution(self) -> list[StarRatingCount]:
        stars = (await self.figures.branches()).stars
        return [StarRatingCount(stars=s.stars, count=s.count) for s in stars]

    @strawberry.field(description="服务活动 (service activities; held in the year if given)")
    async def activities(self) -> ActivityStatistics:
        f = await self.figures.activities()
        return ActivityStatistics(
            count=f.count,
            residents_served=f.residents_served,
            by_category=[
                ActivityCategoryCount(
                    value=t.value, label=t.label, count=t.count, residents_served=t.residents_served
                )
                for t in f.by_category
            ],
            by_delivery_mode=[
                DeliveryModeCount(
                    value=t.value, label=t.label, count=t.count, residents_served=t.residents_served
                )
                for t in f.by_delivery_mode
            ],
            by_service_force=[
                ServiceForceCount(
                    value=t.value, label=t.label, count=t.count, residents_served=t.residents_served
                )
                for t in f.by_service_force
            ],
        )

    @strawberry.field(description="居民诉求 (resident requests)")
    async def requests(self) -> RequestStatistics:
        f = await self.figures.requests()
        return RequestStatistics(
            by_status=[
                RequestStatusCount(value=t.value, label=t.label, count=t.count) for t in f.by_status
            ],
            by_category=[
                RequestCategoryCount(value=t.value, label=t.label, count=t.count)
                for t in f.by_category
            ],
            resolved=f.resolved,
            median_hours_to_resolve=f.median_hours_to_resolve,
            overdue=f.overdue,
        )

    @strawberry.field(description="物业企业数 (distinct property companies managing compounds)")
    async def property_companies(self) -> int:
        return (await self.figures.compounds()).property_companies

    @strawberry.field(description="业委会数 (owners' committees)")
    async def owners_committees(self) -> int:
        return (await self.figures.committees()).total

    @strawberry.field(description="党建主导型业委会数 (party-led owners' committees)")
    async def party_led_owners_committees(self) -> int:
        return (await self.figures.committees()).party_led

    @strawberry.field(
        description="交叉任职 (committees directed by the secretary of a branch covering "
        "their compound)"
    )
    async def cross_appointments(self) -> int:
        return (await self.figures.committees()).cross_appointments

    @strawberry.field(description="小区微信群数 (WeChat groups)")
    async def wechat_groups(self) -> int:
        return (await self.figures.wechat()).groups

    @strawberry.field(description="微信群成员总数 (members of all WeChat groups)")
    async def wechat_group_members(self) -> int:
        return (await self.figures.wechat()).members

    @strawberry.field(
        description="在职党员到小区报到数 (ACTIVE members registered in their compound, "
        "by the end of the year if given)"
    )
    async def in_service_registered(self) -> int:
        return (await self.figures.members()).in_service_registered


def _bad_input(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})


def decode_scope(scope: StatisticsScopeInput) -> tuple[ScopeLevel, int]:
    """The level and primary key a scope input names, or a BAD_USER_INPUT error."""
    expected = SCOPE_MODELS[scope.level].__name__
    try:
        type_name, raw_pk = from_base64(str(scope.id))
    except ValueError:
        raise _bad_input(
            f"统计范围 ID 格式不正确 (malformed scope id {scope.id!r}: expected a global ID)"
        ) from None
    if type_name != expected:
        raise _bad_input(
            f"统计范围层级为{scope.level.label}，ID 却不是{scope.level.label}的 ID "
            f"(scope level {scope.level.value} needs a {expected} id, got a {type_name} id)"
        )
    if not (raw_pk.isascii() and raw_pk.isdigit()):
        raise _bad_input(f"统计范围 ID 格式不正确 (malformed scope id {scope.id!r})")
    return scope.level, int(raw_pk)


def _timezone(info: Info) -> str:
    return info.context.settings.timezone


@strawberry.type(description="统计查询 (statistics queries), merged into the root Query")
class StatisticsQuery:
    @strawberry.field(
        description="统计 (statistics) for a district, street, community or branch "
        "(null: everything in the hub), optionally for one year"
    )
    async def statistics(
        self,
        info: Info,
        scope: Annotated[
            StatisticsScopeInput | None,
            strawberry.argument(description="统计范围 (scope; null: everything in the hub)"),
        ] = None,
        year: Annotated[
            int | None,
            strawberry.argument(description="年度 (calendar year in Asia/Shanghai time)"),
        ] = None,
    ) -> Statistics:
        viewer = info.context.viewer
        # The public sees district-wide figures only, and only where the setting allows.
        public = not viewer.is_authenticated and (
            info.context.settings.public_statistics
            and (scope is None or scope.level is ScopeLevel.DISTRICT)
        )
        if not (viewer.is_authenticated or public):
            raise GraphQLError(
                "请先登录 (log in to read statistics)", extensions={"code": "UNAUTHENTICATED"}
            )
        reader = None if public else viewer
        try:
            service.check_year(year)
            if scope is None:
                place = (
                    service.EVERYTHING
                    if reader is None
                    else service.seen_by(service.EVERYTHING, reader)
                )
                scope_out = None
            else:
                level, pk = decode_scope(scope)
                place = await service.find_scope(level=level, id=pk, viewer=reader)
                scope_out = StatisticsScope(
                    level=level,
                    id=strawberry.ID(to_base64(SCOPE_MODELS[level].__name__, pk)),
                    name=place.name,
                )
        except StatisticsError as exc:
            raise GraphQLError(str(exc), extensions={"code": exc.code}) from None
        return Statistics(
            scope=scope_out, year=year, figures=_Figures(place, year, _timezone(info))
        )
