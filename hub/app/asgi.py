"""The hub's ASGI application: GraphQL, the admin console, health, static files."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from a2wsgi import WSGIMiddleware
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

import hub
from admin.app import create_admin
from hub.app.fast_lane import FastLaneStep
from hub.app.graphql_app import TEMPLATES, HubGraphQL
from hub.app.health import Probes, Readiness, healthz
from hub.compression import GzipWhenAccepted
from hub.limits import BodySizeLimit, RateLimit
from hub.observability import RequestContext, metrics_endpoint, setup_observability
from hub.request_viewer import ViewerStep
from hub.runtime import Runtime
from hub.services import credentials
from hub.settings import Settings, get_settings
from schema.build import build_schema

STATIC_DIR = Path(__file__).parent.parent / "static"  # hub/static
# At shutdown, how long API tokens' last_used_at writes still under way may take.
BACKGROUND_WRITES_SECONDS = 5.0

logger = logging.getLogger("linju.app")


async def landing(request: Request) -> Response:
    """A small Chinese page pointing at the API, the IDE, the console and /healthz."""
    settings: Settings = request.app.state.settings
    context = {
        "root": request.scope.get("root_path", "").rstrip("/"),
        "graphql_ide": settings.graphql_ide,
        "version": hub.__version__,
    }
    return TEMPLATES.TemplateResponse(request, "landing.html", context)


# Below this size a gzip answer saves less than it costs (a small JSON answer fits in one
# TCP segment of ~1,400 bytes either way).
GZIP_MINIMUM_BYTES = 1400
# Every answer is compressed anew: on an 80 KB roster, level 1 takes a third of the time
# of zlib's default 6 (an eighth of Starlette's default 9) for ~20 % more bytes, still
# a quarter of the uncompressed size.
GZIP_LEVEL = 1


def middleware_for(
    settings: Settings, *, readiness: Readiness, graphql: Route | None = None
) -> list[Middleware]:
    """The plain-ASGI steps every request passes, outermost first, chosen once here:
    a step whose limit is off is left out rather than asked on every request.

    Probes answer /livez and /readyz first; then every request gets an id and is
    measured, its Authorization is read once (hub.request_viewer), then it is limited;
    last, GraphQL requests meet the endpoint's fast lane (hub.app.fast_lane) before
    Starlette's exception middleware and router.
    """
    steps = [Middleware(Probes, readiness=readiness), Middleware(RequestContext, settings=settings)]
    if settings.max_body_bytes > 0:
        steps.append(Middleware(BodySizeLimit, settings=settings))
    steps.append(Middleware(ViewerStep))
    if settings.rate_limit_address_per_minute > 0 or settings.rate_limit_token_per_minute > 0:
        steps.append(Middleware(RateLimit, settings=settings))
    steps.append(Middleware(GzipWhenAccepted, minimum_size=GZIP_MINIMUM_BYTES, level=GZIP_LEVEL))
    if graphql is not None:
        steps.append(
            Middleware(FastLaneStep, endpoint=graphql.app, route=graphql, path=graphql.path)
        )
    return steps


async def _probe_method(request: Request) -> Response:  # pragma: no cover - Probes answer
    raise AssertionError("GET and HEAD /livez and /readyz are answered by hub.app.health.Probes")


async def _finish_background_writes() -> None:
    """Let the writes started off requests' paths finish while the ORM is still open."""
    try:
        await asyncio.wait_for(credentials.background_writes_done(), BACKGROUND_WRITES_SECONDS)
    except TimeoutError:  # the rest are cancelled: a last_used_at is only a hint
        logger.warning("shutdown: API token last_used_at writes still pending were dropped")


def create_app(settings: Settings | None = None) -> Starlette:
    """Assemble the hub for these settings (from ``LINJU_*`` variables when None).

    The lifespan builds the Runtime (the ORM, the response cache, the broker, the
    database observers: hub.runtime) on ``app.state.runtime`` and keeps the running
    event loop on ``app.state.loop``: the console's worker threads hand their ORM work
    to that loop.
    """
    settings = settings or get_settings()
    setup_observability(settings)
    graphql = HubGraphQL(build_schema(settings), settings=settings)
    readiness = Readiness()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.loop = asyncio.get_running_loop()
        runtime = await Runtime.start(settings, broker=True)
        app.state.runtime, app.state.broker = runtime, runtime.broker
        await graphql.documents.warm()  # registered documents prepared before first use
        # The schema, models and libraries are long-lived: keep them out of every
        # collection. The thresholds stay Python's own: with that heap frozen a
        # collection is cheap, and a higher one let a worker keep the cyclic garbage of
        # thousands of requests (bench/README.md, "Memory": 450 MB instead of 175 MB).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await _finish_background_writes()
            await graphql.documents.flush()
            await runtime.close()

    graphql_route = Route("/graphql", graphql, name="graphql")
    app = Starlette(
        debug=settings.debug,
        routes=[
            # The API first: the router tries routes in order, and most requests are these.
            graphql_route,
            WebSocketRoute("/graphql", graphql, name="graphql_ws"),
            Route("/", landing, methods=["GET"], name="landing"),
            Route("/healthz", healthz, methods=["GET"], name="healthz"),
            # Answered by Probes for GET and HEAD; here for the 405 to other methods.
            Route("/livez", _probe_method, methods=["GET", "HEAD"], name="livez"),
            Route("/readyz", _probe_method, methods=["GET", "HEAD"], name="readyz"),
            *(
                [Route("/metrics", metrics_endpoint, methods=["GET"], name="metrics")]
                if settings.metrics
                else []
            ),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
            Mount("/admin", WSGIMiddleware(create_admin(settings)), name="admin"),  # type: ignore[arg-type]
        ],
        middleware=middleware_for(settings, readiness=readiness, graphql=graphql_route),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.readiness = readiness
    return app
