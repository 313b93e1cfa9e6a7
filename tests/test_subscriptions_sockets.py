"""WebSocket connections as an attacker and a standard client meet them: text frames, a
credential checked again before every operation and event (logout, a revoked API token,
a deactivated account, an expired access token), rate limits and caps."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import replace
from typing import Any

import httpx
import pytest
from tortoise.exceptions import OperationalError

from hub import models as m
from hub.access import tokens
from hub.enums import Role
from hub.services import auth
from hub.settings import Settings
from hub.shared import shared_redis
from tests.api_data import gid
from tests.broker_servers import redis_server
from tests.mutation_calls import mutate, ok
from tests.service_world import World, build_world
from tests.socket_clients import QUIET, Served, hub_server, socket

__all__ = ["redis_server"]  # fixture, for the Redis counters

pytestmark = pytest.mark.usefixtures("orm")

UNAUTHORIZED = 4401  # the close code of a connection whose credential is no longer valid

SUBSCRIBE = "subscription { requestChanged { action request { id description } } }"
VIEWER = "{ viewer { username } }"
REPORT = """mutation($input: ReportRequestInput!) {
  reportRequest(input: $input) { request { id } errors { field code } } }"""
LOGIN = (
    """mutation($u: String!, $p: String!) { login(username: $u, password: $p) { __typename } }"""
)
LOGOUT = "mutation { logout { ok } }"


@pytest.fixture
async def w(unique_name: str) -> World:
    return await build_world(unique_name)


@pytest.fixture
async def served(orm: Settings) -> AsyncIterator[Served]:
    async with hub_server(orm) as served:
        yield served


async def account(name: str, role: Role = Role.ADMIN) -> m.User:
    return await m.User.create(
        username=f"{name}-{uuid.uuid4().hex[:6]}", password_hash="-", role=role
    )


def access_token(settings: Settings, user: m.User, *, now: dt.datetime | None = None) -> str:
    token, _ = tokens.issue(
        settings, user_id=user.id, token_version=user.token_version, kind="access", now=now
    )
    return token


def report(w: World, description: str) -> dict[str, Any]:
    return {
        "input": {
            "compoundId": gid(w.compound),
            "category": "SURVEILLANCE",
            "channel": "PHONE",
            "description": description,
        }
    }


# ---------------------------------------------------------------- text frames


async def test_every_message_is_a_text_frame(orm: Settings, served: Served, w: World) -> None:
    user = await account(w.name)
    async with socket(served, access_token(orm, user)) as client:
        await client.send({"type": "ping"})
        assert await client.receive() == {"type": "pong"}
        answer = await client.run("q", VIEWER)
        assert answer["payload"]["data"] == {"viewer": {"username": user.username}}
        await client.subscribe("s", SUBSCRIBE)
        await client.nothing()  # the subscription is registered
        ok(await mutate(orm, REPORT, w.admin, **report(w, "探头坏了")))
        event = await client.receive()
        assert event["type"] == "next" and event["id"] == "s"
        assert event["payload"]["data"]["requestChanged"]["action"] == "REPORT"
    # connection_ack, pong, next, complete and the event: all text, as the protocol requires
    assert len(client.frames) == 5
    assert all(isinstance(frame, str) for frame in client.frames)


# ---------------------------------------------------------------- the credential


async def _revoke(how: str, settings: Settings, served: Served, user: m.User, token: str) -> None:
    if how == "logout":
        async with httpx.AsyncClient(base_url=served.http, timeout=10) as http:
            answer = await http.post(
                "/graphql", json={"query": LOGOUT}, headers={"Authorization": f"Bearer {token}"}
            )
        assert answer.json() == {"data": {"logout": {"ok": True}}}
    elif how == "api token revoked":
        record = await m.ApiToken.get(token_hash=tokens.hash_api_token(token))
        await auth.revoke_api_token(token=record)
    elif how == "account deactivated":
        user.is_active = False
        await user.save(update_fields=["is_active"])


@pytest.mark.parametrize("how", ["logout", "api token revoked", "account deactivated"])
async def test_a_connection_loses_what_its_credential_lost(
    orm: Settings, served: Served, w: World, how: str
) -> None:
    # given three connections of one account: one subscribed, two idle
    user = await account(w.name)
    if how == "api token revoked":
        token, _ = await auth.create_api_token(user=user, name="ws test")
    else:
        token = access_token(orm, user)
    async with (
        socket(served, token) as listener,
        socket(served, token) as reader,
        socket(served, token) as writer,
    ):
        await listener.subscribe("s", SUBSCRIBE)
        assert (await reader.run("q", VIEWER))["type"] == "next"  # works before

        # when the credential stops being valid
        await _revoke(how, orm, served, user, token)

        # then a query is not answered: the connection is closed with 4401
        await reader.subscribe("q2", VIEWER)
        closed = await reader.closed()
        assert closed.code == UNAUTHORIZED and closed.reason

        # and a mutation is not run
        await writer.subscribe("m", REPORT, **report(w, f"{w.name} 不应写入"))
        assert (await writer.closed()).code == UNAUTHORIZED
        assert not await m.ResidentRequest.filter(description=f"{w.name} 不应写入").exists()

        # and the subscription hears no more events: its connection is closed
        ok(await mutate(orm, REPORT, w.admin, **report(w, "之后的诉求")))
        assert (await listener.closed()).code == UNAUTHORIZED
    assert not any('"next"' in str(frame) for frame in listener.frames)


@pytest.mark.parametrize("kind", ["access token", "api token"])
async def test_a_connection_closes_when_its_token_expires(
    orm: Settings, served: Served, w: World, kind: str
) -> None:
    # given a token with two seconds to live
    user = await account(w.name)
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    if kind == "access token":
        lifetime = dt.timedelta(minutes=orm.access_token_minutes)
        token = access_token(orm, user, now=expires - lifetime)
    else:
        token, _ = await auth.create_api_token(user=user, name="short", expires_at=expires)
    async with socket(served, token) as listener:
        await listener.subscribe("s", SUBSCRIBE)
        # then the connection is closed at the token's expiry, subscription and all
        closed = await listener.closed()
    assert closed.code == UNAUTHORIZED
    assert "expired" in closed.reason
    # and an expired token cannot open another
    async with socket(served, token, acknowledged=False) as late:
        assert (await late.closed()).code == 4403


# ---------------------------------------------------------------- rate limits


@pytest.mark.parametrize("store", ["memory", "redis"])
async def test_operations_count_against_the_token_limit_with_http_requests(
    orm: Settings, w: World, store: str, request: pytest.FixtureRequest
) -> None:
    user = await account(w.name)
    token = access_token(orm, user)
    limited = replace(orm, rate_limit_token_per_minute=4)
    if store == "redis":  # two hubs (as two processes would be) sharing Redis counters
        server: str = request.getfixturevalue("redis_server")
        limited = replace(limited, redis_url=f"{server}?prefix=t{uuid.uuid4().hex[:12]}")
    async with AsyncExitStack() as stack:
        http_hub = await stack.enter_async_context(hub_server(limited))
        socket_hub = (
            await stack.enter_async_context(hub_server(limited)) if store == "redis" else http_hub
        )
        if limited.redis_url:
            stack.push_async_callback(shared_redis(limited.redis_url).client.aclose)
        # given two HTTP requests with the token
        async with httpx.AsyncClient(base_url=http_hub.http, timeout=10) as http:
            for _ in range(2):
                answer = await http.post(
                    "/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {token}"}
                )
                assert answer.status_code == 200
        async with socket(socket_hub, token) as client:
            # then two operations over a socket fill the window
            for n in range(2):
                assert (await client.run(f"q{n}", VIEWER))["type"] == "next"
            # and the next is refused with an error, not a closed connection
            refused = await client.run("q3", VIEWER)
            assert refused["type"] == "error" and refused["id"] == "q3"
            (error,) = refused["payload"]
            assert error["extensions"]["code"] == "RATE_LIMITED"
            assert error["extensions"]["retryAfter"] > 0
            await client.send({"type": "ping"})
            assert await client.receive() == {"type": "pong"}


async def test_anonymous_logins_over_a_socket_count_per_address(orm: Settings) -> None:
    limited = replace(orm, rate_limit_address_per_minute=4)
    async with hub_server(limited) as served, socket(served) as client:  # the handshake counts
        answers = [await client.run(f"l{n}", LOGIN, u="nobody", p="guess") for n in range(4)]
    assert [a["type"] for a in answers] == ["next", "next", "next", "error"]
    assert answers[-1]["payload"][0]["extensions"]["code"] == "RATE_LIMITED"


# ---------------------------------------------------------------- caps


async def test_connections_per_account_are_capped(orm: Settings, w: World) -> None:
    user = await account(w.name)
    token = access_token(orm, user)
    capped = replace(orm, ws_max_connections_per_account=2)
    async with hub_server(capped) as served, socket(served, token), socket(served, token):
        async with socket(served, token, acknowledged=False) as third:
            closed = await third.closed()
        assert closed.code == 4403 and "too many connections" in closed.reason
        # another account is not affected
        other = await account(w.name)
        async with socket(served, access_token(orm, other)) as client:
            assert (await client.run("q", VIEWER))["type"] == "next"


async def test_subscriptions_per_connection_and_account_are_capped(orm: Settings, w: World) -> None:
    user = await account(w.name)
    token = access_token(orm, user)
    capped = replace(orm, ws_max_subscriptions_per_connection=2, ws_max_subscriptions_per_account=3)
    async with (
        hub_server(capped) as served,
        socket(served, token) as first,
        socket(served, token) as second,
    ):
        # two on the first connection; a third there is refused
        await first.subscribe("a", SUBSCRIBE)
        await first.subscribe("b", SUBSCRIBE)
        await first.subscribe("c", SUBSCRIBE)
        refused = await first.receive()
        assert refused["type"] == "error" and refused["id"] == "c"
        assert refused["payload"][0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"

        # one on the second; a fourth for the account is refused
        await second.subscribe("d", SUBSCRIBE)
        await second.subscribe("e", SUBSCRIBE)
        refused = await second.receive()
        assert refused["id"] == "e"
        assert refused["payload"][0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"

        # a completed subscription gives its slot back
        # (the slot is freed once the cancelled operation has ended: ask again until it is)
        await first.send({"id": "a", "type": "complete"})
        for attempt in range(50):
            await second.subscribe(f"f{attempt}", SUBSCRIBE)
            try:
                answer = await second.receive(QUIET)
            except TimeoutError:
                break  # taken: no refusal came
            assert answer["payload"][0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
        else:
            raise AssertionError("the completed subscription's slot was never given back")


# ---------------------------------------------------------------- unexpected errors


async def test_a_failing_credential_check_answers_that_operation_masked(
    orm: Settings, served: Served, w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a connection, and a database that fails once while its credential is checked
    user = await account(w.name)
    resolve = auth.resolve_bearer
    failures = 0

    async def failing_once(**kwargs: Any) -> Any:
        nonlocal failures
        if failures == 0:
            failures += 1
            raise OperationalError("connection to server lost: secret detail")
        return await resolve(**kwargs)

    async with socket(served, access_token(orm, user)) as client:
        monkeypatch.setattr(auth, "resolve_bearer", failing_once)

        # when an operation arrives: it gets a masked error with an id, nothing of the cause
        answer = await client.run("q", VIEWER)
        assert failures == 1
        assert answer["type"] == "error" and answer["id"] == "q"
        [error] = answer["payload"]
        assert error["extensions"]["code"] == "INTERNAL" and error["extensions"]["errorId"]
        assert error["extensions"]["errorId"] in error["message"]
        assert "secret" not in str(answer)

        # then the connection stays usable
        again = await client.run("q2", VIEWER)
        assert again["payload"]["data"] == {"viewer": {"username": user.username}}
