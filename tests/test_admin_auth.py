"""Signing in to the console: hub accounts, the API's throttling, cookies, CSRF, languages."""

from __future__ import annotations

import httpx

from hub.enums import AuditAction, Role
from hub.models import AuditLog, District, LoginSession, Street, User
from hub.services.auth import INVALID_CREDENTIALS
from hub.settings import Settings
from tests.admin_support import (
    PASSWORD,
    Console,
    Server,
    console,
    console_server,
    make_account,
    serve,
    signed_in,
)

__all__ = ["console", "console_server"]  # fixtures


async def test_the_console_asks_to_sign_in_first(console: Console) -> None:
    home = await console.get("/admin/")
    assert home.status_code == 200
    assert 'id="login-form"' in home.text and "管理后台" in home.text

    members = await console.get("/admin/member/")
    assert members.status_code == 302
    assert "/admin/login/" in members.headers["location"]


async def test_an_admin_signs_in_with_a_session_cookie(console: Console, unique_name: str) -> None:
    # Given an ADMIN account
    await make_account(unique_name, Role.ADMIN)

    # When it signs in
    response = await console.login(unique_name)

    # Then it gets a signed session cookie: HttpOnly, SameSite, scoped to the console
    assert response.status_code == 302
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("linju_console=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/admin" in cookie
    assert "Secure" not in cookie  # plain http here
    home = await console.get("/admin/")
    assert 'id="logout"' in home.text and unique_name in home.text
    # and the login is in the audit log, as for the API
    entry = await AuditLog.filter(actor_name=unique_name, action=AuditAction.LOGIN).first()
    assert entry is not None


async def test_the_cookie_is_secure_over_https(console: Console, unique_name: str) -> None:
    await make_account(unique_name, Role.ADMIN)
    token = await console.token()
    # uvicorn trusts X-Forwarded-Proto from the local proxy: the request is HTTPS.
    response = await console.post(
        "/admin/login/",
        {"csrf_token": token, "username": unique_name, "password": PASSWORD},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert response.status_code == 302
    assert "Secure" in response.headers["set-cookie"]


async def test_a_wrong_password_is_refused_and_throttled_like_the_api(
    console: Console, orm: Settings, unique_name: str
) -> None:
    await make_account(unique_name, Role.ADMIN)
    for _ in range(orm.login_max_failures):
        refused = await console.login(unique_name, "not-the-password")
        assert refused.status_code == 400
        assert INVALID_CREDENTIALS in refused.text
    # the account is now locked, even with the right password
    locked = await console.login(unique_name)
    assert locked.status_code == 400
    assert "登录失败次数过多" in locked.text
    failures = await AuditLog.filter(actor_name=unique_name, action=AuditAction.LOGIN_FAILED)
    assert len(failures) == orm.login_max_failures + 1


async def test_readers_may_not_use_the_console(console: Console, unique_name: str) -> None:
    await make_account(unique_name, Role.READER)
    refused = await console.login(unique_name)
    assert refused.status_code == 400
    assert "无权使用管理后台" in refused.text
    assert (await console.get("/admin/member/")).status_code == 302


async def test_a_form_without_its_csrf_token_is_refused(console: Console, unique_name: str) -> None:
    await make_account(unique_name, Role.ADMIN)
    refused = await console.post("/admin/login/", {"username": unique_name, "password": PASSWORD})
    assert refused.status_code == 400
    assert (await console.get("/admin/member/")).status_code == 302  # not signed in

    await console.login(unique_name)
    forged = await console.post("/admin/logout/", {})
    assert forged.status_code == 400
    still = await console.get("/admin/member/")
    assert still.status_code == 200


async def test_signing_out_ends_the_session(console_server: Server, unique_name: str) -> None:
    await make_account(unique_name, Role.ADMIN)
    client = await signed_in(console_server, unique_name)
    try:
        out = await client.submit("/admin/", "/admin/logout/", {})
        assert out.status_code == 302
        assert (await client.get("/admin/member/")).status_code == 302
    finally:
        await client.close()


async def test_a_cookie_replayed_after_signing_out_is_signed_out(
    console_server: Server, unique_name: str
) -> None:
    # Given a signed-in console session whose cookie someone copied
    user = await make_account(unique_name, Role.ADMIN)
    client = await signed_in(console_server, unique_name)
    copied = httpx.Cookies(client.http.cookies)
    replay = Console(console_server.url)
    try:
        replay.http.cookies = copied
        assert (await replay.get("/admin/member/")).status_code == 200

        # When its owner signs out
        out = await client.submit("/admin/", "/admin/logout/", {})
        assert out.status_code == 302

        # Then the copy is signed out too: the session ended on the server
        assert (await replay.get("/admin/member/")).status_code == 302
        ended = await LoginSession.get(user_id=user.id, channel="console")
        assert ended.revoked_at is not None and ended.revoked_reason == "logout"
        # and the audit log says who signed out of which session
        logged = await AuditLog.get(user_id=user.id, entity="LoginSession")
        assert logged.action is AuditAction.UPDATE and logged.entity_id == str(ended.id)
        assert logged.after == {"logout": "session"}
    finally:
        await replay.close()
        await client.close()


async def test_the_session_works_in_another_process_and_ends_with_revocation(
    console_server: Server, orm: Settings, unique_name: str
) -> None:
    # Given a session opened on one server
    user = await make_account(unique_name, Role.ADMIN)
    client = await signed_in(console_server, unique_name)
    cookies = client.http.cookies
    try:
        # When its cookie is sent to another, stateless, instance of the hub
        async for other in serve(orm):
            second = Console(other.url)
            second.http.cookies = cookies
            try:
                # Then that instance knows the user too
                assert (await second.get("/admin/member/")).status_code == 200
                # and revoking the user's tokens ends the console session everywhere
                user.token_version += 1
                await user.save(update_fields=["token_version"])
                assert (await second.get("/admin/member/")).status_code == 302
            finally:
                await second.close()
        assert (await client.get("/admin/member/")).status_code == 302
    finally:
        await client.close()


async def test_english_is_switchable_per_user(console_server: Server, unique_name: str) -> None:
    user = await make_account(unique_name, Role.ADMIN)
    client = await signed_in(console_server, unique_name)
    try:
        chinese = await client.get("/admin/member/")
        assert "党员" in chinese.text and "创建" in chinese.text
        switched = await client.submit(
            "/admin/", "/admin/language/", {"lang": "en", "next": "/admin/member/"}
        )
        assert switched.status_code == 302
        english = await client.get("/admin/member/")
        assert ">Members<" in english.text or "Members -" in english.text
        assert "Create" in english.text and "Category" in english.text
        await user.refresh_from_db()
        assert user.language == "en"
    finally:
        await client.close()
    # the choice is the account's: a new session starts in English
    again = await signed_in(console_server, unique_name)
    try:
        assert "Create" in (await again.get("/admin/member/")).text
    finally:
        await again.close()


async def test_a_curator_sees_only_views_of_its_scope(
    console_server: Server, unique_name: str
) -> None:
    district = await District.create(name=f"{unique_name}区")
    street = await Street.create(district=district, name=f"{unique_name}街道")
    await make_account(unique_name, Role.CURATOR, street=street)
    client = await signed_in(console_server, unique_name)
    try:
        home = await client.get("/admin/")
        assert 'href="/admin/member/"' in home.text
        assert 'href="/admin/auditlog/"' not in home.text  # the audit log is the admins'
        assert (await client.get("/admin/auditlog/")).status_code == 302
        assert (await client.get("/admin/propertycompany/")).status_code == 302
    finally:
        await client.close()


async def test_inactive_users_lose_their_session(console_server: Server, unique_name: str) -> None:
    user = await make_account(unique_name, Role.ADMIN)
    client = await signed_in(console_server, unique_name)
    try:
        await User.filter(id=user.id).update(is_active=False)
        assert (await client.get("/admin/member/")).status_code == 302
    finally:
        await client.close()
