"""Errors a user can act on: each names the field, says what is wrong in Chinese, and has a code.

Services collect as many errors as they can find before raising one ``ServiceError``,
so that a form (or a mutation payload's ``errors { field message code }``) can show
them all at once instead of one per round trip.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    """The one set of error codes: a service's ``FieldError.code`` and a GraphQL error's
    ``extensions.code`` (the API edge exposes them as strings)."""

    # A write refused field by field (a mutation payload's ``errors { code }``).
    VALIDATION = "VALIDATION"
    REQUIRED = "REQUIRED"
    UNIQUE = "UNIQUE"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    # Optimistic concurrency: the record changed since the client read it.
    CONFLICT = "CONFLICT"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    # Too many failed logins: the account waits before it may try again.
    LOCKED = "LOCKED"
    # The request itself is malformed or names something the schema lacks.
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    # A value the client sent cannot be used (bad id, bad filter, bad variable).
    BAD_USER_INPUT = "BAD_USER_INPUT"
    # Refused before execution: too deep, too many aliases or tokens, too costly.
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    # The database cancelled a statement that ran past LINJU_STATEMENT_TIMEOUT_MS.
    QUERY_TIMEOUT = "QUERY_TIMEOUT"
    # Masked unexpected error; ``extensions.errorId`` points to the server log.
    INTERNAL = "INTERNAL"


# How much of a client's value an error message repeats (a value may be 20,000 characters).
ECHO_CHARS = 50
# Tortoise's validators quote the value: "Length of '…' 20001 > 255", "Value '…' does not
# match regex '…'" (a quote followed by a space, a full stop or the end closes it).
_QUOTED = re.compile(r"'(.*?)'(?=[\s.]|$)", re.DOTALL)
# Whatever the quoting, no detail is longer than this.
MAX_DETAIL_CHARS = 300


def echo(value: object) -> str:
    """``value`` as an error message may repeat it: its first ``ECHO_CHARS`` characters."""
    text = str(value)
    return text if len(text) <= ECHO_CHARS else f"{text[:ECHO_CHARS]}…"


def validation_detail(exc: BaseException) -> str:
    """A field validator's message with the quoted values cut to ``echo``'s length."""
    detail = _QUOTED.sub(lambda quoted: f"'{echo(quoted.group(1))}'", str(exc))
    return detail if len(detail) <= MAX_DETAIL_CHARS else f"{detail[:MAX_DETAIL_CHARS]}…"


VALIDATION = ErrorCode.VALIDATION
REQUIRED = ErrorCode.REQUIRED
UNIQUE = ErrorCode.UNIQUE
NOT_FOUND = ErrorCode.NOT_FOUND
FORBIDDEN = ErrorCode.FORBIDDEN
CONFLICT = ErrorCode.CONFLICT
INVALID_TRANSITION = ErrorCode.INVALID_TRANSITION


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem: ``field`` is the input key (``""`` for the record as a whole)."""

    field: str
    message: str
    code: ErrorCode


class ServiceError(Exception):
    """A write refused for reasons the caller can show to the user."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors: list[FieldError] = list(errors)
        if not self.errors:
            raise ValueError("ServiceError needs at least one FieldError")
        super().__init__(
            "; ".join(f"{e.field or '-'}: {e.message} [{e.code}]" for e in self.errors)
        )

    @classmethod
    def single(cls, field: str, message: str, code: ErrorCode) -> ServiceError:
        return cls([FieldError(field, message, code)])

    @property
    def codes(self) -> set[ErrorCode]:
        return {e.code for e in self.errors}

    def for_field(self, field: str) -> list[FieldError]:
        return [e for e in self.errors if e.field == field]


class ErrorBag:
    """Collects FieldErrors while a service validates; ``raise_if_any`` ends the collecting."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, field: str, message: str, code: ErrorCode = VALIDATION) -> None:
        self.errors.append(FieldError(field, message, code))

    def extend(self, errors: Iterable[FieldError]) -> None:
        self.errors.extend(errors)

    def has(self, field: str) -> bool:
        return any(e.field == field for e in self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ServiceError(self.errors)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def __iter__(self) -> Iterator[FieldError]:
        return iter(self.errors)
