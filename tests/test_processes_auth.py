"""Two `linju serve` processes on one PostgreSQL database and one Redis: revoking an API
token, logging out and deactivating an account anywhere take effect on the other
process within about a second, although each resolves credentials from its own cache.

Skipped unless the session runs on PostgreSQL (``LINJU_TEST_BACKEND=postgres``) and a
Redis answers (or can be started).
"""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from dataclasses import replace
from typing import Any

import httpx
import pytest

from hub.enums import Role
from hub.models import ApiToken, User
from hub.passwords import hash_password
from hub.runtime import Runtime
from hub.services.auth import create_api_token
from hub.settings import Settings
from hub.shared import shared_redis
from tests.broker_servers import redis_server
from tests.conftest import BACKEND
from tests.hub_processes import Server, clean_env, linju_command, ready, scratch_database, serve
from tests.orm_context import side_context

__all__ = ["redis_server", "serve"]

pytestmark = [
    pytest.mark.usefixtures("orm"),
    pytest.mark.skipif(BACKEND != "postgres", reason="several processes share PostgreSQL"),
]

PASSWORD = "Linju-2020-pass"
TRIVIAL = "{ __typename }"
LOGIN = """mutation($u: String!, $p: String!) {
  login(username: $u, password: $p) { accessToken errors { code } } }"""
LOGOUT = "mutation { logout { ok } }"
PROPAGATION = 10.0  # seconds allowed, far above the one second the cache promises


async def _status(http: httpx.AsyncClient, server: Server, token: str) -> int:
    response = await http.post(
        f"{server.http}/graphql",
        json={"query": TRIVIAL},
        headers={"Authorization": f"Bearer {token}"},
    )
    return response.status_code


async def _refused_soon(http: httpx.AsyncClient, server: Server, token: str) -> None:
    deadline = time.monotonic() + PROPAGATION
    while (status := await _status(http, server, token)) != 401:
        assert status == 200, (status, server.output())
        assert time.monotonic() < deadline, "the change never reached the other process"
        await asyncio.sleep(0.1)


async def _warm(
    http: httpx.AsyncClient, server: Server, token: str, url: str, token_id: int
) -> None:
    """Have ``server`` cache the API token, its own last-use write included (that write
    would invalidate its cache by itself and hide whether the change came across)."""
    assert await _status(http, server, token) == 200
    deadline = time.monotonic() + PROPAGATION
    async with side_context(Settings(database_url=url)):
        while (await ApiToken.get(id=token_id)).last_used_at is None:
            assert time.monotonic() < deadline, "last use never written"
            await asyncio.sleep(0.1)
    # Past the next look at the shared versions, which carry that write's bump too.
    await asyncio.sleep(1.5)
    for _ in range(2):
        assert await _status(http, server, token) == 200


async def test_revocation_logout_and_deactivation_reach_the_other_process(
    serve: Any, redis_server: str
) -> None:
    redis_url = f"{redis_server}?prefix=t{uuid.uuid4().hex[:12]}"
    async with scratch_database("linju_auth") as url:
        async with side_context(Settings(database_url=url)):
            admin = await User.create(
                username="auth-admin", password_hash=hash_password(PASSWORD), role=Role.ADMIN
            )
            reader = await User.create(username="auth-reader", password_hash="-", role=Role.READER)
            admin_token, admin_record = await create_api_token(user=admin, name="dashboard")
            reader_token, reader_record = await create_api_token(user=reader, name="partner")
        first, second = serve(url, redis_url=redis_url), serve(url, redis_url=redis_url)
        await ready(first, second)
        try:
            async with httpx.AsyncClient(timeout=20) as http:
                # An API token revoked with `linju token revoke` (yet another process)
                await _warm(http, second, admin_token, url, admin_record.id)
                revoked = await asyncio.to_thread(
                    subprocess.run,
                    [*linju_command(), "token", "revoke", str(admin_record.id)],
                    env={**clean_env(), "LINJU_DATABASE_URL": url, "LINJU_REDIS_URL": redis_url},
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                assert revoked.returncode == 0, revoked.stdout + revoked.stderr
                await _refused_soon(http, second, admin_token)

                # Logging out through the first process
                answer = await http.post(
                    f"{first.http}/graphql",
                    json={"query": LOGIN, "variables": {"u": "auth-admin", "p": PASSWORD}},
                )
                access = answer.json()["data"]["login"]["accessToken"]
                assert access, answer.text
                for _ in range(2):
                    assert await _status(http, second, access) == 200
                out = await http.post(
                    f"{first.http}/graphql",
                    json={"query": LOGOUT},
                    headers={"Authorization": f"Bearer {access}"},
                )
                assert out.json()["data"]["logout"]["ok"] is True, out.text
                assert await _status(http, first, access) == 401  # at once where it happened
                await _refused_soon(http, second, access)

                # Deactivating an account (a write by this test process, which bumps Redis)
                await _warm(http, second, reader_token, url, reader_record.id)
                writer = Runtime.for_command(
                    replace(Settings(database_url=url), redis_url=redis_url)
                )
                try:
                    async with side_context(Settings(database_url=url), observers=writer.observers):
                        await User.filter(id=reader.id).update(is_active=False)
                finally:
                    await writer.close()
                await _refused_soon(http, second, reader_token)
        finally:
            redis = shared_redis(redis_url)
            keys = [k async for k in redis.client.scan_iter(match=redis.key("*"))]
            if keys:
                await redis.client.delete(*keys)
