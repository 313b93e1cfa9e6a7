"""The load test's figures from locust's JSON stats: per scenario and per kind of request.

Locust keeps each request's latency in milliseconds in a histogram (rounded to two
significant digits above 100 ms); histograms of several request names are merged
before taking percentiles, so a kind's p99 is the p99 of all its requests.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

KINDS = ("read", "search", "stats", "write")


@dataclass
class Figures:
    """Requests, failures and the latency histogram (ms → count) over ``seconds``."""

    seconds: float
    requests: int = 0
    errors: int = 0
    histogram: Counter[int] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile in ms (NaN without requests)."""
        total = sum(self.histogram.values())
        if total == 0:
            return math.nan
        rank = max(1, math.ceil(p / 100 * total))
        seen = 0
        for latency in sorted(self.histogram):
            seen += self.histogram[latency]
            if seen >= rank:
                return float(latency)
        return float(max(self.histogram))

    def add(self, entry: Mapping[str, Any]) -> None:
        self.requests += int(entry["num_requests"])
        self.errors += int(entry["num_failures"])
        for latency, count in entry["response_times"].items():
            self.histogram[round(float(latency))] += int(count)


@dataclass
class Scenario:
    """One run: the hub's worker count and cache setting, the mix, and its figures."""

    workers: int
    cache: bool
    writes: bool
    total: Figures
    by_kind: dict[str, Figures]
    by_name: dict[str, Figures]
    failures: list[str] = field(default_factory=list)
    # The hub's linju_response_cache_total during the run: hit, miss, stored, bypass.
    cache_outcomes: dict[str, float] = field(default_factory=dict)

    @property
    def hit_ratio(self) -> float:
        """Hits per cacheable lookup (hit or miss); NaN when nothing was looked up."""
        hits, misses = self.cache_outcomes.get("hit", 0.0), self.cache_outcomes.get("miss", 0.0)
        return hits / (hits + misses) if hits + misses else math.nan

    @property
    def label(self) -> str:
        plural = "s" if self.workers > 1 else ""
        mix = "" if self.writes else ", no writes"
        return f"{self.workers} worker{plural}, cache {'on' if self.cache else 'off'}{mix}"


def kind_of(name: str) -> str:
    """``"stats: district dashboard"`` → ``"stats"``."""
    kind = name.split(":", 1)[0].strip()
    return kind if kind in KINDS else "other"


def measured_seconds(entries: Sequence[Mapping[str, Any]], fallback: float) -> float:
    """The span from the first request's start to the last request (locust's own clock)."""
    starts = [float(e["start_time"]) for e in entries if e.get("num_requests")]
    ends = [float(e["last_request_timestamp"]) for e in entries if e.get("last_request_timestamp")]
    if not starts or not ends or max(ends) <= min(starts):
        return fallback
    return max(ends) - min(starts)


def summarise(
    entries: Sequence[Mapping[str, Any]],
    *,
    workers: int,
    cache: bool,
    duration: float,
    writes: bool = True,
    failures: Iterable[Mapping[str, Any]] = (),
) -> Scenario:
    """A scenario from locust's per-name entries (``--json-file``) and its error list."""
    seconds = measured_seconds(entries, duration)
    total = Figures(seconds)
    by_kind = {kind: Figures(seconds) for kind in KINDS}
    by_name: dict[str, Figures] = {}
    for entry in entries:
        name = str(entry["name"])
        if name == "Aggregated":
            continue
        total.add(entry)
        by_kind.setdefault(kind_of(name), Figures(seconds)).add(entry)
        by_name.setdefault(name, Figures(seconds)).add(entry)
    messages = [f"{f['occurrences']}× {f['name']}: {f['error']}" for f in failures]
    return Scenario(workers, cache, writes, total, by_kind, by_name, messages)


CACHE_METRIC = "linju_response_cache_total"


def cache_outcomes(metrics: str) -> dict[str, float]:
    """``{result: count}`` of the response cache counter in a /metrics scrape."""
    counts: dict[str, float] = {}
    for line in metrics.splitlines():
        if not line.startswith(CACHE_METRIC + "{"):
            continue
        labels, _, value = line.rpartition(" ")
        for label in labels[len(CACHE_METRIC) + 1 : -1].split(","):
            name, _, quoted = label.partition("=")
            if name.strip() == "result":
                result = quoted.strip().strip('"')
                counts[result] = counts.get(result, 0.0) + float(value)
    return counts


def outcomes_between(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    return {k: after[k] - before.get(k, 0.0) for k in after if after[k] - before.get(k, 0.0)}


def _ms(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:,.0f}"


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def markdown(scenarios: Sequence[Scenario]) -> str:
    """The per-scenario table, the per-kind table and the per-request table."""
    lines = [
        _row(["scenario", "req/s", "p50 ms", "p99 ms", "errors", "cache hits"]),
        _row(["---"] * 6),
    ]
    for s in scenarios:
        t = s.total
        hits = "–" if math.isnan(s.hit_ratio) else f"{s.hit_ratio:.0%}"
        cells = [s.label, f"{t.rate:,.1f}", _ms(t.percentile(50)), _ms(t.percentile(99))]
        lines.append(_row([*cells, str(t.errors), hits]))
    lines += [
        "",
        _row(["scenario", "kind", "req/s", "p50 ms", "p99 ms", "errors"]),
        _row(["---"] * 6),
    ]
    for s in scenarios:
        for kind, f in s.by_kind.items():
            if f.requests:
                lines.append(
                    _row(
                        [
                            s.label,
                            kind,
                            f"{f.rate:,.1f}",
                            _ms(f.percentile(50)),
                            _ms(f.percentile(99)),
                            str(f.errors),
                        ]
                    )
                )
    lines += [
        "",
        _row(["request", *[s.label for s in scenarios]]),
        _row(["---"] * (len(scenarios) + 1)),
    ]
    names = sorted(
        {name for s in scenarios for name in s.by_name},
        key=lambda n: (KINDS.index(kind_of(n)) if kind_of(n) in KINDS else 9, n),
    )
    for name in names:
        cells = []
        for s in scenarios:
            one = s.by_name.get(name)
            cells.append(
                f"{one.rate:,.1f}/s · {_ms(one.percentile(50))} / {_ms(one.percentile(99))} ms"
                if one
                else "–"
            )
        lines.append(_row([name, *cells]))
    return "\n".join(lines)


def graphql_problem(status: int, text: str | None) -> str | None:
    """Why this answer counts as an error, or None: status, GraphQL errors, payload errors."""
    if status != 200:
        return f"HTTP {status}: {(text or '')[:120]}"
    try:
        document = json.loads(text or "")
    except ValueError:
        return f"not JSON: {(text or '')[:120]}"
    if document.get("errors"):
        return f"GraphQL error: {document['errors'][0].get('message', '')[:120]}"
    data = document.get("data") or {}
    for payload in data.values():
        if isinstance(payload, dict) and payload.get("errors"):
            return f"payload error: {payload['errors'][0]}"
    if not data:
        return "no data"
    return None
