"""The console bridge: ORM work from worker threads runs on the server's one event loop."""

from __future__ import annotations

import asyncio
import threading

import pytest

from admin import bridge
from hub.models import District
from hub.settings import Settings


async def test_work_from_a_worker_thread_runs_on_the_servers_loop(orm: Settings) -> None:
    # Given the running loop and a worker thread, as a2wsgi runs Flask
    loop = asyncio.get_running_loop()
    seen: dict[str, object] = {}

    async def work() -> int:
        seen["loop"] = asyncio.get_running_loop()
        seen["thread"] = threading.get_ident()
        return await District.all().count()

    # When the worker hands a query to the bridge
    count = await asyncio.to_thread(bridge.run, work(), loop=loop)

    # Then it ran on the server's loop, in the loop's own thread, and gave its result
    assert seen["loop"] is loop
    assert seen["thread"] == threading.get_ident()
    assert count == await District.all().count()


async def test_a_plain_awaitable_is_accepted(orm: Settings) -> None:
    loop = asyncio.get_running_loop()
    count = await asyncio.to_thread(bridge.run, District.all().count(), loop=loop)
    assert count == await District.all().count()


async def test_errors_of_the_work_reach_the_worker(orm: Settings) -> None:
    loop = asyncio.get_running_loop()

    async def fails() -> None:
        raise LookupError("nothing here")

    with pytest.raises(LookupError, match="nothing here"):
        await asyncio.to_thread(bridge.run, fails(), loop=loop)


async def test_the_bridge_refuses_the_loops_own_thread() -> None:
    # Waiting on the loop from its own thread would deadlock: refused at once.
    loop = asyncio.get_running_loop()

    async def work() -> int:
        return 1

    coro = work()
    with pytest.raises(bridge.BridgeError, match="deadlock"):
        bridge.run(coro, loop=loop)
    assert coro.cr_frame is None  # closed, never left dangling


async def test_a_slow_database_times_out() -> None:
    loop = asyncio.get_running_loop()

    async def slow() -> None:
        await asyncio.sleep(5)

    with pytest.raises(bridge.BridgeError, match="did not answer"):
        await asyncio.to_thread(bridge.run, slow(), loop=loop, timeout=0.05)


def test_without_a_request_or_a_loop_there_is_nothing_to_run_on() -> None:
    async def work() -> int:
        return 1

    with pytest.raises(bridge.BridgeError, match="needs a request"):
        bridge.run(work())
