"""The compiled read path behind /graphql: one SQL statement per root field, fallbacks
counted in /metrics, and the differential mode's mismatch log."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from hub import models as m
from hub.app import create_app
from hub.enums import Role
from hub.services.auth import create_api_token
from hub.settings import Settings
from schema import compiled
from tests.api_data import World, build_world, gid
from tests.orm_context import observers
from tests.read_path_support import MismatchCollector

pytestmark = pytest.mark.usefixtures("orm")

ROSTER = """query Roster($prefix: String!) {
  branches(where: {name: {startsWith: $prefix}}, first: 50) {
    nodes { name
      compounds(first: 50) {
        nodes { name propertyCompany { name } ownersCommittee { directorName } } }
      members(first: 20) { nodes { name category phone } } } }
  total: members(first: 1) { totalCount }
}"""
POINT = """query Point($id: ID!) { member: node(id: $id) { ... on Member {
  name category phone branch { name community { name street { name } } } } } }"""


@dataclasses.dataclass
class Place:
    world: World
    token: str
    settings: Settings


async def _place(settings: Settings, name: str) -> Place:
    world = await build_world(name)
    user = await m.User.create(username=f"{name}-admin", password_hash="-", role=Role.ADMIN)
    token, _ = await create_api_token(user=user, name="compiled test")
    return Place(world, token, dataclasses.replace(settings, response_cache=False))


_APPS: dict[Settings, Any] = {}


async def _post(settings: Settings, token: str, query: str, **variables: Any) -> httpx.Response:
    """POST to one app per settings (a process: its plan cache and its log-once set)."""
    if settings not in _APPS:
        _APPS[settings] = create_app(settings)
    transport = httpx.ASGITransport(app=_APPS[settings])
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        return await client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )


@pytest.fixture
async def place(settings: Settings, unique_name: str) -> AsyncIterator[Place]:
    yield await _place(settings, unique_name)


def _counting() -> tuple[list[str], Any]:
    statements: list[str] = []

    def observe(sql: str, seconds: float, connection: str) -> None:
        if "json_" in sql:  # the compiled statements (not the token's lookup)
            statements.append(sql)

    return statements, observers().on_statement(observe)


async def test_one_statement_per_root_field(place: Place) -> None:
    prefix = place.world.branches[0].name[:-1]
    statements, stop = _counting()
    try:
        response = await _post(place.settings, place.token, ROSTER, prefix=prefix)
        roster = response.json()
        point = await _post(place.settings, place.token, POINT, id=gid(place.world.members[0]))
    finally:
        stop()
    assert response.status_code == 200 and "errors" not in roster
    assert len(roster["data"]["branches"]["nodes"]) == 2
    assert point.json()["data"]["member"]["branch"]["community"]["street"]["name"]
    # two root fields, then one: whatever the depth and the page sizes
    assert len(statements) == 3


async def test_a_field_that_falls_back_is_counted_and_logged(
    place: Place, caplog: pytest.LogCaptureFixture
) -> None:
    # (every field compiles now; a statistics selection wider than one JSON object, which
    # only a hub without the alias limit lets through, still falls back)
    settings = dataclasses.replace(place.settings, max_aliases=0)
    wide = " ".join(f"m{i}: membersTotal" for i in range(51))
    query = f"{{ statistics {{ {wide} }} b: branches(first: 1) {{ totalCount }} }}"
    labels = {"field": "statistics"}
    before = REGISTRY.get_sample_value("linju_read_fallback_total", labels) or 0.0
    with caplog.at_level(logging.DEBUG, logger="linju.read_path"):
        for _ in range(2):
            response = await _post(settings, place.token, query)
            assert "errors" not in response.json()
    after = REGISTRY.get_sample_value("linju_read_fallback_total", labels) or 0.0
    assert after - before == 2
    logged = [r for r in caplog.records if "not compiled" in r.getMessage()]
    assert len(logged) == 1 and "statistics" in logged[0].getMessage()


async def test_differential_mode_logs_a_mismatch(
    place: Place,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    read_path_mismatches: MismatchCollector,
) -> None:
    settings = dataclasses.replace(place.settings, read_path="differential")
    point = {"id": gid(place.world.members[0])}
    with caplog.at_level(logging.ERROR, logger="linju.read_path"):
        agreed = await _post(settings, place.token, POINT, **point)
    assert agreed.json()["data"]["member"]["name"]
    assert not [r for r in caplog.records if "mismatch" in r.getMessage()]

    original = compiled.ReadPath.run

    async def wrong(self: compiled.ReadPath, plan: Any, viewer: Any, variables: Any) -> Any:
        result = await original(self, plan, viewer, variables)
        result.data = {"member": None}
        return result

    monkeypatch.setattr(compiled.ReadPath, "run", wrong)
    with caplog.at_level(logging.ERROR, logger="linju.read_path"):
        answered = await _post(settings, place.token, POINT, **point)
    assert answered.json() == agreed.json()  # the resolvers' answer
    [record] = [r for r in caplog.records if "mismatch" in r.getMessage()]
    message = record.getMessage()
    assert message.startswith("read path mismatch")
    assert "Point" in message and "ADMIN" in message and "node(id: $id)" in message
    read_path_mismatches.clear()  # made on purpose: the suite's mismatch guard lets it be


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.settings import SettingsError, load_settings

    monkeypatch.setenv("LINJU_READ_PATH", "differential")
    assert load_settings().read_path == "differential"
    monkeypatch.setenv("LINJU_READ_PATH", "sometimes")
    with pytest.raises(SettingsError, match="LINJU_READ_PATH"):
        load_settings()


async def test_a_failing_statement_is_answered_by_the_resolvers(
    place: Place, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: compiled.ReadPath, plan: Any, viewer: Any, variables: Any) -> Any:
        raise RuntimeError("connection lost")

    monkeypatch.setattr(compiled.ReadPath, "run", broken)
    with caplog.at_level(logging.ERROR, logger="linju.read_path"):
        response = await _post(place.settings, place.token, POINT, id=gid(place.world.members[0]))
    assert response.json()["data"]["member"]["name"] == place.world.members[0].name
    assert any("compiled read failed" in r.getMessage() for r in caplog.records)
