"""The brokers: a message published through one broker instance reaches the subscribers
of every instance sharing the server (as two processes would), and nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import asyncpg
import pytest

from hub.broker import (
    Broker,
    BrokerError,
    MemoryBroker,
    create_broker,
    current_broker,
    running_broker,
    split_channel,
)
from hub.broker.postgres import PostgresBroker, postgres_dsn
from hub.broker.redis import RedisBroker
from hub.settings import Settings, SettingsError, load_settings
from tests.broker_servers import channel, free_port, pg_broker_url, redis_server

__all__ = ["pg_broker_url", "redis_server"]  # fixtures used below

WAIT = 5.0


@asynccontextmanager
async def started(*brokers: Broker) -> AsyncIterator[None]:
    for broker in brokers:
        await broker.start()
    try:
        yield
    finally:
        for broker in brokers:
            await broker.stop()


async def _shared_server_delivers(make: Callable[[str], Broker]) -> None:
    # given two "processes" on one channel, and a third on another channel
    name = channel()
    one, two, elsewhere = make(name), make(name), make(channel())
    async with started(one, two, elsewhere):
        on_two = two.subscribe("requests")
        on_one = one.subscribe("requests")
        other_kind = two.subscribe("activities")
        stray = elsewhere.subscribe("requests")

        # when the first publishes
        await one.publish("requests", {"id": 7, "action": "ASSIGN"})

        # then subscribers in both hear it, through the server; no one else does
        assert await asyncio.wait_for(on_two.__anext__(), WAIT) == {"id": 7, "action": "ASSIGN"}
        assert await asyncio.wait_for(on_one.__anext__(), WAIT) == {"id": 7, "action": "ASSIGN"}
        await asyncio.sleep(0.2)
        assert other_kind.queue.empty() and stray.queue.empty()


async def test_redis_broker_reaches_every_process(redis_server: str) -> None:
    await _shared_server_delivers(lambda name: RedisBroker(redis_server, channel=name))


async def test_postgres_broker_reaches_every_process(pg_broker_url: str) -> None:
    await _shared_server_delivers(
        lambda name: PostgresBroker(postgres_dsn(pg_broker_url), channel=name)
    )


async def test_postgres_broker_listens_again_after_losing_its_connection(
    pg_broker_url: str,
) -> None:
    name = channel()
    listener, publisher = (PostgresBroker(postgres_dsn(pg_broker_url), channel=name) for _ in "ab")
    async with started(listener, publisher):
        messages = listener.subscribe("requests")
        # when the server ends the listening session (a restart, a failover)
        assert listener.connection is not None
        pid = listener.connection.get_server_pid()
        admin = await asyncpg.connect(postgres_dsn(pg_broker_url))
        try:
            await admin.execute("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        # then it reconnects by itself and hears what is published afterwards
        for _ in range(100):
            current = listener.connection
            if current is not None and current.get_server_pid() != pid:
                break
            await asyncio.sleep(0.1)
        await publisher.publish("requests", {"id": 1})
        assert await asyncio.wait_for(messages.__anext__(), WAIT) == {"id": 1}


async def test_an_unreachable_broker_fails_at_start() -> None:
    with pytest.raises(BrokerError):
        await RedisBroker(f"redis://127.0.0.1:{free_port()}/0").start()
    with pytest.raises(BrokerError):
        await PostgresBroker(f"postgresql://postgres@127.0.0.1:{free_port()}/x").start()


def test_the_setting_names_the_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(create_broker(Settings()), MemoryBroker)  # the default
    redis = create_broker(Settings(broker="redis://127.0.0.1:6379/2?channel=staging"))
    assert isinstance(redis, RedisBroker)
    assert (redis.url, redis.channel) == ("redis://127.0.0.1:6379/2", "staging")
    pg = create_broker(
        Settings(broker="postgres", database_url="postgres://u:p@db:5432/linju?maxsize=5")
    )
    assert isinstance(pg, PostgresBroker) and pg.dsn == "postgresql://u:p@db:5432/linju"

    with pytest.raises(SettingsError):
        create_broker(Settings(broker="postgres", database_url="sqlite://linju.db"))
    with pytest.raises(SettingsError):
        split_channel("redis://h/0?channel=no;drop")
    monkeypatch.setenv("LINJU_BROKER", "kafka://somewhere")
    with pytest.raises(SettingsError):
        load_settings()
    monkeypatch.setenv("LINJU_BROKER", "Memory")
    assert load_settings().broker == "memory"


async def test_running_broker_is_current_while_the_app_runs(redis_server: str) -> None:
    default = current_broker()
    settings = Settings(broker=f"{redis_server}?channel={channel()}")
    async with running_broker(settings) as broker:
        assert current_broker() is broker and isinstance(broker, RedisBroker)
    assert current_broker() is default


async def test_a_slow_subscriber_loses_its_oldest_messages_not_the_servers_memory() -> None:
    from hub.broker import QUEUE_SIZE

    broker = MemoryBroker()
    slow = broker.subscribe("c")
    for i in range(QUEUE_SIZE + 5):
        await broker.publish("c", {"id": i})
    assert slow.queue.qsize() == QUEUE_SIZE and slow.dropped == 5
    assert (await slow.__anext__())["id"] == 5
