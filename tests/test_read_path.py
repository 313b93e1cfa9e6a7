"""The read path's short cuts answer exactly what the long way answers.

- a cached document is still costed with each request's variables;
- the bench's hand-written SQL returns the same JSON as the hub (PostgreSQL).
"""

from __future__ import annotations

import json

import pytest
from tortoise import connections

from hub import models as m
from hub.settings import Settings
from resolvers.errors import ErrorCode
from seeds.loader import SeedReport
from tests.api_data import data, execute
from tests.conftest import BACKEND
from tests.hand_sql import cases

pytestmark = pytest.mark.usefixtures("orm")

COSTLY = """
query($n: Int!) {
  branches(first: $n) { nodes { members(first: 500) { nodes { name } } } }
}
"""


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
