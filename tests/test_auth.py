"""Logging in, tokens and throttling (hub.services.auth)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import jwt
import pytest

from hub.access import tokens
from hub.enums import AuditAction, Role
from hub.models import ApiToken, AuditLog, LoginSession, User
from hub.passwords import hash_password
from hub.services import auth, credentials
from hub.settings import Settings

pytestmark = pytest.mark.usefixtures("orm")
PASSWORD = "correct-horse-42"


@pytest.fixture
async def user(unique_name: str) -> User:
    return await User.create(
        username=f"u{unique_name}", password_hash=hash_password(PASSWORD), role=Role.READER
    )


async def _failure(settings: Settings, username: str, password: str) -> auth.AuthError:
    with pytest.raises(auth.AuthError) as caught:
        await auth.login(settings=settings, username=username, password=password)
    return caught.value


async def test_login_gives_tokens_that_resolve_to_the_viewer(
    settings: Settings, user: User
) -> None:
    session = await auth.login(settings=settings, username=user.username, password=PASSWORD)
    viewer = await auth.resolve_bearer(
        settings=settings, authorization=f"Bearer {session.access_token}"
    )
    assert viewer.user_id == user.id and viewer.role is Role.READER
    assert await AuditLog.filter(user_id=user.id, action=AuditAction.LOGIN).count() == 1


async def test_unknown_user_and_wrong_password_are_indistinguishable(
    settings: Settings, user: User, unique_name: str
) -> None:
    wrong_password = await _failure(settings, user.username, "nope-nope-1")
    no_such_user = await _failure(settings, f"ghost{unique_name}", "nope-nope-1")
    assert (wrong_password.message, wrong_password.code) == (
        no_such_user.message,
        no_such_user.code,
    )
    assert no_such_user.code == "UNAUTHENTICATED"


async def test_repeated_failures_lock_known_and_unknown_names_alike(
    settings: Settings, user: User, unique_name: str
) -> None:
    strict = dataclasses.replace(settings, login_max_failures=3)
    for name in (user.username, f"ghost{unique_name}"):
        for _ in range(3):
            await _failure(strict, name, "bad-password-1")
        locked = await _failure(strict, name, "bad-password-1")
        assert locked.code == "LOCKED"
    # Even the right password is refused while locked.
    assert (await _failure(strict, user.username, PASSWORD)).code == "LOCKED"


async def test_inactive_user_cannot_log_in_or_use_old_tokens(
    settings: Settings, user: User
) -> None:
    session = await auth.login(settings=settings, username=user.username, password=PASSWORD)
    user.is_active = False
    await user.save()
    assert (await _failure(settings, user.username, PASSWORD)).message == auth.INVALID_CREDENTIALS
    with pytest.raises(auth.AuthError):
        await auth.resolve_bearer(settings=settings, authorization=f"Bearer {session.access_token}")


async def test_expired_token_is_refused(settings: Settings, user: User) -> None:
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    token, _ = tokens.issue(
        settings, user_id=user.id, token_version=user.token_version, kind="access", now=long_ago
    )
    with pytest.raises(auth.AuthError, match="过期"):
        await auth.resolve_bearer(settings=settings, authorization=f"Bearer {token}")


async def test_tampered_token_is_refused(settings: Settings, user: User) -> None:
    session = await auth.login(settings=settings, username=user.username, password=PASSWORD)
    claims = jwt.decode(session.access_token, options={"verify_signature": False})
    forged = jwt.encode(
        {**claims, "sub": "1"}, "not-the-secret-but-long-enough-for-hs256", algorithm="HS256"
    )
    for bad in (forged, session.access_token[:-2] + "xx", "garbage"):
        with pytest.raises(auth.AuthError):
            await auth.resolve_bearer(settings=settings, authorization=f"Bearer {bad}")


async def test_refresh_token_is_not_an_access_token_and_rotates(
    settings: Settings, user: User
) -> None:
    session = await auth.login(settings=settings, username=user.username, password=PASSWORD)
    with pytest.raises(auth.AuthError, match="类型"):
        await auth.resolve_bearer(
            settings=settings, authorization=f"Bearer {session.refresh_token}"
        )
    renewed = await auth.refresh(settings=settings, refresh_token=session.refresh_token)
    assert renewed.refresh_token != session.refresh_token
    assert renewed.session_id == session.session_id
    viewer = await auth.resolve_bearer(
        settings=settings, authorization=f"Bearer {renewed.access_token}"
    )
    assert viewer.user_id == user.id and viewer.session_id == session.session_id
    # the new refresh token works once more, and so on
    again = await auth.refresh(settings=settings, refresh_token=renewed.refresh_token)
    assert again.access_token


async def test_a_spent_refresh_token_revokes_the_whole_session(
    settings: Settings, user: User
) -> None:
    # Given a session whose refresh token was used (by the owner, or by a thief)
    session = await auth.login(settings=settings, username=user.username, password=PASSWORD)
    renewed = await auth.refresh(settings=settings, refresh_token=session.refresh_token)
    other = await auth.login(settings=settings, username=user.username, password=PASSWORD)

    # When the spent refresh token is presented again
    with pytest.raises(auth.AuthError, match="失效"):
        await auth.refresh(settings=settings, refresh_token=session.refresh_token)

    # Then every token of that session stops: the old and the new pair alike
    for call in (
        auth.resolve_bearer(settings=settings, authorization=f"Bearer {session.access_token}"),
        auth.resolve_bearer(settings=settings, authorization=f"Bearer {renewed.access_token}"),
        auth.refresh(settings=settings, refresh_token=renewed.refresh_token),
    ):
        with pytest.raises(auth.AuthError, match="失效"):
            await call
    record = await LoginSession.get(id=session.session_id)
    assert record.revoked_at is not None and record.revoked_reason == "reuse"
    # and the account's other sessions go on
    viewer = await auth.resolve_bearer(
        settings=settings, authorization=f"Bearer {other.access_token}"
    )
    assert viewer.user_id == user.id


async def test_refreshing_twice_at_once_gives_one_new_pair(settings: Settings, user: User) -> None:
    session = await auth.login(settings=settings, username=user.username, password=PASSWORD)
    results = await asyncio.gather(
        *(auth.refresh(settings=settings, refresh_token=session.refresh_token) for _ in range(5)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, auth.Session) for r in results) <= 1
    assert sum(isinstance(r, auth.AuthError) for r in results) >= 4


async def test_logout_ends_only_this_session_unless_everywhere(
    settings: Settings, user: User
) -> None:
    first = await auth.login(settings=settings, username=user.username, password=PASSWORD)
    second = await auth.login(settings=settings, username=user.username, password=PASSWORD)
    viewer = await auth.resolve_bearer(
        settings=settings, authorization=f"Bearer {first.access_token}"
    )

    await auth.logout(viewer=viewer)

    for call in (
        auth.resolve_bearer(settings=settings, authorization=f"Bearer {first.access_token}"),
        auth.refresh(settings=settings, refresh_token=first.refresh_token),
    ):
        with pytest.raises(auth.AuthError, match="失效"):
            await call
    still = await auth.resolve_bearer(
        settings=settings, authorization=f"Bearer {second.access_token}"
    )
    assert still.session_id == second.session_id

    await auth.logout(viewer=still, everywhere=True)
    with pytest.raises(auth.AuthError, match="失效"):
        await auth.resolve_bearer(settings=settings, authorization=f"Bearer {second.access_token}")
    assert await LoginSession.filter(user_id=user.id, revoked_at=None).count() == 0


async def test_revoking_sessions_invalidates_issued_tokens(settings: Settings, user: User) -> None:
    session = await auth.login(settings=settings, username=user.username, password=PASSWORD)
    await auth.revoke_sessions(user=user)
    for call in (
        auth.resolve_bearer(settings=settings, authorization=f"Bearer {session.access_token}"),
        auth.refresh(settings=settings, refresh_token=session.refresh_token),
    ):
        with pytest.raises(auth.AuthError, match="失效"):
            await call


async def test_api_token_is_stored_hashed_records_use_and_can_be_revoked(
    settings: Settings, user: User
) -> None:
    secret, record = await auth.create_api_token(user=user, name="frontend")
    stored = await ApiToken.get(id=record.id)
    assert secret not in (stored.token_hash, stored.prefix) and stored.last_used_at is None
    viewer = await auth.resolve_bearer(settings=settings, authorization=f"Bearer {secret}")
    assert viewer.user_id == user.id
    await credentials.background_writes_done()
    assert (await ApiToken.get(id=record.id)).last_used_at is not None
    await auth.revoke_api_token(token=stored)
    with pytest.raises(auth.AuthError, match="撤销"):
        await auth.resolve_bearer(settings=settings, authorization=f"Bearer {secret}")
    audit_text = str(await AuditLog.filter(entity="ApiToken").values("before", "after"))
    assert secret not in audit_text


async def test_passwords_never_reach_the_audit_log(settings: Settings, user: User) -> None:
    await _failure(settings, user.username, "s3cret-typed-wrong")
    await auth.login(settings=settings, username=user.username, password=PASSWORD)
    rows = await AuditLog.filter(actor_name=user.username).values("before", "after", "actor_name")
    assert rows and "s3cret-typed-wrong" not in str(rows) and PASSWORD not in str(rows)


async def test_missing_header_is_anonymous_and_other_schemes_are_refused(
    settings: Settings,
) -> None:
    assert not (await auth.resolve_bearer(settings=settings, authorization=None)).is_authenticated
    with pytest.raises(auth.AuthError):
        await auth.resolve_bearer(settings=settings, authorization="Basic dXNlcjpwYXNz")


async def test_a_login_clears_the_accounts_sessions_that_ran_out(
    settings: Settings, user: User
) -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    old = await LoginSession.create(user=user, channel="api", expires_at=past)
    session = await auth.login(settings=settings, username=user.username, password=PASSWORD)
    assert not await LoginSession.exists(id=old.id)
    assert await LoginSession.exists(id=session.session_id)
