"""Driving the console in tests as production does: a real uvicorn server on the
session's event loop, the Flask app in a2wsgi's worker threads, the bridge handing
their ORM work back to that loop.

The server is the hub's own ASGI app with its lifespan off (the session's ``orm``
fixture has opened the ORM already) and ``app.state.loop`` set to the running loop,
which is exactly what the lifespan would have done.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from hub.app import create_app
from hub.enums import Role
from hub.models import User
from hub.passwords import hash_password
from hub.settings import Settings

PASSWORD = "console-test-password-2020"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass
class Server:
    url: str
    app: Any


async def serve(settings: Settings) -> AsyncIterator[Server]:
    app = create_app(settings)
    app.state.loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield Server(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture(scope="session")
async def console_server(orm: Settings) -> AsyncIterator[Server]:
    async for server in serve(orm):
        yield server


async def make_account(username: str, role: Role = Role.ADMIN, **scope: Any) -> User:
    return await User.create(
        username=username,
        display_name=username,
        password_hash=hash_password(PASSWORD),
        role=role,
        **scope,
    )


def csrf_token(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


class Console:
    """An httpx client of the console that keeps its session cookie."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=60)

    async def close(self) -> None:
        await self.http.aclose()

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.get(path, **kwargs)

    async def post(self, path: str, data: dict[str, Any], **kwargs: Any) -> httpx.Response:
        return await self.http.post(path, data=data, **kwargs)

    async def token(self, page: str = "/admin/login/") -> str:
        response = await self.get(page)
        return csrf_token(response.text)

    async def submit(
        self, form_page: str, action: str, data: dict[str, Any], **kw: Any
    ) -> httpx.Response:
        """POST ``data`` to ``action`` with the CSRF token of ``form_page``."""
        return await self.post(action, {"csrf_token": await self.token(form_page), **data}, **kw)

    async def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        return await self.submit(
            "/admin/login/", "/admin/login/", {"username": username, "password": password}
        )


@pytest.fixture
async def console(console_server: Server) -> AsyncIterator[Console]:
    client = Console(console_server.url)
    try:
        yield client
    finally:
        await client.close()


async def signed_in(server: Server, username: str) -> Console:
    client = Console(server.url)
    response = await client.login(username)
    assert response.status_code == 302, response.text[:500]
    return client
