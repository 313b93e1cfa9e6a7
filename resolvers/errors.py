"""Errors a client can act on: one set of codes, carried in ``extensions.code``.

A resolver that refuses a request raises ``user_error(message, code)``; its message
reaches the client unchanged. Any other exception is masked by
:mod:`schema.extensions` and logged with an id the client sees.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from hub.services.errors import ErrorCode

__all__ = [
    "QUERY_CANCELED",
    "ErrorCode",
    "UserError",
    "error_code",
    "is_statement_timeout",
    "user_error",
    "with_code",
]


class UserError(GraphQLError):
    """A GraphQL error meant for the client: its message and code are kept."""


def user_error(
    message: str, code: ErrorCode | str = ErrorCode.BAD_USER_INPUT, **extensions: Any
) -> UserError:
    """A client-facing error with ``extensions.code`` (raise it from a resolver)."""
    return UserError(message, extensions={"code": str(code), **extensions})


def error_code(error: GraphQLError) -> str | None:
    """The ``extensions.code`` of an error or of the error it wraps, if any."""
    for candidate in (error, error.original_error):
        extensions = getattr(candidate, "extensions", None)
        if isinstance(extensions, dict) and extensions.get("code"):
            return str(extensions["code"])
    return None


def with_code(error: GraphQLError, code: ErrorCode | str) -> GraphQLError:
    """Give ``error`` a code unless it already has one; returns the same error."""
    if not error_code(error):
        error.extensions = {**(error.extensions or {}), "code": str(code)}
    return error


# PostgreSQL's SQLSTATE for a statement cancelled (by statement_timeout, among others).
QUERY_CANCELED = "57014"


def is_statement_timeout(exc: BaseException | None) -> bool:
    """Whether ``exc``, or an exception it wraps, is PostgreSQL cancelling a statement.

    asyncpg raises ``QueryCanceledError``; Tortoise may wrap it (``OperationalError``).
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if getattr(exc, "sqlstate", None) == QUERY_CANCELED:
            return True
        exc = (
            exc.__cause__
            or exc.__context__
            or next((a for a in getattr(exc, "args", ()) if isinstance(a, BaseException)), None)
        )
    return False
