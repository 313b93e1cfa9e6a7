"""Running the hub's server processes: one or several uvicorn workers, stopped gracefully.

Workers are stateless: sessions are signed tokens, login throttling lives in the
database, subscription events go through ``LINJU_BROKER`` and the response cache, data
versions and rate-limit counters through ``LINJU_REDIS_URL``. Without those two, each
worker keeps its own, which :func:`shared_state_warning` says in one line; the response
cache is then turned off (:func:`worker_overrides`), since it could answer stale.

SIGTERM (what systemd, Kubernetes and container runtimes send): stop accepting
connections, let in-flight requests finish for ``LINJU_SHUTDOWN_TIMEOUT_SECONDS``,
close the ORM, exit 0.
"""

from __future__ import annotations

import importlib.util
import os
import signal
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from hub.observability import metrics_for_workers, uvicorn_log_config
from hub.settings import Settings

APP = "hub.app:create_app"


def serve_refusal(settings: Settings, *, workers: int, reload: bool) -> str | None:
    """Why these options cannot run (one line), or None."""
    if settings.secret_key_refusal:
        return settings.secret_key_refusal
    if workers > 1 and reload:
        return "--reload 只能用于单进程 (--reload cannot be combined with --workers > 1)"
    if workers > 1 and settings.is_sqlite and ":memory:" in settings.database_url:
        return (
            "内存数据库不能由多个进程共享 (an in-memory SQLite database cannot be shared "
            "by several workers): 请使用数据库文件或 PostgreSQL"
        )
    return None


def worker_overrides(settings: Settings, *, workers: int) -> dict[str, str]:
    """Settings the workers must get instead of these: a per-process response cache
    would keep answering from its own data versions after another worker's write."""
    if workers > 1 and settings.redis_url is None and settings.response_cache:
        return {"LINJU_RESPONSE_CACHE": "false"}
    return {}


def shared_state_warning(settings: Settings, *, workers: int) -> str | None:
    """One line naming what several workers will not share with these settings, or None."""
    if workers <= 1:
        return None
    unshared: list[str] = []
    if settings.broker == "memory":
        unshared.append("订阅事件 subscription events (LINJU_BROKER=memory)")
    if settings.redis_url is None:
        unshared.append("限流计数 rate-limit counters (LINJU_REDIS_URL unset)")
    if not unshared:
        return None
    cache = ""
    if worker_overrides(settings, workers=workers):
        cache = (
            "; 响应缓存已关闭 response cache off"
            " (it needs LINJU_REDIS_URL to see other workers' writes)"
        )
    return (
        f"警告：{workers} 个进程各自保存 (each of the {workers} workers keeps its own) "
        + "; ".join(unshared)
        + cache
        + " — 生产环境请设置 LINJU_BROKER 与 LINJU_REDIS_URL"
    )


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    """SIGTERM once uvicorn has drained (it re-raises the signal), or before it started."""
    raise SystemExit(0)


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def uvicorn_options(settings: Settings, host: str, port: int) -> dict[str, Any]:
    return {
        "factory": True,
        "host": host,
        "port": port,
        # The C parser and event loop of uvicorn[standard], named rather than left to
        # "auto" (the pure-Python ones cost several times more per request).
        "http": "httptools" if _installed("httptools") else "auto",
        "loop": "uvloop" if _installed("uvloop") else "auto",
        # RequestContext logs each request with its id: uvicorn's own line is off.
        "access_log": False,
        # Behind a load balancer: client address and scheme from X-Forwarded-*,
        # trusted only from these proxies.
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        # SIGTERM: stop accepting, let in-flight requests finish, then stop.
        "timeout_graceful_shutdown": settings.shutdown_timeout_seconds or None,
        "log_config": uvicorn_log_config(settings),
    }


def run(
    settings: Settings, host: str, port: int, *, workers: int = 1, reload: bool = False
) -> None:
    """Serve until SIGTERM or Ctrl-C; returns (exit 0) after a graceful shutdown."""
    options = uvicorn_options(settings, host, port)
    signal.signal(signal.SIGTERM, _exit_cleanly)
    if workers > 1 and not reload:
        os.environ.update(worker_overrides(settings, workers=workers))  # read by the workers
        # /metrics of any worker adds up all of them (prometheus multiprocess files).
        with metrics_for_workers(workers):
            config = uvicorn.Config(APP, workers=workers, **options)
            Supervisor(config, sockets=[config.bind_socket()]).run()
    else:
        uvicorn.run(APP, reload=reload, **options)


class Supervisor(Multiprocess):
    """uvicorn's worker supervisor, closing its copy of the listening socket first.

    The parent keeps the socket open to restart dead workers; left open while the
    workers drain, the kernel would queue new connections nobody answers instead of
    refusing them (a load balancer then waits rather than trying another process).
    """

    def terminate_all(self) -> None:
        for sock in self.sockets:
            sock.close()
        super().terminate_all()
