"""Request counters per key over a window: in this process, or shared through Redis.

A window opens at a key's first request and lasts ``window`` seconds (the key expires
then); every request in it adds one. Shared counters live in Redis under the hub's
prefix, so that every process behind the load balancer counts the same requests.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

from redis.exceptions import NoScriptError

from hub.shared import shared_redis

# The ASGI scope entry where the HTTP rate limit leaves its windows (hub.limits.rate), so
# that operations over a WebSocket (hub.limits.sockets) count in the same windows.
SCOPE_KEY = "linju.rate_counter"


@dataclass(frozen=True)
class Hit:
    """A key's count in its window, this request included, and the seconds left."""

    count: int
    retry_after: int


class WindowCounter(Protocol):
    async def hit(self, keys: Sequence[str]) -> list[Hit]:
        """Count one request for each key."""
        ...


class MemoryCounter:
    """Counters of this process only (no Redis configured)."""

    SWEEP_EVERY = 1000  # requests between removals of expired windows

    def __init__(self, window: float) -> None:
        self.window = window
        self._windows: dict[str, tuple[int, float]] = {}  # key -> (count, ends at)
        self._since_sweep = 0

    async def hit(self, keys: Sequence[str]) -> list[Hit]:
        now = time.monotonic()
        self._sweep(now)
        hits = []
        for key in keys:
            count, ends = self._windows.get(key, (0, 0.0))
            if ends <= now:
                count, ends = 0, now + self.window
            self._windows[key] = (count + 1, ends)
            hits.append(Hit(count + 1, max(1, math.ceil(ends - now))))
        return hits

    def _sweep(self, now: float) -> None:
        self._since_sweep += 1
        if self._since_sweep < self.SWEEP_EVERY:
            return
        self._since_sweep = 0
        for key in [k for k, (_, ends) in self._windows.items() if ends <= now]:
            del self._windows[key]


# INCR every key; a new key expires at the end of its window. Returns count, ms left.
_HIT = """
local window = tonumber(ARGV[1])
local out = {}
for _, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  local left = redis.call('PTTL', key)
  if count == 1 or left < 0 then
    redis.call('PEXPIRE', key, window)
    left = window
  end
  out[#out + 1] = count
  out[#out + 1] = left
end
return out
"""
_HIT_SHA = hashlib.sha1(_HIT.encode()).hexdigest()


class RedisCounter:
    """Counters shared by every process using the same Redis and prefix.

    One round trip per request: a Lua script increments and reads every key at once.
    """

    def __init__(self, url: str, window: float) -> None:
        self.url = url
        self.window_ms = int(window * 1000)

    async def hit(self, keys: Sequence[str]) -> list[Hit]:
        shared = shared_redis(self.url)
        names = [shared.key("rate", key) for key in keys]
        window = str(self.window_ms)
        try:
            reply = shared.client.evalsha(_HIT_SHA, len(names), *names, window)
            raw = await cast(Awaitable[list[int]], reply)
        except NoScriptError:  # the server restarted, or never saw the script
            raw = await cast(
                Awaitable[list[int]], shared.client.eval(_HIT, len(names), *names, window)
            )
        pairs = zip(raw[::2], raw[1::2], strict=True)
        return [Hit(int(count), max(1, math.ceil(int(left) / 1000))) for count, left in pairs]
