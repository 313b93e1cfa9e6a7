"""Settings for the response-cache tests: in-process, or Redis with a prefix of their own."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import pytest

from hub.cache import response_cache, track_writes
from hub.settings import Settings
from hub.shared import shared_redis
from tests.broker_servers import redis_server
from tests.orm_context import observers

__all__ = ["cache_settings", "forget", "redis_server", "redis_settings"]


# The session's writes bump these settings' Redis too while a test uses them.
_bumping: dict[Settings, Callable[[], None]] = {}


def use_cache(settings: Settings) -> None:
    """Open the cache for ``settings``; the session's commits bump its versions."""
    response_cache(settings)
    if settings.redis_url and settings not in _bumping:  # the local versions are bumped anyway
        _bumping[settings] = track_writes(observers(), settings)


async def forget(settings: Settings) -> None:
    """Close the cache for ``settings`` and delete its Redis keys."""
    cache = response_cache(settings)
    cache.close()
    stop = _bumping.pop(settings, None)
    if stop is not None:
        stop()
    if settings.redis_url:
        redis = shared_redis(settings.redis_url)
        keys = [k async for k in redis.client.scan_iter(match=redis.key("*"))]
        if keys:
            await redis.client.delete(*keys)


def with_redis(settings: Settings, server: str) -> Settings:
    """``settings`` with a Redis key prefix no other test uses."""
    return replace(settings, redis_url=f"{server}?prefix=t{uuid.uuid4().hex[:12]}")


@pytest.fixture
async def redis_settings(orm: Settings, redis_server: str) -> AsyncIterator[Settings]:
    settings = with_redis(orm, redis_server)
    use_cache(settings)  # bumps its Redis from now on
    yield settings
    await forget(settings)


@pytest.fixture(params=["memory", "redis"])
async def cache_settings(request: pytest.FixtureRequest, orm: Settings) -> AsyncIterator[Settings]:
    """The session's settings, with the cache in this process or in Redis (a cache of
    the test's own either way)."""
    if request.param == "memory":
        settings = replace(orm, cache_max_entries=4999)
    else:
        settings = with_redis(orm, request.getfixturevalue("redis_server"))
    use_cache(settings)
    yield settings
    await forget(settings)
