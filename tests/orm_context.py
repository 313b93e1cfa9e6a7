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

from tortoise.connection import get_connection
from tortoise.context import TortoiseContext, get_current_context

from hub.db import PRIMARY, tortoise_config
from hub.db_observe import Observers
from hub.settings import Settings


def current_observers() -> Observers:
    """The observers the current connections report to (the session's Runtime's)."""
    observed: Observers = get_connection(PRIMARY).observers
    return observed


@asynccontextmanager
async def side_context(
    settings: Settings, *, observers: Observers | None = None
) -> AsyncIterator[TortoiseContext]:
    """``TortoiseContext`` on ``settings``' database for this task, its connections
    reporting to ``observers`` (by default the session's); the session's ORM reads and
    writes as before once it closes."""
    if observers is None:
        try:
            observers = current_observers()
        except Exception:  # no session ORM open
            observers = None
    try:
        async with TortoiseContext() as ctx:
            await ctx.init(config=tortoise_config(settings, observers=observers))
            yield ctx
    finally:
        restore_models()


def restore_models() -> None:
    """Re-derive every model's row conversion and base query from the current context."""
    current = get_current_context()
    if current is not None and current.apps is not None:
        current.apps._build_initial_querysets()


observers = current_observers
