"""How long the console takes to page, sort, filter and search the demo's 12,000 members.

    python -m bench.admin_list [--database-url sqlite:///tmp/bench.db] [--runs 20]

Loads the Tianyuan demo dataset into a fresh database (SQLite in a temporary folder
unless a URL is given), serves the hub with uvicorn in a process of its own, signs in
to the console and times whole page loads — query, bridge and rendering — as a browser
would get them. It measures and prints; it asserts nothing (the target is under 300 ms
per page on SQLite on the project's 2-core machine).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from hub.db import migrate
from hub.enums import Role
from hub.models import Branch, Member, User
from hub.passwords import hash_password
from hub.runtime import Runtime
from hub.settings import Settings
from seeds.loader import load_demo

SECRET_KEY = "linju-bench-secret-key-of-at-least-32-bytes"
USERNAME, PASSWORD = "bench-admin", "bench-password-2020"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


async def prepare(settings: Settings) -> dict[str, str]:
    """Migrate, load the demo, make an admin; a few values the scenarios use."""
    await migrate(settings)
    runtime = await Runtime.start(settings)
    try:
        await load_demo(scale=1)
        if not await User.exists(username=USERNAME):
            await User.create(
                username=USERNAME, password_hash=hash_password(PASSWORD), role=Role.ADMIN
            )
        branch = await Branch.filter(name__contains="华晨").first()
        members = await Member.all().count()
    finally:
        await runtime.close()
    return {"branch": str(branch.id if branch else 1), "members": str(members)}


def scenarios(values: dict[str, str]) -> dict[str, str]:
    last = (int(values["members"]) - 1) // 20
    return {
        "first page": "/admin/member/",
        "page 300": "/admin/member/?page=300",
        "last page": f"/admin/member/?page={last}",
        "100 per page": "/admin/member/?page_size=100",
        "sort by name": "/admin/member/?sort=1",
        "sort by branch": "/admin/member/?sort=5&desc=1&page=50",
        "search initials": "/admin/member/?search=zs",
        "search pinyin": "/admin/member/?search=zhang",
        "search 華 (Traditional)": "/admin/member/?search=%E8%8F%AF",
        "filter category": "/admin/member/?flt0_category_equals=RETIRED&page=20",
        "filter branch": f"/admin/member/?flt0_branch_equals={values['branch']}",
        "filter branch name": "/admin/member/?flt0_branch_name_contains=hcyy",
        "filter date range": "/admin/member/?flt0_registered_on_between=2020-01-01+to+2020-12-31",
        "search + filters": "/admin/member/?search=li&flt0_category_equals=IN_SERVICE"
        "&flt1_is_demonstration_post_equals=0",
        "details": "/admin/member/details/?id=100",
        "edit form": "/admin/member/edit/?id=100",
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(database_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LINJU_DATABASE_URL": database_url, "LINJU_SECRET_KEY": SECRET_KEY}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "hub.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(command, env=env)


def sign_in(client: httpx.Client) -> None:
    page = client.get("/admin/login/")
    token = CSRF.search(page.text)
    assert token, "no sign-in form"
    done = client.post(
        "/admin/login/",
        data={"csrf_token": token.group(1), "username": USERNAME, "password": PASSWORD},
    )
    if done.status_code != 302:
        raise SystemExit(f"could not sign in: {done.status_code}")


def measure(client: httpx.Client, path: str, runs: int) -> list[float]:
    client.get(path)  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}")
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="default: SQLite in a temporary folder")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite://{Path(folder) / 'bench.db'}"
        print(f"database: {url}")
        values = asyncio.run(prepare(Settings(database_url=url, secret_key=SECRET_KEY)))
        port = free_port()
        server = serve(url, port)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
                for _ in range(100):
                    try:
                        client.get("/healthz")
                        break
                    except httpx.HTTPError:
                        time.sleep(0.2)
                sign_in(client)
                print(f"{values['members']} members, {args.runs} runs per page (ms)")
                print(f"{'page':<26}{'median':>8}{'p95':>8}{'max':>8}")
                for name, path in scenarios(values).items():
                    times = sorted(measure(client, path, args.runs))
                    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
                    median = statistics.median(times)
                    print(f"{name:<26}{median:>8.1f}{p95:>8.1f}{times[-1]:>8.1f}")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main(sys.argv[1:])
