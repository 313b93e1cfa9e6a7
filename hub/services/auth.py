"""Logging in, refreshing, API tokens and resolving a bearer token to a viewer.

No answer tells whether a username exists: unknown usernames are verified against
a dummy hash, throttled and locked exactly like known ones, and every failure has
the same message.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from hub.access import tokens
from hub.access.viewer import ANONYMOUS, Viewer
from hub.db import PRIMARY
from hub.enums import AuditAction
from hub.models import ApiToken, LoginThrottle, User
from hub.passwords import hash_password, needs_rehash, verify_password
from hub.search import fold
from hub.services import audit
from hub.settings import Settings

INVALID_CREDENTIALS = "用户名或密码错误 (wrong username or password)"
# Refresh last_used_at at most this often, so that a busy client does not write per request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class AuthError(Exception):
    """A login or token that is refused; ``code`` goes to extensions.code."""

    def __init__(self, message: str, code: str = "UNAUTHENTICATED") -> None:
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


def viewer_for(user: User) -> Viewer:
    return Viewer(
        user_id=user.id,
        username=user.username,
        role=user.role,
        street_id=user.street_id,  # type: ignore[attr-defined]
        community_id=user.community_id,  # type: ignore[attr-defined]
        unit_id=user.partner_unit_id,  # type: ignore[attr-defined]
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _throttle_key(username: str) -> str:
    return fold(username)[:100] or "-"


async def login(*, settings: Settings, username: str, password: str, address: str = "") -> Session:
    """Check a username and password; a Session, or AuthError."""
    now = _now()
    key = _throttle_key(username)
    throttle = await LoginThrottle.get_or_none(key=key)
    if throttle and throttle.locked_until and throttle.locked_until > now:
        minutes = max(1, int((throttle.locked_until - now).total_seconds() // 60) + 1)
        await audit.record(
            actor=None,
            action=AuditAction.LOGIN_FAILED,
            entity="User",
            actor_name=username,
            address=address,
            after={"reason": "locked"},
        )
        raise AuthError(
            f"登录失败次数过多，请 {minutes} 分钟后再试 (too many failed logins, retry later)",
            "LOCKED",
        )
    user = await User.get_or_none(username=username)
    ok = verify_password(user.password_hash if user else None, password)
    if not (user and ok and user.is_active):
        await _register_failure(settings, key=key, now=now)
        await audit.record(
            actor=None,
            action=AuditAction.LOGIN_FAILED,
            entity="User",
            entity_id=user.id if user else None,
            actor_name=username,
            address=address,
        )
        raise AuthError(INVALID_CREDENTIALS)
    if throttle:
        await throttle.delete()
    user.last_login_at = now
    update = ["last_login_at"]
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        update.append("password_hash")
    await user.save(update_fields=update)
    await audit.record(
        actor=viewer_for(user),
        action=AuditAction.LOGIN,
        entity="User",
        entity_id=user.id,
        address=address,
    )
    return _session(settings, user, now)


async def _register_failure(settings: Settings, *, key: str, now: dt.datetime) -> None:
    window = dt.timedelta(minutes=settings.login_window_minutes)
    async with in_transaction(PRIMARY):
        throttle, _ = await LoginThrottle.get_or_create(key=key)
        if throttle.window_started_at is None or now - throttle.window_started_at > window:
            throttle.window_started_at = now
            throttle.failures = 0
        throttle.failures += 1
        if throttle.failures >= settings.login_max_failures:
            throttle.locked_until = now + dt.timedelta(minutes=settings.login_lock_minutes)
            throttle.failures = 0
            throttle.window_started_at = None
        await throttle.save()


def _session(settings: Settings, user: User, now: dt.datetime) -> Session:
    access, access_exp = tokens.issue(
        settings, user_id=user.id, token_version=user.token_version, kind="access", now=now
    )
    refresh, refresh_exp = tokens.issue(
        settings, user_id=user.id, token_version=user.token_version, kind="refresh", now=now
    )
    return Session(user, access, access_exp, refresh, refresh_exp)


async def refresh(*, settings: Settings, refresh_token: str) -> Session:
    """A new session for a valid refresh token of an active user."""
    try:
        claims = tokens.read(settings, refresh_token, kind="refresh")
    except tokens.TokenError as exc:
        raise AuthError(str(exc)) from None
    user = await _current_user(claims)
    return _session(settings, user, _now())


async def _current_user(claims: tokens.TokenClaims) -> User:
    user = await User.get_or_none(id=claims.user_id)
    if user is None or not user.is_active or user.token_version != claims.token_version:
        raise AuthError("令牌已失效 (token no longer valid)")
    return user


async def revoke_sessions(*, user: User) -> None:
    """Invalidate every access and refresh token issued to ``user`` so far."""
    user.token_version += 1
    await user.save(update_fields=["token_version"])


async def resolve_bearer(*, settings: Settings, authorization: str | None) -> Viewer:
    """The viewer for an ``Authorization`` header value (anonymous when absent)."""
    if not authorization:
        return ANONYMOUS
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("请使用 Authorization: Bearer <令牌> (use a Bearer token)")
    token = token.strip()
    if tokens.is_api_token(token):
        return await _resolve_api_token(token)
    try:
        claims = tokens.read(settings, token, kind="access")
    except tokens.TokenError as exc:
        raise AuthError(str(exc)) from None
    return viewer_for(await _current_user(claims))


async def _resolve_api_token(token: str) -> Viewer:
    record = await ApiToken.get_or_none(token_hash=tokens.hash_api_token(token)).select_related(
        "user"
    )
    now = _now()
    if (
        record is None
        or record.revoked_at is not None
        or (record.expires_at is not None and record.expires_at <= now)
        or not record.user.is_active
    ):
        raise AuthError("API 令牌无效或已撤销 (API token invalid or revoked)")
    if record.last_used_at is None or now - record.last_used_at > LAST_USED_RESOLUTION:
        await ApiToken.filter(id=record.id).update(last_used_at=now)
    return viewer_for(record.user)


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
