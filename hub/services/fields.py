"""Declared input fields and how a raw value becomes a checked one.

Values arrive typed from GraphQL inputs, as strings from console forms, and as cells
from a spreadsheet; every parser here takes all three, so one rule serves every door.
A parser returns the clean value or raises ``Invalid`` with a Chinese message.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.models import Model

from hub.credit_code import credit_code_error
from hub.enums import LabeledEnum
from hub.search import fold
from hub.services.errors import REQUIRED, VALIDATION, ErrorBag, ErrorCode

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
MOBILE = re.compile(r"1[3-9]\d{9}")
LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}")
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_TRUE = frozenset({"true", "1", "yes", "y", "是", "√", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "否", "×", "f"})
# Excel keeps dates as days since 1899-12-30 when a cell lost its date format.
_EXCEL_EPOCH = dt.date(1899, 12, 30)


class Kind(StrEnum):
    TEXT = "text"
    INT = "int"
    BOOL = "bool"
    DATE = "date"
    DATETIME = "datetime"
    ENUM = "enum"
    PHONE = "phone"
    CREDIT_CODE = "credit_code"
    FK = "fk"
    M2M = "m2m"
    ENUM_SET = "enum_set"


class Invalid(Exception):
    def __init__(self, message: str, code: ErrorCode = VALIDATION) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


Bound = int | Callable[[], int] | None


@dataclass(frozen=True)
class FieldSpec:
    """One writable input key. ``attr`` is the model attribute when it differs from ``key``."""

    key: str
    label: str
    kind: Kind = Kind.TEXT
    required: bool = False
    max_length: int | None = None
    min_value: Bound = None
    max_value: Bound = None
    enum: type[LabeledEnum] | None = None
    model: type[Model] | None = None
    attr: str | None = None
    # Where referenced ids must lie (hub.services.references): "write" in the actor's
    # write scope (a parent), "read" in its read scope; None: the link scope (the write
    # scope for records in a street or community, the read scope for district registers).
    scope: str | None = None
    not_future: bool = False
    null: bool = False  # a blank text is stored as NULL (the column is nullable)

    @property
    def target(self) -> str:
        return self.attr or self.key


# --- constructors, so that specs read like a table ---------------------------------


def text(
    key: str, label: str, *, required: bool = False, max_length: int | None = None
) -> FieldSpec:
    return FieldSpec(key, label, Kind.TEXT, required=required, max_length=max_length)


def integer(
    key: str, label: str, *, required: bool = False, min_value: Bound = 0, max_value: Bound = None
) -> FieldSpec:
    return FieldSpec(key, label, Kind.INT, required, min_value=min_value, max_value=max_value)


def boolean(key: str, label: str) -> FieldSpec:
    return FieldSpec(key, label, Kind.BOOL)


def date(key: str, label: str, *, required: bool = False, not_future: bool = False) -> FieldSpec:
    return FieldSpec(key, label, Kind.DATE, required, not_future=not_future)


def datetime(key: str, label: str, *, required: bool = False) -> FieldSpec:
    return FieldSpec(key, label, Kind.DATETIME, required)


def choice(key: str, label: str, enum: type[LabeledEnum], *, required: bool = False) -> FieldSpec:
    return FieldSpec(key, label, Kind.ENUM, required, enum=enum)


def phone(key: str, label: str, *, required: bool = False) -> FieldSpec:
    return FieldSpec(key, label, Kind.PHONE, required)


def credit_code(key: str, label: str, *, required: bool = False) -> FieldSpec:
    return FieldSpec(key, label, Kind.CREDIT_CODE, required)


def fk(
    key: str, label: str, model: type[Model], *, required: bool = False, scope: str | None = None
) -> FieldSpec:
    return FieldSpec(key, label, Kind.FK, required, model=model, scope=scope)


def m2m(
    key: str, label: str, model: type[Model], *, attr: str, scope: str | None = None
) -> FieldSpec:
    return FieldSpec(key, label, Kind.M2M, model=model, attr=attr, scope=scope)


def enum_set(key: str, label: str, enum: type[LabeledEnum]) -> FieldSpec:
    return FieldSpec(key, label, Kind.ENUM_SET, enum=enum)


# --- parsers -----------------------------------------------------------------------


def is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _bound(value: Bound) -> int | None:
    return value() if callable(value) else value


def _ascii_fold(raw: str) -> str:
    """fold() for short codes (phones, dates): plain ASCII needs no script conversion."""
    return raw.lower() if raw.isascii() else fold(raw)


def parse_text(raw: Any, *, max_length: int | None = None) -> str:
    value = str(raw).strip() if not isinstance(raw, str) else raw.strip()
    if max_length is not None and len(value) > max_length:
        raise Invalid(f"最多 {max_length} 个字符，实际 {len(value)} 个 (too long)")
    return value


def parse_int(raw: Any, *, min_value: Bound = None, max_value: Bound = None) -> int:
    if isinstance(raw, bool):
        raise Invalid("应为整数 (not an integer)")
    integral = (
        isinstance(raw, int)
        or (isinstance(raw, float) and raw.is_integer())
        or (isinstance(raw, str) and re.fullmatch(r"\s*[-+]?\d+\s*", raw) is not None)
    )
    if not integral:
        raise Invalid("应为整数 (not an integer)")
    value = int(raw)
    low, high = _bound(min_value), _bound(max_value)
    if low is not None and value < low:
        raise Invalid(f"不能小于 {low} (must be ≥ {low})")
    if high is not None and value > high:
        raise Invalid(f"不能大于 {high} (must be ≤ {high})")
    return value


def parse_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    key = str(raw).strip().lower()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise Invalid("应为“是”或“否” (not a yes/no value)")


def parse_date(raw: Any, *, not_future: bool = False, today: dt.date | None = None) -> dt.date:
    if isinstance(raw, dt.datetime):
        value = raw.date()
    elif isinstance(raw, dt.date):
        value = raw
    elif isinstance(raw, int | float) and not isinstance(raw, bool) and 1 <= raw < 100_000:
        value = _EXCEL_EPOCH + dt.timedelta(days=int(raw))
    else:
        value = _date_from_text(str(raw))
    if not 1900 <= value.year <= 2100:
        raise Invalid("日期不合理 (date out of range)")
    if not_future and value > (today or dt.date.today()):
        raise Invalid("不能晚于今天 (must not be in the future)")
    return value


def _date_from_text(raw: str) -> dt.date:
    text_value = _ascii_fold(raw)
    match = _DATE.fullmatch(text_value) or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text_value)
    if match is None and "t" in text_value:  # an ISO datetime: take its date
        return parse_datetime(raw).astimezone(LOCAL_TZ).date()
    if match is None:
        raise Invalid("日期格式应为 YYYY-MM-DD (invalid date)")
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        raise Invalid("日期不存在 (no such date)") from None


def parse_datetime(raw: Any) -> dt.datetime:
    """An aware datetime; naive values are local (Asia/Shanghai) times."""
    if isinstance(raw, dt.datetime):
        value = raw
    elif isinstance(raw, str):
        try:
            value = dt.datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError:
            raise Invalid("时间格式应为 YYYY-MM-DD HH:MM (invalid datetime)") from None
    else:
        raise Invalid("时间格式应为 YYYY-MM-DD HH:MM (invalid datetime)")
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TZ)
    if not 1900 <= value.year <= 2100:
        raise Invalid("时间不合理 (datetime out of range)")
    return value


def parse_enum(raw: Any, enum: type[LabeledEnum]) -> LabeledEnum:
    """A member by value (any case) or by Chinese label in either script."""
    if isinstance(raw, enum):
        return raw
    key = fold(str(raw))
    for member in enum:
        if key in (member.value.lower(), fold(member.label)):
            return member
    allowed = "、".join(member.label for member in enum)
    raise Invalid(f"取值应为：{allowed} (unknown value)")


def parse_phone(raw: Any) -> str:
    value = str(int(raw)) if isinstance(raw, int | float) and not isinstance(raw, bool) else raw
    value = re.sub(r"[\s()（）]", "", _ascii_fold(str(value)))
    if value.startswith("+86"):
        value = value[3:]
    if MOBILE.fullmatch(value) or LANDLINE.fullmatch(value):
        return value
    raise Invalid("电话格式不正确：应为11位手机号或区号-座机号 (invalid phone number)")


def parse_credit_code(raw: Any) -> str:
    value = fold(str(raw)).upper()
    error = credit_code_error(value)
    if error:
        raise Invalid(f"{error} (invalid credit code)")
    return value


def parse_id(raw: Any) -> int:
    try:
        return parse_int(raw, min_value=1)
    except Invalid:
        raise Invalid("编号应为正整数 (invalid id)") from None


def parse_ids(raw: Any) -> list[int]:
    if isinstance(raw, str | bytes) or not isinstance(raw, Iterable):
        raise Invalid("应为编号列表 (expected a list of ids)")
    return list(dict.fromkeys(parse_id(item) for item in raw))


def parse_value(spec: FieldSpec, raw: Any) -> Any:
    """The clean value of one input, or ``Invalid``. Blank optional inputs give None/""."""
    if spec.kind in (Kind.M2M, Kind.ENUM_SET):
        items = [] if raw is None else raw
        if spec.kind is Kind.M2M:
            return parse_ids(items)
        assert spec.enum is not None
        if isinstance(items, str):
            items = [part for part in re.split(r"[,，、;；\s]+", items) if part]
        return list(dict.fromkeys(parse_enum(item, spec.enum) for item in items))
    if is_blank(raw):
        if spec.required:
            raise Invalid(f"{spec.label}不能为空 (required)", REQUIRED)
        return "" if spec.kind is Kind.TEXT and not spec.null else None
    match spec.kind:
        case Kind.TEXT:
            return parse_text(raw, max_length=spec.max_length)
        case Kind.INT:
            return parse_int(raw, min_value=spec.min_value, max_value=spec.max_value)
        case Kind.BOOL:
            return parse_bool(raw)
        case Kind.DATE:
            return parse_date(raw, not_future=spec.not_future)
        case Kind.DATETIME:
            return parse_datetime(raw)
        case Kind.ENUM:
            assert spec.enum is not None
            return parse_enum(raw, spec.enum)
        case Kind.PHONE:
            return parse_phone(raw)
        case Kind.CREDIT_CODE:
            return parse_credit_code(raw)
        case Kind.FK:
            return parse_id(raw)
    raise AssertionError(spec.kind)


def parse_all(
    fields: Iterable[FieldSpec],
    data: Mapping[str, Any],
    errors: ErrorBag,
    *,
    creating: bool,
) -> dict[str, Any]:
    """Parse every given input (and, when creating, complain about missing required ones).

    Unknown keys are errors too: a misspelt key must not be silently dropped.
    """
    by_key = {spec.key: spec for spec in fields}
    for key in data:
        if key not in by_key:
            errors.add(key, f"不能修改的字段或未知字段：{key} (unknown or read-only field)")
    values: dict[str, Any] = {}
    for spec in by_key.values():
        if spec.key not in data:
            if creating and spec.required:
                errors.add(spec.key, f"{spec.label}不能为空 (required)", REQUIRED)
            continue
        try:
            values[spec.key] = parse_value(spec, data[spec.key])
        except Invalid as exc:
            message = exc.message if exc.code is REQUIRED else f"{spec.label}：{exc.message}"
            errors.add(spec.key, message, exc.code)
    return values
