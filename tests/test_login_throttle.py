"""The login lock cannot be raced: concurrent attempts (over HTTP and WebSocket) check at
most ``login_max_failures`` passwords, and a success does not wipe concurrent failures."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from hub.app import create_app
from hub.enums import Role
from hub.models import LoginThrottle, User
from hub.passwords import hash_password
from hub.search import fold
from hub.services import auth
from hub.settings import Settings
from tests.admin_support import serve

pytestmark = pytest.mark.usefixtures("orm")

LOGIN = """
mutation($u: String!, $p: String!) {
  login(username: $u, password: $p) { accessToken errors { message code } }
}"""
PASSWORD = "Linju-2020-pass"
WRONG = "Not-the-pass-1"


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        yield client


@pytest.fixture
async def user(unique_name: str) -> User:
    return await User.create(
        username=f"t{unique_name}", password_hash=hash_password(PASSWORD), role=Role.READER
    )


class Checks:
    """Counts the passwords actually verified; optionally holds some of them."""

    def __init__(self) -> None:
        self.passwords: list[str] = []
        self.lock = threading.Lock()
        self.hold: dict[str, threading.Event] = {}

    def wrap(self, verify: Callable[[str | None, str], bool]) -> Callable[[str | None, str], bool]:
        def counted(password_hash: str | None, password: str) -> bool:
            with self.lock:
                self.passwords.append(password)
            gate = self.hold.get(password)
            if gate is not None:
                assert gate.wait(30), "the held check was never released"
            return verify(password_hash, password)

        return counted


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> Checks:
    counter = Checks()
    monkeypatch.setattr(auth, "verify_password", counter.wrap(auth.verify_password))
    return counter


async def _login(client: httpx.AsyncClient, username: str, password: str) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": LOGIN, "variables": {"u": username, "p": password}}
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]["login"]


def _code(answer: dict[str, Any]) -> str | None:
    return answer["errors"][0]["code"] if answer["errors"] else None


async def test_forty_logins_at_once_check_at_most_the_limit(
    client: httpx.AsyncClient, user: User, settings: Settings, checks: Checks
) -> None:
    # When 39 wrong passwords and then the right one are sent at once
    passwords = [WRONG] * 39 + [PASSWORD]
    answers = await asyncio.gather(*(_login(client, user.username, p) for p in passwords))

    # Then at most the limit of passwords was checked; the rest were refused unchecked
    assert len(checks.passwords) <= settings.login_max_failures
    refused = [a for a in answers if _code(a) == "LOCKED"]
    assert len(refused) >= len(passwords) - settings.login_max_failures
    right = answers[-1]
    if right["accessToken"] is None:
        # the right password came after the limit: the account is locked, even for it
        assert checks.passwords.count(WRONG) == settings.login_max_failures
        again = await _login(client, user.username, PASSWORD)
        assert again["accessToken"] is None and _code(again) == "LOCKED"
    else:
        # it was checked within the limit, before the lock
        assert PASSWORD in checks.passwords
    assert sum(a["accessToken"] is not None for a in answers[:-1]) == 0


async def test_once_locked_the_right_password_is_not_even_checked(
    client: httpx.AsyncClient, user: User, settings: Settings, checks: Checks
) -> None:
    for _ in range(settings.login_max_failures):
        assert _code(await _login(client, user.username, WRONG)) == "UNAUTHENTICATED"
    answers = await asyncio.gather(*(_login(client, user.username, PASSWORD) for _ in range(40)))
    assert {_code(a) for a in answers} == {"LOCKED"}
    assert all(a["accessToken"] is None for a in answers)
    assert checks.passwords == [WRONG] * settings.login_max_failures


async def test_unknown_usernames_race_and_lock_alike(
    client: httpx.AsyncClient, settings: Settings, unique_name: str, checks: Checks
) -> None:
    ghost = f"ghost{unique_name}"
    answers = await asyncio.gather(*(_login(client, ghost, WRONG) for _ in range(40)))
    assert len(checks.passwords) == settings.login_max_failures
    codes = [_code(a) for a in answers]
    assert codes.count("UNAUTHENTICATED") == settings.login_max_failures
    assert codes.count("LOCKED") == 40 - settings.login_max_failures


async def test_a_success_does_not_wipe_failures_counted_meanwhile(
    client: httpx.AsyncClient, user: User, settings: Settings, checks: Checks
) -> None:
    # Given the owner's login whose (right) password is being checked
    checks.hold[PASSWORD] = release = threading.Event()
    owner = asyncio.create_task(_login(client, user.username, PASSWORD))
    while PASSWORD not in checks.passwords:
        await asyncio.sleep(0.01)

    # When wrong guesses are confirmed meanwhile, up to one below the limit
    for _ in range(settings.login_max_failures - 1):
        assert _code(await _login(client, user.username, WRONG)) == "UNAUTHENTICATED"
    release.set()
    assert (await owner)["accessToken"]

    # Then they still count: one more wrong guess locks the username
    assert _code(await _login(client, user.username, WRONG)) == "UNAUTHENTICATED"
    locked = await _login(client, user.username, PASSWORD)
    assert _code(locked) == "LOCKED"


async def test_a_success_forgives_the_failures_before_it(
    client: httpx.AsyncClient, user: User, settings: Settings
) -> None:
    for _ in range(settings.login_max_failures - 1):
        assert _code(await _login(client, user.username, WRONG)) == "UNAUTHENTICATED"
    assert (await _login(client, user.username, PASSWORD))["accessToken"]
    for _ in range(settings.login_max_failures - 1):
        assert _code(await _login(client, user.username, WRONG)) == "UNAUTHENTICATED"
    assert (await _login(client, user.username, PASSWORD))["accessToken"]
    # with nothing left to count, the username has no throttle row at all
    assert not await LoginThrottle.exists(key=fold(user.username))


async def test_logins_over_a_websocket_count_against_the_same_lock(
    orm: Settings, user: User, checks: Checks
) -> None:
    async for server in serve(orm):
        url = server.url.replace("http://", "ws://") + "/graphql"
        async with connect(url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
            await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert json.loads(await socket.recv())["type"] == "connection_ack"
            # wrong passwords over the anonymous socket, up to the limit
            for n in range(orm.login_max_failures):
                payload = {"query": LOGIN, "variables": {"u": user.username, "p": WRONG}}
                await socket.send(
                    json.dumps({"id": str(n), "type": "subscribe", "payload": payload})
                )
                message = json.loads(await asyncio.wait_for(socket.recv(), 30))
                assert message["type"] == "next", message
                assert _code(message["payload"]["data"]["login"]) == "UNAUTHENTICATED"
                assert json.loads(await asyncio.wait_for(socket.recv(), 30))["type"] == "complete"
        # then the right password over HTTP is refused: the username is locked
        async with httpx.AsyncClient(base_url=server.url) as http:
            locked = await _login(http, user.username, PASSWORD)
        assert _code(locked) == "LOCKED"
        assert checks.passwords == [WRONG] * orm.login_max_failures
