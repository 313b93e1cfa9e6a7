"""What every mutation payload shares: ``errors { field message code }``."""

from __future__ import annotations

import strawberry
from strawberry.utils.str_converters import to_camel_case

from hub.services.errors import ServiceError


@strawberry.type(description="可由用户纠正的错误 An error the user can fix")
class FieldError:
    field: str | None = strawberry.field(
        description="出错的字段（null：整体）The input field at fault (null: the whole input)"
    )
    message: str = strawberry.field(description="说明 What is wrong, in Chinese")
    code: str = strawberry.field(
        description="错误码 VALIDATION, REQUIRED, UNIQUE, NOT_FOUND, FORBIDDEN, CONFLICT, "
        "INVALID_TRANSITION, UNAUTHENTICATED, LOCKED"
    )


def field_errors(exc: ServiceError) -> list[FieldError]:
    """A service's refusal as payload errors, one per field problem.

    Service keys are the models' snake_case names; the client sent camelCase.
    """
    return [
        FieldError(
            field=to_camel_case(e.field) if e.field else None, message=e.message, code=e.code
        )
        for e in exc.errors
    ]
