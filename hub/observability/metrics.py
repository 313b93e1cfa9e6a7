"""The hub's Prometheus metrics: defined once here, updated where things happen."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "linju_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_SECONDS = Histogram(
    "linju_http_request_duration_seconds", "Time to answer an HTTP request", ["route"]
)
GRAPHQL_OPERATIONS = Counter(
    "linju_graphql_operations_total", "GraphQL operations executed", ["operation", "type"]
)
GRAPHQL_SECONDS = Histogram(
    "linju_graphql_operation_duration_seconds",
    "Time to execute a GraphQL operation",
    ["operation"],
)
GRAPHQL_ERRORS = Counter("linju_graphql_errors_total", "GraphQL errors by code", ["code"])
CACHE_LOOKUPS = Counter(
    "linju_response_cache_total",
    "Response cache lookups by result: hit, miss, stored, bypass (not cacheable)",
    ["result"],
)
SUBSCRIPTIONS_OPEN = Gauge(
    "linju_subscriptions_open", "GraphQL subscriptions open", multiprocess_mode="livesum"
)
DB_STATEMENTS = Histogram(
    "linju_db_statement_duration_seconds", "Time of a SQL statement", ["connection"]
)
SLOW_STATEMENTS = Counter(
    "linju_db_slow_statements_total",
    "SQL statements slower than LINJU_SLOW_QUERY_MS",
    ["connection"],
)
RATE_LIMITED = Counter("linju_rate_limited_total", "Requests refused with 429, by limit", ["limit"])
