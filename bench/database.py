"""The bench's own PostgreSQL database: created fresh, migrated, seeded, dropped.

Everything here runs in the bench's controlling process before the hub starts; the
ORM is closed again before any load is driven.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

from hub.db import migrate
from hub.runtime import Runtime
from hub.settings import Settings

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
BENCH_USERNAME = "bench-admin"


@dataclass(frozen=True)
class BenchDatabase:
    """A database made for one bench run, and the ADMIN token to read it with."""

    server: str
    name: str
    token: str = ""
    member_ids: tuple[int, ...] = ()

    @property
    def url(self) -> str:
        return f"{self.server}/{self.name}"


async def admin_sql(server: str, sql: str) -> None:
    conn = await asyncpg.connect(f"{server}/postgres", timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def create(server: str = DEFAULT_SERVER, *, scale: int = 1) -> BenchDatabase:
    """A fresh database with the demo data (``scale`` districts) and an ADMIN API token."""
    from hub.enums import Role
    from hub.models import Member, User
    from hub.passwords import hash_password
    from hub.services.auth import create_api_token
    from seeds.loader import load_demo

    name = f"linju_bench_{uuid.uuid4().hex[:10]}"
    await admin_sql(server, f'CREATE DATABASE "{name}"')
    database = BenchDatabase(server=server, name=name)
    try:
        settings = Settings(database_url=database.url)
        await migrate(settings)
        runtime = await Runtime.start(settings)
        try:
            await load_demo(scale=scale)
            user = await User.create(
                username=BENCH_USERNAME,
                display_name="压测管理员",
                password_hash=hash_password(uuid.uuid4().hex),
                role=Role.ADMIN,
            )
            token, _ = await create_api_token(user=user, name="bench")
            member_ids = await Member.all().order_by("id").values_list("id", flat=True)
        finally:
            await runtime.close()
    except BaseException:
        await drop(database)
        raise
    # The planner should know the tables as a long-running hub's would.
    conn = await asyncpg.connect(database.url, timeout=10)
    try:
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    return BenchDatabase(
        server=server, name=name, token=token, member_ids=tuple(int(i) for i in member_ids)
    )


async def drop(database: BenchDatabase) -> None:
    await admin_sql(database.server, f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
