"""The ORM's configuration, start-up and shutdown, and schema migrations."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import get_connection
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as migrate_api
from tortoise.migrations.recorder import MigrationRecorder
from tortoise.models import Model

from hub.db_observe import Observers
from hub.db_routing import PRIMARY, REPLICA, reading_primary
from hub.settings import Settings

__all__ = [
    "APP_LABEL",
    "MIGRATIONS_MODULE",
    "PRIMARY",
    "REPLICA",
    "applied_migrations",
    "close_orm",
    "connection_config",
    "ensure_relations",
    "init_orm",
    "migrate",
    "migrate_config",
    "reading_primary",
    "tortoise_config",
]

APP_LABEL = "hub"
MIGRATIONS_MODULE = "hub.migrations"


# Tortoise's engines, swapped for their observed versions (hub.db_engines).
OBSERVED_ENGINES = {
    "tortoise.backends.sqlite": "hub.db_engines.sqlite",
    "tortoise.backends.asyncpg": "hub.db_engines.asyncpg",
}


def connection_config(
    url: str, *, statement_timeout_ms: int = 0, observers: Observers | None = None
) -> dict[str, Any]:
    """A connection's config from its URL, on the observed engine of its backend,
    reporting to ``observers`` (a Runtime's; None: nobody's).

    On PostgreSQL every session gets ``statement_timeout`` (0: none, for migrations);
    SQLite has no such setting.
    """
    config = expand_db_url(url)
    config["engine"] = OBSERVED_ENGINES.get(config["engine"], config["engine"])
    if observers is not None and config["engine"] in OBSERVED_ENGINES.values():
        config["credentials"]["observers"] = observers
    if config["engine"] == OBSERVED_ENGINES["tortoise.backends.asyncpg"]:
        credentials = config["credentials"]
        credentials["server_settings"] = {
            **credentials.get("server_settings", {}),
            "statement_timeout": str(max(statement_timeout_ms, 0)),
        }
    return config


def tortoise_config(
    settings: Settings, *, statement_timeout_ms: int = 0, observers: Observers | None = None
) -> dict[str, Any]:
    """The Tortoise config dict for these settings, its connections reporting to
    ``observers`` (hub.runtime.Runtime.orm_config; None for migrations and backups).

    ``statement_timeout_ms`` is for the serving processes (:func:`init_orm`); migrations,
    backups and the other commands run without one.
    """
    timeout = statement_timeout_ms
    connections: dict[str, Any] = {
        PRIMARY: connection_config(
            settings.database_url, statement_timeout_ms=timeout, observers=observers
        )
    }
    apps: dict[str, Any] = {
        APP_LABEL: {
            "models": ["hub.models"],
            "default_connection": "default",
            "migrations": MIGRATIONS_MODULE,
        }
    }
    config: dict[str, Any] = {
        "connections": connections,
        "apps": apps,
        "use_tz": True,
        "timezone": "UTC",
    }
    if settings.read_database_url:
        connections[REPLICA] = connection_config(
            settings.read_database_url, statement_timeout_ms=timeout, observers=observers
        )
        config["routers"] = ["hub.db_routing.ReplicaRouter"]
    return config


async def init_orm(settings: Settings, *, observers: Observers | None = None) -> None:
    """Open the ORM's connections (the schema is the migrations' job), reporting to
    ``observers`` (hub.runtime.Runtime.start passes its own).

    The context is the process-wide fallback so that every request task, and the
    console's coroutines submitted from worker threads, see the same connections.
    """
    config = tortoise_config(
        settings, statement_timeout_ms=settings.statement_timeout_ms, observers=observers
    )
    await Tortoise.init(config=config, _enable_global_fallback=True)


async def close_orm() -> None:
    await Tortoise.close_connections()


async def migrate(settings: Settings, *, target: str | None = None) -> None:
    """Bring the database up to date with the committed migrations.

    Runs in a context of its own so that it neither needs nor disturbs the
    serving connections.
    """
    await migrate_config(tortoise_config(settings), target=target)


async def migrate_config(config: dict[str, Any], *, target: str | None = None) -> None:
    """Run the hub's migrations (up to ``target``, e.g. ``hub.0001_initial``) on a config."""
    async with TortoiseContext():
        await migrate_api(config=config, target=target)


async def applied_migrations(connection_name: str = "default") -> list[str]:
    """Names of the migrations recorded as applied, oldest first."""
    recorder = MigrationRecorder(get_connection(connection_name))
    keys = await recorder.applied_migrations()
    return [key.name for key in keys if key.app_label == APP_LABEL]


def ensure_relations(model: type[Model]) -> None:
    """Resolve the models' relations (both directions) even before the ORM is opened.

    The schema's types are built at import time; ``Tortoise.init_models`` links the
    models without a database connection, and ``Tortoise.init`` later accepts them.
    """
    if not model._meta._inited:
        Tortoise.init_models(["hub.models"], APP_LABEL)
