"""What every mutation does around its service call.

A mutation resolver checks that someone is signed in, turns global ids into row ids
(checking their type), calls one domain service (hub/services: the rules live there,
and each call is one transaction), and answers ``{ <record> errors }``. Everything a
user can fix comes back in ``errors`` with a code; nothing is raised for it.

Codes beyond the services' own: UNAUTHENTICATED (anonymous caller) and NOT_FOUND for a
malformed or foreign global id. A record outside what the caller may *read* is always
reported NOT_FOUND, so a refusal never tells whether such a record exists.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from strawberry.utils.str_converters import to_camel_case
from tortoise.models import Model

from hub.access import Viewer, row_scope
from hub.access.policy import EVERYTHING
from hub.services.errors import NOT_FOUND, ErrorCode, ServiceError
from hub.services.specs import MODEL_LABELS
from schema.info import Info
from schema.node import decode_global_id
from schema.payloads import FieldError, field_errors

T = TypeVar("T")

UNAUTHENTICATED = ErrorCode.UNAUTHENTICATED
# The largest file importMembers reads (a 10,000-row roster is well under 2 MB).
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class Refused(Exception):
    """A mutation refused before (or instead of) its service call: payload errors."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


def refuse(field: str | None, message: str, code: str) -> Refused:
    return Refused([FieldError(field=field, message=message, code=code)])


def camel(key: str) -> str:
    """The GraphQL input name of a service key (``compound_ids`` → ``compoundIds``)."""
    return to_camel_case(key)


def signed_in(info: Info) -> Viewer:
    """The caller; anonymous callers are refused with UNAUTHENTICATED."""
    viewer: Viewer = info.context.viewer
    if not viewer.is_authenticated:
        raise refuse(None, "请先登录 (log in first)", UNAUTHENTICATED)
    return viewer


def client_address(info: Info) -> str:
    """The caller's address for the audit log."""
    client = getattr(info.context.request, "client", None)
    return client.host if client else ""


def row_id(global_id: Any, model: type[Model], field: str) -> int:
    """The primary key a global id names; NOT_FOUND on ``field`` if it is malformed or
    names another type."""
    target = decode_global_id(str(global_id))
    if target is None or target[0] is not model:
        label = MODEL_LABELS.get(model, model.__name__)
        raise refuse(field, f"{label}不存在：编号无效 (not found: bad id {global_id})", NOT_FOUND)
    return target[1]


def acted_on(model: type[Model], global_id: Any) -> tuple[type[Model], int] | None:
    """The existing record a mutation acts on, for ``perform``; None when the id is bad
    (the work itself then refuses it)."""
    try:
        return model, row_id(global_id, model, "id")
    except Refused:
        return None


def row_ids(global_ids: Iterable[Any], model: type[Model], field: str) -> list[int]:
    """Primary keys of several global ids; one NOT_FOUND naming every bad one."""
    ids: list[int] = []
    bad: list[str] = []
    for global_id in global_ids:
        try:
            ids.append(row_id(global_id, model, field))
        except Refused:
            bad.append(str(global_id))
    if bad:
        label = MODEL_LABELS.get(model, model.__name__)
        raise refuse(field, f"{label}不存在：编号无效 {'、'.join(bad)} (not found)", NOT_FOUND)
    return ids


async def perform(
    info: Info,
    work: Callable[[Viewer], Awaitable[T]],
    *,
    target: tuple[type[Model], int] | None = None,
) -> tuple[T | None, list[FieldError]]:
    """Run ``work`` as the signed-in caller: (its result, []) or (None, payload errors).

    ``target`` is the existing record the mutation acts on: if the service refuses and
    the caller may not read that record, the answer is NOT_FOUND whatever the reason.
    """
    try:
        viewer = signed_in(info)
        return await work(viewer), []
    except Refused as exc:
        return None, exc.errors
    except ServiceError as exc:
        if target is not None and await _hidden(info.context.viewer, *target):
            return None, [_not_found(*target)]
        return None, field_errors(exc)


async def _hidden(viewer: Viewer, model: type[Model], pk: int) -> bool:
    scope = row_scope(viewer, model)
    return scope is not EVERYTHING and not await model.filter(scope, id=pk).exists()


def _not_found(model: type[Model], pk: int) -> FieldError:
    label = MODEL_LABELS.get(model, model.__name__)
    return FieldError(field="id", message=f"{label}不存在 (not found)", code=NOT_FOUND)


__all__ = [
    "MAX_UPLOAD_BYTES",
    "UNAUTHENTICATED",
    "Refused",
    "acted_on",
    "camel",
    "client_address",
    "perform",
    "refuse",
    "row_id",
    "row_ids",
    "signed_in",
]
