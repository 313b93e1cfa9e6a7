"""The hub beside PostGraphile in one command: bench-peer's harness plus the cheap requests.

    python -m bench.peer                         # 10 s per cell; prints Markdown tables
    python -m bench.peer --duration 15 --skip-cache --skip-probes

The shared harness (``../shared/bench-peer``, read-only) starts PostGraphile 5 and
``linju serve`` (1 worker, response cache off, rate limits off) on one fresh database
and loads each with wrk. It reads its queries from ``$BENCH_QUERIES`` when set; this
wrapper lays out such a folder in a temporary directory with bench-peer's q1–q3 and a
**q0** ``{ __typename }`` for each side (and a trivial SQL statement as its "limit"
row), then runs

1. bench-peer on q0–q3, sampling the resident memory of the hub and of PostGraphile
   while it runs (peak, and last sample under load);
2. bench-peer again with the hub's response cache on, for q1 (roster) and q3
   (statistics): after the first request every hub request is a cache hit
   (PostGraphile has no such cache: its folder is left empty there);
3. ``/livez``, ``/readyz`` and ``/healthz`` of one ``linju serve`` worker with wrk, and
   the database transactions ``/readyz`` caused (``pg_stat_database.xact_commit``).

Needs what bench-peer needs (wrk, psql/pgbench, npm, PostgreSQL at 127.0.0.1:5432).
Nothing here asserts a timing: the machine's load moves every figure.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.server import HOST, free_port, wait_ready


def _harness() -> Path:
    """``$BENCH_PEER``, else ``../shared/bench-peer`` beside the project, else /work/shared."""
    if given := os.environ.get("BENCH_PEER"):
        return Path(given)
    beside = Path(__file__).resolve().parents[1].parent / "shared" / "bench-peer"
    return beside if beside.is_dir() else Path("/work/shared/bench-peer")


HARNESS = _harness()
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
TYPENAME = "query Typename { __typename }\n"
TYPENAME_SQL = (
    "-- Q0: the cheapest statement, for scale only\n"
    "select json_build_object('__typename', 'Query');\n"
)


def queries_folder(root: Path, *, cache_run: bool) -> Path:
    """bench-peer's queries plus q0 (first run), or the hub's q1/q3 only (cache run)."""
    target = root / ("queries-cache" if cache_run else "queries")
    shutil.copytree(HARNESS / "queries", target)
    for side in ("hub", "postgraphile", "sql"):
        (target / side).chmod(0o755)
    if cache_run:
        for path in (target / "postgraphile").iterdir():
            path.unlink()  # PostGraphile has no response cache: its cells are skipped
        for side in ("hub", "sql"):
            for path in (target / side).glob("q2_*"):
                path.unlink()
        return target
    (target / "hub" / "q0_typename.graphql").write_text(TYPENAME)
    (target / "postgraphile" / "q0_typename.graphql").write_text(TYPENAME)
    (target / "sql" / "q0_typename.sql").write_text(TYPENAME_SQL)
    return target


# --- memory of the servers while bench-peer runs -----------------------------------


@dataclass
class Resident:
    peak_mb: float = 0.0
    last_mb: float = 0.0


@dataclass(eq=False)  # a thread: hashed by identity
class MemorySampler(threading.Thread):
    """Samples the RSS of the hub (``linju serve``) and PostGraphile (``node``) processes
    below ``root`` every second."""

    root: int
    found: dict[str, Resident] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        super().__init__(daemon=True)

    def run(self) -> None:
        while not self.stop.wait(1.0):
            self.sample()

    def sample(self) -> None:
        parents: dict[int, int] = {}
        info: dict[int, tuple[str, float]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                status = (entry / "status").read_text()
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            parents[int(entry.name)] = int(fields.get("PPid", "0").strip())
            rss = fields.get("VmRSS", "0 kB").split()[0]
            info[int(entry.name)] = (cmdline, int(rss) / 1024)
        for pid, (cmdline, rss) in info.items():
            if not self._below_root(pid, parents):
                continue
            name = (
                "hub"
                if "linju serve" in cmdline or "hub.app:create_app" in cmdline
                else "postgraphile"
                if re.search(r"\bnode\b", cmdline)
                else None
            )
            if name is None or rss <= 0:
                continue
            resident = self.found.setdefault(name, Resident())
            resident.peak_mb = max(resident.peak_mb, rss)
            resident.last_mb = rss

    def _below_root(self, pid: int, parents: dict[int, int]) -> bool:
        for _ in range(12):
            if pid == self.root:
                return True
            pid = parents.get(pid, 0)
            if pid <= 1:
                return False
        return False


def run_peer(
    queries: Path, out: Path, args: argparse.Namespace, *, selection: str, cache: bool
) -> tuple[str, dict[str, Resident]]:
    """bench-peer's run.sh on these queries; its Markdown table and the servers' memory."""
    command = [
        "bash",
        str(HARNESS / "run.sh"),
        "--duration",
        str(args.duration),
        "--warmup",
        str(args.warmup),
        "--queries",
        selection,
    ]
    if cache:
        command.append("--cache")
    env = {**os.environ, "BENCH_QUERIES": str(queries), "BENCH_OUT": str(out)}
    if cache:
        env["CHECK_QUERIES"] = "none"  # PostGraphile's side is empty in this run
    print(f"== {' '.join(command[1:])}", file=sys.stderr, flush=True)
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    sampler = MemorySampler(process.pid)
    sampler.start()
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        sys.stderr.write(line)
        lines.append(line)
    process.wait()
    sampler.stop.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"bench-peer failed ({process.returncode})")
    # The load table comes after "== load" (the answer check prints a table before it).
    loaded = lines[next((i for i, line in enumerate(lines) if "== load" in line), 0) :]
    table = "".join(line for line in loaded if line.startswith("|"))
    return table, sampler.found


# --- probes ---------------------------------------------------------------------------


def psql(url: str, sql: str) -> str:
    done = subprocess.run(
        ["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def wrk_rps(url: str, seconds: int, connections: int) -> float:
    done = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", url],
        check=True,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    match = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    if match is None or non_2xx is not None:
        raise RuntimeError(f"wrk on {url}: {done.stdout}")
    return float(match.group(1))


def run_probes(args: argparse.Namespace) -> str:
    database = f"linju_probes_{os.getpid()}"
    url = f"{PG}/{database}"
    psql(f"{PG}/postgres", f"CREATE DATABASE {database}")
    env = {
        **os.environ,
        "LINJU_DATABASE_URL": url,
        "LINJU_RATE_LIMIT_TOKEN_PER_MINUTE": "0",
        "LINJU_RATE_LIMIT_ADDRESS_PER_MINUTE": "0",
        "LINJU_LOG_LEVEL": "WARNING",
    }
    linju = str(Path(sys.executable).with_name("linju"))
    process: subprocess.Popen[bytes] | None = None
    rows = ["| request | req/s | database transactions per second |", "|---|---:|---:|"]
    try:
        subprocess.run([linju, "migrate"], env=env, check=True, capture_output=True)
        port = free_port()
        process = subprocess.Popen(
            [linju, "serve", "--host", HOST, "--port", str(port)],
            env=env,
            start_new_session=True,
        )
        base = f"http://{HOST}:{port}"
        wait_ready(f"{base}/livez", process)
        commits = f"SELECT xact_commit FROM pg_stat_database WHERE datname = '{database}'"
        for path in ("/livez", "/readyz", "/healthz"):
            wrk_rps(f"{base}{path}", args.warmup, args.connections)
            time.sleep(1.5)  # the statistics collector catches up
            before = int(psql(url, commits))
            rps = wrk_rps(f"{base}{path}", args.duration, args.connections)
            time.sleep(1.5)
            # our own two reads of the counter are transactions too
            after = int(psql(url, commits)) - 2
            per_second = max(0, after - before) / args.duration
            rows.append(f"| GET {path} | {rps:,.0f} | {per_second:,.1f} |")
            print(rows[-1], file=sys.stderr, flush=True)
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        psql(f"{PG}/postgres", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per cell")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8, help="for the probes (wrk -c)")
    parser.add_argument("--queries", default="q0,q1,q2,q3", help="of the first run")
    parser.add_argument("--cache-queries", default="q1,q3", help="of the cache-hit run")
    parser.add_argument("--skip-main", action="store_true", help="no q0-q3 run")
    parser.add_argument("--skip-cache", action="store_true", help="no cache-hit run")
    parser.add_argument("--skip-probes", action="store_true", help="no /livez, /readyz run")
    args = parser.parse_args()
    # `linju serve` on PostgreSQL will not start without a shared key (hub/secret_key.py);
    # the harness passes this environment on to it.
    os.environ.setdefault("LINJU_SECRET_KEY", secrets.token_urlsafe(48))

    report: list[str] = [
        f"bench.peer, {time.strftime('%Y-%m-%d %H:%M %Z')}, {args.duration} s per cell, "
        f"load average {os.getloadavg()[0]:.1f} at the start\n"
    ]
    with tempfile.TemporaryDirectory(prefix="linju-peer-") as folder:
        root = Path(folder)
        if not args.skip_main:
            queries = queries_folder(root, cache_run=False)
            table, memory = run_peer(
                queries, root / "results", args, selection=args.queries, cache=False
            )
            report += ["\n### q0–q3, response cache off\n\n", table]
            report.append("\n| process | peak RSS MiB | RSS at the end of the load MiB |\n")
            report.append("|---|---:|---:|\n")
            for name, resident in sorted(memory.items()):
                report.append(f"| {name} | {resident.peak_mb:.0f} | {resident.last_mb:.0f} |\n")
        if not args.skip_cache:
            queries = queries_folder(root, cache_run=True)
            table, _ = run_peer(
                queries, root / "results", args, selection=args.cache_queries, cache=True
            )
            report += ["\n### response cache on: every hub request after the first is a hit\n\n"]
            report.append(table)
        if not args.skip_probes:
            report += ["\n### probes, one worker\n\n", run_probes(args)]
    print("".join(report))


if __name__ == "__main__":
    main()
