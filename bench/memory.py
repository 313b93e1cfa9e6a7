"""How much memory one ``linju serve`` worker holds: after start-up, and after load.

    python -m bench.memory --database-url postgres://postgres@127.0.0.1:5432/linju_bench \\
        --token lj_… [--requests 400] [--concurrency 8] [--cache]

Starts ``linju serve`` (one worker, rate limits off, as bench-peer runs it) on the
given database (migrated and seeded), reads the worker's resident set size
(``VmRSS`` in ``/proc``) after start-up, then after each round of roster queries
(bench-peer's q1, ~86 KB of JSON each) and the other bench-peer reads, and prints one
line per step. The figures are the operating system's: what a container limit sees.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.server import HOST, free_port, wait_ready

PEER_QUERIES = Path("/work/shared/bench-peer/queries/hub")
ROSTER = """query Roster { branches(first: 50) { nodes { name
  compounds(first: 50) { nodes { name propertyCompany { name } ownersCommittee { directorName } } }
  members(first: 20) { nodes { name category phone } } } } }"""
STATISTICS = """query Statistics { statistics { members { value label count }
  coverage { branches compoundsCovered compoundsTotal coverageRate } } }"""


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def post(url: str, token: str, query: str, variables: dict[str, object] | None = None) -> int:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"content-type": "application/json", "authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        answer = json.loads(response.read())
    if answer.get("errors"):
        raise RuntimeError(f"errors: {answer['errors']}")
    return int(response.status)


def load(url: str, token: str, query: str, requests: int, concurrency: int) -> None:
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(lambda _: post(url, token, query), range(requests)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--token", required=True, help="an ADMIN API token of that database")
    parser.add_argument("--requests", type=int, default=400, help="roster queries per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--cache", action="store_true", help="leave the response cache on")
    args = parser.parse_args()

    port = free_port()
    env = {
        **os.environ,
        "LINJU_DATABASE_URL": args.database_url,
        "LINJU_RESPONSE_CACHE": "true" if args.cache else "false",
        "LINJU_RATE_LIMIT_TOKEN_PER_MINUTE": "0",
        "LINJU_RATE_LIMIT_ADDRESS_PER_MINUTE": "0",
        "LINJU_LOG_LEVEL": "WARNING",
    }
    linju = str(Path(sys.executable).with_name("linju"))
    command = [linju, "serve", "--host", HOST, "--port", str(port), "--workers", "1"]
    process = subprocess.Popen(command, env=env, start_new_session=True)
    base = f"http://{HOST}:{port}"
    try:
        wait_ready(f"{base}/livez", process)
        time.sleep(1.0)
        print(f"after start-up: {rss_mb(process.pid):6.1f} MiB", flush=True)
        url = f"{base}/graphql"
        for n in range(1, args.rounds + 1):
            load(url, args.token, ROSTER, args.requests, args.concurrency)
            load(url, args.token, STATISTICS, args.requests, args.concurrency)
            print(
                f"after round {n} ({args.requests} roster + {args.requests} statistics): "
                f"{rss_mb(process.pid):6.1f} MiB",
                flush=True,
            )
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


if __name__ == "__main__":
    main()
