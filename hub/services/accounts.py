"""Accounts: the demo's one account per role, and listing API tokens."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from hub.enums import Role
from hub.models import ApiToken, CoBuildingUnit, Street, User
from hub.passwords import generate_password, hash_password

# The demo's accounts: username, role, and where a curator or partner is scoped.
DEMO_ACCOUNTS: tuple[tuple[str, Role], ...] = (
    ("admin", Role.ADMIN),
    ("curator", Role.CURATOR),
    ("reader", Role.READER),
    ("partner", Role.PARTNER),
)
DEMO_CURATOR_STREET = "泰山路街道"


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    role: Role
    password: str | None  # None: the account existed, its password is unchanged
    scope: str = ""


def _demo_password(username: str) -> str:
    """LINJU_DEMO_PASSWORD_<NAME> or LINJU_DEMO_PASSWORD, else a generated one."""
    return (
        os.environ.get(f"LINJU_DEMO_PASSWORD_{username.upper()}")
        or os.environ.get("LINJU_DEMO_PASSWORD")
        or generate_password()
    )


async def ensure_demo_accounts() -> list[DemoAccount]:
    """One account per role (created once; later runs leave them as they are)."""
    street = await Street.filter(name=DEMO_CURATOR_STREET).order_by("id").first()
    unit = await CoBuildingUnit.filter(agreements__id__isnull=False).order_by("id").first()
    accounts: list[DemoAccount] = []
    for username, role in DEMO_ACCOUNTS:
        scopes: dict[Role, dict[str, Any]] = {
            Role.CURATOR: {"street": street} if street else {},
            Role.PARTNER: {"partner_unit": unit} if unit else {},
        }
        scope = scopes.get(role, {})
        label = next((str(v.name) for v in scope.values()), "")
        if await User.exists(username=username):
            accounts.append(DemoAccount(username, role, None, label))
            continue
        if role in (Role.CURATOR, Role.PARTNER) and not scope:
            continue  # no demo data to scope it to
        password = _demo_password(username)
        await User.create(
            username=username,
            display_name=f"演示{role.label}",
            password_hash=hash_password(password),
            role=role,
            **scope,
        )
        accounts.append(DemoAccount(username, role, password, label))
    return accounts


async def list_tokens(*, username: str | None = None) -> list[ApiToken]:
    query = ApiToken.all().select_related("user").order_by("id")
    if username:
        query = query.filter(user__username=username)
    return await query
