"""Assemble the strawberry Schema for given settings, and its SDL."""

from __future__ import annotations

import strawberry

from hub.settings import Settings
from schema.extensions import extensions_for
from schema.internals import check_strawberry
from schema.mutation import Mutation
from schema.query import Query
from schema.subscriptions import Subscription


def build_schema(settings: Settings) -> strawberry.Schema:
    """The hub's schema, with the limits and switches these settings ask for."""
    check_strawberry()
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions_for(settings),
    )


def export_sdl(settings: Settings) -> str:
    """The schema as SDL text, exactly as committed in schema/schema.graphql."""
    return build_schema(settings).as_str().rstrip("\n") + "\n"
