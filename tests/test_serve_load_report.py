"""The load test's options and its report (bench/load_test.py, bench/load_report.py),
without running a load: locust's JSON stats in, figures and Markdown out."""

from __future__ import annotations

import json
import math

import pytest

from bench.load_report import (
    Figures,
    cache_outcomes,
    graphql_problem,
    kind_of,
    markdown,
    outcomes_between,
    summarise,
)
from bench.load_test import parse_args, scenarios


def _entry(name: str, times: dict[str, int], failures: int = 0) -> dict[str, object]:
    return {
        "name": name,
        "method": "POST",
        "num_requests": sum(times.values()),
        "num_failures": failures,
        "response_times": times,
        "start_time": 100.0,
        "last_request_timestamp": 110.0,
    }


def test_options_default_to_1_2_4_workers_and_one_uncached_run() -> None:
    args = parse_args([])
    assert (args.scale, args.workers) == (20, [1, 2, 4])
    assert scenarios(args) == [
        (1, True, True), (2, True, True), (4, True, True), (2, False, True),
        (2, True, False), (2, False, False),
    ]  # fmt: skip


def test_quick_is_a_small_smoke_run() -> None:
    args = parse_args(["--quick"])
    assert args.scale == 1 and args.workers == [1] and args.duration <= 10
    assert scenarios(args) == [(1, True, True), (1, False, True)]
    assert scenarios(parse_args(["--workers", "2", "--uncached-workers", "0"])) == [(2, True, True)]


@pytest.mark.parametrize("bad", [["--workers", "one"], ["--workers", "0"], ["--users", "0"]])
def test_unusable_options_are_refused(bad: list[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(bad)


def test_figures_merge_request_names_by_kind_and_take_nearest_rank_percentiles() -> None:
    entries = [
        _entry("read: branch roster", {"10": 97, "500": 3}),
        _entry("read: compound", {"20": 100}, failures=1),
        _entry("stats: district dashboard", {"5": 50}),
        _entry("Aggregated", {"10": 97, "20": 100, "5": 50, "500": 3}, failures=1),
    ]
    failures = [{"name": "read: compound", "error": "GraphQL error: boom", "occurrences": 1}]
    scenario = summarise(entries, workers=2, cache=True, duration=30, failures=failures)

    assert scenario.total.requests == 250 and scenario.total.errors == 1  # Aggregated not twice
    assert scenario.total.rate == pytest.approx(25.0)  # 250 requests over locust's 10 s
    reads = scenario.by_kind["read"]
    assert (reads.requests, reads.errors) == (200, 1)
    assert reads.percentile(50) == 20 and reads.percentile(99) == 500
    assert scenario.by_kind["stats"].percentile(99) == 5
    assert math.isnan(scenario.by_kind["write"].percentile(50))
    assert scenario.failures == ["1× read: compound: GraphQL error: boom"]
    assert scenario.label == "2 workers, cache on"


def test_markdown_has_a_row_per_scenario_kind_and_request() -> None:
    cached = summarise(
        [_entry("stats: district dashboard", {"5": 10})], workers=1, cache=True, duration=10
    )
    uncached = summarise(
        [_entry("stats: district dashboard", {"50": 10})],
        workers=1,
        cache=False,
        writes=False,
        duration=10,
    )
    cached.cache_outcomes = {"hit": 9.0, "miss": 1.0, "stored": 1.0}
    text = markdown([cached, uncached])
    assert "| 1 worker, cache on | 1.0 | 5 | 5 | 0 | 90% |" in text
    assert "| 1 worker, cache off, no writes | 1.0 | 50 | 50 | 0 | – |" in text
    assert "| 1 worker, cache off, no writes | stats | 1.0 | 50 | 50 | 0 |" in text
    assert "| stats: district dashboard | 1.0/s · 5 / 5 ms | 1.0/s · 50 / 50 ms |" in text
    assert "| write |" not in text  # no writes, no empty row


def test_a_run_without_requests_reports_no_rate() -> None:
    assert Figures(seconds=0).rate == 0.0
    assert kind_of("Aggregated") == "other" and kind_of("write: reportRequest") == "write"


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [
        (200, {"data": {"branches": {"totalCount": 1}}}, None),
        (200, {"data": None, "errors": [{"message": "服务器内部错误"}]}, "GraphQL error"),
        (200, {"data": {"reportRequest": {"request": None, "errors": [{"code": "X"}]}}}, "payload"),
        (200, {"data": {"reportRequest": {"request": {"id": "1"}, "errors": []}}}, None),
        (429, {"errors": [{"message": "too many"}]}, "HTTP 429"),
        (200, {}, "no data"),
    ],
)
def test_errors_in_a_200_body_count_as_errors(
    status: int, body: dict[str, object], problem: str | None
) -> None:
    found = graphql_problem(status, json.dumps(body))
    assert (found is None) if problem is None else (found is not None and problem in found)
    assert graphql_problem(200, "<html>") is not None


def test_cache_outcomes_are_read_from_a_metrics_scrape_of_all_workers() -> None:
    scrape = "\n".join(
        [
            "# HELP linju_response_cache_total Response cache lookups by result",
            "# TYPE linju_response_cache_total counter",
            'linju_response_cache_total{result="hit"} 120.0',
            'linju_response_cache_total{result="miss"} 30.0',
            'linju_response_cache_total{pid="7",result="hit"} 5.0',
            'linju_http_requests_total{method="POST",route="/graphql",status="200"} 155.0',
        ]
    )
    after = cache_outcomes(scrape)
    assert after == {"hit": 125.0, "miss": 30.0}
    assert outcomes_between({"hit": 100.0, "miss": 30.0}, after) == {"hit": 25.0}
