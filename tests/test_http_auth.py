"""Logging in over HTTP and using the token; bad tokens get 401."""

from __future__ import annotations

import httpx
import pytest

from hub.app import create_app
from hub.enums import AuditAction, Role
from hub.models import AuditLog, LoginSession, User
from hub.passwords import hash_password
from hub.settings import Settings

pytestmark = pytest.mark.usefixtures("orm")

LOGIN = """
mutation($u: String!, $p: String!) {
  login(username: $u, password: $p) {
    accessToken refreshToken account { username role } errors { field message code }
  }
}"""
VIEWER = "{ viewer { username role } districts(first: 1) { totalCount } }"
REFRESH = """
mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken errors { code } } }
"""
PASSWORD = "Linju-2020-pass"


@pytest.fixture
async def client(settings: Settings) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        yield client


@pytest.fixture
async def reader(unique_name: str) -> User:
    return await User.create(
        username=f"r{unique_name}", password_hash=hash_password(PASSWORD), role=Role.READER
    )


async def _post(client: httpx.AsyncClient, query: str, token: str | None = None, **variables):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )


async def test_login_then_read_with_the_token(client: httpx.AsyncClient, reader: User) -> None:
    answer = (await _post(client, LOGIN, u=reader.username, p=PASSWORD)).json()["data"]["login"]
    assert answer["errors"] == [] and answer["account"] == {
        "username": reader.username,
        "role": "READER",
    }
    me = (await _post(client, VIEWER, answer["accessToken"])).json()["data"]
    assert me["viewer"]["username"] == reader.username
    renewed = (await _post(client, REFRESH, t=answer["refreshToken"])).json()["data"]
    assert renewed["refreshSession"]["accessToken"]


async def test_anonymous_reads_nothing(client: httpx.AsyncClient, reader: User) -> None:
    data = (await _post(client, VIEWER)).json()["data"]
    assert data == {"viewer": None, "districts": {"totalCount": 0}}


async def test_wrong_password_is_a_payload_error(client: httpx.AsyncClient, reader: User) -> None:
    answer = (await _post(client, LOGIN, u=reader.username, p="wrong")).json()["data"]["login"]
    assert answer["accessToken"] is None
    assert answer["errors"][0]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Bearer lj_00000000_nope", "Basic eA=="])
async def test_bad_credentials_get_401(client: httpx.AsyncClient, header: str) -> None:
    response = await client.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": header}
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


LOGOUT = "mutation($all: Boolean!) { logout(everywhere: $all) { ok } }"


async def test_logout_is_audited(client: httpx.AsyncClient, reader: User) -> None:
    # given two logins of one account
    tokens = []
    for _ in range(2):
        answer = (await _post(client, LOGIN, u=reader.username, p=PASSWORD)).json()
        tokens.append(answer["data"]["login"]["accessToken"])
    sessions = await LoginSession.filter(user_id=reader.id).order_by("id")
    # when the first logs out of its session, then the second everywhere
    for token, everywhere in zip(tokens, (False, True), strict=True):
        done = (await _post(client, LOGOUT, token, all=everywhere)).json()
        assert done == {"data": {"logout": {"ok": True}}}
    # then both are in the audit log, by the account, with what ended
    entries = await AuditLog.filter(user_id=reader.id, action=AuditAction.UPDATE).order_by("id")
    assert [(e.entity, e.entity_id, e.after) for e in entries] == [
        ("LoginSession", str(sessions[0].id), {"logout": "session"}),
        ("User", str(reader.id), {"logout": "everywhere"}),
    ]
    assert all(e.actor_name == reader.username and e.address for e in entries)
