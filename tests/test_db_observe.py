"""Every statement is reported, and every committed write — only once committed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tortoise.transactions import in_transaction

from hub.db_observe import written_tables
from hub.models import District
from tests.orm_context import observers

pytestmark = pytest.mark.usefixtures("orm")


@pytest.mark.parametrize(
    ("sql", "tables"),
    [
        ('INSERT INTO "member" ("name") VALUES ($1)', {"member"}),
        ("INSERT OR REPLACE INTO member_tag VALUES (?)", {"member_tag"}),
        ('UPDATE "branch" SET "name"=$1 WHERE "id"=$2', {"branch"}),
        ('DELETE FROM "activity" WHERE "id" IN (SELECT "id" FROM "x")', {"activity"}),
        ('  update public."compound" set x=1', {"compound"}),
        ('TRUNCATE TABLE "member", "branch" CASCADE', {"member", "branch"}),
        ('SELECT "id" FROM "member" WHERE "name"=$1', set()),
        ("WITH t AS (SELECT 1) SELECT * FROM t", set()),
    ],
)
def test_written_tables(sql: str, tables: set[str]) -> None:
    assert written_tables(sql) == tables


@pytest.fixture
def commits() -> Iterator[list[frozenset[str]]]:
    seen: list[frozenset[str]] = []
    remove = observers().on_commit(seen.append)
    yield seen
    remove()


async def test_a_write_outside_a_transaction_is_reported_at_once(
    commits: list[frozenset[str]], unique_name: str
) -> None:
    district = await District.create(name=unique_name)
    assert commits == [frozenset({"district"})]
    await district.delete()


async def test_a_transaction_reports_once_after_commit(
    commits: list[frozenset[str]], unique_name: str
) -> None:
    district = await District.create(name=unique_name)
    commits.clear()
    async with in_transaction():
        await District.filter(id=district.id).update(name=f"{unique_name}甲")
        async with in_transaction():  # a savepoint: reported with the outer transaction
            await District.filter(id=district.id).update(name=f"{unique_name}乙")
        assert commits == []
    assert commits == [frozenset({"district"})]
    await district.delete()


async def test_a_rolled_back_transaction_reports_nothing(
    commits: list[frozenset[str]], unique_name: str
) -> None:
    district = await District.create(name=unique_name)
    commits.clear()
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await District.filter(id=district.id).update(name=f"{unique_name}丙")
            raise RuntimeError("changed my mind")
    assert commits == []
    assert (await District.get(id=district.id)).name == unique_name
    await district.delete()


async def test_async_observers_finish_before_the_writer_resumes(unique_name: str) -> None:
    order: list[str] = []

    async def slow_observer(tables: frozenset[str]) -> None:
        order.append("observer")

    remove = observers().on_commit(slow_observer)
    try:
        async with in_transaction():
            district = await District.create(name=unique_name)
        order.append("writer")
    finally:
        remove()
    assert order == ["observer", "writer"]
    await district.delete()


async def test_statements_are_timed_and_a_failing_observer_is_skipped(
    unique_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    timed: list[tuple[str, float, str]] = []

    def broken(sql: str, seconds: float, connection: str) -> None:
        raise ValueError("observer bug")

    remove_broken = observers().on_statement(broken)
    remove = observers().on_statement(lambda *args: timed.append(args))
    try:
        assert await District.filter(name=unique_name).count() == 0
    finally:
        remove()
        remove_broken()
    ((sql, seconds, connection),) = timed
    assert sql.lstrip().upper().startswith("SELECT") and '"district"' in sql
    assert seconds >= 0 and connection == "default"
    assert "statement observer" in caplog.text
