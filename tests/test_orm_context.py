"""A second ORM context on another dialect must not change how the session reads rows.

Regression: after tests/test_app.py opened a PostgreSQL context inside a SQLite session,
``records.update`` on a co-building agreement failed in ``specs._period`` with
"'<=' not supported between 'datetime.date' and 'str'": the session's models had been
re-tuned to PostgreSQL's driver, which hands back dates ready-made, so the SQLite
session's DATE column came back as its stored text.
"""

from __future__ import annotations

import datetime as dt
import socket

from hub import models as m
from hub.enums import UnitKind
from hub.services import records
from hub.settings import Settings
from tests.conftest import BACKEND
from tests.orm_context import side_context
from tests.service_world import build_world


def _other_dialect() -> Settings:
    if BACKEND == "sqlite":
        with socket.socket() as probe:  # a port nobody listens on: init never connects
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        return Settings(database_url=f"postgres://postgres@127.0.0.1:{port}/linju")
    return Settings(database_url="sqlite://:memory:")


async def test_rows_read_back_typed_after_a_context_on_another_dialect(
    orm: Settings, unique_name: str
) -> None:
    # given a world with an agreement, and a context opened and closed on the other dialect
    w = await build_world(unique_name)
    unit = await m.CoBuildingUnit.create(name=f"{unique_name}学校", kind=UnitKind.SCHOOL)
    agreement = await records.create(
        actor=w.admin,
        entity="CoBuildingAgreement",
        data={"unit_id": unit.id, "branch_id": w.branch.id, "signed_on": "2020-03-01"},
    )
    async with side_context(_other_dialect()):
        pass

    # when the session reads and updates rows again
    row = await m.CoBuildingAgreement.get(id=agreement.id)
    community = await m.Community.get(id=w.community.id)
    updated = await records.update(
        actor=w.admin,
        entity="CoBuildingAgreement",
        id=agreement.id,
        version=agreement.version,
        data={"ends_on": "2023-03-01"},
    )

    # then dates are dates and booleans are booleans, and the period check compares dates
    assert row.signed_on == dt.date(2020, 3, 1)
    assert community.is_provincial_model is False
    assert updated.ends_on == dt.date(2023, 3, 1) and updated.version == agreement.version + 1
