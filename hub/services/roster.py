"""Member roster import (党员名册导入) from CSV or Excel, all or nothing.

``parse_roster`` reads the file (CSV in UTF-8 with or without BOM, or GB18030 as
Chinese Excel writes it; XLSX through openpyxl) into rows keyed by column, accepting
Chinese headers and English aliases. ``validate_roster`` checks every row and reports
every problem with its line (as in the file: the header is line 1) and column.
``import_members`` saves nothing unless every row is good, then inserts in batches
inside one transaction with one audit entry.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from tortoise.transactions import in_transaction

from hub import models as m
from hub.access import Viewer, link_scope
from hub.access.policy import EVERYTHING
from hub.db_routing import PRIMARY
from hub.enums import AuditAction, Gender, MemberCategory, MemberStatus, Representative
from hub.search import fold
from hub.services import audit
from hub.services.fields import Invalid, is_blank, parse_enum, parse_value
from hub.services.records import require_writer
from hub.services.specs import duplicate_members, get_spec, member_date_errors
from hub.spreadsheet import csv_row, xlsx_row

BATCH_SIZE = 1000


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the template's (Simplified Chinese) header
    aliases: tuple[str, ...]
    required: bool = False
    hint: str = ""


COLUMNS = (
    Column("name", "姓名", ("name", "党员姓名", "名字"), True),
    Column("gender", "性别", ("gender", "sex"), hint="男 / 女"),
    Column("birth_date", "出生日期", ("birth_date", "birthday", "出生年月"), hint="YYYY-MM-DD"),
    Column(
        "phone",
        "手机号码",
        ("phone", "mobile", "手机", "手机号", "联系电话", "电话"),
        hint="11位手机号或区号-座机号",
    ),
    Column(
        "category",
        "党员类别",
        ("category", "类别", "党员类型"),
        True,
        hint="、".join(c.label for c in MemberCategory),
    ),
    Column(
        "branch",
        "所属支部",
        ("branch", "branch_id", "支部", "党支部"),
        True,
        hint="支部名称、编号，或“社区/支部”",
    ),
    Column(
        "joined_party_on",
        "入党日期",
        ("joined_party_on", "joined_on", "入党时间"),
        hint="YYYY-MM-DD",
    ),
    Column("work_unit", "工作单位", ("work_unit", "单位"), hint="在职党员填写"),
    Column(
        "home_compound",
        "居住小区",
        ("home_compound", "compound", "小区"),
        hint="小区名称、编号，或“社区/小区”",
    ),
    Column("registered_on", "报到日期", ("registered_on", "报到时间"), hint="YYYY-MM-DD"),
    Column(
        "is_demonstration_post", "党员示范岗", ("is_demonstration_post", "示范岗"), hint="是 / 否"
    ),
    Column(
        "representative",
        "两代表一委员",
        ("representative",),
        hint="、".join(r.label for r in Representative),
    ),
)
IGNORED_HEADERS = frozenset({"序号", "no", "no.", "#", "编号序号"})
# Roster column → Member spec key, for the columns parsed by the spec's own rules.
SPEC_KEYS = {
    "name": "name",
    "gender": "gender",
    "birth_date": "birth_date",
    "phone": "phone",
    "joined_party_on": "joined_party_on",
    "work_unit": "work_unit",
    "registered_on": "registered_on",
    "is_demonstration_post": "is_demonstration_post",
    "representative": "representative",
}
_HEADER_NOISE = re.compile(r"[*＊]|[(（][^)）]*[)）]")


def _header_key(text: str) -> str:
    return fold(_HEADER_NOISE.sub("", text))


HEADERS: dict[str, Column] = {
    _header_key(name): column for column in COLUMNS for name in (column.header, *column.aliases)
}


@dataclass
class RosterRow:
    line: int  # line in the file (header = 1)
    values: dict[str, Any]  # column key → cell value (text, or a date/number from Excel)
    columns: dict[str, str]  # column key → header as written in the file


@dataclass(frozen=True)
class RowError:
    line: int
    column: str  # header as written in the file ("" for the row or the file)
    message: str
    key: str = ""


@dataclass
class ImportReport:
    filename: str
    rows: int = 0
    created: int = 0
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors})


class RosterFileError(Exception):
    """The file as a whole cannot be read (format, encoding, headers)."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


# --- reading files ---------------------------------------------------------------------


def parse_roster(data: bytes, filename: str) -> list[RosterRow]:
    """The data rows of a CSV or XLSX roster (blank rows skipped), or RosterFileError."""
    is_xlsx = filename.lower().endswith((".xlsx", ".xlsm")) or data[:4] == b"PK\x03\x04"
    table = _xlsx_rows(data) if is_xlsx else _csv_rows(data)
    header: list[Any] | None = None
    columns: dict[int, Column] = {}
    rows: list[RosterRow] = []
    shown: dict[str, str] = {}
    for line, cells in table:
        if header is None:
            header = list(cells)
            columns, shown = _read_header(header)
            continue
        values = {
            columns[i].key: _clean(cell)
            for i, cell in enumerate(cells)
            if i in columns and not is_blank(_clean(cell))
        }
        if values or any(not is_blank(_clean(c)) for c in cells):
            rows.append(RosterRow(line, values, shown))
    if header is None:
        raise RosterFileError([RowError(1, "", "文件是空的，缺少表头 (empty file)")])
    return rows


def _read_header(header: list[Any]) -> tuple[dict[int, Column], dict[str, str]]:
    columns: dict[int, Column] = {}
    shown: dict[str, str] = {}
    errors: list[RowError] = []
    for index, cell in enumerate(header):
        text = "" if cell is None else str(cell).strip().lstrip("\ufeff")
        if not text or _header_key(text) in IGNORED_HEADERS:
            continue
        column = HEADERS.get(_header_key(text))
        if column is None:
            known = "、".join(c.header for c in COLUMNS)
            errors.append(
                RowError(1, text, f"无法识别的列名「{text}」，可用列：{known} (unknown column)")
            )
        elif column.key in shown:
            errors.append(
                RowError(1, text, f"列「{text}」与「{shown[column.key]}」重复 (duplicate column)")
            )
        else:
            columns[index], shown[column.key] = column, text
    for column in COLUMNS:
        if column.required and column.key not in shown:
            errors.append(
                RowError(1, column.header, f"缺少必填列「{column.header}」(missing column)")
            )
    if errors:
        raise RosterFileError(errors)
    return columns, shown


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise RosterFileError(
                [RowError(1, "", "无法识别文件编码：请保存为 UTF-8 或 GB18030 的 CSV (encoding)")]
            ) from None
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    for cells in reader:
        yield line, cells
        line = reader.line_num + 1  # a quoted cell may span lines: count as the file does


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook  # only needed for Excel files

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        raise RosterFileError(
            [RowError(1, "", "无法读取 Excel 文件：请另存为 .xlsx (bad xlsx)")]
        ) from None
    try:
        sheet = book.worksheets[0]
        for line, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield line, list(cells)
    finally:
        book.close()


def _clean(cell: Any) -> Any:
    if isinstance(cell, str):
        return cell.strip()
    return cell


# --- checking rows --------------------------------------------------------------------------


@dataclass
class _Place:
    id: int
    name: str
    community: str


class _Lookup:
    """Finds a branch or compound by id, by (folded) name, or by "社区/名称"."""

    def __init__(
        self, label: str, places: Iterable[tuple[int, str, str]], allowed: set[int] | None
    ):
        self.label = label
        self.allowed = allowed
        self.by_id: dict[int, _Place] = {}
        self.by_name: dict[str, list[_Place]] = defaultdict(list)
        for place_id, name, community in places:
            place = _Place(place_id, name, community)
            self.by_id[place_id] = place
            self.by_name[fold(name)].append(place)

    def find(self, raw: Any) -> int:
        text = (
            str(int(raw))
            if isinstance(raw, int | float) and not isinstance(raw, bool)
            else str(raw)
        )
        text = text.strip()
        if text.isdigit():
            found = [self.by_id[int(text)]] if int(text) in self.by_id else []
        else:
            community, _, name = text.rpartition("/") if "/" in text else ("", "", text)
            found = self.by_name.get(fold(name), [])
            if community:
                found = [p for p in found if fold(p.community) == fold(community)]
        if not found:
            raise Invalid(f"{self.label}「{text}」不存在 (not found)")
        usable = [p for p in found if self.allowed is None or p.id in self.allowed]
        if not usable:
            raise Invalid(f"{self.label}「{text}」不在您的维护范围内 (outside your scope)")
        if len(usable) > 1:
            names = "、".join(f"{p.name}（{p.community}，编号 {p.id}）" for p in usable)
            raise Invalid(f"{self.label}「{text}」有多个同名：{names}，请填写编号 (ambiguous)")
        return usable[0].id


async def _lookups(actor: Viewer) -> tuple[_Lookup, _Lookup]:
    # A roster names branches and home compounds: both must be ones the actor may
    # link to (hub.services.references), as in a single member's form.
    branches = await m.Branch.all().values_list("id", "name", "community__name")
    compounds = await m.Compound.all().values_list("id", "name", "community__name")
    return (
        _Lookup("所属支部", branches, await _allowed(actor, m.Branch)),
        _Lookup("居住小区", compounds, await _allowed(actor, m.Compound)),
    )


async def _allowed(actor: Viewer, model: type[m.Record]) -> set[int] | None:
    scope = link_scope(actor, model)
    if scope is EVERYTHING:
        return None
    return set(cast("list[int]", await model.filter(scope).values_list("id", flat=True)))


def _category(raw: Any) -> MemberCategory:
    try:
        return cast(MemberCategory, parse_enum(raw, MemberCategory))
    except Invalid:  # "直管" for "直管党员"
        return cast(MemberCategory, parse_enum(f"{raw}党员", MemberCategory))


_GENDER_LETTERS = {"m": Gender.MALE, "f": Gender.FEMALE}


async def _check(actor: Viewer, rows: list[RosterRow]) -> tuple[list[RowError], list[m.Member]]:
    """Every row's errors, and the members to insert when there are none."""
    spec = get_spec("Member")
    parsers = {key: spec.field(target) for key, target in SPEC_KEYS.items()}
    branches, compounds = await _lookups(actor)
    errors: list[RowError] = []
    members: list[m.Member] = []
    seen: dict[tuple[str, str], int] = {}
    pending: list[tuple[RosterRow, tuple[str, str]]] = []
    for row in rows:
        values: dict[str, Any] = {"status": MemberStatus.ACTIVE}
        row_errors: list[RowError] = []

        def fail(
            key: str, message: str, row: RosterRow = row, into: list[RowError] = row_errors
        ) -> None:
            into.append(RowError(row.line, row.columns.get(key, ""), message, key))

        for column in COLUMNS:
            raw = row.values.get(column.key)
            if is_blank(raw):
                if column.required:
                    fail(column.key, f"{column.header}不能为空 (required)")
                continue
            try:
                if column.key == "category":
                    values["category"] = _category(raw)
                elif column.key == "branch":
                    values["branch_id"] = branches.find(raw)
                elif column.key == "home_compound":
                    values["home_compound_id"] = compounds.find(raw)
                elif column.key == "gender" and str(raw).strip().lower() in _GENDER_LETTERS:
                    values["gender"] = _GENDER_LETTERS[str(raw).strip().lower()]
                else:
                    values[SPEC_KEYS[column.key]] = parse_value(parsers[column.key], raw)
            except Invalid as exc:
                fail(column.key, f"{column.header}：{exc.message}")
        for key, message in member_date_errors(
            values.get("birth_date"), values.get("joined_party_on")
        ):
            fail(key, message)
        if values.get("phone") and values.get("name"):
            identity = (fold(values["name"]), values["phone"])
            if identity in seen:
                fail(
                    "phone", f"与第 {seen[identity]} 行是同一人（同名同手机号）(duplicate in file)"
                )
            else:
                seen[identity] = row.line
                pending.append((row, identity))
        errors.extend(row_errors)
        if not row_errors:
            member = m.Member(**values)
            member.refresh_search_text()  # bulk_create bypasses save()
            members.append(member)
    existing = await duplicate_members([(name, number) for _, (name, number) in pending])
    for row, identity in pending:
        if identity in existing:
            errors.append(
                RowError(
                    row.line,
                    row.columns.get("phone", ""),
                    f"与在册党员（编号 {existing[identity]}）同名同手机号 (already a member)",
                    "phone",
                )
            )
    errors.sort(key=lambda e: e.line)
    return errors, members


async def validate_roster(*, actor: Viewer | None, rows: list[RosterRow]) -> ImportReport:
    """Check parsed rows without saving anything; the report lists every bad row."""
    actor = require_writer(actor, m.Member, "党员")
    errors, _ = await _check(actor, rows)
    return ImportReport(filename="", rows=len(rows), errors=errors)


async def import_members(
    *,
    actor: Viewer | None,
    data: bytes,
    filename: str,
    dry_run: bool = False,
    address: str = "",
    parsed: list[RosterRow] | None = None,
) -> ImportReport:
    """Import a roster file: all rows or none. ``dry_run`` only checks.

    ``parsed``: the file's rows as ``parse_roster`` read them, for callers that parse
    elsewhere (the console parses in its worker thread, never on the event loop).
    """
    actor = require_writer(actor, m.Member, "党员")
    report = ImportReport(filename=filename, dry_run=dry_run)
    try:
        rows = parsed if parsed is not None else parse_roster(data, filename)
    except RosterFileError as exc:
        report.errors = exc.errors
        return report
    report.rows = len(rows)
    if not rows:
        report.errors = [RowError(2, "", "文件中没有党员数据 (no data rows)")]
        return report
    async with in_transaction(PRIMARY):
        report.errors, members = await _check(actor, rows)
        if report.errors or dry_run:
            return report
        for start in range(0, len(members), BATCH_SIZE):
            await _insert_batch(members[start : start + BATCH_SIZE])
        report.created = len(members)
        await audit.record(
            actor=actor,
            action=AuditAction.IMPORT,
            entity="Member",
            after={
                "filename": filename,
                "rows": report.rows,
                "created": report.created,
                "branches": len({member.branch_id for member in members}),
            },
            address=address,
        )
    return report


async def _insert_batch(batch: list[m.Member]) -> None:
    """One batch: a single multi-row statement (the import's unit of progress)."""
    await m.Member.bulk_create(batch, batch_size=BATCH_SIZE)


# --- templates -----------------------------------------------------------------------------


def roster_template_csv() -> bytes:
    """The header row as a CSV with a BOM, so that Excel opens it in the right encoding."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(csv_row(c.header for c in COLUMNS))
    return out.getvalue().encode("utf-8-sig")


def roster_template_xlsx() -> bytes:
    """An Excel template: the header, drop-down lists, text-formatted phone and date
    columns, and a second sheet explaining every column."""
    # openpyxl (a large library) only when a template is asked for.
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    sheet.title = "党员名册"
    sheet.append(xlsx_row(sheet, [c.header for c in COLUMNS]))
    sheet.freeze_panes = "A2"
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True, color="C00000" if column.required else "000000")
        cell.fill = PatternFill("solid", fgColor="FDE9E7")
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = 16
        if column.key in ("phone", "birth_date", "joined_party_on", "registered_on"):
            # Text columns: Excel keeps typed phones and dates as written.
            sheet.column_dimensions[letter].number_format = "@"
        choices = {
            "gender": [g.label for g in Gender],
            "category": [c.label for c in MemberCategory],
            "is_demonstration_post": ["是", "否"],
            "representative": [r.label for r in Representative],
        }.get(column.key)
        if choices:
            rule = DataValidation(type="list", formula1=f'"{",".join(choices)}"', allow_blank=True)
            sheet.add_data_validation(rule)
            rule.add(f"{letter}2:{letter}5000")
    notes = book.create_sheet("填写说明")
    notes.append(["列名", "是否必填", "说明", "也可用的列名"])
    for column in COLUMNS:
        notes.append(
            xlsx_row(
                notes,
                [
                    column.header,
                    "必填" if column.required else "",
                    column.hint,
                    "、".join(column.aliases),
                ],
            )
        )
    notes.column_dimensions["C"].width = 40
    notes.column_dimensions["D"].width = 40
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
