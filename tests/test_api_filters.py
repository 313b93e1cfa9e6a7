"""``where`` filters and ``orderBy``, end to end through a small throwaway schema.

The dataset lives in a district of its own; every query is scoped to it, so the demo
data and other tests never show up. Names stand in for records in the results.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import strawberry
from strawberry.relay import to_base64
from tortoise.models import Model

from hub.enums import Duty, MemberCategory, Representative, StreetKind
from hub.models import (
    Branch,
    Community,
    Compound,
    District,
    Member,
    MemberDuty,
    ResidentRequest,
    Street,
    __models__,
)
from hub.settings import Settings
from resolvers.filters import INTERNAL_MODELS, PRIVATE_FIELDS, WHERE_FIELDS, to_q
from resolvers.ordering import SortDirection, order_by_args, order_field_enum, to_order
from schema.extensions import extensions_for
from schema.filters import where_input
from schema.ordering import order_input
from tests.conftest import count_statements

pytestmark = pytest.mark.usefixtures("orm")

CompoundWhere = where_input(Compound)
BranchWhere = where_input(Branch)
MemberWhere = where_input(Member)
CompoundOrder = order_input(Compound)
MemberOrder = order_input(Member)


async def _names(model: type[Model], scope: dict[str, Any], where: Any, order_by: Any) -> list[str]:
    query = model.filter(to_q(model, where), **scope)
    query = query.order_by(*order_by_args(to_order(model, order_by)))
    return list(await query.values_list("name", flat=True))


@strawberry.type
class Query:
    @strawberry.field
    async def compounds(
        self,
        district: int,
        where: CompoundWhere | None = None,
        order_by: list[CompoundOrder] | None = None,
    ) -> list[str]:
        return await _names(Compound, {"community__street__district_id": district}, where, order_by)

    @strawberry.field
    async def branches(self, district: int, where: BranchWhere | None = None) -> list[str]:
        return await _names(Branch, {"community__street__district_id": district}, where, None)

    @strawberry.field
    async def members(
        self,
        district: int,
        where: MemberWhere | None = None,
        order_by: list[MemberOrder] | None = None,
    ) -> list[str]:
        scope = {"branch__community__street__district_id": district}
        return await _names(Member, scope, where, order_by)


def _gid(record: Model) -> str:
    return to_base64(type(record).__name__, record.pk)


@dataclass
class Place:
    district: District
    streets: dict[str, Street]
    compounds: dict[str, Compound]
    branches: dict[str, Branch]
    members: dict[str, Member]


@pytest.fixture(scope="module")
async def place(orm: Settings) -> Place:
    """Two streets, four compounds, three branches, four members: small enough to read."""
    tag = uuid.uuid4().hex[:8]
    district = await District.create(name=f"筛选区{tag}")
    s1 = await Street.create(district=district, name="一街道", kind=StreetKind.STREET)
    s2 = await Street.create(district=district, name="二镇", kind=StreetKind.TOWN)
    c1 = await Community.create(street=s1, name="一社区")
    c2 = await Community.create(street=s2, name="二社区")
    compounds = {
        "甲": await Compound.create(
            community=c1, name="甲小区", households=100, built_year=1995, is_old=True
        ),
        "乙": await Compound.create(community=c1, name="乙小区", households=300, built_year=2010),
        "丙": await Compound.create(community=c2, name="丙小区", households=300),
        "丁": await Compound.create(
            community=c2, name="丁花园", households=50, built_year=2001, is_old=True
        ),
    }
    b1 = await Branch.create(
        community=c1,
        name="甲支部",
        star_rating=5,
        is_demonstration=True,
        founded_on=dt.date(2018, 7, 1),
    )
    b2 = await Branch.create(community=c1, name="乙支部", star_rating=3)
    b3 = await Branch.create(
        community=c2, name="丙支部", star_rating=4, founded_on=dt.date(2020, 1, 1)
    )
    await b1.compounds.add(compounds["甲"], compounds["乙"])
    await b2.compounds.add(compounds["乙"])
    await b3.compounds.add(compounds["丙"])
    members = {
        "王芳": await Member.create(
            name="王芳",
            category=MemberCategory.RETIRED,
            branch=b1,
            home_compound=compounds["甲"],
            phone="13800000001",
            birth_date=dt.date(1950, 1, 1),
            registered_on=dt.date(2020, 3, 1),
        ),
        "李明": await Member.create(
            name="李明",
            category=MemberCategory.IN_SERVICE,
            branch=b1,
            home_compound=compounds["乙"],
            work_unit="株洲某公司",
            registered_on=dt.date(2020, 6, 1),
            representative=Representative.NPC_DEPUTY,
        ),
        "张伟": await Member.create(
            name="张伟",
            category=MemberCategory.IN_SERVICE,
            branch=b3,
            home_compound=compounds["丙"],
            work_unit="天元区医院",
        ),
        "王强": await Member.create(name="王强", category=MemberCategory.FLOATING, branch=b2),
    }
    await MemberDuty.create(member=members["王芳"], duty=Duty.ORDERLY)
    await MemberDuty.create(member=members["李明"], duty=Duty.PROPAGANDIST)
    return Place(
        district=district,
        streets={"一": s1, "二": s2},
        compounds=compounds,
        branches={"甲": b1, "乙": b2, "丙": b3},
        members=members,
    )


@pytest.fixture(scope="module")
def schema(orm: Settings) -> strawberry.Schema:
    return strawberry.Schema(query=Query, extensions=extensions_for(orm))


async def _run(
    schema: strawberry.Schema,
    place: Place,
    field: str,
    args: str,
    variables: dict[str, tuple[str, Any]] | None = None,
) -> list[str]:
    """Run ``{ field(district: …, args) }`` and return the names, failing on any error.

    ``variables`` maps a name to its GraphQL type and value.
    """
    declared = ", ".join(f"${name}: {kind}" for name, (kind, _) in (variables or {}).items())
    head = f"query({declared})" if declared else "query"
    query = f"{head} {{ rows: {field}(district: {place.district.pk}, {args}) }}"
    values = {name: value for name, (_, value) in (variables or {}).items()}
    result = await schema.execute(query, variable_values=values)
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data["rows"]


async def _error(schema: strawberry.Schema, query: str, variables: dict | None = None) -> dict:
    result = await schema.execute(query, variable_values=variables)
    assert result.errors, result.data
    error = result.errors[0]
    return {"message": error.message, **(error.extensions or {})}


# --- operator families, one per column type -------------------------------------


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ('{name: {eq: "王芳"}}', ["王芳"]),
        ('{name: {neq: "王芳"}}', ["李明", "张伟", "王强"]),
        ('{name: {in: ["王芳", "张伟", "无此人"]}}', ["王芳", "张伟"]),
        ('{name: {nin: ["王芳", "张伟"]}}', ["李明", "王强"]),
        ('{name: {startsWith: "王"}}', ["王芳", "王强"]),
        ('{workUnit: {contains: "公司"}}', ["李明"]),
        ("{workUnit: {isNull: true}}", ["王芳", "王强"]),
        ("{workUnit: {isNull: false}}", ["李明", "张伟"]),
        ('{workUnit: {neq: "天元区医院"}}', ["王芳", "李明", "王强"]),  # no value matches neq
    ],
)
async def test_string_operators(
    schema: strawberry.Schema, place: Place, where: str, expected: list[str]
) -> None:
    assert await _run(schema, place, "members", f"where: {where}") == expected


async def test_contains_ignores_letter_case_and_wildcards(
    schema: strawberry.Schema, place: Place
) -> None:
    await Member.filter(pk=place.members["李明"].pk).update(work_unit="ABC_100%公司")
    try:
        assert await _run(
            schema, place, "members", 'where: {workUnit: {contains: "abc_100%"}}'
        ) == ["李明"]
        # the wildcards are literal: "_" does not stand for any one character
        assert await _run(schema, place, "members", 'where: {workUnit: {contains: "C_1"}}') == [
            "李明"
        ]
        assert await _run(schema, place, "members", 'where: {workUnit: {contains: "A_C"}}') == []
    finally:
        await Member.filter(pk=place.members["李明"].pk).update(work_unit="株洲某公司")


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("{households: {eq: 300}}", ["乙小区", "丙小区"]),
        ("{households: {neq: 300}}", ["甲小区", "丁花园"]),
        ("{households: {gt: 100}}", ["乙小区", "丙小区"]),
        ("{households: {gte: 100}}", ["甲小区", "乙小区", "丙小区"]),
        ("{households: {lt: 100}}", ["丁花园"]),
        ("{households: {lte: 100, gt: 50}}", ["甲小区"]),
        ("{households: {in: [50, 100]}}", ["甲小区", "丁花园"]),
        ("{households: {nin: [50, 100]}}", ["乙小区", "丙小区"]),
        ("{builtYear: {isNull: true}}", ["丙小区"]),
        ("{builtYear: {gte: 2000}}", ["乙小区", "丁花园"]),
        ("{builtYear: {neq: 1995}}", ["乙小区", "丙小区", "丁花园"]),
        ("{isOld: {eq: true}}", ["甲小区", "丁花园"]),
        ("{isOld: {eq: false}}", ["乙小区", "丙小区"]),
    ],
)
async def test_numeric_and_boolean_operators(
    schema: strawberry.Schema, place: Place, where: str, expected: list[str]
) -> None:
    assert await _run(schema, place, "compounds", f"where: {where}") == expected


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ('{foundedOn: {gte: "2019-01-01"}}', ["丙支部"]),
        ('{foundedOn: {lt: "2019-01-01"}}', ["甲支部"]),
        ('{foundedOn: {eq: "2018-07-01"}}', ["甲支部"]),
        ("{foundedOn: {isNull: true}}", ["乙支部"]),
        ("{starRating: {gte: 4}, isDemonstration: {eq: false}}", ["丙支部"]),
    ],
)
async def test_date_operators(
    schema: strawberry.Schema, place: Place, where: str, expected: list[str]
) -> None:
    assert await _run(schema, place, "branches", f"where: {where}") == expected


async def test_datetime_operators_take_offsets(schema: strawberry.Schema, place: Place) -> None:
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    earlier = (place.district.created_at - dt.timedelta(hours=1)).isoformat()
    all_four = ["王芳", "李明", "张伟", "王强"]
    assert (
        await _run(schema, place, "members", f'where: {{createdAt: {{lt: "{later}"}}}}') == all_four
    )
    assert await _run(schema, place, "members", f'where: {{createdAt: {{lt: "{earlier}"}}}}') == []


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("{category: {eq: IN_SERVICE}}", ["李明", "张伟"]),
        ("{category: {neq: IN_SERVICE}}", ["王芳", "王强"]),
        ("{category: {in: [RETIRED, FLOATING]}}", ["王芳", "王强"]),
        ("{category: {nin: [RETIRED, FLOATING]}}", ["李明", "张伟"]),
        ("{representative: {isNull: false}}", ["李明"]),
        ("{representative: {eq: NPC_DEPUTY}}", ["李明"]),
    ],
)
async def test_enum_operators(
    schema: strawberry.Schema, place: Place, where: str, expected: list[str]
) -> None:
    assert await _run(schema, place, "members", f"where: {where}") == expected


async def test_id_operators_take_global_ids(schema: strawberry.Schema, place: Place) -> None:
    a, c = place.compounds["甲"], place.compounds["丙"]
    assert await _run(schema, place, "compounds", f'where: {{id: {{eq: "{_gid(a)}"}}}}') == [
        "甲小区"
    ]
    assert await _run(
        schema, place, "compounds", f'where: {{id: {{in: ["{_gid(a)}", "{_gid(c)}"]}}}}'
    ) == ["甲小区", "丙小区"]
    assert await _run(
        schema, place, "compounds", f'where: {{id: {{nin: ["{_gid(a)}", "{_gid(c)}"]}}}}'
    ) == ["乙小区", "丁花园"]


# --- and / or / not -------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (
            "{or: [{isOld: {eq: true}}, {households: {gte: 300}}]}",
            ["甲小区", "乙小区", "丙小区", "丁花园"],
        ),
        ("{and: [{isOld: {eq: true}}, {households: {gte: 100}}]}", ["甲小区"]),
        ('{not: {name: {contains: "小区"}}}', ["丁花园"]),
        (
            "{or: [{and: [{isOld: {eq: true}}, {not: {households: {lt: 100}}}]}, "
            '{name: {eq: "丙小区"}}]}',
            ["甲小区", "丙小区"],
        ),
        # ``not`` is the exact complement: the compound without a built year is in it
        ("{not: {builtYear: {gt: 2000}}}", ["甲小区", "丙小区"]),
        ("{not: {not: {builtYear: {gt: 2000}}}}", ["乙小区", "丁花园"]),
        ("{or: []}", []),
        ("{and: []}", ["甲小区", "乙小区", "丙小区", "丁花园"]),
        ("{households: {}}", ["甲小区", "乙小区", "丙小区", "丁花园"]),
    ],
)
async def test_and_or_not(
    schema: strawberry.Schema, place: Place, where: str, expected: list[str]
) -> None:
    assert await _run(schema, place, "compounds", f"where: {where}") == expected


# --- through relations ----------------------------------------------------------


async def test_members_whose_branchs_communitys_street_is_x(
    schema: strawberry.Schema, place: Place
) -> None:
    street = _gid(place.streets["二"])
    where = f'{{branch: {{community: {{street: {{id: {{eq: "{street}"}}}}}}}}}}'
    assert await _run(schema, place, "members", f"where: {where}") == ["张伟"]
    by_kind = "{branch: {community: {street: {kind: {eq: STREET}}}}}"
    assert await _run(schema, place, "members", f"where: {by_kind}") == ["王芳", "李明", "王强"]


async def test_members_of_branch_by_id_and_by_column(
    schema: strawberry.Schema, place: Place
) -> None:
    branch = _gid(place.branches["甲"])
    where = f'{{branch: {{id: {{eq: "{branch}"}}, starRating: {{eq: 5}}}}}}'
    assert await _run(schema, place, "members", f"where: {where}") == ["王芳", "李明"]
    where = f'{{branch: {{id: {{eq: "{branch}"}}, starRating: {{lt: 5}}}}}}'
    assert await _run(schema, place, "members", f"where: {where}") == []


async def test_optional_relation_empty_or_not(schema: strawberry.Schema, place: Place) -> None:
    assert await _run(schema, place, "members", "where: {homeCompound: {id: {isNull: true}}}") == [
        "王强"
    ]
    assert await _run(schema, place, "members", "where: {homeCompound: {}}") == [
        "王芳",
        "李明",
        "张伟",
    ]
    # members not living in an old compound include the one living nowhere known
    assert await _run(
        schema, place, "members", "where: {not: {homeCompound: {isOld: {eq: true}}}}"
    ) == ["李明", "张伟", "王强"]


async def test_many_to_many_some_related_matches(schema: strawberry.Schema, place: Place) -> None:
    # 乙小区 is covered by two branches, one of them 5-star: it comes back once
    assert await _run(schema, place, "compounds", "where: {branches: {starRating: {gte: 4}}}") == [
        "甲小区",
        "乙小区",
        "丙小区",
    ]
    assert await _run(schema, place, "compounds", "where: {branches: {starRating: {gte: 5}}}") == [
        "甲小区",
        "乙小区",
    ]
    assert await _run(schema, place, "compounds", "where: {not: {branches: {}}}") == ["丁花园"]


async def test_reverse_relation_some_related_matches(
    schema: strawberry.Schema, place: Place
) -> None:
    assert await _run(
        schema, place, "branches", "where: {members: {category: {eq: IN_SERVICE}}}"
    ) == ["甲支部", "丙支部"]
    assert await _run(
        schema, place, "branches", "where: {not: {members: {category: {eq: IN_SERVICE}}}}"
    ) == ["乙支部"]
    # two hops through lists: members with the ORDERLY duty, by branch
    assert await _run(
        schema, place, "branches", "where: {members: {duties: {duty: {eq: ORDERLY}}}}"
    ) == ["甲支部"]
    # and back up: compounds whose residents include an NPC deputy
    assert await _run(
        schema, place, "compounds", "where: {residents: {representative: {eq: NPC_DEPUTY}}}"
    ) == ["乙小区"]


async def test_where_as_a_variable(schema: strawberry.Schema, place: Place) -> None:
    # given the filter a frontend builds as JSON
    where = {
        "or": [
            {"category": {"in": ["RETIRED", "FLOATING"]}},
            {"branch": {"community": {"street": {"id": {"eq": _gid(place.streets["二"])}}}}},
        ],
        "not": {"name": {"startsWith": "王强"}},
    }
    # when it is sent as a variable, then it means what it would mean written inline
    names = await _run(schema, place, "members", "where: $w", {"w": ("MemberWhere", where)})
    assert names == ["王芳", "张伟"]


async def test_relation_filter_is_one_statement(schema: strawberry.Schema, place: Place) -> None:
    street = _gid(place.streets["一"])
    where = (
        f'{{branch: {{community: {{street: {{id: {{eq: "{street}"}}}}}}}}, '
        "duties: {}, homeCompound: {branches: {starRating: {gte: 5}}}}"
    )
    with count_statements() as counter:
        names = await _run(schema, place, "members", f"where: {where}")
    assert names == ["王芳", "李明"]
    assert counter.count == 1, counter.statements
    # semi-joins, not joins (no duplicate rows), and no ORDER BY inside them
    (statement,) = counter.statements
    with count_statements() as unfiltered:
        await _run(schema, place, "members", "where: {}")
    joins_of_the_scope = unfiltered.statements[0].upper().count(" JOIN ")
    assert statement.upper().count(" JOIN ") == joins_of_the_scope
    assert statement.upper().count(" IN (SELECT ") == 6  # 2 + 1 + 1 + 2 (link table)
    assert statement.upper().count("ORDER BY") == 1


# --- ordering -------------------------------------------------------------------


async def test_order_by_several_fields_with_id_tie_break(
    schema: strawberry.Schema, place: Place
) -> None:
    by_households = "orderBy: [{field: HOUSEHOLDS, direction: DESC}]"
    # 乙 and 丙 tie on households: the id (creation order) decides
    assert await _run(schema, place, "compounds", by_households) == [
        "乙小区",
        "丙小区",
        "甲小区",
        "丁花园",
    ]
    then_name = "orderBy: [{field: HOUSEHOLDS, direction: DESC}, {field: NAME}]"
    assert await _run(schema, place, "compounds", then_name) == [
        "丙小区",
        "乙小区",
        "甲小区",
        "丁花园",
    ]
    by_old_then_year = (
        "orderBy: [{field: IS_OLD, direction: DESC}, {field: BUILT_YEAR, direction: DESC}]"
    )
    assert (await _run(schema, place, "compounds", by_old_then_year))[:2] == ["丁花园", "甲小区"]


async def test_order_by_id_descending_is_not_overridden(
    schema: strawberry.Schema, place: Place
) -> None:
    names = await _run(schema, place, "members", "orderBy: [{field: ID, direction: DESC}]")
    assert names == ["王强", "张伟", "李明", "王芳"]


def test_to_order_ends_with_the_id() -> None:
    assert to_order(Compound, None) == [("id", False)]
    fields = order_field_enum(Compound)
    entry = CompoundOrder(field=fields["NAME"])  # type: ignore[call-arg]
    assert to_order(Compound, [entry]) == [("name", False), ("id", False)]
    entry = CompoundOrder(field=fields["ID"], direction=SortDirection.DESC)  # type: ignore[call-arg]
    assert to_order(Compound, [entry]) == [("id", True)]


async def test_order_by_one_field_twice_is_refused(schema: strawberry.Schema, place: Place) -> None:
    twice = "[{field: NAME}, {field: NAME, direction: DESC}]"
    query = f"{{ compounds(district: {place.district.pk}, orderBy: {twice}) }}"
    error = await _error(schema, query)
    assert error["code"] == "BAD_USER_INPUT"
    assert "NAME" in error["message"]


# --- personal data --------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        '{ members(district: 1, where: {phone: {eq: "13800000001"}}) }',
        '{ members(district: 1, where: {birthDate: {lt: "1960-01-01"}}) }',
        '{ members(district: 1, where: {searchText: {contains: "wang"}}) }',
        '{ compounds(district: 1, where: {residents: {phone: {startsWith: "138"}}}) }',
        "{ members(district: 1, orderBy: [{field: BIRTH_DATE}]) }",
        "{ members(district: 1, orderBy: [{field: PHONE}]) }",
    ],
)
async def test_personal_data_cannot_be_filtered_or_sorted(
    schema: strawberry.Schema, query: str
) -> None:
    with count_statements() as counter:
        error = await _error(schema, query)
    assert error["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert counter.count == 0


def test_no_where_input_reaches_private_or_account_columns() -> None:
    # given every where input, including those of the hub's own account records
    for model in __models__:
        where_input(model)
    for cls, (model, specs) in WHERE_FIELDS.items():
        graphql_fields = {f.python_name for f in cls.__strawberry_definition__.fields}
        # then no private column is filterable on any of them
        assert not graphql_fields & PRIVATE_FIELDS.get(model, frozenset()), model
        assert "search_text" not in graphql_fields
        # and no domain record's filter reaches into the accounts
        if model not in INTERNAL_MODELS:
            assert not {spec.related for spec in specs.values()} & INTERNAL_MODELS, model
    request_fields = {
        f.python_name for f in where_input(ResidentRequest).__strawberry_definition__.fields
    }
    assert "description" in request_fields and "reporter_contact" not in request_fields
    assert "curators" not in {
        f.python_name for f in where_input(Street).__strawberry_definition__.fields
    }


# --- bad input: a clear GraphQL error, never a 500 or a Python message -----------

BRANCH_1 = to_base64("Branch", 1)
COMPOUND_X = to_base64("Compound", "x")
STREET_1 = to_base64("Street", 1)


async def test_unknown_enum_value(schema: strawberry.Schema) -> None:
    error = await _error(schema, "{ members(district: 1, where: {category: {eq: RICH}}) }")
    assert error["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "RICH" in error["message"]


async def test_unknown_enum_value_in_variable(schema: strawberry.Schema) -> None:
    query = "query($c: MemberCategory!) { members(district: 1, where: {category: {eq: $c}}) }"
    error = await _error(schema, query, {"c": "RICH"})
    assert error["code"] == "BAD_USER_INPUT"
    assert "RICH" in error["message"]


async def test_filter_on_field_that_does_not_exist(schema: strawberry.Schema) -> None:
    error = await _error(schema, '{ compounds(district: 1, where: {colour: {eq: "red"}}) }')
    assert error["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "colour" in error["message"]


async def test_wrong_typed_variable(schema: strawberry.Schema) -> None:
    query = "query($h: Int!) { compounds(district: 1, where: {households: {gt: $h}}) }"
    error = await _error(schema, query, {"h": "many"})
    assert error["code"] == "BAD_USER_INPUT"
    assert "$h" in error["message"]


async def test_wrong_typed_where_variable(schema: strawberry.Schema) -> None:
    query = "query($w: CompoundWhere) { compounds(district: 1, where: $w) }"
    error = await _error(schema, query, {"w": {"households": {"gt": "many"}}})
    assert error["code"] == "BAD_USER_INPUT"
    error = await _error(schema, query, {"w": {"colour": {"eq": "red"}}})
    assert error["code"] == "BAD_USER_INPUT"
    assert "colour" in error["message"]


@pytest.mark.parametrize(
    ("where", "fragment"),
    [
        ('{id: {eq: "bm90IGFuIGlk"}}', "not a valid Compound ID"),
        ('{id: {eq: "%%%"}}', "not a valid Compound ID"),
        (f'{{id: {{eq: "{BRANCH_1}"}}}}', "the ID of a Branch, not of a Compound"),
        (f'{{id: {{eq: "{COMPOUND_X}"}}}}', "not a valid Compound ID"),
        (f'{{community: {{id: {{in: ["{STREET_1}"]}}}}}}', "not of a Community"),
        ("{households: {eq: null}}", "use isNull"),
        ("{not: null}", "cannot be null"),
        ("{builtYear: {in: null}}", "cannot be null"),
        ('{createdAt: {lt: "2020-01-01T00:00:00"}}', "UTC offset"),
    ],
)
async def test_bad_values_are_refused_before_any_sql(
    schema: strawberry.Schema, where: str, fragment: str
) -> None:
    with count_statements() as counter:
        error = await _error(schema, f"{{ compounds(district: 1, where: {where}) }}")
    assert error["code"] == "BAD_USER_INPUT", error
    assert fragment in error["message"]
    assert counter.count == 0


async def test_huge_filter_is_refused(schema: strawberry.Schema) -> None:
    query = "query($w: CompoundWhere) { compounds(district: 1, where: $w) }"
    many = {"households": {"in": list(range(1000))}}
    error = await _error(schema, query, {"w": many})
    assert error["code"] == "BAD_USER_INPUT" and "500" in error["message"]
    deep: dict = {"households": {"eq": 1}}
    for _ in range(12):
        deep = {"not": deep}
    error = await _error(schema, query, {"w": deep})
    assert error["code"] == "BAD_USER_INPUT" and "levels" in error["message"]
    wide = {"or": [{"households": {"eq": n}} for n in range(150)]}
    error = await _error(schema, query, {"w": wide})
    assert error["code"] == "BAD_USER_INPUT" and "conditions" in error["message"]
