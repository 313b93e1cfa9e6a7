"""``linju documents add | sync | list | retire | check``: the trusted documents of
frontend teams (hub.services.documents)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from hub.app.cli.errors import fail, friendly_errors
from hub.settings import load_settings

if TYPE_CHECKING:
    from graphql import GraphQLSchema

    from hub.services.documents import DocumentProblem, RegisterReport

CLI_ACTOR = "linju documents"


def _shanghai(value: dt.datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")


def _api_schema() -> GraphQLSchema:
    """The schema this hub serves (graphql-core's), as registration checks against it."""
    from schema.build import build_schema
    from schema.internals import graphql_schema

    return graphql_schema(build_schema(load_settings()))


def _echo_problems(problems: Sequence[DocumentProblem]) -> None:
    for problem in problems:
        shown = f"sha256:{problem.document_id[:12]}… " if problem.document_id else ""
        click.echo(f"✗ {shown}{problem.source}", err=True)
        for message in problem.messages:
            click.echo(f"    {message}", err=True)


@click.group()
def documents() -> None:
    """Trusted documents: the GraphQL operations frontends register (by SHA-256)."""


def _register(paths: Sequence[Path], client: str, client_version: str, prune: bool) -> None:
    from hub.app.cli.database import hub_database
    from hub.models import TrustedDocument
    from hub.services import documents as service
    from schema.documents import registration_limits

    try:
        submitted = service.read_paths(paths)
    except service.ManifestError as exc:
        fail(str(exc))
    schema = _api_schema()
    settings = load_settings()

    async def run() -> tuple[RegisterReport, int]:
        async with hub_database(settings):
            report = await service.register(
                documents=submitted,
                client_name=client,
                client_version=client_version,
                schema=schema,
                limits=registration_limits(settings, schema),
                actor=None,
                actor_name=CLI_ACTOR,
            )
            retired = 0
            if prune and report.ok:
                kept = {d.id for d in report.documents}
                stale = await TrustedDocument.filter(
                    client_name=client.strip(), retired_at__isnull=True
                ).exclude(id__in=kept)
                for document in stale:
                    await service.retire(document_id=document.id, actor=None, actor_name=CLI_ACTOR)
                    retired += 1
            return report, retired

    report, retired = asyncio.run(run())
    if not report.ok:
        _echo_problems(report.problems)
        fail(f"{len(report.problems)} 个文档被拒绝，未保存任何文档 (refused; nothing saved)")
    click.echo(
        f"已登记 (registered) {len(report.registered)}，未变 (unchanged) "
        f"{len(report.unchanged)}" + (f"，已停用 (retired) {retired}" if prune else "")
    )
    for document in report.registered:
        names = ", ".join(document.operation_names) or "-"
        click.echo(f"  sha256:{document.id}  {names}")


CLIENT = click.option("--client", required=True, help="The frontend's name, e.g. 'web'.")
CLIENT_VERSION = click.option(
    "--client-version", default="", help="Its version (a release or commit)."
)


@documents.command("add")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@CLIENT
@CLIENT_VERSION
@friendly_errors
def add(files: tuple[Path, ...], client: str, client_version: str) -> None:
    """Register FILES: .graphql documents or JSON manifests."""
    _register(files, client, client_version, prune=False)


@documents.command("sync")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@CLIENT
@CLIENT_VERSION
@click.option("--prune", is_flag=True, help="Retire this client's documents not in SOURCES.")
@friendly_errors
def sync(sources: tuple[Path, ...], client: str, client_version: str, prune: bool) -> None:
    """Register every document of a manifest (codegen, Relay, Apollo) or a folder."""
    _register(sources, client, client_version, prune=prune)


@documents.command("list")
@click.option("--client", default=None, help="Only this client's documents.")
@click.option("--all", "show_all", is_flag=True, help="Retired documents too.")
@friendly_errors
def list_documents(client: str | None, show_all: bool) -> None:
    """Registered documents: id, client, operations, requests, errors, last use."""
    from hub.app.cli.database import hub_database
    from hub.models import TrustedDocument

    async def run() -> list[TrustedDocument]:
        async with hub_database(load_settings()):
            query = TrustedDocument.all()
            if client is not None:
                query = query.filter(client_name=client)
            if not show_all:
                query = query.filter(retired_at__isnull=True)
            return await query.order_by("client_name", "registered_at")

    rows = asyncio.run(run())
    if not rows:
        click.echo("没有登记的文档 (no registered documents)")
    for d in rows:
        state = f"已停用 retired {_shanghai(d.retired_at)}" if d.retired_at else "有效 active"
        click.echo(
            f"sha256:{d.id[:16]}…  {d.client_name}@{d.client_version or '-'}  "
            f"{', '.join(d.operation_names) or '-'}  requests {d.request_count}  "
            f"errors {d.error_count}  last used {_shanghai(d.last_used_at)}  {state}"
        )


@documents.command("retire")
@click.argument("document_id")
@friendly_errors
def retire(document_id: str) -> None:
    """Retire DOCUMENT_ID (sha256:<hex>): trusted mode stops running it."""
    from hub.app.cli.database import hub_database
    from hub.services import documents as service
    from hub.services.errors import ServiceError

    async def run() -> str:
        async with hub_database(load_settings()):
            try:
                document = await service.retire(
                    document_id=document_id, actor=None, actor_name=CLI_ACTOR
                )
            except ServiceError as exc:
                fail("; ".join(e.message for e in exc.errors))
            return document.id

    hex_id = asyncio.run(run())
    click.echo(f"已停用 (retired) sha256:{hex_id}")


@documents.command("check")
@click.argument("sdl_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@friendly_errors
def check(sdl_file: Path) -> None:
    """List every registered document SDL_FILE would break; exit 1 when any."""
    from graphql import GraphQLError, build_schema

    from hub.app.cli.database import hub_database
    from hub.services import documents as service

    try:
        new_schema = build_schema(sdl_file.read_text(encoding="utf-8"))
    except GraphQLError as exc:
        where = f", line {exc.locations[0].line}" if exc.locations else ""
        fail(f"{sdl_file}: 不是有效的 GraphQL SDL (not a valid schema: {exc.message}{where})")
    except (TypeError, UnicodeDecodeError) as exc:
        fail(f"{sdl_file}: 不是有效的 GraphQL SDL (not a valid schema: {exc})")
    current = _api_schema()

    async def run() -> tuple[int, list[DocumentProblem]]:
        async with hub_database(load_settings()):
            active = await service.active_documents()
        return len(active), service.breaking(schema=new_schema, documents=active, current=current)

    checked, problems = asyncio.run(run())
    if problems:
        _echo_problems(problems)
        fail(f"{len(problems)}/{checked} 个已登记文档会被破坏 (registered documents broken)")
    click.echo(f"{checked} 个已登记文档均兼容 (every registered document still validates)")
