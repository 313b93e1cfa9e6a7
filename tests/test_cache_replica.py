"""Read-replica routing: which database a read used, proven with two databases whose
data differ (the second stands in for a replica; nothing copies between them)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import asyncpg
import httpx
import pytest
from tortoise.connection import get_connection
from tortoise.router import router
from tortoise.transactions import in_transaction

from hub import models as m
from hub.app import create_app
from hub.app.graphql_app import CACHE_HEADER
from hub.cache import response_cache
from hub.db import REPLICA, migrate, reading_primary
from hub.enums import Role
from hub.services.auth import create_api_token
from hub.settings import Settings
from schema.node import encode_global_id
from tests.conftest import BACKEND, PG_SERVER
from tests.orm_context import side_context

DISTRICTS = """query($names: [String!]) {
  districts(where: {name: {in: $names}}) { edges { node { name } } } }"""
CREATE_STREET = """mutation($input: CreateStreetInput!) {
  createStreet(input: $input) { errors { code } } }"""


@dataclass
class Pair:
    settings: Settings
    on_primary: str  # a district only the primary holds
    on_replica: str  # a district only the "replica" holds
    primary_district: int


async def _database(tmp_path: Path) -> tuple[str, str | None]:
    if BACKEND != "postgres":
        return f"sqlite://{tmp_path / uuid.uuid4().hex}.db", None
    name = f"linju_replica_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(f"{PG_SERVER}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return f"{PG_SERVER}/{name}", name


@pytest.fixture
async def pair(orm: Settings, tmp_path: Path) -> AsyncIterator[Pair]:
    (primary, p_name), (replica, r_name) = await _database(tmp_path), await _database(tmp_path)
    settings = replace(orm, database_url=primary, read_database_url=replica)
    try:
        await migrate(replace(orm, database_url=primary))
        if BACKEND == "postgres":
            await migrate(replace(orm, database_url=replica))
        else:  # the same schema, sooner (migrating a SQLite file takes seconds)
            shutil.copyfile(primary.removeprefix("sqlite://"), replica.removeprefix("sqlite://"))
        async with side_context(settings):
            district = await m.District.create(name="主库区")
            await m.District.create(name="副本区", using_db=get_connection(REPLICA))
            yield Pair(settings, "主库区", "副本区", district.id)
    finally:
        router.init_routers([])  # Tortoise keeps routers process-wide
        response_cache(settings).close()
        for name in (p_name, r_name):
            if name:
                admin = await asyncpg.connect(f"{PG_SERVER}/postgres")
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await admin.close()


async def _names() -> list[str]:
    return sorted(await m.District.all().values_list("name", flat=True))  # type: ignore[arg-type]


async def test_reads_go_to_the_replica_unless_told_otherwise(pair: Pair) -> None:
    assert await _names() == [pair.on_replica]
    with reading_primary():
        assert await _names() == [pair.on_primary]
    async with in_transaction("default"):  # a transaction runs on the primary and reads there
        assert await _names() == [pair.on_primary]
    # account records always come from the primary
    user = await m.User.create(username="replica-test", password_hash="-", role=Role.ADMIN)
    assert await m.User.filter(id=user.id).exists()


async def test_a_writer_reads_its_own_writes_and_replica_answers_wait_for_the_lag(
    pair: Pair,
) -> None:
    app = create_app(pair.settings)
    writer = await m.User.create(username="writer", password_hash="-", role=Role.ADMIN)
    other = await m.User.create(username="other", password_hash="-", role=Role.ADMIN)
    writer_token, _ = await create_api_token(user=writer, name="t")
    other_token, _ = await create_api_token(user=other, name="t")
    names = [pair.on_primary, pair.on_replica]

    async def districts(client: httpx.AsyncClient, token: str) -> tuple[list[str], str]:
        response = await client.post(
            "/graphql",
            json={"query": DISTRICTS, "variables": {"names": names}},
            headers={"Authorization": f"Bearer {token}"},
        )
        body = response.json()
        assert "errors" not in body, body
        found = [e["node"]["name"] for e in body["data"]["districts"]["edges"]]
        return found, response.headers[CACHE_HEADER]

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        # the replica answers; districts changed just now (the fixture wrote one), so
        # the replica's answer is not kept: it may predate that write
        assert await districts(client, other_token) == ([pair.on_replica], "miss")
        # a mutation reads and writes the primary (its district exists only there)
        district_id = encode_global_id("District", pair.primary_district)
        created = await client.post(
            "/graphql",
            json={
                "query": CREATE_STREET,
                "variables": {
                    "input": {"districtId": district_id, "name": "新街道", "kind": "STREET"}
                },
            },
            headers={"Authorization": f"Bearer {writer_token}"},
        )
        body = created.json()
        assert body.get("data") and body["data"]["createStreet"]["errors"] == [], body
        # then the writer reads the primary for replica_lag_seconds, and that answer,
        # read from the primary, may be kept and shared with the same scope
        assert await districts(client, writer_token) == ([pair.on_primary], "stored")
        assert await districts(client, other_token) == ([pair.on_primary], "hit")
