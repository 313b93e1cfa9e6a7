"""The response cache's parts: tables read, keys, stores, data versions, staleness."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from graphql import OperationType
from strawberry.types import ExecutionResult
from tortoise.transactions import in_transaction

from hub import models as m
from hub.access.viewer import Viewer
from hub.cache import response_cache, track_writes
from hub.cache.keys import cache_key, inspect_operation
from hub.cache.redis_state import EPOCH, RedisState
from hub.cache.state import LOCAL_VERSIONS, LocalState
from hub.cache.tables import known_tables, tables_in, tracking_reads
from hub.enums import Role
from hub.settings import Settings
from hub.shared import shared_redis
from tests.cache_support import cache_settings, redis_server, with_redis
from tests.orm_context import observers

__all__ = ["cache_settings", "redis_server"]

ADMIN = Viewer(user_id=1, username="a", role=Role.ADMIN)
READER = Viewer(user_id=2, username="r", role=Role.READER)
PARTNER = Viewer(user_id=3, username="p", role=Role.PARTNER, unit_id=7)


# --- tables -------------------------------------------------------------------


def test_known_tables_are_the_models_and_their_through_tables() -> None:
    tables = known_tables()
    assert {"member", "branch", "hub_user", "branch_compound", "activity_unit"} <= tables
    assert "name" not in tables


def test_tables_in_a_statement_are_the_known_tables_it_names() -> None:
    sql = (
        'SELECT "member"."name","member__branch"."id" FROM "member" '
        'LEFT OUTER JOIN "branch" "member__branch" ON "member__branch"."id"="member"."branch_id" '
        'WHERE "member"."id" IN (SELECT "compound_id" FROM "branch_compound")'
    )
    assert tables_in(sql) == {"member", "branch", "branch_compound"}
    assert tables_in("SELECT 1") == frozenset()


async def test_reads_are_tracked_only_inside_the_block(orm: Settings) -> None:
    with tracking_reads() as reads:
        await m.Street.all().limit(1)
        await m.Branch.all().prefetch_related("compounds").limit(1)
    await m.Member.all().limit(1)
    assert {"street", "branch"} <= reads.tables
    assert "member" not in reads.tables
    assert not reads.replica


# --- keys ---------------------------------------------------------------------


def test_the_operation_kind_is_read_from_the_document() -> None:
    query = inspect_operation("{ districts { totalCount } }", None)
    assert query is not None and query.kind is OperationType.QUERY and not query.personal
    two = "query A { viewer { username } } mutation B { logout { ok } }"
    picked = inspect_operation(two, "B")
    assert picked is not None and picked.kind is OperationType.MUTATION
    assert inspect_operation(two, None) is None  # which one? execution will say
    assert inspect_operation("{ districts", None) is None
    personal = inspect_operation("query { me: viewer { username } }", None)
    assert personal is not None and personal.personal


def _key(viewer: Viewer, personal: bool = False, **variables: object) -> str:
    return cache_key(
        schema="s",
        query="query($a: Int, $b: Int) { x }",
        operation_name=None,
        variables=variables,
        viewer=viewer,
        personal=personal,
    )


def test_keys_follow_scope_variables_and_person() -> None:
    assert _key(ADMIN, a=1, b=2) == _key(ADMIN, b=2, a=1)  # canonical variables
    assert _key(ADMIN, a=1) != _key(ADMIN, a=2)
    assert _key(ADMIN) != _key(READER) != _key(PARTNER)
    other_admin = Viewer(user_id=9, username="b", role=Role.ADMIN)
    assert _key(ADMIN) == _key(other_admin)  # same scope, same answer
    assert _key(ADMIN, personal=True) != _key(other_admin, personal=True)
    with pytest.raises(TypeError):
        _key(ADMIN, a=object())  # an upload, say: not plain JSON, not cached


# --- stores -------------------------------------------------------------------


async def test_the_local_store_evicts_the_least_recently_used_and_expires() -> None:
    state = LocalState(max_entries=2)
    await state.store("a", b"1", ttl=60)
    await state.store("b", b"2", ttl=60)
    assert (await state.lookup("a", writer=None)).entry == b"1"  # a is now recent
    await state.store("c", b"3", ttl=60)
    assert (await state.lookup("b", writer=None)).entry is None
    assert (await state.lookup("a", writer=None)).entry == b"1"
    await state.store("d", b"4", ttl=0)
    assert (await state.lookup("d", writer=None)).entry is None


async def test_redis_state_keeps_entries_versions_and_an_epoch(redis_server: str) -> None:
    url = f"{redis_server}?prefix=t{uuid.uuid4().hex[:12]}"
    state = RedisState(url)
    redis = shared_redis(url)
    try:
        first = await state.lookup("k", writer=None)
        assert first.entry is None and EPOCH in first.versions
        await state.store("k", b"entry", ttl=60)
        await state.bump(frozenset({"member", "branch"}))
        await state.bump(frozenset({"member"}))
        await state.note_write("user:1", seconds=30)
        second = await state.lookup("k", writer="user:1")
        assert second.entry == b"entry"
        assert second.versions["member"] == 2 and second.versions["branch"] == 1
        assert second.versions[EPOCH] == first.versions[EPOCH]
        assert second.bumped["member"] > 0 and second.wrote_recently
        assert not (await state.lookup("k", writer="user:2")).wrote_recently
        # a lost versions hash gets a new epoch: old entries can never match again
        await redis.client.delete(redis.key("versions"))
        assert (await state.lookup("k", writer=None)).versions[EPOCH] != first.versions[EPOCH]
    finally:
        keys = [k async for k in redis.client.scan_iter(match=redis.key("*"))]
        await redis.client.delete(*keys)


# --- versions -----------------------------------------------------------------


async def test_a_commit_bumps_the_versions_and_a_rollback_does_not(
    orm: Settings, unique_name: str
) -> None:
    before = LOCAL_VERSIONS.versions.get("district", 0)
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await m.District.create(name=unique_name)
            raise RuntimeError("roll back")
    assert LOCAL_VERSIONS.versions.get("district", 0) == before
    async with in_transaction():
        await m.District.create(name=unique_name)
        assert LOCAL_VERSIONS.versions.get("district", 0) == before  # not yet committed
    assert LOCAL_VERSIONS.versions["district"] == before + 1


async def test_writes_bump_redis_versions_when_configured(
    orm: Settings, redis_server: str, unique_name: str
) -> None:
    # Given the session's connections bumping a Redis (as a Runtime on these settings does)
    settings = with_redis(orm, redis_server)
    stop = track_writes(observers(), settings)
    try:
        state = RedisState(settings.redis_url or "")
        before = (await state.lookup(None, writer=None)).versions.get("district", 0)
        await m.District.create(name=unique_name)
        assert (await state.lookup(None, writer=None)).versions["district"] == before + 1
    finally:
        stop()
        redis = shared_redis(settings.redis_url or "")
        keys = [k async for k in redis.client.scan_iter(match=redis.key("*"))]
        await redis.client.delete(*keys)


# --- the cache itself, with a stand-in execution ------------------------------

QUERY = "{ districts { totalCount } }"


class Schema:
    """Stands in for a strawberry schema (the key uses its SDL)."""

    def __str__(self) -> str:
        return "type Query { districts: Int }"


SCHEMA = Schema()


def _run(name: str, *, write_meanwhile: bool = False):  # type: ignore[no-untyped-def]
    """An 'execution' that reads districts (and may commit a write while running)."""

    async def run() -> ExecutionResult:
        count = await m.District.filter(name__startswith=name).count()
        if write_meanwhile:
            await m.District.create(name=f"{name}-{count}")
        return ExecutionResult(data={"n": count}, errors=None)

    return run


async def _ask(settings: Settings, run, viewer: Viewer = ADMIN) -> tuple[object, list[str]]:  # type: ignore[no-untyped-def]
    outcomes: list[str] = []
    result = await response_cache(settings).execute(
        run,
        schema=SCHEMA,
        query=QUERY,
        operation_name=None,
        variables=None,
        viewer=viewer,
        outcome=outcomes.append,
    )
    return result.data, outcomes


async def test_a_hit_needs_every_dependency_at_its_version(
    cache_settings: Settings, unique_name: str
) -> None:
    assert await _ask(cache_settings, _run(unique_name)) == ({"n": 0}, ["miss", "stored"])
    assert await _ask(cache_settings, _run(unique_name)) == ({"n": 0}, ["hit"])
    await m.District.create(name=unique_name)
    assert await _ask(cache_settings, _run(unique_name)) == ({"n": 1}, ["miss", "stored"])
    await m.Street.all().limit(1)  # reads and writes of other tables do not matter
    await m.PropertyCompany.filter(name=unique_name).update(name=unique_name)
    assert await _ask(cache_settings, _run(unique_name)) == ({"n": 1}, ["hit"])


async def test_a_write_committed_while_the_query_ran_makes_its_entry_stale(
    cache_settings: Settings, unique_name: str
) -> None:
    # the 'query' counts 0 and then a write commits before it answers
    first = await _ask(cache_settings, _run(unique_name, write_meanwhile=True))
    assert first == ({"n": 0}, ["miss", "stored"])
    # the entry was stored with the version from before: never served
    assert await _ask(cache_settings, _run(unique_name)) == ({"n": 1}, ["miss", "stored"])
    assert await _ask(cache_settings, _run(unique_name)) == ({"n": 1}, ["hit"])


async def test_results_with_errors_are_not_cached(cache_settings: Settings) -> None:
    async def failing() -> ExecutionResult:
        from graphql import GraphQLError

        return ExecutionResult(data=None, errors=[GraphQLError("no")])

    assert (await _ask(cache_settings, failing))[1] == ["miss"]
    assert (await _ask(cache_settings, failing))[1] == ["miss"]


async def test_mutations_and_a_disabled_cache_bypass(orm: Settings, unique_name: str) -> None:
    off = replace(orm, response_cache=False)
    try:
        assert (await _ask(off, _run(unique_name)))[1] == ["bypass"]
        assert (await _ask(off, _run(unique_name)))[1] == ["bypass"]
        outcomes: list[str] = []
        await response_cache(orm).execute(
            _run(unique_name),
            schema=SCHEMA,
            query="mutation { logout { ok } }",
            operation_name=None,
            variables=None,
            viewer=ADMIN,
            outcome=outcomes.append,
        )
        assert outcomes == ["bypass"]
    finally:
        response_cache(off).close()


async def test_a_redis_that_does_not_answer_serves_uncached(
    orm: Settings, unique_name: str
) -> None:
    from tests.broker_servers import free_port

    down = replace(orm, redis_url=f"redis://127.0.0.1:{free_port()}/0?prefix=down")
    try:
        assert await _ask(down, _run(unique_name)) == ({"n": 0}, ["bypass"])
        # and a write still succeeds (its Redis bump is logged, not raised)
        await m.District.create(name=unique_name)
        assert await _ask(down, _run(unique_name)) == ({"n": 1}, ["bypass"])
    finally:
        response_cache(down).close()
