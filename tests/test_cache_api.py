"""The response cache through the HTTP API: hits, and fresh data after every kind of write.

Each test reads through the hub's own ASGI app (httpx's ASGI transport) with a cache of
its own, in this process or in Redis (``cache_settings``). The ``x-linju-cache`` header
says how the cache answered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from hub import models as m
from hub.app import create_app
from hub.app.graphql_app import CACHE_HEADER
from hub.cache.tables import tables_in
from hub.enums import AgreementStatus, Role, UnitKind
from hub.services.auth import create_api_token
from hub.settings import Settings
from schema.node import encode_global_id
from tests.admin_support import Server, console_server, make_account, signed_in
from tests.cache_support import cache_settings, redis_server
from tests.conftest import count_statements
from tests.service_world import World, build_world

__all__ = ["cache_settings", "console_server", "redis_server"]

COMPOUND = """query($id: ID!) { node(id: $id) { ... on Compound { name households version } } }"""
UPDATE = """mutation($input: UpdateCompoundInput!) {
  updateCompound(input: $input) { compound { households version } errors { code } } }"""
COMPOUNDS = """query($name: String!) {
  compounds(where: {name: {eq: $name}}) { totalCount edges { node { name } } } }"""
VIEWER = "{ viewer { username role } }"
ACCOUNT_TABLES = {"api_token", "hub_user"}


@dataclass
class Place:
    world: World
    compound_id: str
    tokens: dict[str, str]


async def _token(username: str, role: Role, **scope: Any) -> str:
    user = await m.User.create(username=username, password_hash="-", role=role, **scope)
    token, _ = await create_api_token(user=user, name="cache test")
    return token


@pytest.fixture
async def place(orm: Settings, unique_name: str) -> Place:
    world = await build_world(unique_name)
    unit = await m.CoBuildingUnit.create(name=f"{unique_name}单位", kind=UnitKind.ENTERPRISE)
    # the partner's agreement is with the other branch: it sees the other compound only
    await m.CoBuildingAgreement.create(
        unit=unit,
        branch=world.other_branch,
        signed_on=dt.date(2020, 1, 1),
        status=AgreementStatus.ACTIVE,
    )
    tokens = {
        "admin": await _token(f"{unique_name}-ta", Role.ADMIN),
        "admin2": await _token(f"{unique_name}-tb", Role.ADMIN),
        "reader": await _token(f"{unique_name}-tr", Role.READER),
        "reader2": await _token(f"{unique_name}-ts", Role.READER),
        "partner": await _token(f"{unique_name}-tp", Role.PARTNER, unit=unit),
    }
    return Place(world, encode_global_id("Compound", world.compound.id), tokens)


@pytest.fixture
async def client(cache_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(cache_settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        yield client


async def ask(
    client: httpx.AsyncClient, token: str, query: str, **variables: Any
) -> tuple[dict[str, Any], str]:
    """(data, how the cache answered) of an operation that must succeed."""
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"], response.headers.get(CACHE_HEADER, "")


async def test_a_repeated_query_is_answered_from_the_cache_without_sql(
    client: httpx.AsyncClient, place: Place
) -> None:
    admin = place.tokens["admin"]
    first, how = await ask(client, admin, COMPOUND, id=place.compound_id)
    assert how == "stored" and first["node"]["name"] == "甲小区"
    with count_statements() as sql:
        again, how = await ask(client, admin, COMPOUND, id=place.compound_id)
    assert (again, how) == (first, "hit")
    # only the token's own lookup touches the database
    touched = set().union(*(tables_in(s) for s in sql.statements))
    assert touched <= ACCOUNT_TABLES, sql.statements


async def test_a_mutation_then_the_same_query_gives_fresh_data(
    client: httpx.AsyncClient, place: Place
) -> None:
    admin = place.tokens["admin"]
    before, _ = await ask(client, admin, COMPOUND, id=place.compound_id)
    assert (await ask(client, admin, COMPOUND, id=place.compound_id))[1] == "hit"
    for households in (101, 102, 103):
        changed, how = await ask(
            client,
            admin,
            UPDATE,
            input={
                "id": place.compound_id,
                "version": before["node"]["version"],
                "households": households,
            },
        )
        assert changed["updateCompound"]["errors"] == [] and how == "bypass"
        after, how = await ask(client, admin, COMPOUND, id=place.compound_id)
        assert after["node"]["households"] == households and how == "stored"
        before = after


async def test_a_raw_orm_write_gives_fresh_data(client: httpx.AsyncClient, place: Place) -> None:
    admin = place.tokens["admin"]
    await ask(client, admin, COMPOUND, id=place.compound_id)
    await m.Compound.filter(id=place.world.compound.id).update(households=77)
    after, how = await ask(client, admin, COMPOUND, id=place.compound_id)
    assert after["node"]["households"] == 77 and how == "stored"
    # a write to a table the query reads through a relation counts too
    listed, _ = await ask(client, admin, COMPOUNDS, name="甲小区")
    await m.Compound.create(community=place.world.sibling_community, name="甲小区")
    relisted, how = await ask(client, admin, COMPOUNDS, name="甲小区")
    assert relisted["compounds"]["totalCount"] == listed["compounds"]["totalCount"] + 1
    assert how == "stored"


async def test_partner_and_admin_answers_are_never_shared(
    client: httpx.AsyncClient, place: Place
) -> None:
    name = place.world.compound.name  # the compound the partner may not see
    for _ in range(2):  # second round: each from its own entry
        admin, _ = await ask(client, place.tokens["admin"], COMPOUNDS, name=name)
        partner, _ = await ask(client, place.tokens["partner"], COMPOUNDS, name=name)
        reader, _ = await ask(client, place.tokens["reader"], COMPOUNDS, name=name)
        assert admin["compounds"]["totalCount"] >= 1
        assert partner["compounds"]["totalCount"] == 0
        assert reader == admin
    # two admins share one entry (same scope)
    assert (await ask(client, place.tokens["admin2"], COMPOUNDS, name=name))[1] == "hit"


async def test_the_viewer_field_is_never_shared_between_two_users(
    client: httpx.AsyncClient, place: Place
) -> None:
    for _ in range(2):
        one, _ = await ask(client, place.tokens["reader"], VIEWER)
        two, _ = await ask(client, place.tokens["reader2"], VIEWER)
        assert one["viewer"]["username"].endswith("-tr")
        assert two["viewer"]["username"].endswith("-ts")
    assert (await ask(client, place.tokens["reader2"], VIEWER))[1] == "hit"


async def test_errors_are_not_cached(client: httpx.AsyncClient, place: Place) -> None:
    for _ in range(2):
        response = await client.post("/graphql", json={"query": "{ statistics { branches } }"})
        assert response.json()["errors"]
        assert response.headers[CACHE_HEADER] in {"miss", "bypass"}


async def test_a_console_write_gives_fresh_data(console_server: Server, unique_name: str) -> None:
    # the console's server runs in this process, with the session's settings
    world = await build_world(unique_name)
    admin = await make_account(f"{unique_name}-ca", Role.ADMIN)
    token, _ = await create_api_token(user=admin, name="cache test")
    console = await signed_in(console_server, admin.username)
    compound_id = encode_global_id("Compound", world.compound.id)
    async with httpx.AsyncClient(base_url=console_server.url) as api:
        try:
            before, _ = await ask(api, token, COMPOUND, id=compound_id)
            assert (await ask(api, token, COMPOUND, id=compound_id))[1] == "hit"
            edit = f"/admin/compound/edit/?id={world.compound.id}"
            saved = await console.submit(
                edit,
                edit,
                {
                    "community_id": str(world.community.id),
                    "name": "甲小区",
                    "households": "555",
                    "version": str(before["node"]["version"]),
                },
            )
            assert saved.status_code == 302, saved.text[-2000:]
            after, how = await ask(api, token, COMPOUND, id=compound_id)
            assert after["node"]["households"] == 555 and how == "stored"
        finally:
            await console.close()
