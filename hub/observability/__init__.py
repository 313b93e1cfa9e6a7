"""Observability: request ids, structured logs, slow-query log, Prometheus metrics.

- :class:`RequestContext` (outermost middleware): ``X-Request-ID``, access log, HTTP
  metrics; the id is on every log record and in masked GraphQL errors.
- :func:`setup_observability`: logging in ``LINJU_LOG_FORMAT`` and the statement
  observer (metrics, slow-query log), once per process.
- :func:`uvicorn_log_config`: uvicorn's own loggers in the same format.
- :func:`metrics_endpoint`: ``GET /metrics``; :func:`metrics_for_workers` prepares
  prometheus_client's multiprocess mode for several uvicorn workers.
"""

from __future__ import annotations

from hub.observability.context import RequestContext, current_request_id
from hub.observability.logs import setup_logging, uvicorn_log_config
from hub.observability.metrics import (
    forget_process_at_exit,
    metrics_endpoint,
    metrics_for_workers,
    subscription_open,
)
from hub.observability.operations import OperationMetrics
from hub.observability.statements import watch_statements
from hub.settings import Settings

__all__ = [
    "OperationMetrics",
    "RequestContext",
    "current_request_id",
    "metrics_endpoint",
    "metrics_for_workers",
    "setup_observability",
    "subscription_open",
    "uvicorn_log_config",
]


def setup_observability(settings: Settings) -> None:
    """Configure logging and the database observer (idempotent: the last settings win)."""
    setup_logging(settings)
    watch_statements(slow_query_ms=settings.slow_query_ms)
    forget_process_at_exit()
