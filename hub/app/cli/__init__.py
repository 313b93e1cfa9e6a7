"""The ``linju`` command line: serve, demo, migrate, seed, createuser, token, export-schema, assets.

Every command that fails for a reason the user can fix prints one line (Chinese, with
the English cause) and exits non-zero: see ``hub.app.cli.errors``. Set ``LINJU_DEBUG=1``
to get the traceback of an unexpected error instead.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector

from hub import __version__
from hub.app.cli.accounts import token
from hub.app.cli.backup import backup, restore
from hub.app.cli.database import CONNECT_TIMEOUT, hub_database
from hub.app.cli.documents import documents
from hub.app.cli.errors import PortInUse, fail, friendly_errors, redact
from hub.assets import AssetError, assets_present, fetch_assets
from hub.db import migrate as run_migrations
from hub.db import tortoise_config
from hub.db_status import migrations_on_disk, schema_status
from hub.settings import Settings, get_settings, load_settings

if TYPE_CHECKING:
    from seeds.loader import SeedReport

# LAZY: the commands import the models, the services and the server (pypinyin, argon2,
# prometheus…: about 1.4 s) inside their bodies, so that `linju --help`, `migrate` and
# the other light commands start in a fraction of a second.
DEMO_DATABASE_URL = Settings.database_url  # the default SQLite file, linju.db
SCHEMA_FILE = Path(__file__).resolve().parents[3] / "schema" / "schema.graphql"


# ---------------------------------------------------------------- helpers


def ensure_port_free(host: str, port: int) -> None:
    """Fail now, with one line, rather than let the server die on bind."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        fail(f"无法解析监听地址 (cannot resolve host) {host}: {exc.strerror}")
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(host, port) from exc
            fail(f"无法监听 (cannot listen on) {host}:{port}: {exc.strerror}")


def resolve_target(target: str | None) -> str | None:
    """``0001``, ``0001_initial`` or ``hub.0001_initial`` → ``hub.0001_initial``."""
    if target is None:
        return None
    name = target.removeprefix("hub.")
    matches = [m for m in migrations_on_disk() if m == name or m.startswith(f"{name}_")]
    if len(matches) != 1:
        known = ", ".join(migrations_on_disk())
        fail(f"未知的迁移 (unknown migration) {target!r}; 可选 (known): {known}")
    return f"hub.{matches[0]}"


async def migrate_database(
    settings: Settings, target: str | None = None
) -> tuple[list[str], list[str]]:
    """Apply (or roll back to ``target``); the applied names before and after."""
    resolved = resolve_target(target)
    async with hub_database(settings, require_schema=False):
        before = (await schema_status()).applied
    await run_migrations(settings, target=resolved)
    async with hub_database(settings, require_schema=False):
        after = (await schema_status()).applied
    return before, after


def key_line(settings: Settings) -> str:
    """Where the key signing tokens and console sessions comes from, in one line."""
    return f"签名密钥 (secret key): {settings.secret_key_source}"


def display_host(host: str) -> str:
    return "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host


def run_server(host: str, port: int, *, workers: int = 1, reload: bool = False) -> None:
    # Imported here, not at the top: see LAZY below the imports.
    from hub.app import serving

    get_settings.cache_clear()  # the factory reads the environment as it is now
    serving.run(get_settings(), host, port, workers=workers, reload=reload)


# ---------------------------------------------------------------- commands


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="linju")
def main() -> None:
    """邻聚 Hub — GraphQL API and admin console for community party building.

    Settings come from LINJU_* environment variables (see README).
    """


@main.command()
@click.option("--host", default=None, help="Address to listen on [LINJU_HOST, 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port to listen on [LINJU_PORT, 8000].")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
@friendly_errors
def serve(host: str | None, port: int | None, workers: int, reload: bool) -> None:
    """Serve the hub with uvicorn (migrate first: `linju migrate`)."""
    # Imported here, not at the top: see LAZY below the imports.
    from hub.app.serving import serve_refusal, shared_state_warning

    settings = load_settings()
    if refusal := serve_refusal(settings, workers=workers, reload=reload):
        fail(refusal)
    host = host or settings.host
    port = port if port is not None else settings.port
    ensure_port_free(host, port)
    asyncio.run(_check_ready(settings))
    if warning := shared_state_warning(settings, workers=workers):
        click.echo(warning, err=True)
    click.echo(key_line(settings))
    run_server(host, port, workers=workers, reload=reload)


async def _check_ready(settings: Settings) -> None:
    """The database, the broker and the shared Redis all answer: fail in one line if not."""
    # Imported here, not at the top: see LAZY below the imports.
    from hub.broker import BrokerError, running_broker

    async with hub_database(settings):
        pass
    try:
        async with running_broker(settings):
            pass
    except BrokerError as exc:
        fail(f"事件代理不可用 (LINJU_BROKER unreachable): {exc}")
    if settings.redis_url:
        await _check_redis(settings.redis_url)


async def _check_redis(url: str) -> None:
    # Imported here, not at the top: see LAZY below the imports.
    from redis.exceptions import RedisError

    from hub.shared import close_shared_redis, shared_redis

    try:
        await asyncio.wait_for(shared_redis(url).client.ping(), CONNECT_TIMEOUT)
    except (RedisError, OSError, TimeoutError) as exc:
        fail(f"Redis 不可用 (LINJU_REDIS_URL unreachable): {type(exc).__name__}: {exc}")
    finally:
        await close_shared_redis()


@main.command()
@click.option("--host", default=None, help="Address to listen on [LINJU_HOST, 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port to listen on [LINJU_PORT, 8000].")
@click.option(
    "--database-url",
    default=DEMO_DATABASE_URL,
    show_default=True,
    help="Database for the demo (the default SQLite file).",
)
@friendly_errors
def demo(host: str | None, port: int | None, database_url: str) -> None:
    """Migrate, load the demo dataset, fetch GraphiQL, and serve: a hub in one command."""
    os.environ["LINJU_DATABASE_URL"] = database_url  # what the server's factory will read
    settings = load_settings()
    if settings.secret_key_refusal:
        fail(settings.secret_key_refusal)
    host = host or settings.host
    port = port if port is not None else settings.port
    ensure_port_free(host, port)

    _, after = asyncio.run(migrate_database(settings))
    click.echo(f"数据库 (database) {redact(database_url)}: 迁移至 {max(after)}")
    summary = asyncio.run(_seed_demo(settings))
    click.echo(summary)
    if not assets_present():
        click.echo("正在获取 GraphiQL 文件 (fetching GraphiQL with npm)…")
        try:
            fetch_assets()
        except AssetError as exc:
            click.echo(f"警告：{exc}；GraphiQL 页面会提示如何获取", err=True)

    base = f"http://{display_host(host)}:{port}"
    click.echo("")
    click.echo(f"  GraphQL 接口 (API)      {base}/graphql")
    click.echo(f"  GraphiQL 调试页         {base}/graphql  (在浏览器中打开)")
    click.echo(f"  管理后台 (console)      {base}/admin/")
    click.echo(f"  运行状态 (healthz)      {base}/healthz")
    click.echo("")
    click.echo(key_line(settings))
    run_server(host, port)


async def _seed_demo(settings: Settings) -> str:
    # Imported here, not at the top: see LAZY below the imports.
    from hub.services.accounts import ensure_demo_accounts

    async with hub_database(settings):
        report = await _load_demo(scale=1, seed=2020)  # skips a district already there
        accounts = await ensure_demo_accounts()
    lines = [report.summary(), "", "演示账号 (demo accounts):"]
    for account in accounts:
        password = account.password or "（已存在，密码未改 exists, password unchanged）"
        scope = f"  [{account.scope}]" if account.scope else ""
        lines.append(f"  {account.role.value:<8} {account.username:<10} {password}{scope}")
    return "\n".join(lines)


async def _load_demo(*, scale: int, seed: int) -> SeedReport:
    try:
        # Imported here: the demo generator (names, addresses, tables) only for
        # `linju seed` / `linju demo`, not for every command.
        from seeds.loader import load_demo
    except ImportError as exc:
        fail(f"演示数据模块不可用 (seeds.loader missing): {exc}")
    return await load_demo(scale=scale, seed=seed)


@main.command("migrate")
@click.option("--target", default=None, help="Migrate (forwards or back) to this migration.")
@friendly_errors
def migrate_command(target: str | None) -> None:
    """Bring the database schema up to date (or to --target)."""
    settings = load_settings()
    before, after = asyncio.run(migrate_database(settings, target))
    applied = [name for name in after if name not in before]
    undone = [name for name in before if name not in after]
    for name in applied:
        click.echo(f"  已应用 (applied) {name}")
    for name in undone:
        click.echo(f"  已回滚 (rolled back) {name}")
    if not applied and not undone:
        click.echo("数据库已是最新 (no migrations to apply)")
    click.echo(f"当前版本 (schema version): {max(after) if after else '—'}")


@main.command()
@click.option("--name", default=None, help="Name for the new migration (e.g. add_venue_hours).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when the models have changes.")
@friendly_errors
def makemigrations(name: str | None, check: bool) -> None:
    """Write a migration for model changes (developers). See hub/migration_ops.py."""
    writers = asyncio.run(detect_model_changes())
    if not writers:
        click.echo("模型与迁移一致 (no changes detected)")
        return
    if check:
        fail(f"模型有未生成迁移的修改 (models changed): {len(writers)} migration(s) needed")
    for writer in writers:
        if name:
            number = writer.name.split("_", 1)[0]
            writer.name = f"{number}_{name}"
        path = Path(writer.write())
        click.echo(f"  已创建 (created) {path}")
        text = path.read_text(encoding="utf-8")
        if "CheckConstraint(" in text or "ops.AddField(" in text:
            # Tortoise 1.1's SQLite editor loses indexes on these; 0001 was fixed by hand.
            click.echo(
                "  注意：检查约束用 hub.migration_ops.AddCheckConstraint，"
                "外键/索引列用 AddIndexedField (see hub/migration_ops.py)"
            )


async def detect_model_changes() -> list[Any]:
    """Tortoise's autodetector: the migrations the models need beyond those committed."""
    # No real database is needed to compare models with migration files.
    config = tortoise_config(Settings(database_url="sqlite://:memory:"))
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        assert ctx.apps is not None
        return await MigrationAutodetector(ctx.apps, config["apps"]).changes()


@main.command()
@click.option("--scale", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--seed", "seed_value", type=int, default=2020, show_default=True)
@friendly_errors
def seed(scale: int, seed_value: int) -> None:
    """Load the deterministic demo dataset (Tianyuan District) — scale × the district."""
    settings = load_settings()

    async def run() -> str:
        async with hub_database(settings):
            report = await _load_demo(scale=scale, seed=seed_value)
        return report.summary()

    click.echo(asyncio.run(run()))


@main.command()
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice(["ADMIN", "CURATOR", "READER", "PARTNER"], case_sensitive=False),
    required=True,
)
@click.option("--street", default=None, help="Street (街道/镇) name: a CURATOR's scope.")
@click.option("--community", default=None, help="Community (社区) name: a CURATOR's scope.")
@click.option("--unit", default=None, help="Co-building unit (共建单位) name: a PARTNER's unit.")
@click.option("--display-name", default="", help="Name shown in the console.")
@click.option("--generate", is_flag=True, help="Generate a password and print it once.")
@friendly_errors
def createuser(
    username: str,
    role: str,
    street: str | None,
    community: str | None,
    unit: str | None,
    display_name: str,
    generate: bool,
) -> None:
    """Create an account; the password is prompted twice, or generated with --generate."""
    # Imported here, not at the top: see LAZY below the imports.
    from hub.enums import Role
    from hub.passwords import generate_password
    from hub.services.accounts import scope_errors

    account = NewAccount(
        username=username,
        role=Role[role.upper()],
        street=street,
        community=community,
        unit=unit,
        display_name=display_name,
    )
    if bag := scope_errors(
        role=account.role,
        has_street=bool(street),
        has_community=bool(community),
        has_unit=bool(unit),
    ):
        fail("; ".join(e.message for e in bag.errors))
    settings = load_settings()
    asyncio.run(_create_account(settings, account, None))  # checked before the password
    if generate:
        password = generate_password()
    else:
        password = click.prompt(
            "密码 (password)", hide_input=True, confirmation_prompt="再次输入 (repeat)"
        )
    asyncio.run(_create_account(settings, account, password))
    click.echo(f"已创建用户 (created user) {username} [{account.role.value}]")
    if generate:
        click.echo(f"密码 (password, shown once): {password}")


async def _find_by_name(model: Any, name: str, label: str) -> Any:
    """The one record of ``model`` with this name, in either script."""
    # Imported here, not at the top: see LAZY below the imports.
    from hub.search import fold

    rows = await model.filter(name=name)
    if not rows:
        folded = fold(name)
        rows = [
            row
            for row in await model.filter(search_text__contains=folded)
            if fold(row.name) == folded
        ]
    if not rows:
        fail(f"找不到{label} (no such {model.__name__}): {name}")
    if len(rows) > 1:
        fail(f"{label}名称不唯一 (ambiguous {model.__name__} name): {name}")
    return rows[0]


@dataclass(frozen=True)
class NewAccount:
    """What ``linju createuser`` was told, places by name."""

    username: str
    role: Any
    street: str | None
    community: str | None
    unit: str | None
    display_name: str


async def _create_account(settings: Settings, new: NewAccount, password: str | None) -> None:
    """Through the account service (scope rules, audit); with no password, only check."""
    # Imported here, not at the top: see LAZY below the imports.
    from hub.models import CoBuildingUnit, Community, Street
    from hub.services.accounts import check_new_account, create_account
    from hub.services.errors import ServiceError

    async with hub_database(settings):
        places = {
            "street": await _find_by_name(Street, new.street, "街道") if new.street else None,
            "community": (
                await _find_by_name(Community, new.community, "社区") if new.community else None
            ),
            "unit": await _find_by_name(CoBuildingUnit, new.unit, "共建单位") if new.unit else None,
        }
        try:
            if password is None:
                await check_new_account(username=new.username, role=new.role, **places)
            else:
                await create_account(
                    username=new.username,
                    role=new.role,
                    password=password,
                    display_name=new.display_name,
                    actor_name="linju createuser",
                    **places,
                )
        except ServiceError as exc:
            fail("; ".join(e.message for e in exc.errors))


@main.command("export-schema")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=SCHEMA_FILE,
    show_default="schema/schema.graphql",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when the file is stale.")
@friendly_errors
def export_schema(output: Path, check: bool) -> None:
    """Write the GraphQL schema (SDL) that frontend teams build against."""
    # Imported here: building every GraphQL type takes about a second, and only
    # export-schema needs it.
    from schema.build import export_sdl

    sdl = export_sdl(load_settings())
    if check:
        current = output.read_text(encoding="utf-8") if output.exists() else None
        if current != sdl:
            fail(f"{output} 已过期 (stale SDL): 运行 `linju export-schema` 并提交")
        click.echo(f"{output} 是最新的 (up to date)")
        return
    output.write_text(sdl, encoding="utf-8")
    click.echo(f"已写入 (wrote) {output}")


@main.command()
@click.option("--force", is_flag=True, help="Fetch again even when the files are there.")
@friendly_errors
def assets(force: bool) -> None:
    """Fetch GraphiQL and React from the npm registry into hub/static (needs npm)."""
    manifest = fetch_assets(force=force)
    for filename, entry in manifest["files"].items():
        click.echo(f"  {entry['package']}@{entry['version']}  {filename}  {entry['sha256'][:12]}")
    click.echo("GraphiQL 文件已就绪 (assets ready)")


main.add_command(token)
main.add_command(backup)
main.add_command(restore)
main.add_command(documents)
