"""Assemble the strawberry Schema for given settings."""

from __future__ import annotations

import strawberry

from hub.settings import Settings


@strawberry.type(description="Linju Hub root query")
class Query:
    @strawberry.field(description="Placeholder until the read API lands")
    def ping(self) -> str:
        return "pong"


def build_schema(settings: Settings) -> strawberry.Schema:
    """The hub's schema, with the limits and switches these settings ask for."""
    return strawberry.Schema(query=Query)
