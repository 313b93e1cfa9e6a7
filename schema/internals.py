"""The one strawberry internal the hub still reads, behind a version check.

Strawberry builds a graphql-core ``GraphQLSchema`` and keeps it as ``Schema._schema``;
no public method returns it. The hub needs it where strawberry hands out only its own
types: the cost rule (``schema/extensions.py``) and the compiled read path walk the
graphql-core types of a validated document. Everything else uses strawberry's public
API, so the hub accepts a range of strawberry releases, not one minor:
:data:`STRAWBERRY_RANGE`, the range ``pyproject.toml`` declares (a test keeps the two
equal), checked once when the schema is built so that a release outside it fails
with a message rather than somewhere in a request.
"""

from __future__ import annotations

import re
from importlib.metadata import version

from graphql import GraphQLSchema
from strawberry.schema import BaseSchema

# The strawberry-graphql releases tested (both ends: see bench/README.md's notes on the
# range and .ci/run): lowest included, highest excluded.
STRAWBERRY_RANGE = ((0, 338), (0, 400))


def release(text: str) -> tuple[int, ...]:
    """``"0.341.2"`` → ``(0, 341, 2)``; a pre-release or local tail is ignored."""
    match = re.match(r"\d+(?:\.\d+)*", text)
    return tuple(int(part) for part in match.group().split(".")) if match else ()


def check_strawberry(installed: str | None = None) -> None:
    """Refuse a strawberry release outside :data:`STRAWBERRY_RANGE`, saying which."""
    text = installed if installed is not None else version("strawberry-graphql")
    low, high = STRAWBERRY_RANGE
    if not low <= release(text)[: len(low)] < high:
        raise RuntimeError(
            f"strawberry-graphql {text} is installed; Linju Hub supports "
            f">={'.'.join(map(str, low))},<{'.'.join(map(str, high))} (it reads the "
            "graphql-core schema strawberry keeps in Schema._schema). Install a release "
            "in that range: pip install -e ."
        )


def graphql_schema(schema: BaseSchema) -> GraphQLSchema:
    """The graphql-core schema strawberry built for ``schema`` (no public accessor)."""
    built = getattr(schema, "_schema", None)
    if not isinstance(built, GraphQLSchema):
        raise RuntimeError(
            f"strawberry-graphql {version('strawberry-graphql')} no longer keeps its "
            "graphql-core schema in Schema._schema; see schema/internals.py"
        )
    return built
