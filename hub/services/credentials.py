"""What a credential is worth, read through the credential cache
(:mod:`hub.access.credential_cache`): accounts, login sessions and API tokens as small
immutable states, and API tokens' ``last_used_at`` written in the background.

Only good answers are cached: an unknown id or token hash is read from the database
each time, so that guessing cannot fill the cache.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from hub.access.credential_cache import MISSING, CredentialCache, Generation
from hub.access.viewer import Viewer
from hub.models import ApiToken, LoginSession, User

T = TypeVar("T")

logger = logging.getLogger("linju.auth")

# Write an API token's last_used_at at most this often (per token and process).
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Account:
    """What a credential needs of its user."""

    viewer: Viewer
    display_name: str
    token_version: int
    is_active: bool


@dataclass(frozen=True, slots=True)
class SessionState:
    user_id: int
    revoked: bool
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ApiTokenState:
    id: int
    user_id: int
    revoked: bool
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None


def viewer_for(user: User) -> Viewer:
    return Viewer(
        user_id=user.id,
        username=user.username,
        role=user.role,
        street_id=user.street_id,
        community_id=user.community_id,
        unit_id=user.partner_unit_id,
    )


async def _cached(
    cache: CredentialCache,
    generation: Generation | None,
    key: tuple[str, object],
    load: Callable[[], Awaitable[T | None]],
) -> T | None:
    """The cached state under ``key``, else ``load()``'s (kept when found: a missing
    record is read again next time)."""
    found = cache.get(key, generation)
    if found is not MISSING:
        return found  # type: ignore[no-any-return]
    state = await load()
    if state is not None:
        cache.put(key, generation, state)
    return state


async def account(
    *, cache: CredentialCache, generation: Generation | None, user_id: int
) -> Account | None:
    async def load() -> Account | None:
        user = await User.get_or_none(id=user_id)
        if user is None:
            return None
        return Account(
            viewer=viewer_for(user),
            display_name=user.display_name,
            token_version=user.token_version,
            is_active=user.is_active,
        )

    return await _cached(cache, generation, ("user", user_id), load)


async def session(
    *, cache: CredentialCache, generation: Generation | None, session_id: int
) -> SessionState | None:
    async def load() -> SessionState | None:
        record = await LoginSession.get_or_none(id=session_id)
        if record is None:
            return None
        return SessionState(
            user_id=record.user_id,
            revoked=record.revoked_at is not None,
            expires_at=record.expires_at,
        )

    return await _cached(cache, generation, ("session", session_id), load)


async def api_token(
    *, cache: CredentialCache, generation: Generation | None, token_hash: str
) -> ApiTokenState | None:
    async def load() -> ApiTokenState | None:
        record = await ApiToken.get_or_none(token_hash=token_hash)
        if record is None:
            return None
        return ApiTokenState(
            id=record.id,
            user_id=record.user_id,
            revoked=record.revoked_at is not None,
            expires_at=record.expires_at,
            last_used_at=record.last_used_at,
        )

    return await _cached(cache, generation, ("api", token_hash), load)


# --- last_used_at, off the request's path -----------------------------------------


def _clock() -> float:
    return time.monotonic()


_written: dict[int, float] = {}  # token id → when this process last wrote (monotonic)
_background: set[asyncio.Task[None]] = set()


_RESOLUTION_SECONDS = LAST_USED_RESOLUTION.total_seconds()


def note_use(*, token: ApiTokenState, now: dt.datetime | None = None) -> None:
    """Record that ``token`` was used now — at most once a minute, in the background.
    ``now`` (the wall clock) is read here when not given and only when needed."""
    clock = _clock()
    last = _written.get(token.id)
    if last is not None and clock - last < _RESOLUTION_SECONDS:
        return  # the usual case: a single dict lookup
    if now is None:
        now = dt.datetime.now(dt.UTC)
    if last is None and token.last_used_at is not None:
        last = clock - (now - token.last_used_at).total_seconds()
        if clock - last < _RESOLUTION_SECONDS:
            return
    _written[token.id] = clock
    # A context of its own: the write is no part of the request (its read tracking,
    # its request id) and the response does not wait for it.
    task = asyncio.create_task(_write_last_used(token.id, now), context=contextvars.Context())
    _background.add(task)
    task.add_done_callback(_background.discard)


async def _write_last_used(token_id: int, at: dt.datetime) -> None:
    try:
        await ApiToken.filter(id=token_id).update(last_used_at=at)
    except Exception:
        logger.exception("could not record the use of API token %s", token_id)


async def background_writes_done() -> None:
    """Wait for the last_used_at writes started so far (tests, shutdown)."""
    while _background:
        await asyncio.gather(*tuple(_background), return_exceptions=True)
