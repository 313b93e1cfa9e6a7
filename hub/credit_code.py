"""统一社会信用代码 (unified social credit code, GB 32100-2015) validation."""

from __future__ import annotations

from tortoise.exceptions import ValidationError

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18


def check_character(first17: str) -> str:
    """The 18th character for these first 17."""
    total = sum(ALPHABET.index(ch) * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def credit_code_error(code: str) -> str | None:
    """Why ``code`` is not a valid credit code, or None when it is."""
    if len(code) != LENGTH:
        return f"统一社会信用代码应为 {LENGTH} 位，实际 {len(code)} 位"
    bad = [ch for ch in code if ch not in ALPHABET]
    if bad:
        return f"统一社会信用代码含有非法字符：{''.join(dict.fromkeys(bad))}"
    if check_character(code[:17]) != code[17]:
        return "统一社会信用代码校验位错误"
    return None


def validate_credit_code(value: str | None) -> None:
    """Tortoise field validator."""
    if value is None:
        return
    error = credit_code_error(value)
    if error:
        raise ValidationError(error)


def make_credit_code(first17: str) -> str:
    """Complete 17 characters into a valid code (demo data, tests)."""
    return first17 + check_character(first17)
