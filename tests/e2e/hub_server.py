"""Serve the hub with the demo dataset for the browser tests (and for trying the console).

    python -m tests.e2e.hub_server --database-url sqlite:///tmp/e2e.db --port 8123

Migrates the database, loads the Tianyuan demo dataset (skipped when present), makes
the test accounts below, then serves with uvicorn — the hub's own lifespan opens the
ORM and keeps the loop the console hands its work to, as in production.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import uvicorn

from hub.app import create_app
from hub.db import close_orm, init_orm, migrate
from hub.enums import Role
from hub.models import Community, Street, User
from hub.passwords import hash_password
from hub.settings import Settings
from seeds.loader import load_demo
from tests.read_path_support import with_read_path

SECRET_KEY = "linju-e2e-secret-key-of-at-least-32-bytes"
PASSWORD = "e2e-password-2020"
ADMIN = "e2e-admin"
STREET_CURATOR = "e2e-songshan"  # curator of 嵩山路街道
COMMUNITY_CURATOR = "e2e-xiaohutang"  # curator of 小湖塘社区


async def prepare(settings: Settings) -> None:
    await migrate(settings)
    await init_orm(settings)
    try:
        await load_demo(scale=1)
        street = await Street.get(name="嵩山路街道")
        community = await Community.get(name="小湖塘社区")
        accounts = {
            ADMIN: {"role": Role.ADMIN},
            STREET_CURATOR: {"role": Role.CURATOR, "street": street},
            COMMUNITY_CURATOR: {"role": Role.CURATOR, "community": community},
        }
        for username, fields in accounts.items():
            if not await User.exists(username=username):
                await User.create(
                    username=username,
                    display_name=username,
                    password_hash=hash_password(PASSWORD),
                    **fields,
                )
    finally:
        await close_orm()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    # No address rate limit: one browser loading every console page with its ~40 assets
    # is one address far over a minute's 1200 requests. LINJU_TEST_READ_PATH reaches this
    # process through the environment.
    settings = with_read_path(
        Settings(
            database_url=args.database_url, secret_key=SECRET_KEY, rate_limit_address_per_minute=0
        )
    )
    asyncio.run(prepare(settings))
    print("hub ready", flush=True)
    uvicorn.run(create_app(settings), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main(sys.argv[1:])
