"""The read path's short cuts answer exactly what the long way answers.

- rows hydrated by resolvers.rows equal Tortoise's own ``_init_from_db``;
- a cached document is still costed with each request's variables;
- the bench's hand-written SQL returns the same JSON as the hub (PostgreSQL).
"""

from __future__ import annotations

import json

import pytest
from tortoise import connections
from tortoise.expressions import Q

from bench.queries import cases
from hub import models as m
from hub.settings import Settings
from resolvers.loaders import BY_ID
from resolvers.rows import fetch_by_key, hydrate
from schema.errors import ErrorCode
from seeds.loader import SeedReport
from tests.api_data import data, execute
from tests.conftest import BACKEND

pytestmark = pytest.mark.usefixtures("orm")

COSTLY = """
query($n: Int!) {
  branches(first: $n) { nodes { members(first: 500) { nodes { name } } } }
}
"""


@pytest.mark.parametrize("model", sorted(set(BY_ID.values()), key=lambda m: m.__name__))
async def test_hydrated_rows_equal_tortoise_rows(demo: SeedReport, model: type[m.Record]) -> None:
    # Given the stored rows of a model, read as raw records
    table = model._meta.db_table
    db = connections.get("default")
    _, records = await db.execute_query(f'SELECT * FROM "{table}" ORDER BY "id" LIMIT 50')
    # When each is hydrated both ways
    for record in records:
        fast, slow = hydrate(model, record), model._init_from_db(**record)
        # Then the objects hold the same attributes with the same values and types
        assert type(fast) is type(slow)
        assert fast.__dict__ == slow.__dict__
        assert {k: type(v) for k, v in fast.__dict__.items()} == {
            k: type(v) for k, v in slow.__dict__.items()
        }


async def test_fetch_by_key_equals_filter(demo: SeedReport) -> None:
    # Given some member ids, one of them unknown
    ids = [*(await m.Member.all().order_by("-id").limit(7).values_list("id", flat=True)), 0]
    # When they are fetched with a kept statement, twice (the second from the cache)
    for _ in range(2):
        fast = await fetch_by_key(m.Member, Q(), "id", ids)
        slow = await m.Member.filter(id__in=ids)
        # Then the rows are Tortoise's own
        assert sorted(r.pk for r in fast) == sorted(r.pk for r in slow)
        by_pk = {r.pk: r for r in slow}
        assert all(r.__dict__ == by_pk[r.pk].__dict__ for r in fast)


async def test_cached_document_is_costed_with_each_requests_variables(
    settings: Settings,
) -> None:
    # Given one document asked for with a small and then a huge page, and small again
    answers = [await execute(settings, COSTLY, n=n) for n in (1, 400, 1)]
    # Then only the huge page is refused, though the document was cached after the first
    assert answers[0].errors is None
    assert answers[1].errors and answers[1].errors[0].extensions["code"] == (
        ErrorCode.QUERY_TOO_COMPLEX.value
    )
    assert answers[2].errors is None


async def test_cached_document_still_refuses_unknown_fields(settings: Settings) -> None:
    # Given a valid query that was cached, and the same query with an unknown field
    good = "{ streets(first: 1) { nodes { name } } }"
    bad = "{ streets(first: 1) { nodes { name nope } } }"
    for _ in range(2):
        assert (await execute(settings, good)).errors is None
        # Then the unknown field is refused every time
        errors = (await execute(settings, bad)).errors
        assert errors and "nope" in errors[0].message


@pytest.mark.skipif(BACKEND != "postgres", reason="the bench's SQL is PostgreSQL's")
async def test_bench_sql_returns_what_the_hub_returns(settings: Settings, demo: SeedReport) -> None:
    # Given the bench's three cases over the demo data
    member_ids = tuple(await m.Member.all().order_by("id").values_list("id", flat=True))
    db = connections.get("default")
    for case in cases(member_ids):
        for body, args in list(zip(case.bodies, case.sql_args, strict=True))[:3]:
            request = json.loads(body)
            # When the hub and the hand-written statement answer
            hub = await data(settings, request["query"], **request.get("variables", {}))
            sql_text = (await db.execute_query(case.sql, list(args)))[1][0][0]
            # Then they answer the same document
            assert json.loads(sql_text) == {"data": hub}, case.name
