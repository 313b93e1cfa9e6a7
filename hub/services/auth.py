"""Logging in and out, rotating refresh tokens, API tokens, and resolving a bearer token
to a viewer.

No answer tells whether a username exists: unknown usernames are verified against
a dummy hash, throttled and locked exactly like known ones, and every failure has
the same message.

A login opens a *login session* (``LoginSession``): its access and refresh tokens name
it. A refresh token is good once — refreshing returns a new pair — and a spent one
presented again is taken for theft: the whole session is revoked, the thief's tokens
and the victim's alike. ``logout`` ends the caller's session; ``revoke_sessions`` (or
``logout(everywhere=True)``) ends every session of the account and every token issued
to it (``token_version``).

Resolving a bearer token reads no database while the credential cache is warm
(:mod:`hub.access.credential_cache`): access tokens are verified in memory, and the
account, session and API-token states come from the cache, which any revocation,
deactivation or logout in any process invalidates.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import math
from dataclasses import dataclass
from typing import Literal

from tortoise.exceptions import ValidationError
from tortoise.expressions import F
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from hub.access import tokens
from hub.access.credential_cache import MISSING, Generation, credential_cache
from hub.access.viewer import ANONYMOUS, Viewer
from hub.db_routing import PRIMARY
from hub.enums import AuditAction
from hub.models import ApiToken, LoginSession, User
from hub.passwords import hash_password, needs_rehash, verify_password
from hub.search import fold
from hub.services import audit, credentials, login_throttle
from hub.services.credentials import LAST_USED_RESOLUTION, Account, viewer_for
from hub.services.errors import ErrorCode
from hub.settings import Settings

__all__ = [
    "INVALID_CREDENTIALS",
    "LAST_USED_RESOLUTION",
    "Account",
    "AuthError",
    "Session",
    "authenticate",
    "console_account",
    "create_api_token",
    "end_session",
    "login",
    "logout",
    "open_console_session",
    "refresh",
    "resolve_bearer",
    "revoke_api_token",
    "revoke_sessions",
    "viewer_for",
]

INVALID_CREDENTIALS = "用户名或密码错误 (wrong username or password)"
NO_LONGER_VALID = "令牌已失效 (token no longer valid)"
API_TOKEN_REFUSED = "API 令牌无效或已撤销 (API token invalid or revoked)"

Channel = Literal["api", "console"]


class AuthError(Exception):
    """A login or token that is refused; ``code`` goes to extensions.code."""

    def __init__(self, message: str, code: str = ErrorCode.UNAUTHENTICATED.value) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    access_token: str
    access_expires_at: dt.datetime
    refresh_token: str
    refresh_expires_at: dt.datetime
    session_id: int


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _throttle_key(username: str) -> str:
    return fold(username)[:100] or "-"


# --- logging in -------------------------------------------------------------------


async def _user_named(username: str) -> User | None:
    """The account of ``username``; None also for a name no account can have (longer
    than the column): a login answers it like any unknown name, so that no answer
    tells which names exist."""
    try:
        return await User.get_or_none(username=username)
    except ValidationError:  # Tortoise validates a lookup's value like a stored one
        return None


async def authenticate(
    *, settings: Settings, username: str, password: str, address: str = ""
) -> User:
    """Check a username and password (throttled and audited); the user, or AuthError."""
    now = _now()
    try:
        reservation = await login_throttle.reserve(
            settings=settings, key=_throttle_key(username), now=now
        )
    except login_throttle.Locked as locked:
        await audit.record(
            actor=None,
            action=AuditAction.LOGIN_FAILED,
            entity="User",
            actor_name=username,
            address=address,
            after={"reason": "locked"},
        )
        raise AuthError(
            f"登录失败次数过多，请 {locked.minutes} 分钟后再试 "
            "(too many failed logins, retry later)",
            ErrorCode.LOCKED.value,
        ) from None
    user: User | None = None
    accepted = False
    try:
        user = await _user_named(username)
        # argon2 takes tens of milliseconds: not on the event loop.
        ok = await asyncio.to_thread(
            verify_password, user.password_hash if user else None, password
        )
        accepted = bool(user and ok and user.is_active)
    finally:
        # Also when cancelled: an attempt that was checked stays counted.
        await login_throttle.settle(
            settings=settings, reservation=reservation, succeeded=accepted, now=_now()
        )
    if user is None or not accepted:
        await audit.record(
            actor=None,
            action=AuditAction.LOGIN_FAILED,
            entity="User",
            entity_id=user.id if user else None,
            actor_name=username,
            address=address,
        )
        raise AuthError(INVALID_CREDENTIALS)
    user.last_login_at = now
    update = ["last_login_at"]
    if needs_rehash(user.password_hash):
        user.password_hash = await asyncio.to_thread(hash_password, password)
        update.append("password_hash")
    await user.save(update_fields=update)
    await audit.record(
        actor=viewer_for(user),
        action=AuditAction.LOGIN,
        entity="User",
        entity_id=user.id,
        address=address,
    )
    return user


async def login(*, settings: Settings, username: str, password: str, address: str = "") -> Session:
    """Check a username and password; a new login session with its tokens, or AuthError."""
    user = await authenticate(
        settings=settings, username=username, password=password, address=address
    )
    now = _now()
    record = await _open_session(
        user,
        channel="api",
        expires_at=now + dt.timedelta(days=settings.refresh_token_days),
        address=address,
    )
    return _tokens(settings, user, record.id, generation=record.generation, now=now)


async def open_console_session(*, user: User, hours: int, address: str = "") -> int:
    """A console session for an authenticated user; its id (kept in the console cookie)."""
    record = await _open_session(
        user, channel="console", expires_at=_now() + dt.timedelta(hours=hours), address=address
    )
    return record.id


async def _open_session(
    user: User, *, channel: Channel, expires_at: dt.datetime, address: str
) -> LoginSession:
    # The account's sessions that have run out are of no more use (their refresh tokens
    # have expired too): each login clears them, so the table stays small.
    await LoginSession.filter(user_id=user.id, expires_at__lt=_now()).delete()
    return await LoginSession.create(
        user=user, channel=channel, expires_at=expires_at, address=address[:64]
    )


def _tokens(
    settings: Settings, user: User, session_id: int, *, generation: int, now: dt.datetime
) -> Session:
    access, access_exp = tokens.issue(
        settings,
        user_id=user.id,
        token_version=user.token_version,
        kind="access",
        now=now,
        session_id=session_id,
    )
    refresh_token, refresh_exp = tokens.issue(
        settings,
        user_id=user.id,
        token_version=user.token_version,
        kind="refresh",
        now=now,
        session_id=session_id,
        generation=generation,
    )
    return Session(user, access, access_exp, refresh_token, refresh_exp, session_id)


# --- refreshing: each refresh token once --------------------------------------------


async def refresh(*, settings: Settings, refresh_token: str) -> Session:
    """A new pair of tokens for the current refresh token of a live session.

    A spent refresh token revokes its session: whoever holds the newer one (the thief or
    the victim) is signed out too, and the owner signs in again.
    """
    try:
        claims = tokens.read(settings, refresh_token, kind="refresh")
    except tokens.TokenError as exc:
        raise AuthError(str(exc)) from None
    if claims.session_id is None or claims.generation is None:
        raise AuthError(NO_LONGER_VALID)  # issued before sessions existed
    user = await User.get_or_none(id=claims.user_id)
    if user is None or not user.is_active or user.token_version != claims.token_version:
        raise AuthError(NO_LONGER_VALID)
    now = _now()
    rotated = await LoginSession.filter(
        id=claims.session_id,
        user_id=user.id,
        generation=claims.generation,
        revoked_at=None,
        expires_at__gt=now,
    ).update(
        generation=claims.generation + 1,
        expires_at=now + dt.timedelta(days=settings.refresh_token_days),
    )
    if not rotated:
        await _refused_refresh(claims, user)
        raise AuthError(NO_LONGER_VALID)
    return _tokens(settings, user, claims.session_id, generation=claims.generation + 1, now=now)


async def _refused_refresh(claims: tokens.TokenClaims, user: User) -> None:
    """A refresh token that is not the session's current one: if it is a spent one of a
    live session, someone replays it — end the session."""
    record = await LoginSession.get_or_none(id=claims.session_id, user_id=user.id)
    if record is None or record.revoked_at is not None:
        return
    if record.generation > (claims.generation or 0):
        await _revoke(LoginSession.filter(id=record.id), reason="reuse")
        await audit.record(
            actor=viewer_for(user),
            action=AuditAction.UPDATE,
            entity="LoginSession",
            entity_id=record.id,
            after={"revoked": "reuse of a spent refresh token"},
        )


# --- ending sessions ----------------------------------------------------------------


async def _revoke(query: QuerySet[LoginSession], *, reason: str) -> int:
    return await query.filter(revoked_at=None).update(revoked_at=_now(), revoked_reason=reason)


async def end_session(*, session_id: int, reason: str = "logout") -> bool:
    """Revoke one login session (its tokens or console cookie stop working at once)."""
    return bool(await _revoke(LoginSession.filter(id=session_id), reason=reason))


async def revoke_sessions(*, user: User) -> None:
    """Invalidate every access and refresh token and every session of ``user`` so far."""
    async with in_transaction(PRIMARY):
        await User.filter(id=user.id).update(token_version=F("token_version") + 1)
        await _revoke(LoginSession.filter(user_id=user.id), reason="revoked")
    await user.refresh_from_db(fields=["token_version"])


async def logout(*, viewer: Viewer, everywhere: bool = False, address: str = "") -> None:
    """End the caller's login session; everywhere (or for an API token, which has no
    session): every session and token of the account. Audited as an UPDATE with
    ``after={"logout": "session" | "everywhere"}`` (a LOGOUT action would need a
    migration of the audit log's enum column)."""
    if viewer.user_id is None:
        raise AuthError("请先登录 (log in first)")
    if viewer.session_id is not None and not everywhere:
        await end_session(session_id=viewer.session_id)
        await audit.record(
            actor=viewer,
            action=AuditAction.UPDATE,
            entity="LoginSession",
            entity_id=viewer.session_id,
            after={"logout": "session"},
            address=address,
        )
        return
    user = await User.get_or_none(id=viewer.user_id)
    if user is not None:
        await revoke_sessions(user=user)
        await audit.record(
            actor=viewer,
            action=AuditAction.UPDATE,
            entity="User",
            entity_id=user.id,
            after={"logout": "everywhere"},
            address=address,
        )


# --- resolving credentials ----------------------------------------------------------


async def resolve_bearer(*, settings: Settings, authorization: str | None) -> Viewer:
    """The viewer for an ``Authorization`` header value (anonymous when absent).

    No database round trip once the credential cache is warm, and a single dict lookup
    when this very value was resolved before and nothing it was made of has changed
    (:meth:`CredentialCache.known_bearer`). An access token that names no session
    (issued before sessions existed, or by ``tokens.issue`` directly) is checked against
    the account's ``token_version`` alone.
    """
    if not authorization:
        return ANONYMOUS
    cache = credential_cache(settings)
    known = cache.known_bearer(authorization, settings.secret_key)
    if known is not None:
        if known.token is not None:
            credentials.note_use(token=known.token)
        return known.viewer  # type: ignore[no-any-return]
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("请使用 Authorization: Bearer <令牌> (use a Bearer token)")
    token = token.strip()
    if tokens.is_api_token(token):
        return await _resolve_api_token(settings, token, authorization=authorization)
    try:
        claims = tokens.read(settings, token, kind="access")
    except tokens.TokenError as exc:
        raise AuthError(str(exc)) from None
    generation = await cache.generation()
    found = await _session_account(
        settings,
        user_id=claims.user_id,
        session_id=claims.session_id,
        token_version=claims.token_version,
        generation=generation,
    )
    viewer = found.viewer
    made_of: list[tuple[str, int]] = [("user", claims.user_id)]
    valid_until = claims.expires_at.timestamp()
    if claims.session_id is not None:
        viewer = dataclasses.replace(viewer, session_id=claims.session_id)
        made_of.append(("session", claims.session_id))
        state = cache.get(("session", claims.session_id), generation)
        if state is not MISSING:  # (when it is, keep_bearer keeps nothing)
            valid_until = min(valid_until, state.expires_at.timestamp())
    cache.keep_bearer(
        authorization,
        generation,
        made_of=made_of,
        valid_until=valid_until,
        secret_key=settings.secret_key,
        viewer=viewer,
    )
    return viewer


async def console_account(
    *, settings: Settings, user_id: int, session_id: int, token_version: int
) -> Account:
    """The account of a console session that is still good, or AuthError."""
    generation = await credential_cache(settings).generation()
    return await _session_account(
        settings,
        user_id=user_id,
        session_id=session_id,
        token_version=token_version,
        generation=generation,
    )


async def _session_account(
    settings: Settings,
    *,
    user_id: int,
    session_id: int | None,
    token_version: int,
    generation: Generation | None,
) -> Account:
    cache = credential_cache(settings)
    found = await credentials.account(cache=cache, generation=generation, user_id=user_id)
    if found is None or not found.is_active or found.token_version != token_version:
        raise AuthError(NO_LONGER_VALID)
    if session_id is not None:
        state = await credentials.session(cache=cache, generation=generation, session_id=session_id)
        if state is None or state.user_id != user_id or state.revoked or state.expires_at <= _now():
            raise AuthError(NO_LONGER_VALID)
    return found


async def _resolve_api_token(settings: Settings, token: str, *, authorization: str) -> Viewer:
    cache = credential_cache(settings)
    generation = await cache.generation()
    digest = tokens.hash_api_token(token)
    state = await credentials.api_token(cache=cache, generation=generation, token_hash=digest)
    now = _now()
    if state is None or state.revoked or (state.expires_at is not None and state.expires_at <= now):
        raise AuthError(API_TOKEN_REFUSED)
    owner = await credentials.account(cache=cache, generation=generation, user_id=state.user_id)
    if owner is None or not owner.is_active:
        raise AuthError(API_TOKEN_REFUSED)
    credentials.note_use(token=state, now=now)
    cache.keep_bearer(
        authorization,
        generation,
        made_of=(("api", digest), ("user", state.user_id)),
        valid_until=state.expires_at.timestamp() if state.expires_at is not None else math.inf,
        secret_key=settings.secret_key,
        viewer=owner.viewer,
        token=state,
    )
    return owner.viewer


# --- API tokens -------------------------------------------------------------------


async def create_api_token(
    *,
    user: User,
    name: str,
    expires_at: dt.datetime | None = None,
    actor: Viewer | None = None,
) -> tuple[str, ApiToken]:
    """A new named API token: the secret (shown once) and its stored record."""
    secret, prefix, digest = tokens.new_api_token()
    record = await ApiToken.create(
        user=user, name=name, prefix=prefix, token_hash=digest, expires_at=expires_at
    )
    await audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        entity="ApiToken",
        entity_id=record.id,
        after={"name": name, "prefix": prefix, "user_id": user.id},
    )
    return secret, record


async def revoke_api_token(*, token: ApiToken, actor: Viewer | None = None) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = _now()
        await token.save(update_fields=["revoked_at"])
        await audit.record(
            actor=actor,
            action=AuditAction.UPDATE,
            entity="ApiToken",
            entity_id=token.id,
            after={"revoked_at": token.revoked_at},
        )
    return token
