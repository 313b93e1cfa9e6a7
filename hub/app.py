"""The hub's ASGI application: GraphQL, the admin console, health, static files."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from a2wsgi import WSGIMiddleware
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

import hub
from admin.app import create_admin
from hub.broker import running_broker
from hub.cache import running_cache
from hub.db import close_orm, init_orm
from hub.graphql_app import TEMPLATES, HubGraphQL
from hub.health import healthz
from hub.limits import BodySizeLimit, RateLimit
from hub.observability import RequestContext, metrics_endpoint, setup_observability
from hub.settings import Settings, get_settings
from hub.shared import close_shared_redis
from schema.build import build_schema

STATIC_DIR = Path(__file__).parent / "static"


async def landing(request: Request) -> Response:
    """A small Chinese page pointing at the API, the IDE, the console and /healthz."""
    settings: Settings = request.app.state.settings
    context = {
        "root": request.scope.get("root_path", "").rstrip("/"),
        "graphql_ide": settings.graphql_ide,
        "version": hub.__version__,
    }
    return TEMPLATES.TemplateResponse(request, "landing.html", context)


GC_THRESHOLD = 20_000  # allocations between young-generation collections (default 700)


def create_app(settings: Settings | None = None) -> Starlette:
    """Assemble the hub for these settings (from ``LINJU_*`` variables when None).

    The lifespan opens the ORM and keeps the running event loop on ``app.state.loop``:
    the console's worker threads hand their ORM work to that loop.
    """
    settings = settings or get_settings()
    setup_observability(settings)
    graphql = HubGraphQL(build_schema(settings), settings=settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.loop = asyncio.get_running_loop()
        await init_orm(settings)
        # The schema, models and libraries are long-lived: keep them out of every
        # collection, and collect young objects less often (a roster makes many).
        gc.collect()
        gc.freeze()
        gc.set_threshold(GC_THRESHOLD, 20, 20)
        try:
            # Subscription events: in-process, or shared with every process (Redis, NOTIFY).
            # Responses and data versions: in-process, or shared through Redis.
            async with running_broker(settings) as broker, running_cache(settings):
                app.state.broker = broker
                yield
        finally:
            await close_shared_redis()
            await close_orm()

    app = Starlette(
        debug=settings.debug,
        routes=[
            Route("/", landing, methods=["GET"], name="landing"),
            Route("/healthz", healthz, methods=["GET"], name="healthz"),
            *(
                [Route("/metrics", metrics_endpoint, methods=["GET"], name="metrics")]
                if settings.metrics
                else []
            ),
            Route("/graphql", graphql, name="graphql"),
            WebSocketRoute("/graphql", graphql, name="graphql_ws"),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
            Mount("/admin", WSGIMiddleware(create_admin(settings)), name="admin"),  # type: ignore[arg-type]
        ],
        # Outermost first: every request gets an id and is measured, then limited.
        middleware=[
            Middleware(RequestContext, settings=settings),
            Middleware(BodySizeLimit, settings=settings),
            Middleware(RateLimit, settings=settings),
            Middleware(GZipMiddleware, minimum_size=1024),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
