"""The console under hostile input and in hostile frames (issue 14, findings 9 and 10).

Every response carries a Content-Security-Policy that refuses framing; the sign-in
keeps the page asked for; no page number, id, filter value or ``next`` target makes a
500.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import pytest

from hub.enums import Role
from seeds.loader import SeedReport
from tests.admin_support import Console, Server, console_server, make_account, signed_in

__all__ = ["console_server"]

HUGE = "9" * 30
ENORMOUS = [HUGE, "99999999999", "2147483648", "-1", "-99999999999"]
INLINE_HANDLER = re.compile(r"<[^>]*\son(click|change|submit|load)=", re.IGNORECASE)


@pytest.fixture(scope="module")
async def admin(demo: SeedReport, console_server: Server) -> AsyncIterator[Console]:
    await make_account("console-hardening-admin", Role.ADMIN)
    client = await signed_in(console_server, "console-hardening-admin")
    yield client
    await client.close()


@pytest.fixture
async def anonymous(console_server: Server) -> AsyncIterator[Console]:
    client = Console(console_server.url)
    yield client
    await client.close()


def assert_secured(headers: object) -> None:
    policy = headers["content-security-policy"]  # type: ignore[index]
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self' 'nonce-" in policy and "'unsafe-inline'" not in policy
    assert "object-src 'none'" in policy
    assert headers["x-frame-options"] == "DENY"  # type: ignore[index]
    assert headers["x-content-type-options"] == "nosniff"  # type: ignore[index]
    assert headers["referrer-policy"] == "same-origin"  # type: ignore[index]


async def test_every_console_response_is_secured(admin: Console, anonymous: Console) -> None:
    for client, path in [
        (anonymous, "/admin/login/"),
        (anonymous, "/admin/member/"),  # a redirect
        (anonymous, "/admin/assets/console.css"),
        (admin, "/admin/"),
        (admin, "/admin/member/"),
        (admin, "/admin/member/export/csv/"),
        (admin, "/admin/nowhere/"),  # a 404
    ]:
        answer = await client.get(path)
        assert answer.status_code in (200, 302, 404), path
        assert_secured(answer.headers)


async def test_each_page_gets_its_own_nonce_and_no_inline_handler(admin: Console) -> None:
    first = await admin.get("/admin/compound/")
    second = await admin.get("/admin/compound/")
    nonce = re.search(r"'nonce-([^']+)'", first.headers["content-security-policy"])
    assert nonce is not None
    assert f'nonce="{nonce.group(1)}"' in first.text  # every script tag carries it
    assert nonce.group(1) not in second.headers["content-security-policy"]
    assert not re.search(r"<script(?![^>]*nonce=)", first.text)
    assert INLINE_HANDLER.search(first.text) is None
    assert "data-hub-confirm=" in first.text  # the delete question, asked by console.js


async def test_signing_in_returns_to_the_page_asked_for(
    anonymous: Console, unique_name: str
) -> None:
    await make_account(unique_name, Role.ADMIN)
    asked = await anonymous.get("/admin/member/", params={"page": "1", "search": "李"})
    assert asked.status_code == 302
    login = urlsplit(asked.headers["location"])
    target = parse_qs(login.query)["next"][0]
    assert urlsplit(target).path == "/admin/member/"
    assert parse_qs(urlsplit(target).query) == {"page": ["1"], "search": ["李"]}
    form = await anonymous.get(f"{login.path}?{login.query}")
    assert f'value="{target}"' in form.text.replace("&amp;", "&")
    signed = await anonymous.submit(
        "/admin/login/",
        "/admin/login/",
        {"username": unique_name, "password": "console-test-password-2020", "next": target},
    )
    assert signed.status_code == 302
    assert signed.headers["location"] == target
    # A page without a query comes back without a dangling "?"
    fresh = Console(str(anonymous.http.base_url))
    try:
        again = await fresh.get("/admin/compound/")
    finally:
        await fresh.close()
    assert parse_qs(urlsplit(again.headers["location"]).query)["next"] == ["/admin/compound/"]


@pytest.mark.parametrize(
    "target",
    [
        "/admin/member/\r\nSet-Cookie: x=1",
        "/admin/\nLocation: https://ev.il/",
        "https://ev.il/admin/",
        "//ev.il/admin/",
        "/\\ev.il",
        "/admin\\..\\",
        "http://[",
        "/elsewhere/",
        "/admin/" + "x" * 5000,
    ],
)
async def test_a_hostile_next_goes_home(anonymous: Console, unique_name: str, target: str) -> None:
    await make_account(unique_name, Role.ADMIN)
    shown = await anonymous.get("/admin/login/", params={"next": target})
    assert shown.status_code == 200
    signed = await anonymous.submit(
        "/admin/login/",
        "/admin/login/",
        {"username": unique_name, "password": "console-test-password-2020", "next": target},
    )
    assert signed.status_code == 302
    assert signed.headers["location"] == "/admin/"


@pytest.mark.parametrize("page", ENORMOUS)
async def test_any_page_number_is_a_page(admin: Console, page: str) -> None:
    for path in ("/admin/member/", "/admin/auditlog/", "/admin/compound/"):
        for name in ("page", "page_size", "sort"):
            answer = await admin.get(path, params={name: page})
            assert answer.status_code in (200, 400, 404), (path, name, page, answer.status_code)


@pytest.mark.parametrize("record", [*ENORMOUS, "0", "abc", "1e9", " 1"])
async def test_any_record_id_is_found_or_not(admin: Console, record: str) -> None:
    for view in ("member", "compound", "residentrequest", "auditlog"):
        for page in ("details", "edit"):
            answer = await admin.get(f"/admin/{view}/{page}/", params={"id": record})
            assert answer.status_code in (200, 302, 404), (view, page, record)


@pytest.mark.parametrize("value", [HUGE, "99999999999", "-99999999999", "99999"])
async def test_any_number_in_a_filter_is_answered(admin: Console, value: str) -> None:
    for path, flt in [
        ("/admin/member/", "flt0_id_equals"),
        ("/admin/member/", "flt0_id_greater_than"),
        ("/admin/auditlog/", "flt0_id_equals"),
        ("/admin/compound/", "flt0_community_equals"),
        ("/admin/branch/", "flt0_star_rating_equals"),  # a SMALLINT column
        ("/admin/residentrequest/", "flt0_satisfaction_equals"),
        ("/admin/residentrequest/", "flt0_satisfaction_in_list"),
    ]:
        answer = await admin.get(path, params={flt: value})
        assert answer.status_code in (200, 400), (path, flt, value, answer.status_code)


async def test_a_bulk_action_with_enormous_ids_is_answered(admin: Console) -> None:
    answer = await admin.submit(
        "/admin/compound/",
        "/admin/compound/action/",
        {"action": "delete", "rowid": [HUGE, "99999999999", "-1"], "url": "/admin/compound/"},
    )
    assert answer.status_code in (200, 302, 400)
