"""The ``search`` argument: either script, full pinyin, a pinyin prefix or initials.

Through a small throwaway schema over every searchable connection; the records live in
a district (or carry a tag) of their own so the demo data never shows up.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import strawberry
from strawberry import UNSET
from tortoise.models import Model
from tortoise.transactions import in_transaction

from hub.credit_code import make_credit_code
from hub.enums import MemberCategory, UnitKind
from hub.models import (
    Branch,
    CoBuildingUnit,
    Community,
    Compound,
    District,
    Member,
    PropertyCompany,
    Street,
)
from hub.search import search_text
from hub.settings import Settings
from resolvers.filters import to_q
from resolvers.search import SEARCHABLE_MODELS, _pinyin_hint, search_q
from schema.extensions import extensions_for
from schema.filters import where_input
from tests.conftest import BACKEND, count_statements

pytestmark = pytest.mark.usefixtures("orm")

CompoundWhere = where_input(Compound)

SCOPES: dict[str, tuple[type[Model], str]] = {
    "districts": (District, "id"),
    "streets": (Street, "district_id"),
    "communities": (Community, "street__district_id"),
    "compounds": (Compound, "community__street__district_id"),
    "branches": (Branch, "community__street__district_id"),
    "members": (Member, "branch__community__street__district_id"),
}


async def _search(
    model: type[Model], scope: dict[str, Any], search: str | None, where: Any = None
) -> list[str]:
    query = model.filter(search_q(model, search), to_q(model, where), **scope).order_by("id")
    return list(await query.values_list("name", flat=True))


def _scoped(field: str) -> Any:
    model, column = SCOPES[field]

    async def resolve(district: int, search: str | None = None) -> list[str]:
        return await _search(model, {column: district}, search)

    return strawberry.field(resolver=resolve, name=field)


@strawberry.type
class Query:
    districts: list[str] = _scoped("districts")
    streets: list[str] = _scoped("streets")
    communities: list[str] = _scoped("communities")
    branches: list[str] = _scoped("branches")
    members: list[str] = _scoped("members")

    @strawberry.field
    async def compounds(
        self, district: int, search: str | None = None, where: CompoundWhere | None = None
    ) -> list[str]:
        scope = {"community__street__district_id": district}
        return await _search(Compound, scope, search, where)

    @strawberry.field
    async def companies(self, tag: str, search: str | None = None) -> list[str]:
        return await _search(PropertyCompany, {"name__endswith": tag}, search)

    @strawberry.field
    async def units(self, tag: str, search: str | None = None) -> list[str]:
        return await _search(CoBuildingUnit, {"name__endswith": tag}, search)


@dataclass
class Place:
    district: District
    tag: str


@pytest.fixture(scope="module")
async def place(orm: Settings) -> Place:
    """Names in both scripts, as real records arrive."""
    tag = uuid.uuid4().hex[:8]
    district = await District.create(name=f"天元區{tag}")
    street = await Street.create(district=district, name="泰山路街道")
    other_street = await Street.create(district=district, name="嵩山路街道")
    community = await Community.create(street=street, name="華晨社區")
    lake = await Community.create(street=other_street, name="小湖塘社区")
    huachen = await Compound.create(community=community, name="華晨御園", households=800)
    await Compound.create(community=lake, name="廬山戀", households=300, is_old=True)
    await Compound.create(community=lake, name="阳光小区", households=200)
    await Compound.create(community=lake, name="100%_花园", households=10)
    branch = await Branch.create(community=community, name="華晨御園小區黨支部", star_rating=5)
    await branch.compounds.add(huachen)
    await Branch.create(community=lake, name="庐山恋小区党支部")
    await Member.create(
        name="張偉", category=MemberCategory.RETIRED, branch=branch, phone="13912345678"
    )
    await Member.create(name="王芳", category=MemberCategory.DIRECT, branch=branch)
    # Companies and units have no district: the tag ending their names scopes them.
    serial = str(uuid.uuid4().int)[:4]
    for n, name in enumerate([f"華晨物業服務有限公司{tag}", f"株洲阳光物业{tag}"]):
        code = make_credit_code(f"91430212MA4L{serial}{n}")
        await PropertyCompany.create(name=name, credit_code=code)
    for name, kind in [
        (f"天元區人民醫院{tag}", UnitKind.HOSPITAL),
        (f"华晨小学{tag}", UnitKind.SCHOOL),
    ]:
        await CoBuildingUnit.create(name=name, kind=kind)
    return Place(district=district, tag=tag)


@pytest.fixture(scope="module")
def schema(orm: Settings) -> strawberry.Schema:
    return strawberry.Schema(query=Query, extensions=extensions_for(orm))


async def _run(
    schema: strawberry.Schema, place: Place, field: str, search: str | None, extra: str = ""
) -> list[str]:
    if field in ("companies", "units"):
        scope = f'tag: "{place.tag}"'
    else:
        scope = f"district: {place.district.pk}"
    argument = "" if search is None else f", search: {_literal(search)}"
    result = await schema.execute(f"{{ rows: {field}({scope}{argument}{extra}) }}")
    assert result.errors is None, result.errors
    assert result.data is not None
    names = result.data["rows"]
    return [name.replace(place.tag, "") for name in names]


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.mark.parametrize(
    "entry",
    [
        "華晨御園",  # as stored
        "华晨御园",  # Simplified finds Traditional
        "华晨",  # two characters (index-assisted through their pinyin on PostgreSQL)
        "晨御",
        "huachenyuyuan",  # full pinyin
        "huachen",  # pinyin prefix
        "HuaChen",  # any letter case
        "hua chen",  # spaces ignored
        "hcyy",  # initials
        "ｈｃｙｙ",  # full-width letters
        "  華晨　御園 ",  # ideographic and ASCII spaces
    ],
)
async def test_compound_found_by_either_script_pinyin_or_initials(
    schema: strawberry.Schema, place: Place, entry: str
) -> None:
    assert await _run(schema, place, "compounds", entry) == ["華晨御園"]


async def test_traditional_entry_finds_simplified_name_and_the_reverse(
    schema: strawberry.Schema, place: Place
) -> None:
    assert await _run(schema, place, "compounds", "小區") == ["阳光小区"]
    assert await _run(schema, place, "compounds", "陽光") == ["阳光小区"]
    assert await _run(schema, place, "compounds", "庐山恋") == ["廬山戀"]
    assert await _run(schema, place, "compounds", "lsl") == ["廬山戀"]


@pytest.mark.parametrize(
    ("field", "entry", "expected"),
    [
        ("districts", "天元区", ["天元區"]),
        ("districts", "tyq", ["天元區"]),
        ("streets", "泰山", ["泰山路街道"]),
        ("streets", "songshan", ["嵩山路街道"]),
        ("communities", "华晨社区", ["華晨社區"]),
        ("communities", "xht", ["小湖塘社区"]),
        ("branches", "小区党支部", ["華晨御園小區黨支部", "庐山恋小区党支部"]),
        ("branches", "lushan", ["庐山恋小区党支部"]),
        ("members", "张伟", ["張偉"]),
        ("members", "zhangwei", ["張偉"]),
        ("members", "wf", ["王芳"]),
        ("companies", "华晨物业", ["華晨物業服務有限公司"]),
        ("companies", "yangguang", ["株洲阳光物业"]),
        ("units", "人民医院", ["天元區人民醫院"]),
        ("units", "huachen", ["华晨小学"]),
        ("units", "hcxx", ["华晨小学"]),
    ],
)
async def test_every_searchable_connection(
    schema: strawberry.Schema, place: Place, field: str, entry: str, expected: list[str]
) -> None:
    assert await _run(schema, place, field, entry) == expected


def test_searchable_models_are_the_named_ones() -> None:
    names = {model.__name__ for model in SEARCHABLE_MODELS}
    assert names == {
        "District",
        "Street",
        "Community",
        "Compound",
        "Branch",
        "Member",
        "PropertyCompany",
        "CoBuildingUnit",
    }


async def test_blank_or_absent_search_returns_everything(
    schema: strawberry.Schema, place: Place
) -> None:
    everything = ["華晨御園", "廬山戀", "阳光小区", "100%_花园"]
    assert await _run(schema, place, "compounds", None) == everything
    assert await _run(schema, place, "compounds", "   ") == everything


async def test_wildcards_are_plain_characters(schema: strawberry.Schema, place: Place) -> None:
    assert await _run(schema, place, "compounds", "%") == ["100%_花园"]
    assert await _run(schema, place, "compounds", "_") == ["100%_花园"]
    assert await _run(schema, place, "compounds", "0%_hua") == ["100%_花园"]  # its pinyin
    assert await _run(schema, place, "compounds", "园100") == []  # not across the parts


async def test_search_combines_with_where(schema: strawberry.Schema, place: Place) -> None:
    assert await _run(schema, place, "compounds", "小区", ", where: {isOld: {eq: true}}") == []
    assert await _run(schema, place, "compounds", "lsl", ", where: {isOld: {eq: true}}") == [
        "廬山戀"
    ]


async def test_search_cannot_match_personal_data(schema: strawberry.Schema, place: Place) -> None:
    assert await _run(schema, place, "members", "13912345678") == []
    assert await _run(schema, place, "members", "1391") == []


async def test_renamed_record_is_found_by_its_new_name(
    schema: strawberry.Schema, place: Place
) -> None:
    street = await Street.create(district=place.district, name="临时街道")
    community = await Community.create(street=street, name="临时社区")
    compound = await Compound.create(community=community, name="旧名小区")
    compound.name = "新華家園"
    await compound.save(update_fields=["name"])
    assert await _run(schema, place, "compounds", "xhjy") == ["新華家園"]
    assert await _run(schema, place, "compounds", "jiuming") == []
    await compound.delete()
    await community.delete()
    await street.delete()


async def test_overlong_search_is_refused_without_sql(
    schema: strawberry.Schema, place: Place
) -> None:
    with count_statements() as counter:
        result = await schema.execute(
            f'{{ compounds(district: {place.district.pk}, search: "{"华" * 101}") }}'
        )
    assert result.errors is not None
    assert result.errors[0].extensions == {"code": "BAD_USER_INPUT", "field": "search"}
    assert "100" in result.errors[0].message
    assert counter.count == 0


# Names with characters read differently in different words (长, 重, 行, 乐, 朝, 曾, 单, 解).
HARD_NAMES = [
    "華晨御園",
    "廬山戀",
    "小湖塘社區",
    "泰山路街道",
    "嵩山路街道",
    "长沙银行株洲分行",
    "重庆路小区",
    "朝阳小区",
    "长乐园",
    "行政中心宿舍",
    "单家巷社区",
    "曾家湾",
    "解放街",
    "音乐广场",
    "银行家园",
    "重阳敬老院",
    "长江北路",
    "株洲市中心医院",
    "天元区人民法院",
    "栗雨街道",
    "马家河街道",
    "群丰镇",
    "雷打石镇",
    "三门镇",
    "湘江风光带",
    "神农城",
    "和平里",
    "都市花园",
]


def test_pinyin_hint_never_hides_a_match() -> None:
    hinted = 0
    for name in HARD_NAMES:
        # given any one- or two-character piece of a name that gets a pinyin hint
        column = search_text(name)
        folded = column.split("|")[0]
        pieces = {folded[i : i + n] for n in (1, 2) for i in range(len(folded) - n + 1)}
        for piece in pieces:
            hint = _pinyin_hint(piece)
            # then the hint is in the name's column too: adding it to the query loses nothing
            assert hint is None or hint in column, (piece, hint, column)
            hinted += hint is not None
    assert hinted > 50  # the check is not vacuous


def test_ambiguous_characters_get_no_pinyin_hint() -> None:
    assert _pinyin_hint("华晨") == "huachen"
    assert _pinyin_hint("小区") is None  # 区: qu or ou
    assert _pinyin_hint("银行") is None  # 行: xing or hang
    assert _pinyin_hint("华晨御") is None  # three characters: the index needs no help
    assert _pinyin_hint("ab") is None


async def test_unset_search_is_no_search() -> None:
    assert not search_q(Compound, UNSET).children and not search_q(Compound, UNSET).filters


async def test_search_of_a_model_without_search_column_is_a_programming_error() -> None:
    from hub.models import Venue

    with pytest.raises(TypeError):
        search_q(Venue, "x")


# --- the SQL: the column is matched as is, and PostgreSQL's trigram index serves it ---


async def test_generated_sql_keeps_the_column_free_of_functions() -> None:
    sql = Compound.filter(search_q(Compound, "华晨")).values_list("id").sql()
    assert "UPPER" not in sql and "LOWER" not in sql
    assert sql.count('"search_text"') == 2  # the entry and its pinyin


@pytest.mark.skipif(BACKEND != "postgres", reason="trigram indexes exist on PostgreSQL only")
@pytest.mark.parametrize(
    ("model", "entry"),
    [
        (Compound, "huachen"),
        (Compound, "hcyy"),
        (Compound, "华晨"),  # two characters: through their pinyin
        (Compound, "華晨御園"),
        (Member, "zhangwei"),
        (Branch, "小区党支部"),
        (PropertyCompany, "华晨物业"),
        (CoBuildingUnit, "renmin"),
        (District, "tyq"),
        (Street, "泰山路"),
        (Community, "xiaohutang"),
    ],
)
async def test_postgres_search_uses_the_trigram_index(
    place: Place, model: type[Model], entry: str
) -> None:
    sql = model.filter(search_q(model, entry)).sql(params_inline=True)
    async with in_transaction() as connection:
        # The test tables are tiny: forbid the sequential scan, and the primary-key walk
        # the ORDER BY id tempts the planner into, to see whether the index can serve.
        await connection.execute_script("SET LOCAL enable_seqscan = off")
        await connection.execute_script("SET LOCAL enable_indexscan = off")
        _, rows = await connection.execute_query(f"EXPLAIN {sql}")
    plan = "\n".join(row[0] for row in rows)
    assert f"trgm_{model._meta.db_table}_search" in plan, plan
