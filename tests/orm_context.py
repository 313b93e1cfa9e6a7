"""A second, short-lived ORM context inside the test session, without side effects.

Tortoise keeps part of its state on the model classes themselves, not in the context:
``Model._meta`` learns at ``init`` which columns the driver already converts
(``db_native_fields``, from the executor's ``DB_NATIVE``) and builds its base query for
that dialect. A context opened on another dialect therefore re-tunes the *session's*
models too, and it stays so after the context closes: after a PostgreSQL context, the
SQLite session read DATE columns as the raw strings SQLite stores ('2020-03-01') and
booleans as 0/1, because to PostgreSQL's driver those types are native. (That is how
``records.update`` once compared a date with a string in ``specs._period``.)

``side_context`` opens such a context and, when it closes, re-finalises the models for
the connections the session is using again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tortoise.context import TortoiseContext, get_current_context

from hub.db import tortoise_config
from hub.settings import Settings


@asynccontextmanager
async def side_context(settings: Settings) -> AsyncIterator[TortoiseContext]:
    """``TortoiseContext`` on ``settings``' database for this task; the session's ORM
    reads and writes as before once it closes."""
    try:
        async with TortoiseContext() as ctx:
            await ctx.init(config=tortoise_config(settings))
            yield ctx
    finally:
        restore_models()


def restore_models() -> None:
    """Re-derive every model's row conversion and base query from the current context."""
    current = get_current_context()
    if current is not None and current.apps is not None:
        current.apps._build_initial_querysets()
