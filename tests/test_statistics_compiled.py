"""``Query.statistics`` in the compiled read path: one statement, the resolvers' answer.

Each query runs through both paths and must give the same JSON (floats written the
same, keys in the same order; only whitespace may differ); a query that should compile
and does not fails the test. Requests the resolver refuses (who may read, bad scope
ids, years) are not compiled, and a scope the statement finds no readable row for is
answered by the resolvers: either way the client gets the resolver's error, which
these tests compare too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import orjson
import pytest
from strawberry.relay import to_base64

from hub import models as m
from hub.access import Viewer
from hub.enums import RequestCategory, RequestChannel, RequestStatus, Role
from hub.services.statistics import HOURS_DIGITS, RATE_DIGITS, ScopeLevel
from hub.settings import Settings
from resolvers.compiler.dialect import dialect_for
from resolvers.compiler.statistics import python_round
from schema.compiled.read_path import _read_connection
from tests import test_permissions
from tests.api_data import execute, gid, schema_for
from tests.compiled_support import plan_for
from tests.conftest import count_statements
from tests.test_permissions import Fixture
from tests.test_statistics import STATISTICS_QUERY, Places, build_district, scope_of

pytestmark = pytest.mark.usefixtures("orm")

# The permission matrix's world: two branches, a partner unit and one it must not see.
fixture = test_permissions.fixture

ADMIN = Viewer(user_id=None, username="admin", role=Role.ADMIN)

Q3 = (
    "query Statistics { statistics { members { value label count } "
    "coverage { branches compoundsCovered compoundsTotal coverageRate } } }"
)

SHAPES_QUERY = """
query Shapes($scope: StatisticsScopeInput, $year: Int, $yes: Boolean!, $no: Boolean!) {
  __typename
  stats: statistics(scope: $scope, year: $year) {
    __typename
    ...Figures
    ... on Statistics { total: membersTotal @include(if: $yes) year }
    hidden: membersTotal @skip(if: $yes)
    shown: wechatGroups @include(if: $yes) @skip(if: $no)
    scope { __typename level ... on StatisticsScope { id } name n2: name }
    coverage { rate: coverageRate coverageRate __typename }
    coverage { branches }
    requests @include(if: $no) { overdue }
    requests { __typename byStatus { __typename value } median: medianHoursToResolve }
    activities { byServiceForce { label residentsServed } count }
  }
  again: statistics(scope: $scope) { membersTotal members { __typename count } }
}
fragment Figures on Statistics {
  members { value label count }
  starDistribution { stars count __typename }
  activities { byCategory { value count residentsServed } byDeliveryMode { value } }
}
"""

KEYS = {"DISTRICT": "", "STREET": "S1", "COMMUNITY": "C1", "BRANCH": "B1"}


async def answers(
    settings: Settings, query: str, viewer: Viewer, **variables: Any
) -> tuple[bytes, bytes]:
    """The JSON of the resolvers' answer and of the compiled read path's (which may
    hand the request to the resolvers), as the app writes them."""
    resolvers = dataclasses.replace(settings, read_path="resolvers")
    compiled = dataclasses.replace(settings, read_path="compiled")
    want = await execute(resolvers, query, viewer=viewer, **variables)
    path = _read_path(compiled)

    async def resolve() -> Any:
        return await execute(resolvers, query, viewer=viewer, **variables)

    have = await path.execute(
        resolve, query=query, variables=variables, operation_name=None, viewer=viewer
    )
    return _json(want), _json(have)


def _read_path(settings: Settings) -> Any:
    from schema.compiled import ReadPath

    return ReadPath(schema_for(settings), settings)


def _json(result: Any) -> bytes:
    """The answer's JSON with the whitespace PostgreSQL's JSON functions write removed:
    key order, and ``1.0`` against ``1``, still count."""
    errors = [e.formatted for e in result.errors] if result.errors else None
    return orjson.dumps(orjson.loads(orjson.dumps({"data": result.data, "errors": errors})))


def compiled(settings: Settings, query: str, viewer: Viewer, **variables: Any) -> bool:
    plan = plan_for(settings, query, viewer, **variables)
    return plan is not None and plan.fallback is None


def scope(places: Places, level: ScopeLevel) -> dict[str, str]:
    found = scope_of(places, level, KEYS[level.value])
    assert found is not None
    return {"level": level.value, "id": to_base64(*found)}


@pytest.fixture
async def places(unique_name: str) -> Places:
    return await build_district(unique_name)


# --- every figure, every scope level and year ---------------------------------------


@pytest.mark.parametrize("year", [None, 2019, 2020, 2021])
async def test_every_figure_at_every_level_is_the_resolvers(
    settings: Settings, places: Places, year: int | None
) -> None:
    for level in [None, *ScopeLevel]:
        # given a scope (or the whole hub) and a year
        variables = {"scope": scope(places, level) if level else None, "year": year}
        assert compiled(settings, STATISTICS_QUERY, ADMIN, **variables), level

        # when both paths answer
        want, have = await answers(settings, STATISTICS_QUERY, ADMIN, **variables)

        # then the JSON is the same and it has data
        assert have == want, level
        assert orjson.loads(have)["errors"] is None


async def test_one_statement_with_the_scope_and_year_as_parameters(
    settings: Settings, places: Places
) -> None:
    # given the whole statistics of a street for a year
    variables = {"scope": scope(places, ScopeLevel.STREET), "year": 2020}
    plan = plan_for(settings, STATISTICS_QUERY, ADMIN, **variables)
    assert plan is not None and len(plan.statements) == 1
    statement = plan.statements[0]

    # then neither the global id, the key nor the year is in the SQL text
    assert variables["scope"]["id"] not in statement.sql
    assert f"= {places.streets['S1'].pk}" not in statement.sql
    assert "2020" not in statement.sql and "2019-12-31" not in statement.sql
    assert places.streets["S1"].pk in statement.bind(ADMIN)
    # and "now" (for overdue requests) is taken at each execution, not at planning
    nows = [p for p in statement.bind(ADMIN) if isinstance(p, dt.datetime) and p.year > 2025]
    assert len(nows) == 1 and abs(nows[0] - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)

    # and running it costs one statement
    compiled_settings = dataclasses.replace(settings, read_path="compiled")
    path = _read_path(compiled_settings)

    async def resolve() -> Any:
        raise AssertionError("answered by the resolvers")

    with count_statements() as counter:
        result = await path.execute(
            resolve,
            query=STATISTICS_QUERY,
            variables=variables,
            operation_name=None,
            viewer=ADMIN,
        )
    assert result.errors is None and counter.count == 1


@pytest.mark.parametrize("timezone", ["UTC", "America/Los_Angeles"])
async def test_years_are_calendar_years_of_the_configured_time_zone(
    settings: Settings, places: Places, timezone: str
) -> None:
    # given a hub in another time zone (the district's records sit near Shanghai midnights)
    settings = dataclasses.replace(settings, timezone=timezone)
    for year in (2019, 2020, 2021):
        variables = {"scope": scope(places, ScopeLevel.DISTRICT), "year": year}
        assert compiled(settings, STATISTICS_QUERY, ADMIN, **variables)

        # then both paths count the same year
        want, have = await answers(settings, STATISTICS_QUERY, ADMIN, **variables)
        assert have == want, year


async def test_q3_and_shapes(settings: Settings, places: Places) -> None:
    # given the benchmark's query and one with aliases, fragments, directives, __typename
    street = scope(places, ScopeLevel.STREET)
    cases: list[tuple[str, dict[str, Any]]] = [
        (Q3, {}),
        (SHAPES_QUERY, {"scope": street, "year": 2020, "yes": True, "no": False}),
        (SHAPES_QUERY, {"scope": None, "year": None, "yes": False, "no": True}),
        (SHAPES_QUERY, {"scope": street, "year": 2021, "yes": True, "no": True}),
    ]
    for query, variables in cases:
        # then it compiles and both paths answer the same JSON
        assert compiled(settings, query, ADMIN, **variables), variables
        want, have = await answers(settings, query, ADMIN, **variables)
        assert have == want, variables
        assert orjson.loads(have)["errors"] is None


# --- who may read ---------------------------------------------------------------------

ROLE_QUERY = """
query($scope: StatisticsScopeInput, $year: Int) {
  statistics(scope: $scope, year: $year) {
    scope { level id name } year
    coverage { branches compoundsCovered compoundsTotal coverageRate }
    members { value label count } membersTotal inServiceRegistered
    demonstrationBranches starDistribution { stars count }
    activities { count residentsServed byCategory { value count residentsServed } }
    requests { byStatus { value count } resolved medianHoursToResolve overdue }
    propertyCompanies ownersCommittees partyLedOwnersCommittees crossAppointments
    wechatGroups wechatGroupMembers
  }
}"""


def role_viewers(f: Fixture) -> dict[str, Viewer]:
    world = f.world
    return {
        "admin": ADMIN,
        "street curator": Viewer(role=Role.CURATOR, street_id=world.street.pk),
        "community curator": Viewer(
            role=Role.CURATOR, street_id=world.street.pk, community_id=world.community.pk
        ),
        "reader": Viewer(role=Role.READER),
        "partner": Viewer(role=Role.PARTNER, unit_id=f.unit.pk),
        "other partner": Viewer(role=Role.PARTNER, unit_id=f.other_unit.pk),
        "anonymous": Viewer(),
    }


def role_scopes(f: Fixture) -> dict[str, dict[str, str] | None]:
    world = f.world
    return {
        "hub": None,
        "district": {"level": "DISTRICT", "id": gid(world.district)},
        "street": {"level": "STREET", "id": gid(world.street)},
        "community": {"level": "COMMUNITY", "id": gid(world.community)},
        "own branch": {"level": "BRANCH", "id": gid(world.branches[0])},
        "other branch": {"level": "BRANCH", "id": gid(world.branches[1])},
    }


@pytest.mark.parametrize("public", [False, True])
async def test_every_role_and_scope(settings: Settings, fixture: Fixture, public: bool) -> None:
    # given statistics open to the public or not
    opened = dataclasses.replace(settings, public_statistics=public)
    for role, who in role_viewers(fixture).items():
        for name, place in role_scopes(fixture).items():
            for year in (None, 2020):
                # when each role asks for each scope
                want, have = await answers(opened, ROLE_QUERY, who, scope=place, year=year)

                # then the compiled path answers what the resolvers answer, errors included
                assert have == want, (role, name, year)
                errors = orjson.loads(want)["errors"]
                refused = who.role is None and not (public and name in ("hub", "district"))
                hidden = who.role is Role.PARTNER and name not in (
                    "hub",
                    "own branch",
                    "other branch",
                )
                if refused:
                    assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
                elif hidden:
                    assert errors[0]["extensions"]["code"] == "NOT_FOUND"
                elif who.role is not Role.PARTNER:
                    assert errors is None, (role, name)
                # and whatever the resolvers answer with data, the compiler compiled
                if errors is None:
                    assert compiled(opened, ROLE_QUERY, who, scope=place, year=year)


async def test_a_partner_counts_only_its_branches(settings: Settings, fixture: Fixture) -> None:
    # given the two partners of the world
    viewers = role_viewers(fixture)
    figures = {}
    district = role_scopes(fixture)["district"]
    for role in ("partner", "other partner", "reader"):
        place = district if role == "reader" else None  # a partner reads no district
        want, have = await answers(settings, ROLE_QUERY, viewers[role], scope=place, year=None)
        assert have == want
        figures[role] = orjson.loads(have)["data"]["statistics"]["coverage"]["branches"]

    # then each partner counts its one branch, the reader both of the district
    assert figures == {"partner": 1, "other partner": 1, "reader": 2}
    # and one plan serves both partners (their unit is a parameter)
    one = plan_for(settings, ROLE_QUERY, viewers["partner"], scope=None, year=None)
    two = plan_for(settings, ROLE_QUERY, viewers["other partner"], scope=None, year=None)
    assert one is two and one is not None


@pytest.mark.parametrize(
    "make",
    [
        lambda f: {"level": "BRANCH", "id": "!!not base64!!"},
        lambda f: {"level": "BRANCH", "id": to_base64("Branch", "abc")},
        lambda f: {"level": "BRANCH", "id": gid(f.world.members[0])},  # foreign type
        lambda f: {"level": "STREET", "id": gid(f.world.community)},  # another level's
        lambda f: {"level": "STREET", "id": to_base64("Street", 2**31 - 1)},  # no such row
        lambda f: {"level": "DISTRICT", "id": to_base64("District", 10**15)},  # out of range
        lambda f: {"level": "COMMUNITY", "id": to_base64("Community", 0)},
        lambda f: {"level": "COMMUNITY", "id": to_base64("Community", -3)},
    ],
)
async def test_forged_and_foreign_scope_ids(
    settings: Settings, fixture: Fixture, make: Any
) -> None:
    for role, who in role_viewers(fixture).items():
        # when a forged or foreign scope id is sent
        want, have = await answers(settings, ROLE_QUERY, who, scope=make(fixture), year=None)

        # then the answer is the resolvers' error, same message and code
        assert have == want, role
        assert orjson.loads(have)["data"] is None


@pytest.mark.parametrize("year", [1899, 2101, -1, 0])
async def test_a_year_out_of_bounds_is_the_resolvers_error(
    settings: Settings, fixture: Fixture, year: int
) -> None:
    want, have = await answers(settings, ROLE_QUERY, ADMIN, scope=None, year=year)
    assert have == want
    assert orjson.loads(have)["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# --- rounding ---------------------------------------------------------------------------


async def test_ties_round_half_to_even_on_the_float(settings: Settings, unique_name: str) -> None:
    # given a community of 32 compounds, 1 or 5 covered (1/32 = 0.03125: a tie at four
    # decimals), and two resolved requests 0 and 15 minutes long (median 0.125 h)
    district = await m.District.create(name=f"{unique_name}区")
    street = await m.Street.create(district=district, name=f"{unique_name}街道")
    community = await m.Community.create(street=street, name=f"{unique_name}社区")
    compounds = [
        await m.Compound.create(community=community, name=f"{unique_name}{i}小区")
        for i in range(32)
    ]
    branch = await m.Branch.create(community=community, name="支部")
    at = dt.datetime(2020, 5, 1, 8, tzinfo=dt.UTC)
    for minutes in (0, 15):
        await m.ResidentRequest.create(
            compound=compounds[0],
            category=RequestCategory.OTHER,
            channel=RequestChannel.WECHAT_GROUP,
            status=RequestStatus.RESOLVED,
            description="诉求",
            collected_at=at,
            resolved_at=at + dt.timedelta(minutes=minutes),
        )
    query = """query($scope: StatisticsScopeInput) { statistics(scope: $scope) {
      coverage { coverageRate } requests { medianHoursToResolve } } }"""
    variables = {"scope": {"level": "COMMUNITY", "id": gid(community)}}
    for covered in (1, 5):
        await branch.compounds.add(*compounds[:covered])

        # when both paths answer
        want, have = await answers(settings, query, ADMIN, **variables)

        # then Python's rounding holds (0.0312, not 0.0313; 0.1562; 0.12, not 0.13)
        assert have == want
        figures = orjson.loads(have)["data"]["statistics"]
        assert figures["coverage"]["coverageRate"] == round(covered / 32, RATE_DIGITS)
        assert figures["requests"]["medianHoursToResolve"] == 0.12


async def test_python_round_in_sql_is_pythons(orm: Settings) -> None:
    # given fractions with ties and near-ties at four and two decimals
    db = _read_connection()
    dialect = dialect_for(db.capabilities.dialect)
    kind = "double precision" if dialect.name == "postgres" else "REAL"
    values = sorted(
        {
            c / t
            for t in (*range(1, 90), 96, 160, 320, 800, 4000, 20000)
            for c in range(0, t + 1, max(1, t // 60))
        }
        | {k / 8 + j for k in range(8) for j in (0, 1, 17, 1234)}
        | {0.005, 0.015, 0.025, 1.005, 2.675, 0.125, 0.375, 1e-9, 123456.785}
    )
    placeholder = "$1" if dialect.name == "postgres" else "?"
    for digits in (RATE_DIGITS, HOURS_DIGITS):
        sql = "SELECT " + python_round(
            dialect.name, "v", digits, source=f"(SELECT CAST({placeholder} AS {kind}) AS v) AS src"
        )
        for value in values:
            # when the database rounds
            _, rows = await db.execute_query(sql, [value])

            # then it is Python's round, to the bit
            assert float(rows[0][0]) == round(value, digits), (value, digits)


async def test_a_selection_too_wide_for_one_object_falls_back_visibly(
    settings: Settings, places: Places
) -> None:
    # given more response keys than PostgreSQL's json_build_object takes (50 pairs),
    # which only a hub without the alias limit (30 by default) lets through
    settings = dataclasses.replace(settings, max_aliases=0)
    wide = " ".join(f"m{i}: membersTotal" for i in range(51))
    query = f"{{ statistics {{ {wide} }} }}"

    # then the plan names the field that falls back
    plan = plan_for(settings, query, ADMIN)
    assert plan is not None and plan.fallback == "statistics"

    # and the answer is still the resolvers'
    want, have = await answers(settings, query, ADMIN)
    assert have == want and orjson.loads(have)["errors"] is None
