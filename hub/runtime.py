"""The running hub's process state, built once by whoever runs it: the server's
lifespan (:meth:`Runtime.start`) or a CLI command (:meth:`Runtime.for_command`).

A Runtime holds what used to sit in module registries: the observers its database
connections report to (hub.db_observe: the slow-query log and metrics, the response
cache's read tracking, the data-version bumps of every commit), the ORM configuration
that hands those observers to the connections, the response cache and the event
broker. The app keeps it on ``app.state.runtime``; a request reaches it with
:func:`runtime_of` (in GraphQL: ``runtime_of(info.context.request)``).

The GraphQL endpoint and the fast lane take the response cache from the app's Runtime
(:func:`response_cache_of`); only an app served without its lifespan (the tests' ASGI
transports, an embedding host) falls back to the process's cache for its settings.

Process state still outside it (README, "Process-wide state"): that fallback
(``hub.cache.response.response_cache``), the current broker
(``hub.broker.current_broker``), the local data versions (``hub.cache.state``), the
shared Redis clients (``hub.shared``), the credential cache
(``hub.access.credential_cache``) and the logging set-up (``hub.observability``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any

from starlette.requests import HTTPConnection

from hub.broker import Broker, running_broker
from hub.cache import ResponseCache, observe_reads, response_cache, track_writes
from hub.db import close_orm, init_orm, tortoise_config
from hub.db_observe import Observers
from hub.library_internals import check_library_internals
from hub.observability.statements import statement_ran
from hub.settings import Settings
from hub.shared import close_shared_redis


class Runtime:
    """One hub's running state for these settings (see the module docstring)."""

    def __init__(self, settings: Settings) -> None:
        check_library_internals()
        self.settings = settings
        self.observers = Observers()
        self.cache: ResponseCache | None = None
        self.broker: Broker | None = None
        self._orm_open = False
        self._exit = AsyncExitStack()
        self._stops: list[Callable[[], None]] = [
            self.observers.on_statement(statement_ran),  # metrics, slow-query log
            self.observers.on_statement(observe_reads),  # the response cache's reads
            # Every process that writes bumps the data versions (the server, `linju seed`,
            # ...), in Redis too when configured, so running servers hear of it.
            track_writes(self.observers, settings),
        ]

    @classmethod
    async def start(cls, settings: Settings, *, broker: bool = False) -> Runtime:
        """Open the ORM (and, for the server, the event broker) for these settings."""
        runtime = cls(settings)
        try:
            await init_orm(settings, observers=runtime.observers)
            runtime._orm_open = True
            runtime.cache = ResponseCache(settings)  # its own: in no module registry
            if broker:
                # Subscription events: in-process, or shared with every process (Redis, NOTIFY).
                runtime.broker = await runtime._exit.enter_async_context(running_broker(settings))
        except BaseException:
            await runtime.close()
            raise
        return runtime

    @classmethod
    def for_command(cls, settings: Settings) -> Runtime:
        """A CLI command's: it opens the ORM in a context of its own, from
        :meth:`orm_config`."""
        return cls(settings)

    def orm_config(self, *, statement_timeout_ms: int = 0) -> dict[str, Any]:
        """The Tortoise config whose connections report to this Runtime's observers."""
        return tortoise_config(
            self.settings, statement_timeout_ms=statement_timeout_ms, observers=self.observers
        )

    async def close(self) -> None:
        """Stop the broker, forget the cache and the observers, close the connections."""
        try:
            await self._exit.aclose()
        finally:
            if self.cache is not None:
                self.cache.close()
            for stop in self._stops:
                stop()
            await close_shared_redis()
            if self._orm_open:
                self._orm_open = False
                await close_orm()


def runtime_of(connection: HTTPConnection) -> Runtime:
    """The Runtime of the app serving this request (or WebSocket)."""
    runtime: Runtime = connection.app.state.runtime
    return runtime


def response_cache_of(app: object, settings: Settings) -> ResponseCache:
    """The response cache of ``app``'s Runtime while it is open; for an app served without
    its lifespan (no Runtime), this process's cache for ``settings``."""
    runtime: Runtime | None = getattr(getattr(app, "state", None), "runtime", None)
    cache = runtime.cache if runtime is not None else None
    if cache is None or cache.closed:
        return response_cache(settings)
    return cache
