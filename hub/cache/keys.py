"""Cache keys: what makes two requests' answers the same.

The answer to a query depends on its text, its operation name, its variables and what
the caller may see (``Viewer.scope_key``: two readers see the same rows and fields).
Fields that answer about the caller as a person (``viewer``: the account making the
request) differ between two callers of one scope, so a document that names such a
field is keyed by the caller's account as well.
"""

from __future__ import annotations

import hashlib
import re
import weakref
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import orjson
from graphql import GraphQLError, OperationType, get_operation_ast, parse

if TYPE_CHECKING:
    # Annotations only: the cache keys on what a viewer may see, and hub.access (its
    # credential cache) builds on the cache's state.
    from hub.access.viewer import Viewer


# Root fields whose answer depends on the individual caller, not only on its scope.
PERSONAL_FIELDS = ("viewer",)
_PERSONAL = re.compile(r"\b(?:" + "|".join(PERSONAL_FIELDS) + r")\b")


@dataclass(frozen=True, slots=True)
class Operation:
    """What the cache needs to know of a request's operation before running it."""

    kind: OperationType
    personal: bool


@lru_cache(maxsize=512)
def inspect_operation(query: str, operation_name: str | None) -> Operation | None:
    """The operation's type, and whether it names a personal field; None when the
    document does not parse or does not say which operation to run (execution will
    report that)."""
    try:
        document = parse(query, no_location=True)
    except GraphQLError:
        return None
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    # Any mention counts (fragments, aliases): keying too finely is only a lost hit.
    return Operation(kind=operation.operation, personal=bool(_PERSONAL.search(query)))


# The layout of a stored entry (hub.cache.response): part of every key, so processes
# of two hub versions sharing one Redis never read each other's entries.
ENTRY_FORMAT = b"entry-2"

_fingerprints: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def schema_fingerprint(schema: Any) -> str:
    """A digest of the schema's SDL: processes of two hub versions sharing one Redis
    (a rolling deploy) or two schemas in one process never share answers."""
    fingerprint = _fingerprints.get(schema)
    if fingerprint is None:
        fingerprint = hashlib.sha256(str(schema).encode()).hexdigest()[:16]
        _fingerprints[schema] = fingerprint
    return fingerprint


def cache_key(
    *,
    schema: str,
    query: str,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    viewer: Viewer,
    personal: bool,
) -> str:
    """The sha256 naming this request's answer (raises TypeError for variables that are
    not plain JSON, such as uploads: those are not cached)."""
    digest = hashlib.sha256()
    for part in (
        ENTRY_FORMAT,
        schema.encode(),
        query.encode(),
        (operation_name or "").encode(),
        orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS),
        viewer.scope_key.encode(),
        (f"user:{viewer.user_id}:{viewer.username}" if personal else "").encode(),
    ):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()
