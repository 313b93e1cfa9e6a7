"""The typed ``Info`` every resolver takes: ``info.context`` is the hub's ``Context``."""

from __future__ import annotations

from typing import TypeAlias

import strawberry

from resolvers.context import Context

# No root value: every root resolver is a method of Query, Mutation or Subscription.
Info: TypeAlias = strawberry.Info[Context, None]

__all__ = ["Context", "Info"]
