"""Timings the tests used to assert, measured here instead (never asserted).

    python -m bench.timings                 # both, on a temporary SQLite file
    python -m bench.timings --rows 20000    # a bigger roster
    python -m bench.timings --only fragments

- **roster**: importing a 10,000-row roster CSV in one call of the service behind the
  ``importMembers`` mutation and the console's import (the stated requirement: under
  10 s on SQLite). ``tests/test_mutations_roster.py`` checks that such an import
  creates every row.
- **fragments**: refusing a "fragment bomb" — fragments that each spread the two before,
  2^40 paths in a few hundred tokens — which the cost limits measure fragment by
  fragment instead of expanding it (the stated bound: well under 5 s).
  ``tests/test_api_hardening.py`` checks that it is refused as too complex.

Each figure is the best of ``--repeat`` runs, printed with the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from hub import models as m
from hub.db import migrate
from hub.enums import MemberCategory, Role
from hub.runtime import Runtime
from hub.services.auth import viewer_for
from hub.settings import Settings

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国红梅文"
HEADER = "姓名,性别,出生日期,手机号码,党员类别,所属支部,入党日期,工作单位,居住小区"


def roster_csv(rows: int, branch_id: int, compound_id: int, offset: int) -> bytes:
    lines = [HEADER]
    for i in range(rows):
        name = SURNAMES[i % 20] + GIVEN[i // 20 % 30] + GIVEN[i // 600 % 30]
        phone = f"13{offset % 10}{i:08d}"
        category = "在职党员" if i % 3 else "DIRECT"
        lines.append(
            f"{name},{'男' if i % 2 else '女'},1970-01-{1 + i % 28:02d},{phone},{category},"
            f"{branch_id},1995-07-01,株洲某单位,{compound_id}"
        )
    return ("\r\n".join(lines) + "\r\n").encode()


async def time_roster(settings: Settings, rows: int, repeat: int) -> list[float]:
    from hub.services.roster import import_members

    await migrate(settings)
    runtime = await Runtime.start(settings)
    try:
        admin = await m.User.create(username="bench-admin", password_hash="-", role=Role.ADMIN)
        viewer = viewer_for(admin)
        district = await m.District.create(name="测速区")
        street = await m.Street.create(district=district, name="测速街道")
        community = await m.Community.create(street=street, name="测速社区")
        compound = await m.Compound.create(community=community, name="测速小区")
        seconds = []
        for run in range(repeat):
            branch = await m.Branch.create(community=community, name=f"测速支部{run}")
            await branch.compounds.add(compound)
            await m.Member.create(name="种子", category=MemberCategory.DIRECT, branch=branch)
            data = roster_csv(rows, branch.id, compound.id, offset=run)
            started = time.perf_counter()
            report = await import_members(actor=viewer, data=data, filename="bench.csv")
            seconds.append(time.perf_counter() - started)
            if report.created != rows:
                raise SystemExit(f"the import created {report.created} of {rows} rows")
        return seconds
    finally:
        await runtime.close()


def fragment_bomb(levels: int) -> str:
    """Fragments that each spread the two before: 2^levels paths in a few hundred tokens."""
    fragments = ["fragment A0 on Compound { a: name }", "fragment B0 on Compound { b: name }"]
    for n in range(1, levels):
        body = f"...A{n - 1} ...B{n - 1} community {{ name }}"
        fragments += [
            f"fragment A{n} on Compound {{ {body} }}",
            f"fragment B{n} on Compound {{ {body} }}",
        ]
    top = f"...A{levels - 1} ...B{levels - 1}"
    return f"{{ compounds(first: 1) {{ nodes {{ {top} }} }} }} " + " ".join(fragments)


async def time_fragments(settings: Settings, levels: int, repeat: int) -> list[float]:
    from schema.build import build_schema

    logging.getLogger("strawberry.execution").setLevel(logging.CRITICAL)  # the refusal
    schema = build_schema(replace(settings, max_tokens=5_000, max_aliases=1_000_000))
    query = fragment_bomb(levels)
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = await schema.execute(query)
        seconds.append(time.perf_counter() - started)
        if not result.errors:
            raise SystemExit("the fragment bomb was not refused")
    return seconds


def report(name: str, seconds: list[float], what: str) -> None:
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"{name:<10} best {min(seconds):7.3f} s   all {[round(s, 3) for s in seconds]}"
        f"   ({what}; load average {load})"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--levels", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=("roster", "fragments"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="linju-timings-") as folder:
        settings = Settings(database_url=f"sqlite://{Path(folder) / 'timings.db'}")
        if args.only in (None, "roster"):
            seconds = asyncio.run(time_roster(settings, args.rows, args.repeat))
            report("roster", seconds, f"{args.rows:,} rows imported on SQLite")
        if args.only in (None, "fragments"):
            seconds = asyncio.run(time_fragments(settings, args.levels, args.repeat))
            report("fragments", seconds, f"2^{args.levels} paths refused")


if __name__ == "__main__":
    main()
