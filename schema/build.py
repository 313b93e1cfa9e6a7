"""Assemble the strawberry Schema for given settings, and its SDL."""

from __future__ import annotations

from typing import Any, TypeGuard

import strawberry
from graphql.pyutils import is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from tortoise.models import Model

from hub.settings import Settings
from schema.extensions import extensions_for
from schema.mutation import Mutation
from schema.query import Query


def _is_awaitable(value: Any) -> TypeGuard[Any]:
    # Tortoise rows define ``__await__`` (``await row`` gives the row back), so
    # graphql-core would schedule a task for every row it completes: a roster of
    # a thousand members paid a thousand tasks. A row is a value, not a promise.
    return not isinstance(value, Model) and is_awaitable(value)


class ExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, treating model rows as plain values."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.is_awaitable = _is_awaitable


def build_schema(settings: Settings) -> strawberry.Schema:
    """The hub's schema, with the limits and switches these settings ask for."""
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        extensions=extensions_for(settings),
        execution_context_class=ExecutionContext,
    )


def export_sdl(settings: Settings) -> str:
    """The schema as SDL text, exactly as committed in schema/schema.graphql."""
    return build_schema(settings).as_str().rstrip("\n") + "\n"
