"""The console bridge: run ORM work from Flask's worker threads on the server's event loop.

a2wsgi runs the Flask app in its own thread pool, never on the event loop. Tortoise's
connections belong to the loop the server runs (captured as ``app.state.loop`` by the
hub's lifespan), so every unit of console work is one coroutine handed to that loop
with ``run_coroutine_threadsafe`` and awaited from the worker thread with a timeout.
Nothing here opens a connection or starts a second loop: Tortoise 1.x rebinds its
connections to whichever loop used them last, and two loops would break both.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Coroutine
from typing import TypeVar

from flask import has_request_context, request

from hub.db import reading_primary

T = TypeVar("T")

# Longest a console request waits for the database (an export of every member fits).
DEFAULT_TIMEOUT = 60.0


class BridgeError(RuntimeError):
    """The bridge cannot run this work (no loop, wrong thread, timeout)."""


def request_loop() -> asyncio.AbstractEventLoop:
    """The event loop of the ASGI server that is serving the current request.

    a2wsgi puts the ASGI scope in the WSGI environ; Starlette puts itself in the
    scope, and the hub's lifespan put its running loop on ``app.state.loop``.
    """
    if not has_request_context():
        raise BridgeError("the console bridge needs a request (or an explicit loop)")
    scope = request.environ.get("asgi.scope") or {}
    app = scope.get("app")
    loop = getattr(getattr(app, "state", None), "loop", None)
    if loop is None:
        raise BridgeError("no event loop on app.state.loop: is the hub's lifespan running?")
    return loop


async def _awaited(work: Awaitable[T]) -> T:
    return await work


async def _on_primary(work: Coroutine[object, object, T]) -> T:
    with reading_primary():
        return await work


def run(
    work: Awaitable[T],
    *,
    loop: asyncio.AbstractEventLoop | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> T:
    """Run ``work`` on the server's loop and return its result (or raise its exception).

    Keep a transaction inside ``work``: one unit of console work is one coroutine.
    Refuses to run on the loop's own thread, where waiting would deadlock. Any
    awaitable will do (a Tortoise query is one); it is awaited inside a coroutine.
    """
    if not isinstance(work, Coroutine):
        work = _awaited(work)
    try:
        target = loop or request_loop()
        if target.is_closed() or not target.is_running():
            raise BridgeError("the server's event loop is not running")
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is target:
            raise BridgeError(
                "the console bridge was called on the event loop's own thread: it would deadlock"
            )
    except BaseException:
        work.close()  # never leave a coroutine that was not awaited
        raise
    # The console reads the primary: an edit form must show what was just saved.
    future = asyncio.run_coroutine_threadsafe(_on_primary(work), target)
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise BridgeError(f"the database did not answer within {timeout:g} s") from None
