"""Typed settings, read once from ``LINJU_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from hub.secret_key import PROCESS_KEY, SecretKeyError, random_key, resolve_secret_key


def _env(name: str, default: str) -> str:
    return os.environ.get(f"LINJU_{name}", default)


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(f"LINJU_{name}")
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(f"LINJU_{name}")
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"LINJU_{name} must be a whole number, got {raw!r}") from None


class SettingsError(ValueError):
    """A setting has a value the hub cannot use."""


DERIVED = {"derived": True}  # a field computed from other settings, not a LINJU_ variable


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite://linju.db"
    # Optional read replica; reads go there, writes to the primary.
    read_database_url: str | None = None
    # Signs tokens and console sessions; load_settings() resolves it (hub/secret_key.py).
    # Settings built in code without one sign with a random key: never a known one.
    secret_key: str = field(default_factory=random_key, repr=False, compare=False)
    # Where the key came from, and why a server must not start with it (PostgreSQL and
    # no key configured): found by load_settings(), not variables of their own.
    secret_key_source: str = field(default=PROCESS_KEY, compare=False, metadata=DERIVED)
    secret_key_refusal: str | None = field(default=None, compare=False, metadata=DERIVED)
    debug: bool = False
    # GraphQL
    graphql_ide: bool = True
    introspection: bool = True
    page_size_default: int = 50
    page_size_max: int = 500
    max_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 2000
    max_cost: int = 50_000
    public_statistics: bool = False
    # Read queries: "compiled" to SQL where possible, "resolvers" only, or "differential"
    # (both; answer with the resolvers, log differences). See schema/compiled/.
    read_path: str = "compiled"
    # Accounts: token lifetimes and login throttling.
    access_token_minutes: int = 30
    refresh_token_days: int = 14
    login_max_failures: int = 5
    login_window_minutes: int = 15
    login_lock_minutes: int = 15
    # Time zone the district works in; storage is UTC.
    timezone: str = "Asia/Shanghai"
    language: str = "zh_Hans_CN"
    allowed_origins: tuple[str, ...] = field(default_factory=tuple)
    # Where `linju serve` listens.
    host: str = "127.0.0.1"
    port: int = 8000
    # What carries subscription events between processes: "memory" (this process
    # only), "redis://host:port/db", or "postgres" (LISTEN/NOTIFY on the database;
    # or a postgres:// URL of its own).
    broker: str = "memory"
    # Shared state of several processes (response cache, data versions, rate-limit
    # counters): a Redis URL, or None to keep it in this process.
    redis_url: str | None = None
    # Response cache for read queries (keyed by query, variables and viewer scope).
    response_cache: bool = True
    cache_ttl_seconds: int = 300
    cache_max_entries: int = 2000
    # After a write, how long the writer's reads go to the primary, not the replica.
    replica_lag_seconds: int = 5
    # Observability.
    log_format: str = "json"
    log_level: str = "INFO"
    slow_query_ms: int = 500
    metrics: bool = True
    # Limits under load (0 turns a limit off).
    rate_limit_token_per_minute: int = 600
    rate_limit_address_per_minute: int = 1200
    # Uploads (multipart: roster imports) may be this large; any other body, GraphQL
    # JSON included, only max_graphql_body_bytes.
    max_body_bytes: int = 20 * 1024 * 1024
    # WebSockets: open connections per account, operations in flight per connection
    # and per account (subscriptions, and queries until answered); per process.
    ws_max_connections_per_account: int = 10
    ws_max_subscriptions_per_connection: int = 50
    ws_max_subscriptions_per_account: int = 100
    max_graphql_body_bytes: int = 1024 * 1024
    statement_timeout_ms: int = 15_000
    shutdown_timeout_seconds: int = 30
    # Addresses of proxies whose X-Forwarded-For is trusted (uvicorn's forwarded_allow_ips).
    forwarded_allow_ips: str = "127.0.0.1"
    # Trusted documents (hub.documents_gate): "open" runs any document, "trusted" only
    # registered ones (ADMIN tokens ad hoc too when documents_admin_adhoc); a public
    # answer to a GET by document id may be cached this long by browsers and proxies.
    documents: str = "open"
    documents_admin_adhoc: bool = False
    documents_max_age_seconds: int = 60

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings() -> Settings:
    """Build settings from the environment (no caching: tests change it)."""
    # Every other setting first: a bad one fails before a key file is made.
    settings = _settings_from_environment()
    try:
        key = resolve_secret_key(
            key=os.environ.get("LINJU_SECRET_KEY") or None,
            key_file=os.environ.get("LINJU_SECRET_KEY_FILE") or None,
            database_url=settings.database_url,
        )
    except SecretKeyError as exc:
        raise SettingsError(str(exc)) from None
    return replace(
        settings,
        secret_key=key.value,
        secret_key_source=key.source,
        secret_key_refusal=key.refusal,
    )


def _settings_from_environment() -> Settings:
    origins = tuple(o.strip() for o in _env("ALLOWED_ORIGINS", "").split(",") if o.strip())
    return Settings(
        database_url=_env("DATABASE_URL", "sqlite://linju.db"),
        read_database_url=os.environ.get("LINJU_READ_DATABASE_URL") or None,
        debug=_env_bool("DEBUG", False),
        graphql_ide=_env_bool("GRAPHQL_IDE", True),
        introspection=_env_bool("INTROSPECTION", True),
        page_size_default=_env_int("PAGE_SIZE_DEFAULT", 50),
        page_size_max=_env_int("PAGE_SIZE_MAX", 500),
        max_depth=_env_int("MAX_DEPTH", 10),
        max_aliases=_env_int("MAX_ALIASES", 30),
        max_tokens=_env_int("MAX_TOKENS", 2000),
        max_cost=_env_int("MAX_COST", 50_000),
        public_statistics=_env_bool("PUBLIC_STATISTICS", False),
        read_path=_read_path(_env("READ_PATH", "compiled")),
        access_token_minutes=_env_int("ACCESS_TOKEN_MINUTES", 30),
        refresh_token_days=_env_int("REFRESH_TOKEN_DAYS", 14),
        login_max_failures=_env_int("LOGIN_MAX_FAILURES", 5),
        login_window_minutes=_env_int("LOGIN_WINDOW_MINUTES", 15),
        login_lock_minutes=_env_int("LOGIN_LOCK_MINUTES", 15),
        timezone=_env("TIMEZONE", "Asia/Shanghai"),
        language=_env("LANGUAGE", "zh_Hans_CN"),
        allowed_origins=origins,
        host=_env("HOST", "127.0.0.1"),
        port=_env_int("PORT", 8000),
        broker=_broker(_env("BROKER", "memory")),
        redis_url=_redis_url(_env("REDIS_URL", "")),
        response_cache=_env_bool("RESPONSE_CACHE", True),
        cache_ttl_seconds=_env_int("CACHE_TTL_SECONDS", 300),
        cache_max_entries=_env_int("CACHE_MAX_ENTRIES", 2000),
        replica_lag_seconds=_env_int("REPLICA_LAG_SECONDS", 5),
        log_format=_choice("LOG_FORMAT", "json", ("json", "text")),
        log_level=_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
        slow_query_ms=_env_int("SLOW_QUERY_MS", 500),
        metrics=_env_bool("METRICS", True),
        rate_limit_token_per_minute=_env_int("RATE_LIMIT_TOKEN_PER_MINUTE", 600),
        rate_limit_address_per_minute=_env_int("RATE_LIMIT_ADDRESS_PER_MINUTE", 1200),
        max_body_bytes=_env_int("MAX_BODY_BYTES", 20 * 1024 * 1024),
        ws_max_connections_per_account=_env_int("WS_MAX_CONNECTIONS_PER_ACCOUNT", 10),
        ws_max_subscriptions_per_connection=_env_int("WS_MAX_SUBSCRIPTIONS_PER_CONNECTION", 50),
        ws_max_subscriptions_per_account=_env_int("WS_MAX_SUBSCRIPTIONS_PER_ACCOUNT", 100),
        max_graphql_body_bytes=_env_int("MAX_GRAPHQL_BODY_BYTES", 1024 * 1024),
        statement_timeout_ms=_env_int("STATEMENT_TIMEOUT_MS", 15_000),
        shutdown_timeout_seconds=_env_int("SHUTDOWN_TIMEOUT_SECONDS", 30),
        forwarded_allow_ips=_env("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        documents=_choice("DOCUMENTS", "open", ("open", "trusted")),
        documents_admin_adhoc=_choice("DOCUMENTS_ADMIN_ADHOC", "false", ("true", "false"))
        == "true",
        documents_max_age_seconds=_env_int("DOCUMENTS_MAX_AGE_SECONDS", 60),
    )


def _redis_url(raw: str) -> str | None:
    value = raw.strip()
    if not value:
        return None
    if not value.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError(f"LINJU_REDIS_URL must be a redis:// URL, got {raw!r}")
    return value


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = _env(name, default).strip()
    for choice in choices:
        if raw.lower() == choice.lower():
            return choice
    raise SettingsError(f"LINJU_{name} must be one of {', '.join(choices)}, got {raw!r}")


BROKER_SCHEMES = ("redis://", "rediss://", "unix://", "postgres://", "postgresql://")


def _broker(raw: str) -> str:
    """LINJU_BROKER: ``memory``, ``postgres``, or a Redis or PostgreSQL URL."""
    value = raw.strip() or "memory"
    if value.lower() in {"memory", "postgres"}:
        return value.lower()
    if value.startswith(BROKER_SCHEMES):
        return value
    raise SettingsError(
        f"LINJU_BROKER must be memory, postgres, or a redis:// or postgres:// URL, got {raw!r}"
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings."""
    return load_settings()


def pop_url_option(url: str, name: str, default: str) -> tuple[str, str]:
    """(``url`` without its ``?name=`` query option, that option's value or ``default``):
    options of the hub's own (a broker channel, a key prefix) ride on service URLs."""
    parts = urlsplit(url)
    options = parse_qsl(parts.query, keep_blank_values=True)
    value = next((v for k, v in options if k == name), default)
    rest = urlencode([(k, v) for k, v in options if k != name])
    return urlunsplit(parts._replace(query=rest)), value


READ_PATHS = ("compiled", "resolvers", "differential")


def _read_path(value: str) -> str:
    choice = value.strip().lower()
    if choice not in READ_PATHS:
        raise SettingsError(
            f"LINJU_READ_PATH must be one of {', '.join(READ_PATHS)}, got {value!r}"
        )
    return choice
