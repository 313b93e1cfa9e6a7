"""Per-operation GraphQL metrics: a schema extension.

Counts every operation by name and type, times queries and mutations, and counts the
errors of each result by ``extensions.code`` — as clients receive them, so it must be
the first extension (its code after ``yield`` then runs after the error policy's).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from hub.observability.metrics import (
    GRAPHQL_ERRORS,
    GRAPHQL_OPERATIONS,
    GRAPHQL_SECONDS,
    error_code_label,
    labelled,
    operation_label,
)

logger = logging.getLogger("linju.metrics")


class OperationMetrics(SchemaExtension):
    """Operation count, latency and error codes for /metrics."""

    def __init__(self) -> None:
        self._streamed = False

    def on_operation(self) -> Iterator[None]:
        self._streamed = False
        started = time.perf_counter()
        try:
            yield
        finally:  # also when a subscription's stream is closed
            try:
                self._record(time.perf_counter() - started)
            except Exception:  # metrics must never fail a request
                logger.exception("GraphQL metrics failed")

    def on_stream_result(self, result: Any) -> Iterator[None]:
        # WebSocket results (each subscription event), after the error policy's masking.
        self._streamed = True
        yield
        _count_errors(getattr(result, "errors", None))

    def _record(self, seconds: float) -> None:
        context = self.execution_context
        name = operation_label(context.operation_name)
        try:
            kind = context.operation_type.value
        except Exception:  # no document (a parse error) or no such operation
            kind = "unknown"
        labelled(GRAPHQL_OPERATIONS, name, kind).inc()
        if kind in ("query", "mutation"):  # a subscription's time is how long it was open
            labelled(GRAPHQL_SECONDS, name).observe(seconds)
        if not self._streamed:
            _count_errors(getattr(context.result, "errors", None))


def _count_errors(errors: Iterable[GraphQLError] | None) -> None:
    for error in errors or ():
        labelled(GRAPHQL_ERRORS, error_code_label((error.extensions or {}).get("code"))).inc()
