"""Typed settings, read once from ``LINJU_*`` environment variables.

Each setting is declared once, as a field of ``Settings``: its variable (``LINJU_`` and
the field's name in capitals), its type, its default and what it is for (the README's
table of settings is checked against these). ``load_settings`` reads the variables
through Starlette's ``Config`` and parses each by its type, or by the parser the field
names; a value the hub cannot use is a ``SettingsError`` naming the variable. An empty
variable counts as unset, except for a plain text setting.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import Field, dataclass, field, fields, replace
from functools import cache, lru_cache
from typing import Any, get_type_hints
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.config import Config

from hub.secret_key import PROCESS_KEY, SecretKeyError, random_key, resolve_secret_key

PREFIX = "LINJU_"


class SettingsError(ValueError):
    """A setting has a value the hub cannot use."""


class Invalid(ValueError):
    """A parser's refusal: what the value must be (the loader names the variable)."""


Parse = Callable[[str], Any]

DERIVED = {"derived": True}  # a field computed from other settings, not a LINJU_ variable


def setting(default: Any, doc: str, *, parse: Parse | None = None) -> Any:
    """A field read from ``LINJU_<NAME>``: its default, what it is for, and a parser
    for values beyond its type's (choices, URLs)."""
    return field(default=default, metadata={"doc": doc, "parse": parse})


def parse_choice(*choices: str) -> Parse:
    """One of ``choices``, in any case (answered as declared)."""

    def parse(raw: str) -> str:
        for option in choices:
            if raw.strip().lower() == option.lower():
                return option
        raise Invalid(f"must be one of {', '.join(choices)}")

    return parse


def parse_redis_url(raw: str) -> str:
    value = raw.strip()
    if not value.startswith(("redis://", "rediss://", "unix://")):
        raise Invalid("must be a redis:// URL")
    return value


BROKER_SCHEMES = ("redis://", "rediss://", "unix://", "postgres://", "postgresql://")


def parse_broker(raw: str) -> str:
    """``memory``, ``postgres``, or a Redis or PostgreSQL URL."""
    value = raw.strip()
    if value.lower() in {"memory", "postgres"}:
        return value.lower()
    if value.startswith(BROKER_SCHEMES):
        return value
    raise Invalid("must be memory, postgres, or a redis:// or postgres:// URL")


READ_PATHS = ("compiled", "resolvers", "differential")


@dataclass(frozen=True)
class Settings:
    database_url: str = setting(
        "sqlite://linju.db", "the database; e.g. `postgres://user:pass@host:5432/linju`"
    )
    read_database_url: str | None = setting(
        None, "a read replica: reads go there, writes to the primary"
    )
    # Signs tokens and console sessions: load_settings() resolves it from LINJU_SECRET_KEY
    # or LINJU_SECRET_KEY_FILE (hub/secret_key.py). Settings built in code without one
    # sign with a random key: never a known one.
    secret_key: str = field(default_factory=random_key, repr=False, compare=False)
    # Where the key came from, and why a server must not start with it (PostgreSQL and
    # no key configured): found by load_settings(), not variables of their own.
    secret_key_source: str = field(default=PROCESS_KEY, compare=False, metadata=DERIVED)
    secret_key_refusal: str | None = field(default=None, compare=False, metadata=DERIVED)
    debug: bool = setting(False, "debug pages; in the CLI, show the traceback of unexpected errors")
    graphql_ide: bool = setting(True, "serve GraphiQL at `GET /graphql` to browsers")
    introspection: bool = setting(True, "allow schema introspection")
    read_path: str = setting(
        "compiled",
        "read queries: `compiled` (each root field one SQL statement that builds its JSON; "
        "fields the compiler cannot express (none today; `tests/test_compiled_shapes.py` "
        "pins the list) and, on SQLite, cursors over orderings by text, dates or times and "
        "relations nested deeper than its parser takes, send the operation to the "
        "resolvers, counted in `linju_read_fallback_total`), `resolvers` (never compile), "
        "`differential` (run both, answer with the resolvers, log differences on "
        "`linju.read_path`)",
        parse=parse_choice(*READ_PATHS),
    )
    page_size_default: int = setting(50, "page size when `first`/`last` is not given")
    page_size_max: int = setting(500, "largest page a client may ask for")
    max_depth: int = setting(10, "deepest query accepted")
    max_aliases: int = setting(30, "most aliases in one query")
    max_tokens: int = setting(2000, "most tokens in one query document")
    max_cost: int = setting(50_000, "highest estimated query cost accepted")
    public_statistics: bool = setting(False, "district statistics readable without signing in")
    access_token_minutes: int = setting(30, "lifetime of an access token")
    refresh_token_days: int = setting(14, "lifetime of a refresh token")
    login_max_failures: int = setting(5, "failed logins before a username is locked")
    login_window_minutes: int = setting(15, "window in which failed logins are counted")
    login_lock_minutes: int = setting(15, "how long a locked username stays locked")
    timezone: str = setting("Asia/Shanghai", "time zone shown to people (storage is UTC)")
    language: str = setting("zh_Hans_CN", "interface language")
    allowed_origins: tuple[str, ...] = setting(
        (), "comma-separated origins whose pages may open GraphQL WebSockets"
    )
    host: str = setting("127.0.0.1", "where `linju serve` listens")
    port: int = setting(8000, "the port `linju serve` listens on")
    broker: str = setting(
        "memory",
        "carries subscription events: `memory` (one process), `redis://host:6379/0`, or "
        "`postgres` (LISTEN/NOTIFY on the database; or a `postgres://` URL); "
        "`?channel=NAME` keeps hubs sharing a Redis apart",
        parse=parse_broker,
    )
    redis_url: str | None = setting(
        None,
        "shared state of several processes — response cache, data versions, rate-limit "
        "counters: `redis://host:6379/0`; without it each process keeps its own",
        parse=parse_redis_url,
    )
    response_cache: bool = setting(True, "answer repeated read queries from the response cache")
    cache_ttl_seconds: int = setting(
        300, "longest a cached answer is kept (writes invalidate it at once)"
    )
    cache_max_entries: int = setting(2000, "answers kept by the in-process cache")
    replica_lag_seconds: int = setting(
        5, "after a write, how long the writer's reads go to the primary instead of the replica"
    )
    log_format: str = setting(
        "json", "`json` (one object per line) or `text`", parse=parse_choice("json", "text")
    )
    log_level: str = setting(
        "INFO",
        "`DEBUG`, `INFO`, `WARNING` or `ERROR`",
        parse=parse_choice("DEBUG", "INFO", "WARNING", "ERROR"),
    )
    slow_query_ms: int = setting(500, "log SQL statements slower than this (0: off)")
    metrics: bool = setting(True, "serve Prometheus metrics at `/metrics`")
    rate_limit_token_per_minute: int = setting(
        600, "requests a minute per signed-in caller (0: no limit)"
    )
    rate_limit_address_per_minute: int = setting(
        1200, "requests a minute per client address (0: no limit)"
    )
    # Uploads (multipart: roster imports) may be this large; any other body only
    # max_graphql_body_bytes.
    max_body_bytes: int = setting(
        20 * 1024 * 1024,
        "largest file upload (`multipart/form-data`, roster imports) accepted (413 beyond)",
    )
    max_graphql_body_bytes: int = setting(
        1024 * 1024, "largest other request body, GraphQL JSON included (413 beyond)"
    )
    ws_max_connections_per_account: int = setting(
        10, "WebSocket connections one account may have open, per process (0: no limit)"
    )
    ws_max_subscriptions_per_connection: int = setting(
        50, "operations (subscriptions) in flight on one WebSocket connection (0: no limit)"
    )
    ws_max_subscriptions_per_account: int = setting(
        100,
        "operations in flight on all of an account's connections, per process (0: no limit)",
    )
    statement_timeout_ms: int = setting(
        15_000, "longest a SQL statement may run on PostgreSQL (0: no limit)"
    )
    shutdown_timeout_seconds: int = setting(
        30, "on SIGTERM, how long in-flight requests get to finish"
    )
    # uvicorn's forwarded_allow_ips.
    forwarded_allow_ips: str = setting(
        "127.0.0.1",
        "proxies (load balancers) whose `X-Forwarded-For` is trusted for the client address",
    )
    # Trusted documents (hub.documents_gate); see README "For frontend teams".
    documents: str = setting(
        "open",
        "`open`: any document runs; `trusted`: only registered trusted documents "
        '(see "For frontend teams")',
        parse=parse_choice("open", "trusted"),
    )
    documents_admin_adhoc: bool = setting(
        False,
        "`true`: in trusted mode, ADMIN tokens may still send ad-hoc documents (debugging)",
    )
    documents_max_age_seconds: int = setting(
        60, "`Cache-Control: max-age` of a public answer to a GET by document id"
    )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def variables() -> list[Field[Any]]:
    """The fields read from ``LINJU_*`` variables, in declaration order."""
    return [f for f in fields(Settings) if "doc" in f.metadata]


def variable(setting: Field[Any]) -> str:
    """The environment variable of a setting: ``LINJU_PAGE_SIZE_MAX``."""
    return f"{PREFIX}{setting.name.upper()}"


def load_settings() -> Settings:
    """Build settings from the environment (no caching: tests change it)."""
    # Every other setting first: a bad one fails before a key file is made.
    environment = _environment()
    settings = _settings_from_environment(environment)
    try:
        key = resolve_secret_key(
            key=environment("SECRET_KEY", default=None) or None,
            key_file=environment("SECRET_KEY_FILE", default=None) or None,
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


def _environment() -> Config:
    """The ``LINJU_*`` variables as they are now (tests change them)."""
    return Config(environ=os.environ, env_prefix=PREFIX)


def _settings_from_environment(environment: Config) -> Settings:
    values: dict[str, Any] = {}
    for declared in variables():
        value = _from_environment(environment, declared)
        if value is not _UNSET:
            values[declared.name] = value
    return Settings(**values)


def setting_from_environment(name: str) -> Any:
    """One setting as its ``LINJU_*`` variable says now, parsed as :func:`load_settings`
    does (its default when unset): for code that must not load them all, e.g. the CLI's
    error handler. Raises :class:`SettingsError` for a bad value."""
    declared = next(f for f in variables() if f.name == name)
    value = _from_environment(_environment(), declared)
    return declared.default if value is _UNSET else value


_UNSET: Any = object()


def _from_environment(environment: Config, declared: Field[Any]) -> Any:
    """The parsed value of one setting's variable, or ``_UNSET``."""
    raw: str | None = environment(declared.name.upper(), default=None)
    if raw is None:
        return _UNSET
    parse = declared.metadata["parse"]
    if parse is None:
        if not raw.strip() and _types()[declared.name] is not str:
            return _UNSET  # empty: as if unset (only plain text may be empty)
        parse = _BY_TYPE[_types()[declared.name]]
    elif not raw.strip():
        return _UNSET
    try:
        return parse(raw)
    except Invalid as exc:
        raise SettingsError(f"{variable(declared)} {exc}, got {raw!r}") from None


@cache
def _types() -> dict[str, Any]:
    return get_type_hints(Settings)


def _whole(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise Invalid("must be a whole number") from None


TRUE, FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value in TRUE | FALSE:
        return value in TRUE
    raise Invalid("must be true or false (1/0, yes/no, on/off)")


def _names(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


# The parser of each declared type (a type missing here fails at the first load).
_BY_TYPE: dict[Any, Parse] = {
    str: str,
    str | None: str,
    int: _whole,
    bool: _flag,
    tuple[str, ...]: _names,
}


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
