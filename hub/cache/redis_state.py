"""The response cache's shared state in Redis (``LINJU_REDIS_URL``).

Keys (under the URL's prefix): ``versions`` — a hash table → version, plus an
``~epoch`` field; ``bumped`` — a hash table → time of the last bump; ``response:<sha>``
— one cached response (orjson bytes, expiring after ``cache_ttl_seconds``);
``wrote:<writer>`` — present while a writer's reads must go to the primary.

The epoch guards against a versions hash that was lost (evicted, flushed) while old
entries survived: the counters would restart at zero and could meet an entry's old
numbers again; a fresh epoch makes every earlier entry a miss instead.

A lookup is one round trip (a pipeline of GET and HGETALLs).
"""

from __future__ import annotations

import secrets
import time

from hub.cache.state import Snapshot
from hub.shared import shared_redis

EPOCH = "~epoch"


def _ints(raw: dict[bytes, bytes]) -> dict[str, int]:
    return {k.decode(): int(v) for k, v in raw.items()}


def _floats(raw: dict[bytes, bytes]) -> dict[str, float]:
    return {k.decode(): float(v) for k, v in raw.items()}


class RedisState:
    """Entries, versions and recent writers in Redis, shared by every process."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def lookup(self, key: str | None, *, writer: str | None) -> Snapshot:
        redis = shared_redis(self.url)
        pipe = redis.client.pipeline(transaction=False)
        pipe.get(redis.key("response", key) if key is not None else redis.key("response", "-"))
        pipe.hgetall(redis.key("versions"))
        pipe.hgetall(redis.key("bumped"))
        pipe.exists(redis.key("wrote", writer or "-"))
        entry, versions, bumped, wrote = await pipe.execute()
        snapshot = Snapshot(
            entry=entry if key is not None else None,
            versions=_ints(versions),
            bumped=_floats(bumped),
            wrote_recently=writer is not None and bool(wrote),
        )
        if EPOCH not in snapshot.versions:
            pipe = redis.client.pipeline(transaction=False)
            pipe.hsetnx(redis.key("versions"), EPOCH, str(secrets.randbits(62)))
            pipe.hget(redis.key("versions"), EPOCH)
            _, epoch = await pipe.execute()
            snapshot.versions[EPOCH] = int(epoch)
        return snapshot

    async def store(self, key: str, entry: bytes, *, ttl: int) -> None:
        redis = shared_redis(self.url)
        await redis.client.set(redis.key("response", key), entry, ex=max(ttl, 1))

    async def bump(self, tables: frozenset[str]) -> None:
        redis = shared_redis(self.url)
        now = time.time()
        pipe = redis.client.pipeline(transaction=False)
        for table in sorted(tables):
            pipe.hincrby(redis.key("versions"), table, 1)
        pipe.hset(redis.key("bumped"), mapping=dict.fromkeys(tables, now))
        await pipe.execute()

    async def note_write(self, writer: str, *, seconds: int) -> None:
        redis = shared_redis(self.url)
        await redis.client.set(redis.key("wrote", writer), b"1", ex=max(seconds, 1))
