"""The strawberry releases the hub accepts, checked; the one strawberry internal it reads.

Strawberry builds a graphql-core ``GraphQLSchema`` and keeps it as ``Schema._schema``;
no public method returns it. The hub needs it where strawberry hands out only its own
types: the cost rule (``schema/extensions.py``) and the compiled read path walk the
graphql-core types of a validated document. Everything else uses strawberry's public
API, so the hub accepts a range of strawberry releases, not one minor:
:data:`STRAWBERRY_RANGE`, the range ``pyproject.toml`` declares (a test keeps the two
equal), checked once when the schema is built so that a release outside it fails
with a message rather than somewhere in a request. The lower end is set by the
WebSocket ``Origin`` check (``allowed_origins``, against cross-site WebSocket hijacking)
that the hub's endpoint passes to strawberry: 0.338 has none (every app test fails on
it with ``GraphQL.__init__() got an unexpected keyword argument 'allowed_origins'``);
0.341, the hub's earlier pin, has it.
"""

from __future__ import annotations

import re
from importlib.metadata import version

from graphql import GraphQLSchema
from strawberry.schema import BaseSchema

# Lowest included, highest excluded; .ci/run installs the newest allowed.
STRAWBERRY_RANGE = ((0, 341), (0, 400))


def release(text: str) -> tuple[int, ...]:
    """``"0.341.2"`` → ``(0, 341, 2)``; a pre-release or local tail is ignored."""
    match = re.match(r"\d+(?:\.\d+)*", text)
    return tuple(int(part) for part in match.group().split(".")) if match else ()


def check_strawberry(installed: str | None = None) -> None:
    """Refuse a strawberry release outside :data:`STRAWBERRY_RANGE`, saying which."""
    text = installed if installed is not None else version("strawberry-graphql")
    low, high = STRAWBERRY_RANGE
    if not low <= release(text) < high:
        raise RuntimeError(
            f"strawberry-graphql {text} is installed; Linju Hub supports "
            f">={'.'.join(map(str, low))},<{'.'.join(map(str, high))} (it needs the "
            "WebSocket Origin check, allowed_origins, and reads the graphql-core schema "
            "strawberry keeps in Schema._schema). Install a release in that range: "
            "pip install -e ."
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
