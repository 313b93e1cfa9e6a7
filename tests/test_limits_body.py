"""Request body size limit: 413 by Content-Length and while reading a chunked body; bodies
under the limit, roster uploads included, are answered as before."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest

from hub.app import create_app
from hub.enums import Role
from hub.models import User
from hub.services.auth import create_api_token
from hub.settings import Settings

pytestmark = pytest.mark.usefixtures("orm")

LIMIT = 4096
IMPORT = """
mutation($input: ImportMembersInput!) {
  importMembers(input: $input) { ok rows dryRun errors { code } rowErrors { line } }
}"""


@pytest.fixture
async def client(orm: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(replace(orm, max_body_bytes=LIMIT))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        yield client


def _query(size: int) -> bytes:
    """A valid GraphQL request of about ``size`` bytes (the rest is a comment)."""
    body = json.dumps({"query": "{ __typename }\n#" + "x" * size}).encode()
    return body[: max(size, len(body))]


def _chunks(data: bytes, size: int, read: list[int]) -> Callable[[], AsyncIterator[bytes]]:
    async def stream() -> AsyncIterator[bytes]:
        for start in range(0, len(data), size):
            read.append(start)
            yield data[start : start + size]

    return stream


def _assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert f"{LIMIT} bytes" in error["message"]


async def test_a_body_over_the_limit_is_refused_by_its_length(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=_query(LIMIT + 1), headers={"content-type": "application/json"}
    )
    _assert_too_large(response)


async def test_a_chunked_body_is_cut_at_the_limit(client: httpx.AsyncClient) -> None:
    # given a body of 16 chunks of 1 KiB, without Content-Length, against a 4 KiB limit
    read: list[int] = []
    data = _query(16 * 1024)
    response = await client.post(
        "/graphql",
        content=_chunks(data, 1024, read)(),
        headers={"content-type": "application/json"},
    )
    # then it is refused once past the limit, before the rest is read
    _assert_too_large(response)
    assert len(read) == LIMIT // 1024 + 1


async def test_bodies_under_the_limit_are_answered(client: httpx.AsyncClient) -> None:
    sized = await client.post("/graphql", json={"query": "{ __typename }"})
    read: list[int] = []
    chunked = await client.post(
        "/graphql",
        content=_chunks(_query(LIMIT - 200), 512, read)(),
        headers={"content-type": "application/json"},
    )
    assert sized.status_code == chunked.status_code == 200, chunked.text
    assert chunked.json() == {"data": {"__typename": "Query"}}


async def _upload(client: httpx.AsyncClient, token: str, data: bytes) -> httpx.Response:
    operations = {"query": IMPORT, "variables": {"input": {"file": None, "dryRun": True}}}
    return await client.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": ("名册.csv", data, "text/csv")},
        headers={"Authorization": f"Bearer {token}", "GraphQL-Preflight": "1"},
    )


@pytest.mark.parametrize("rows, refused", [(10, False), (200, True)])
async def test_roster_upload_against_the_limit(
    client: httpx.AsyncClient, unique_name: str, rows: int, refused: bool
) -> None:
    user = await User.create(username=f"a{unique_name}", password_hash="-", role=Role.ADMIN)
    token, _ = await create_api_token(user=user, name=unique_name)
    lines = ["姓名,性别,手机号码,党员类别,所属支部,入党日期"] + [
        f"{unique_name}{i},女,139{i:08d},在职党员,无此支部,2001-07-01" for i in range(rows)
    ]
    response = await _upload(client, token, "\n".join(lines).encode("utf-8-sig"))
    if refused:
        _assert_too_large(response)
        return
    # a small roster goes through to the import (a dry run: its rows name no branch)
    assert response.status_code == 200, response.text
    payload: dict[str, Any] = response.json()["data"]["importMembers"]
    assert payload["dryRun"] is True and payload["rowErrors"]
