"""``linju token create | list | revoke``: named API tokens for service clients."""

from __future__ import annotations

import asyncio
import datetime as dt

import click

from hub.app.cli.database import hub_database
from hub.app.cli.errors import fail, friendly_errors
from hub.settings import load_settings


def _shanghai(value: dt.datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")


@click.group()
def token() -> None:
    """Named API tokens for frontends and partner systems (stored only as a hash)."""


@token.command("create")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for, e.g. 'dashboard'.")
@click.option(
    "--expires-days", type=click.IntRange(min=1), default=None, help="Expire after N days."
)
@friendly_errors
def create_token(username: str, name: str, expires_days: int | None) -> None:
    """Create a token for USERNAME and print it once."""
    # Imported here, not at the top: see LAZY in hub/app/cli/__init__.py.
    from hub.models import User
    from hub.services import auth

    async def run() -> str:
        async with hub_database(load_settings()):
            user = await User.get_or_none(username=username)
            if user is None:
                fail(f"没有这个用户 (no such user): {username}")
            expires = (
                dt.datetime.now(dt.UTC) + dt.timedelta(days=expires_days) if expires_days else None
            )
            secret, _ = await auth.create_api_token(user=user, name=name, expires_at=expires)
            return secret

    secret = asyncio.run(run())
    click.echo(f"已创建令牌 (token created) for {username}: {name}")
    click.echo(f"令牌只显示这一次 (shown once): {secret}")


@token.command("list")
@click.argument("username", required=False)
@friendly_errors
def list_tokens(username: str | None) -> None:
    """List tokens (of USERNAME, or all): id, user, name, prefix, last use, state."""
    # Imported here, not at the top: see LAZY in hub/app/cli/__init__.py.
    from hub.services import accounts

    async def run() -> list[str]:
        async with hub_database(load_settings()):
            rows = await accounts.list_tokens(username=username)
        now = dt.datetime.now(dt.UTC)
        lines = []
        for t in rows:
            if t.revoked_at:
                state = f"已撤销 revoked {_shanghai(t.revoked_at)}"
            elif t.expires_at and t.expires_at <= now:
                state = "已过期 expired"
            else:
                state = "有效 active"
            lines.append(
                f"{t.id:>5}  {t.user.username:<16} {t.name:<20} lj_{t.prefix}_…  "
                f"last used {_shanghai(t.last_used_at)}  {state}"
            )
        return lines

    lines = asyncio.run(run())
    click.echo("\n".join(lines) if lines else "没有令牌 (no tokens)")


@token.command("revoke")
@click.argument("token_id", type=int)
@friendly_errors
def revoke_token(token_id: int) -> None:
    """Revoke the token with this id (see `linju token list`)."""
    # Imported here, not at the top: see LAZY in hub/app/cli/__init__.py.
    from hub.models import ApiToken
    from hub.services import auth

    async def run() -> None:
        async with hub_database(load_settings()):
            record = await ApiToken.get_or_none(id=token_id)
            if record is None:
                fail(f"没有这个令牌 (no token with id {token_id})")
            await auth.revoke_api_token(token=record)

    asyncio.run(run())
    click.echo(f"已撤销令牌 (revoked token) {token_id}")
