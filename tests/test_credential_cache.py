"""Credentials are resolved from an in-process cache (no SQL once warm), and every
revocation, logout or deactivation in this process takes effect on the next request;
API tokens' last use is written at most once a minute, in the background."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import httpx
import pytest

from hub.access import credential_cache as cc
from hub.app import create_app
from hub.cache.redis_state import RedisState
from hub.enums import Role
from hub.models import ApiToken, User
from hub.passwords import hash_password
from hub.services import auth, credentials
from hub.settings import Settings
from tests.broker_servers import redis_server
from tests.orm_context import observers

__all__ = ["redis_server"]

pytestmark = pytest.mark.usefixtures("orm")

PASSWORD = "Linju-2020-pass"
TRIVIAL = "{ __typename }"
LOGIN = """mutation($u: String!, $p: String!) {
  login(username: $u, password: $p) { accessToken refreshToken errors { code } } }"""
LOGOUT = "mutation { logout { ok } }"
REFRESH = """mutation($t: String!) {
  refreshSession(refreshToken: $t) { accessToken errors { code } } }"""


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        yield client


@pytest.fixture
async def user(unique_name: str) -> User:
    return await User.create(
        username=f"c{unique_name}", password_hash=hash_password(PASSWORD), role=Role.ADMIN
    )


async def _post(
    client: httpx.AsyncClient, query: str, token: str | None = None, **variables: Any
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )


async def _login(client: httpx.AsyncClient, user: User) -> dict[str, Any]:
    answer = (await _post(client, LOGIN, u=user.username, p=PASSWORD)).json()["data"]["login"]
    assert answer["errors"] == [], answer
    return answer


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every SQL statement run inside the block."""
    seen: list[str] = []
    remove = observers().on_statement(lambda sql, seconds, name: seen.append(sql))
    try:
        yield seen
    finally:
        remove()


async def test_a_revoked_api_token_is_refused_on_the_next_request(
    client: httpx.AsyncClient, user: User
) -> None:
    secret, record = await auth.create_api_token(user=user, name="cache test")
    for _ in range(2):  # the second from the cache
        assert (await _post(client, TRIVIAL, secret)).status_code == 200
    await auth.revoke_api_token(token=record)
    assert (await _post(client, TRIVIAL, secret)).status_code == 401


async def test_logout_is_refused_on_the_next_request(client: httpx.AsyncClient, user: User) -> None:
    session = await _login(client, user)
    token = session["accessToken"]
    for _ in range(2):
        assert (await _post(client, TRIVIAL, token)).status_code == 200
    assert (await _post(client, LOGOUT, token)).json()["data"]["logout"]["ok"] is True
    assert (await _post(client, TRIVIAL, token)).status_code == 401
    refreshed = (await _post(client, REFRESH, t=session["refreshToken"])).json()["data"]
    assert refreshed["refreshSession"]["errors"][0]["code"] == "UNAUTHENTICATED"


async def test_a_deactivated_account_is_refused_on_the_next_request(
    client: httpx.AsyncClient, user: User
) -> None:
    secret, _ = await auth.create_api_token(user=user, name="cache test")
    access = (await _login(client, user))["accessToken"]
    for token in (secret, access, secret, access):
        assert (await _post(client, TRIVIAL, token)).status_code == 200
    await User.filter(id=user.id).update(is_active=False)
    for token in (secret, access):
        assert (await _post(client, TRIVIAL, token)).status_code == 401


async def test_a_warm_cache_resolves_credentials_without_sql(
    client: httpx.AsyncClient, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Entries without Redis live a second: hold the cache's clock still for this test.
    now = time.monotonic()
    monkeypatch.setattr(cc, "_clock", lambda: now)
    secret, _ = await auth.create_api_token(user=user, name="cache test")
    access = (await _login(client, user))["accessToken"]
    for token in (secret, access):
        assert (await _post(client, TRIVIAL, token)).status_code == 200
    await credentials.background_writes_done()  # last_used_at (which invalidates once)
    for token in (secret, access):
        assert (await _post(client, TRIVIAL, token)).status_code == 200

    with statements() as seen:
        for token in (secret, access, secret, access):
            response = await _post(client, TRIVIAL, token)
            assert response.status_code == 200 and response.json()["data"]["__typename"]
    assert seen == []


async def test_last_use_is_written_once_a_minute_after_the_response(
    settings: Settings, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret, record = await auth.create_api_token(user=user, name="cache test")
    with statements() as seen:
        await auth.resolve_bearer(settings=settings, authorization=f"Bearer {secret}")
        writes = [s for s in seen if s.lstrip().upper().startswith("UPDATE")]
        assert writes == []  # not yet: the caller has its viewer first
        await credentials.background_writes_done()
        for _ in range(3):
            await auth.resolve_bearer(settings=settings, authorization=f"Bearer {secret}")
        await credentials.background_writes_done()
    writes = [s for s in seen if s.lstrip().upper().startswith("UPDATE")]
    assert len(writes) == 1 and "api_token" in writes[0]
    assert (await ApiToken.get(id=record.id)).last_used_at is not None

    # a minute later, once more
    later = time.monotonic() + 61
    monkeypatch.setattr(credentials, "_clock", lambda: later)
    with statements() as seen:
        await auth.resolve_bearer(settings=settings, authorization=f"Bearer {secret}")
        await credentials.background_writes_done()
    assert len([s for s in seen if s.lstrip().upper().startswith("UPDATE")]) == 1


async def test_a_failed_last_use_write_is_logged_not_raised(
    settings: Settings,
    user: User,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret, _ = await auth.create_api_token(user=user, name="cache test")

    class Broken:
        get_or_none = ApiToken.get_or_none

        @staticmethod
        def filter(**kwargs: Any) -> Any:
            raise RuntimeError("database went away")

    monkeypatch.setattr(credentials, "ApiToken", Broken)
    with caplog.at_level(logging.ERROR, logger="linju.auth"):
        viewer = await auth.resolve_bearer(settings=settings, authorization=f"Bearer {secret}")
        await credentials.background_writes_done()
    assert viewer.user_id == user.id
    assert "could not record the use of API token" in caplog.text


# ------------------------------------------------------------------------ shared state


def _with_redis(settings: Settings, server: str) -> Settings:
    return replace(settings, redis_url=f"{server}?prefix=t{uuid.uuid4().hex[:12]}")


async def test_a_write_in_another_process_reaches_the_cache_within_a_second(
    orm: Settings, redis_server: str
) -> None:
    settings = _with_redis(orm, redis_server)
    cache = cc.CredentialCache(redis_url=settings.redis_url)
    before = await cache.generation()
    assert before is not None
    cache.put("k", before, "v")
    assert cache.get("k", await cache.generation()) == "v"
    # another process commits a write to the API tokens (it bumps Redis only)
    await RedisState(settings.redis_url or "").bump(frozenset({"api_token"}))
    deadline = time.monotonic() + 10
    while cache.get("k", await cache.generation()) is not cc.MISSING:
        assert time.monotonic() < deadline, "the shared version was never read"
        await asyncio.sleep(0.1)


async def test_without_redis_answers_the_database_decides(
    settings: Settings, user: User, caplog: pytest.LogCaptureFixture
) -> None:
    broken = replace(settings, redis_url="redis://127.0.0.1:1/0")
    secret, record = await auth.create_api_token(user=user, name="cache test")
    with caplog.at_level(logging.WARNING, logger="linju.auth"):
        viewer = await auth.resolve_bearer(settings=broken, authorization=f"Bearer {secret}")
    assert viewer.user_id == user.id
    assert cc.credential_cache(broken).entries == {}  # nothing kept
    await auth.revoke_api_token(token=record)
    with pytest.raises(auth.AuthError):
        await auth.resolve_bearer(settings=broken, authorization=f"Bearer {secret}")


def test_without_redis_an_entry_lives_one_second(monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing tells this process of another's writes: entries must run out by themselves.
    now = [1000.0]
    monkeypatch.setattr(cc, "_clock", lambda: now[0])
    cache = cc.CredentialCache(redis_url=None)
    generation = (1, 2, 3)
    cache.put("k", generation, "v")
    now[0] += 0.5
    assert cache.get("k", generation) == "v"
    assert cache.get("k", (1, 2, 4)) is cc.MISSING  # a local write: gone at once
    cache.put("k", generation, "v")
    now[0] += cc.UNSHARED_TTL_SECONDS + 0.01
    assert cache.get("k", generation) is cc.MISSING
