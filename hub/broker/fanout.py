"""One read per event and view, shared by every subscriber that would read the same.

Many subscribers hear each event: a hundred subscriptions of one reader, or every
curator's dashboard. Those with the same view of the data (``Viewer.scope_key``) and
the same subscription scope would each read the same record; ``EventMemo.get`` runs the
first one's read and hands its result to the others (those arriving while it runs
included). Entries live a few seconds: an event is heard by all subscribers at once,
and a later event (another version, another time) is another key.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Any, Generic, TypeVar

import orjson

T = TypeVar("T")

MEMO_SECONDS = 5.0


def event_key(message: Mapping[str, Any]) -> bytes:
    """The identity of an event: its whole message (ids, version, time)."""
    return orjson.dumps(message, option=orjson.OPT_SORT_KEYS)


class EventMemo(Generic[T]):
    """Single-flight reads by key, remembered for ``seconds``."""

    def __init__(self, seconds: float = MEMO_SECONDS) -> None:
        self.seconds = seconds
        self._entries: dict[Hashable, tuple[float, asyncio.Task[T]]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
        now = time.monotonic()
        self._sweep(now)
        entry = self._entries.get(key)
        if entry is None:
            # A task of its own: a subscriber that goes away must not cancel the others' read.
            task = asyncio.ensure_future(read())
            self._entries[key] = (now + self.seconds, task)
            task.add_done_callback(lambda t: self._forget_failed(key, t))
        else:
            task = entry[1]
        return await asyncio.shield(task)

    def _forget_failed(self, key: Hashable, task: asyncio.Task[T]) -> None:
        # A failed read is not remembered: the next subscriber tries again.
        if task.cancelled() or task.exception() is not None:
            entry = self._entries.get(key)
            if entry is not None and entry[1] is task:
                del self._entries[key]

    def _sweep(self, now: float) -> None:
        for key in [k for k, (ends, task) in self._entries.items() if ends <= now and task.done()]:
            del self._entries[key]
