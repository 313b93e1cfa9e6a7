"""The response cache (issue 7): STUB, to be written."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from hub.settings import Settings


@asynccontextmanager
async def running_cache(settings: Settings) -> AsyncIterator[None]:
    yield
