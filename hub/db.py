"""The ORM's configuration, start-up and shutdown, and schema migrations."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as migrate_api

from hub.settings import Settings

APP_LABEL = "hub"
MIGRATIONS_MODULE = "hub.migrations"


class ReplicaRouter:
    """Send reads to the replica connection, writes to the primary."""

    def db_for_read(self, model: type[Any]) -> str:
        return "replica"

    def db_for_write(self, model: type[Any]) -> str:
        return "default"


# Tortoise's engines, swapped for their observed versions (hub.db_engines).
OBSERVED_ENGINES = {
    "tortoise.backends.sqlite": "hub.db_engines.sqlite",
    "tortoise.backends.asyncpg": "hub.db_engines.asyncpg",
}


def connection_config(url: str) -> dict[str, Any]:
    """A connection's config from its URL, on the observed engine of its backend."""
    config = expand_db_url(url)
    config["engine"] = OBSERVED_ENGINES.get(config["engine"], config["engine"])
    return config


def tortoise_config(settings: Settings) -> dict[str, Any]:
    """The Tortoise config dict for these settings."""
    connections: dict[str, Any] = {"default": connection_config(settings.database_url)}
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
        connections["replica"] = connection_config(settings.read_database_url)
        config["routers"] = ["hub.db.ReplicaRouter"]
    return config


async def init_orm(settings: Settings) -> None:
    """Open the ORM's connections (the schema is the migrations' job).

    The context is the process-wide fallback so that every request task, and the
    console's coroutines submitted from worker threads, see the same connections.
    """
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)


async def close_orm() -> None:
    await Tortoise.close_connections()


async def migrate(settings: Settings, *, target: str | None = None) -> None:
    """Bring the database up to date with the committed migrations.

    Runs in a context of its own so that it neither needs nor disturbs the
    serving connections.
    """
    async with TortoiseContext():
        await migrate_api(config=tortoise_config(settings), target=target)


async def applied_migrations(connection_name: str = "default") -> list[str]:
    """Names of the migrations recorded as applied, oldest first."""
    from tortoise.connection import get_connection
    from tortoise.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(get_connection(connection_name))
    keys = await recorder.applied_migrations()
    return [key.name for key in keys if key.app_label == APP_LABEL]
