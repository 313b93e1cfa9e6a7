"""Roster import (hub.services.roster): file formats, every row error, all-or-nothing."""

from __future__ import annotations

import datetime as dt
import io
import time
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from hub import models as m
from hub.enums import AuditAction, Gender, MemberCategory, MemberStatus
from hub.search import search_text
from hub.services import roster
from hub.services.errors import ErrorCode
from hub.services.roster import RosterFileError, RowError, parse_roster
from tests.service_world import World, build_world, refused

pytestmark = pytest.mark.usefixtures("orm")
HEADER = "姓名,性别,出生日期,手机号码,党员类别,所属支部,入党日期,工作单位,居住小区"


@pytest.fixture
async def w(unique_name: str) -> World:
    world = await build_world(unique_name)
    # A branch name no other test uses, so that it can be named in the file.
    world.branch.name = f"{unique_name}党支部"
    await world.branch.save()
    return world


def csv_bytes(lines: list[str], encoding: str = "utf-8") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国红梅文"


def person_name(i: int) -> str:
    """A realistic three-character name, distinct for i < 18,000."""
    return SURNAMES[i % 20] + GIVEN[i // 20 % 30] + GIVEN[i // 600 % 30]


def phone_of(w: World, i: int) -> str:
    # The branch id keeps every world's phones apart in the shared test database.
    return f"13{w.branch.id % 10_000:04d}{i:05d}"


def people(w: World, count: int, start: int = 0) -> list[str]:
    """``count`` good CSV lines for the world's branch (distinct name and phone each)."""
    return [
        f"{person_name(i)},{'男' if i % 2 else '女'},1970-01-{1 + i % 28:02d},"
        f"{phone_of(w, i)},{'在职党员' if i % 3 else 'DIRECT'},{w.branch.id},1995-07-01,"
        f"株洲某单位,{w.compound.id}"
        for i in range(start, start + count)
    ]


async def branch_count(w: World) -> int:
    return await m.Member.filter(branch_id=w.branch.id).count()


# --- reading ---------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_each_encoding_with_chinese_or_english_headers(encoding: str) -> None:
    data = csv_bytes(
        [
            "姓名*,Gender,出生日期(YYYY-MM-DD),手机,category,支部,序号",
            "華晨,女,1980/3/5,13800138000,直管,甲社区/甲支部,1",
            ",,,,,,",
            "李四,男,,,,12,2",
        ],
        encoding,
    )
    rows = parse_roster(data, "名册.csv")
    assert [r.line for r in rows] == [2, 4]  # the blank line 3 is skipped, not renumbered
    assert rows[0].values == {
        "name": "華晨",
        "gender": "女",
        "birth_date": "1980/3/5",
        "phone": "13800138000",
        "category": "直管",
        "branch": "甲社区/甲支部",
    }
    assert rows[0].columns["birth_date"] == "出生日期(YYYY-MM-DD)"


def test_xlsx_cells_keep_their_types() -> None:
    book = Workbook()
    book.active.append(["姓名", "手机号码", "出生日期", "党员类别", "所属支部"])
    book.active.append(["王五", 13800138000, dt.datetime(1960, 5, 4), "退休党員", 7])
    out = io.BytesIO()
    book.save(out)
    (row,) = parse_roster(out.getvalue(), "roster.xlsx")
    assert row.line == 2
    assert row.values["phone"] == 13800138000 and row.values["birth_date"].year == 1960


def test_templates_round_trip_through_parse() -> None:
    assert parse_roster(roster.roster_template_csv(), "模板.csv") == []
    template = roster.roster_template_xlsx()
    assert parse_roster(template, "模板.xlsx") == []
    # filling the Excel template and reading it back gives the typed values
    book = load_workbook(io.BytesIO(template))
    headers = [c.value for c in book.worksheets[0][1]]
    book.worksheets[0].append(["张三", "男", "1970-01-01", "13800138000", "直管党员", "5"])
    out = io.BytesIO()
    book.save(out)
    (row,) = parse_roster(out.getvalue(), "模板.xlsx")
    assert headers == [c.header for c in roster.COLUMNS]
    assert row.values["category"] == "直管党员" and row.values["branch"] == "5"


def test_file_level_problems_name_line_one() -> None:
    with pytest.raises(RosterFileError) as caught:
        parse_roster(csv_bytes(["姓名,手机号,手机,爱好"]), "x.csv")
    assert {(e.line, e.column) for e in caught.value.errors} == {
        (1, "手机"),  # the same column twice
        (1, "爱好"),  # unknown
        (1, "党员类别"),  # required column missing
        (1, "所属支部"),
    }
    with pytest.raises(RosterFileError):
        parse_roster(b"", "empty.csv")
    with pytest.raises(RosterFileError):
        parse_roster(b"PK\x03\x04 not really a workbook", "x.xlsx")


# --- checking and importing ----------------------------------------------------------------


async def test_every_row_error_has_its_line_and_column(w: World) -> None:
    # given an existing active member with a phone, and two branches sharing a name
    await m.Member.filter(id=w.member.id).update(phone="13700000001")
    twin = f"{w.name}同名支部"
    a = await m.Branch.create(community=w.community, name=twin)
    b = await m.Branch.create(community=w.sibling_community, name=twin)
    traditional = w.branch.name.replace("测试", "測試").replace("党支部", "黨支部")
    lines = [
        HEADER,
        # 2 is good: category and branch name in Traditional script
        f"{w.name}甲,女,1980-01-01,13900000001,直管黨員,{traditional},2000-01-01,,",
        f",男,1980-01-01,,直管党员,{w.branch.id},,,",  # 3 name missing
        f"{w.name}乙,男,1980-01-01,,预备党员,{w.branch.id},,,",  # 4 category
        f"{w.name}丙,男,1980-01-01,,直管党员,不存在的支部,,,",  # 5 branch unknown
        f"{w.name}丁,男,1980-01-01,,直管党员,{twin},,,",  # 6 ambiguous
        f"{w.name}戊,男,1980-01-01,12345,直管党员,{w.branch.id},,,",  # 7 phone
        f"{w.name}己,男,1980-02-30,,直管党员,{w.branch.id},1990-01-01,,",  # 8 date
        f"{w.name}庚,男,1990-01-01,,直管党员,{w.branch.id},2000-01-01,,",  # 9 joined at 10
        f"{w.name}甲,女,1980-01-01,13900000001,直管党员,{w.branch.id},,,",  # 10 = line 2
        f"張三,男,,137 0000 0001,直管党员,{w.branch.id},,,",  # 11 = existing 张三
        f"{w.name}辛,男,,,直管党员,{w.other_branch.id},,,",  # 12 outside curator scope
    ]
    rows = parse_roster(csv_bytes(lines), "roster.csv")
    report = await roster.validate_roster(actor=w.street_curator, rows=rows)
    found = {(e.line, e.column) for e in report.errors}
    assert found == {
        (3, "姓名"),
        (4, "党员类别"),
        (5, "所属支部"),
        (6, "所属支部"),
        (7, "手机号码"),
        (8, "出生日期"),
        (9, "入党日期"),
        (10, "手机号码"),
        (11, "手机号码"),
        (12, "所属支部"),
    }
    by_line = {e.line: e.message for e in report.errors}
    assert f"编号 {a.id}" in by_line[6] and f"编号 {b.id}" in by_line[6]
    assert "第 2 行" in by_line[10] and f"编号 {w.member.id}" in by_line[11]
    assert "维护范围" in by_line[12]


async def test_import_with_one_bad_row_saves_nothing(w: World) -> None:
    # given 1,000 rows, the 500th data row (line 501) with a bad category
    lines = [HEADER, *people(w, 1000)]
    lines[500] = lines[500].replace("在职党员", "积极分子").replace("DIRECT", "积极分子")
    before = await branch_count(w)
    # when imported
    report = await roster.import_members(actor=w.admin, data=csv_bytes(lines), filename="a.csv")
    # then nothing is saved and the report names that line and column only
    assert (report.rows, report.created, report.ok) == (1000, 0, False)
    assert [(e.line, e.column, e.key) for e in report.errors] == [(501, "党员类别", "category")]
    assert await branch_count(w) == before
    assert not await m.AuditLog.filter(action=AuditAction.IMPORT, user_id=w.admin.user_id).exists()


async def test_import_saves_all_rows_with_search_text_and_one_audit_entry(w: World) -> None:
    before = await branch_count(w)
    data = csv_bytes([HEADER, *people(w, 1000)], "gb18030")
    dry = await roster.import_members(actor=w.curator, data=data, filename="名册.csv", dry_run=True)
    assert (dry.ok, dry.created, await branch_count(w)) == (True, 0, before)

    report = await roster.import_members(actor=w.curator, data=data, filename="名册.csv")
    assert (report.ok, report.rows, report.created) == (True, 1000, 1000)
    assert await branch_count(w) == before + 1000
    sample = await m.Member.get(branch_id=w.branch.id, phone=phone_of(w, 7))
    assert (sample.name, sample.gender, sample.category, sample.status) == (
        person_name(7),
        Gender.MALE,
        MemberCategory.IN_SERVICE,
        MemberStatus.ACTIVE,
    )
    assert (sample.home_compound_id, sample.birth_date) == (w.compound.id, dt.date(1970, 1, 8))
    assert sample.search_text == search_text(person_name(7)) and "zhao" in sample.search_text
    assert sample.created_at is not None
    (entry,) = await m.AuditLog.filter(action=AuditAction.IMPORT, user_id=w.curator.user_id)
    assert entry.after == {"filename": "名册.csv", "rows": 1000, "created": 1000, "branches": 1}
    # importing the same file again: every row is now a duplicate of an active member
    again = await roster.import_members(actor=w.curator, data=data, filename="名册.csv")
    assert again.created == 0 and len(again.bad_lines) == 1000


async def test_an_import_interrupted_midway_leaves_nothing(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the bulk insert failing after its first batch
    original = roster._insert_batch
    calls: list[int] = []

    async def failing(batch: list[Any]) -> None:
        calls.append(len(batch))
        if len(calls) > 1:
            raise RuntimeError("disk full")
        await original(batch)

    monkeypatch.setattr(roster, "BATCH_SIZE", 100)
    monkeypatch.setattr(roster, "_insert_batch", failing)
    before = await branch_count(w)
    # when importing 250 rows
    with pytest.raises(RuntimeError):
        await roster.import_members(
            actor=w.admin, data=csv_bytes([HEADER, *people(w, 250)]), filename="b.csv"
        )
    # then the first batch was written inside the transaction, and rolled back with it
    assert calls == [100, 100]
    assert await branch_count(w) == before
    assert not await m.AuditLog.filter(action=AuditAction.IMPORT, user_id=w.admin.user_id).exists()


async def test_import_refuses_readers_and_reports_bad_files(w: World) -> None:
    exc = await refused(roster.import_members(actor=w.reader, data=b"", filename="x.csv"))
    assert {e.code for e in exc.errors} == {ErrorCode.FORBIDDEN}
    report = await roster.import_members(
        actor=w.admin, data=csv_bytes(["名字,电话"]), filename="x.csv"
    )
    assert report.errors and all(isinstance(e, RowError) and e.line == 1 for e in report.errors)
    empty = await roster.import_members(actor=w.admin, data=csv_bytes([HEADER]), filename="x.csv")
    assert not empty.ok and empty.created == 0


@pytest.mark.slow
async def test_measure_importing_ten_thousand_rows(w: World) -> None:
    """Prints the time of a 10,000-row import (measured, never asserted)."""
    data = csv_bytes([HEADER, *people(w, 10_000)])
    started = time.perf_counter()
    report = await roster.import_members(actor=w.admin, data=data, filename="big.csv")
    elapsed = time.perf_counter() - started
    print(f"\nroster import: {report.created} rows in {elapsed:.2f} s")
    assert report.created == 10_000
