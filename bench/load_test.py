"""Load test: reads, searches, dashboards and writes against `linju serve --workers W`.

    python -m bench.load_test                      # scale 20; 1, 2, 4 workers; cache off; no writes
    python -m bench.load_test --quick              # smoke run: scale 1, one worker, ~40 s
    python -m bench.load_test --workers 2 --duration 45 --users 24 --keep-db

Creates a fresh PostgreSQL database, migrates it, seeds it (`linju seed --scale N`),
creates an ADMIN, a street CURATOR and a PARTNER with API tokens, then for each
scenario starts `linju serve --workers W` (shared Redis cache, Redis broker, rate
limits off), warms it up and drives it with locust (bench/locustfile.py) for
``--duration`` seconds. Scenarios: the full mix on each worker count with the response
cache on; the full mix with the cache off; the mix without writes, cache on and off.
Prints req/s, p50, p99 and errors per scenario, per kind of request and per request,
as Markdown; stops each server with SIGTERM (a graceful shutdown must exit 0) and drops
the database at the end. Exit status 1 when any request failed. Loopback only; every
wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.database import admin_sql
from bench.load_report import Scenario, cache_outcomes, markdown, outcomes_between, summarise
from bench.server import wait_ready

HOST = "127.0.0.1"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
REPO = Path(__file__).resolve().parent.parent  # the locustfile imports bench.load_report
START_TIMEOUT = 120.0  # seconds for `linju serve` to answer /healthz
STOP_TIMEOUT = 60.0  # seconds for a graceful stop
CURATOR_STREET = "泰山路街道"  # the first district's, as in the district's own report
SAMPLE = 120  # branches / compounds / search terms the users pick from
LINJU = [sys.executable, "-m", "hub.app.cli"]


# ---------------------------------------------------------------- options


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    summary = (__doc__ or "").split("\n")[0]
    parser = argparse.ArgumentParser(prog="python -m bench.load_test", description=summary)
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated [1,2,4]")
    parser.add_argument(
        "--uncached-workers",
        type=int,
        default=2,
        help="worker count of the extra run with LINJU_RESPONSE_CACHE=false (0: none) [2]",
    )
    parser.add_argument(
        "--read-only",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run the mix without writes, cache on and off, on --uncached-workers",
    )
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per scenario [30]")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of warm-up [5]")
    parser.add_argument("--users", type=int, default=16, help="concurrent locust users [16]")
    parser.add_argument("--scale", type=int, default=20, help="demo districts to seed [20]")
    parser.add_argument("--pool", type=int, default=10, help="DB connections per worker [10]")
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL server URL")
    parser.add_argument("--redis", default=DEFAULT_REDIS, help="Redis URL (cache and broker)")
    parser.add_argument(
        "--database",
        help="reuse this seeded database (URL from --keep-db); --scale is then only a label",
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the database at the end")
    parser.add_argument("--markdown", help="also write the tables to this file")
    parser.add_argument("--json", dest="json_out", help="also write the figures to this file")
    parser.add_argument("--quick", action="store_true", help="smoke run: scale 1, 1 worker, 5 s")
    args = parser.parse_args(argv)
    if args.quick:
        args.scale, args.workers, args.uncached_workers, args.read_only = 1, "1", 1, False
        args.duration, args.warmup, args.users = 5.0, 2.0, 4
    try:
        args.workers = [int(w) for w in str(args.workers).split(",") if w.strip()]
    except ValueError:
        parser.error("--workers must be whole numbers separated by commas, e.g. 1,2,4")
    if not args.workers or min(args.workers) < 1 or args.uncached_workers < 0:
        parser.error("worker counts must be at least 1")
    if not 1 <= args.users <= 500 or not 0 < args.duration <= 600 or args.scale < 1:
        parser.error("--users must be 1–500, --duration 0–600 s, --scale at least 1")
    return args


def scenarios(args: argparse.Namespace) -> list[tuple[int, bool, bool]]:
    """(workers, response cache on, writes in the mix) for each run, in order."""
    runs = [(w, True, True) for w in args.workers]
    if args.uncached_workers:
        runs.append((args.uncached_workers, False, True))
        if args.read_only:
            runs += [(args.uncached_workers, True, False), (args.uncached_workers, False, False)]
    return runs


# ---------------------------------------------------------------- the database


@dataclass(frozen=True)
class Database:
    url: str
    created: bool  # made by this run (so dropped at the end unless kept)


def _linju(database_url: str, *arguments: str, timeout: float) -> str:
    env = {**_clean_env(), "LINJU_DATABASE_URL": database_url}
    done = subprocess.run(
        [*LINJU, *arguments], env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"linju {' '.join(arguments)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip()


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("LINJU_")}


def create_database(server: str, scale: int) -> Database:
    name = f"linju_load_{uuid.uuid4().hex[:10]}"
    asyncio.run(admin_sql(server, f'CREATE DATABASE "{name}"'))
    database = Database(f"{server}/{name}", created=True)
    try:
        started = time.perf_counter()
        _linju(database.url, "migrate", timeout=600)
        print(f"migrated {name} in {time.perf_counter() - started:.0f} s", flush=True)
        started = time.perf_counter()
        _linju(database.url, "seed", "--scale", str(scale), timeout=3600)
        print(f"seeded scale {scale} in {time.perf_counter() - started:.0f} s", flush=True)
    except BaseException:
        drop_database(server, database)
        raise
    return database


def drop_database(server: str, database: Database) -> None:
    name = database.url.rsplit("/", 1)[1]
    asyncio.run(admin_sql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _make_fixture(database_url: str) -> dict[str, Any]:
    """Accounts with API tokens and the ids and search terms the users pick from."""
    from hub import models as m
    from hub.enums import Role
    from hub.passwords import hash_password
    from hub.runtime import Runtime
    from hub.search import search_text
    from hub.services.auth import create_api_token
    from hub.settings import Settings
    from schema.node import encode_global_id as gid

    pick = random.Random(2020)
    tag = uuid.uuid4().hex[:6]
    runtime = await Runtime.start(Settings(database_url=database_url))
    try:
        street = await m.Street.filter(name=CURATOR_STREET).order_by("id").first()
        agreement = await m.CoBuildingAgreement.all().order_by("id").first()
        if street is None or agreement is None:
            raise RuntimeError(f"the database has no {CURATOR_STREET} or no agreement: seed it")
        tokens = {}
        for role, extra in (
            (Role.ADMIN, {}),
            (Role.CURATOR, {"street_id": street.id}),
            (Role.PARTNER, {"partner_unit_id": agreement.unit_id}),  # type: ignore[attr-defined]
        ):
            user = await m.User.create(
                username=f"load-{role.value.lower()}-{tag}",
                display_name=f"压测{role.label}",
                password_hash=hash_password(uuid.uuid4().hex),
                role=role,
                **extra,
            )
            tokens[role], _ = await create_api_token(user=user, name="load test")

        def sample(values: list[Any]) -> list[Any]:
            return pick.sample(values, min(SAMPLE, len(values)))

        branch_ids = await _ids(m.Branch.all())
        compounds = await m.Compound.all().values_list("id", "name")
        street_branches = await _ids(m.Branch.filter(community__street_id=street.id))
        street_compounds = await m.Compound.filter(community__street_id=street.id).values_list(
            "id", "name"
        )
        names = await m.Member.all().order_by("id").limit(20_000).values_list("name", flat=True)
        district_ids = await _ids(m.District.all())
    finally:
        await runtime.close()

    def initials(name: str) -> str:
        parts = search_text(name).split("|")
        return parts[-1]

    return {
        "admin_token": tokens[Role.ADMIN],
        "curator_token": tokens[Role.CURATOR],
        "partner_token": tokens[Role.PARTNER],
        "district_ids": [gid("District", i) for i in district_ids],
        "branch_ids": [gid("Branch", i) for i in sample(list(branch_ids))],
        "compound_ids": [gid("Compound", i) for i, _ in sample(list(compounds))],
        "compound_initials": sorted({initials(n) for _, n in sample(list(compounds))}),
        "member_terms": sorted({n[:2] for n in sample([n for n in names if len(n) >= 2])}),
        "curator_street_id": gid("Street", street.id),
        "curator_branch_ids": [gid("Branch", i) for i in street_branches],
        "curator_compound_ids": [gid("Compound", i) for i, _ in street_compounds],
        "curator_compound_initials": sorted({initials(n) for _, n in street_compounds}),
    }


async def _ids(query: Any) -> list[int]:
    return [int(pk) for pk in await query.values_list("id", flat=True)]


async def _analyze(database_url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(database_url, timeout=10)
    try:
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


# ---------------------------------------------------------------- the hub


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _with_pool(url: str, size: int) -> str:
    return f"{url}{'&' if '?' in url else '?'}maxsize={size}"


@contextmanager
def hub(
    database_url: str, *, workers: int, cache: bool, redis: str, pool: int, log: Path
) -> Iterator[str]:
    """`linju serve --workers W` on a free port; yields its base URL; SIGTERM on exit."""
    port = free_port()
    run = uuid.uuid4().hex[:8]
    env = {
        **_clean_env(),
        "LINJU_DATABASE_URL": _with_pool(database_url, pool),
        "LINJU_SECRET_KEY": secrets.token_urlsafe(48),  # PostgreSQL: one key, shared
        "LINJU_HOST": HOST,
        "LINJU_PORT": str(port),
        "LINJU_REDIS_URL": f"{redis}?prefix=loadtest-{run}",
        "LINJU_BROKER": f"{redis}?channel=loadtest_{run}",
        "LINJU_RESPONSE_CACHE": "true" if cache else "false",
        # The load is one address and three tokens: the limits would answer 429.
        "LINJU_RATE_LIMIT_TOKEN_PER_MINUTE": "0",
        "LINJU_RATE_LIMIT_ADDRESS_PER_MINUTE": "0",
        "LINJU_LOG_LEVEL": "WARNING",
        "LINJU_GRAPHQL_IDE": "false",
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*LINJU, "serve", "--workers", str(workers)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://{HOST}:{port}"
    started = False
    try:
        _wait_ready(f"{base}/healthz", process, log)
        started = True
        if workers > 1:
            time.sleep(1.0 + workers)  # every worker has started, not only the first
        yield base
    finally:
        code = stop(process)
        if started and code != 0:
            print(f"warning: linju serve exited with {code} after SIGTERM (see {log})")
        _forget_redis(redis, f"loadtest-{run}")


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    try:
        wait_ready(url, process, timeout=START_TIMEOUT)
    except RuntimeError as exc:
        raise RuntimeError(f"{exc}:\n{_tail(log)}") from None


def stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, as a process manager would; kill only if the graceful stop hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
    return process.returncode


def _forget_redis(redis: str, prefix: str) -> None:
    """Delete this run's cache keys (they would expire anyway)."""
    try:
        import redis as redis_lib

        client = redis_lib.Redis.from_url(redis, socket_timeout=5)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
    except Exception as exc:  # cleanup only: the keys carry TTLs
        print(f"note: could not delete Redis keys {prefix}:* ({exc})")


def redis_answers(redis: str) -> bool:
    import redis as redis_lib

    try:
        client = redis_lib.Redis.from_url(redis, socket_timeout=3)
        ok = bool(client.ping())
        client.close()
        return ok
    except Exception:
        return False


def scrape_cache(base: str) -> dict[str, float]:
    """The response cache's outcome counters, all workers added up ({} without /metrics)."""
    try:
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
            return cache_outcomes(response.read().decode())
    except OSError:
        return {}


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# ---------------------------------------------------------------- locust


def run_locust(
    base: str,
    *,
    users: int,
    seconds: float,
    writes: bool,
    fixture: Path,
    folder: Path,
    name: str,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One headless locust run; its per-request stats and its distinct failures."""
    stats, errors, log = (
        folder / f"{name}-stats",
        folder / f"{name}-errors.json",
        folder / f"{name}.log",
    )
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--host", base, "-u", str(users), "-r", str(users), "-t", f"{max(1, round(seconds))}s",
        "--json-file", str(stats), "--only-summary", "--loglevel", "WARNING",
        "--stop-timeout", "10", "--exit-code-on-error", "0",
        "HubUser" if writes else "ReadingUser",
    ]  # fmt: skip
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "LOAD_TEST_FIXTURE": str(fixture),
        "LOAD_TEST_ERRORS": str(errors),
    }
    with log.open("wb") as out:
        done = subprocess.run(
            command,
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=seconds + 120,
        )
    if done.returncode != 0:
        raise RuntimeError(f"locust exited with {done.returncode}:\n{_tail(log)}")
    entries = json.loads(Path(f"{stats}.json").read_text())
    failures = json.loads(errors.read_text()) if errors.exists() else []
    return entries, failures


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not redis_answers(args.redis):
        print(f"Redis does not answer at {args.redis} (--redis): the workers share it")
        return 2
    folder = Path(tempfile.mkdtemp(prefix="linju-load-"))
    database = (
        Database(args.database, created=False)
        if args.database
        else create_database(args.server, args.scale)
    )
    results: list[Scenario] = []
    try:
        fixture = folder / "fixture.json"
        fixture.write_text(json.dumps(asyncio.run(_make_fixture(database.url)), ensure_ascii=False))
        asyncio.run(_analyze(database.url))
        for workers, cache, writes in scenarios(args):
            label = f"w{workers}-{'cache' if cache else 'nocache'}{'' if writes else '-nowrites'}"
            mix = "full mix" if writes else "no writes"
            print(f"\n== {workers} worker(s), cache {'on' if cache else 'off'}, {mix}", flush=True)
            with hub(
                database.url,
                workers=workers,
                cache=cache,
                redis=args.redis,
                pool=args.pool,
                log=folder / f"{label}-serve.log",
            ) as base:
                common = {
                    "users": args.users,
                    "writes": writes,
                    "fixture": fixture,
                    "folder": folder,
                }
                run_locust(base, seconds=args.warmup, name=f"{label}-warmup", **common)
                before = scrape_cache(base)
                entries, failures = run_locust(base, seconds=args.duration, name=label, **common)
                outcomes = outcomes_between(before, scrape_cache(base))
            scenario = summarise(
                entries,
                workers=workers,
                cache=cache,
                writes=writes,
                duration=args.duration,
                failures=failures,
            )
            scenario.cache_outcomes = outcomes
            results.append(scenario)
            t = scenario.total
            print(
                f"{t.rate:,.1f} req/s, p50 {t.percentile(50):,.0f} ms, "
                f"p99 {t.percentile(99):,.0f} ms, {t.errors} errors",
                flush=True,
            )
            for message in scenario.failures[:5]:
                print(f"  {message}")
    finally:
        if database.created and not args.keep_db:
            drop_database(args.server, database)
        elif database.created:
            print(f"kept the database: --database {database.url}")
    report = _header(args) + "\n\n" + markdown(results)
    print("\n" + report)
    if args.markdown:
        Path(args.markdown).write_text(report + "\n", encoding="utf-8")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(_figures(results), indent=2), encoding="utf-8")
    print(f"\nlogs: {folder}")
    return 1 if any(s.total.errors for s in results) else 0


def _header(args: argparse.Namespace) -> str:
    return (
        f"scale {args.scale}, {args.users} users (no think time), {args.duration:.0f} s per "
        f"scenario after {args.warmup:.0f} s warm-up, pool {args.pool} per worker, "
        "rate limits off, Redis cache and broker"
    )


def _figures(results: list[Scenario]) -> list[dict[str, Any]]:
    def row(f: Any) -> dict[str, Any]:
        p50, p99 = f.percentile(50), f.percentile(99)
        return {"rate": f.rate, "p50_ms": p50, "p99_ms": p99, "errors": f.errors}

    return [
        {
            "workers": s.workers,
            "cache": s.cache,
            "writes": s.writes,
            "total": row(s.total),
            "kinds": {k: row(f) for k, f in s.by_kind.items() if f.requests},
            "requests": {n: row(f) for n, f in s.by_name.items()},
            "failures": s.failures,
            "cache_outcomes": s.cache_outcomes,
        }
        for s in results
    ]


if __name__ == "__main__":
    sys.exit(main())
