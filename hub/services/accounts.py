"""Accounts: creating one (scope checked, audited), the demo's one account per role,
and listing API tokens."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from hub.access import Viewer
from hub.enums import AuditAction, Role
from hub.models import ApiToken, CoBuildingUnit, Community, Street, User
from hub.passwords import generate_password, hash_password, password_problem
from hub.services import audit
from hub.services.errors import UNIQUE, ErrorBag, ServiceError

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


async def create_account(
    *,
    username: str,
    role: Role,
    password: str,
    display_name: str = "",
    street: Street | None = None,
    community: Community | None = None,
    unit: CoBuildingUnit | None = None,
    actor: Viewer | None = None,
    actor_name: str | None = None,
) -> User:
    """A new account; its scope must fit its role (a CURATOR a street or community, a
    PARTNER its unit, nobody else either). Audited as CREATE User, without the hash."""
    bag = _account_errors(
        username=username, role=role, street=street, community=community, unit=unit
    )
    if problem := password_problem(password):
        bag.add("password", problem)
    bag.raise_if_any()
    async with in_transaction():
        if await User.exists(username=username):
            raise ServiceError.single("username", _taken(username), UNIQUE)
        user = await User.create(
            username=username,
            display_name=display_name,
            password_hash=hash_password(password),
            role=role,
            street=street,
            community=community,
            partner_unit=unit,
        )
        await audit.record(
            actor=actor,
            actor_name=actor_name,
            action=AuditAction.CREATE,
            entity="User",
            entity_id=user.id,
            after=audit.snapshot(user),
        )
    return user


async def check_new_account(
    *,
    username: str,
    role: Role,
    street: Street | None = None,
    community: Community | None = None,
    unit: CoBuildingUnit | None = None,
) -> None:
    """What ``create_account`` would refuse before it reads the password (for a CLI
    that asks for the password only when the rest is right)."""
    bag = _account_errors(
        username=username, role=role, street=street, community=community, unit=unit
    )
    if not bag and await User.exists(username=username):
        bag.add("username", _taken(username), UNIQUE)
    bag.raise_if_any()


def _taken(username: str) -> str:
    return f"用户名已存在 (username taken): {username}"


def _account_errors(
    *,
    username: str,
    role: Role,
    street: Street | None,
    community: Community | None,
    unit: CoBuildingUnit | None,
) -> ErrorBag:
    bag = scope_errors(
        role=role,
        has_street=street is not None,
        has_community=community is not None,
        has_unit=unit is not None,
    )
    if not username.strip():
        bag.add("username", "用户名不能为空 (a username is required)")
    if street is not None and community is not None and community.street_id != street.id:
        bag.add("community", f"社区 {community.name} 不属于街道 {street.name} (not in that street)")
    return bag


def scope_errors(*, role: Role, has_street: bool, has_community: bool, has_unit: bool) -> ErrorBag:
    """Which scope a role takes: a CURATOR a street or community, a PARTNER its unit,
    nobody else either (checkable before any place is looked up)."""
    bag = ErrorBag()
    if role is Role.CURATOR and not (has_street or has_community):
        bag.add("street", "维护员需要街道或社区作为范围 (a CURATOR needs a street or community)")
    if role is not Role.CURATOR and (has_street or has_community):
        bag.add("street", "只有维护员 (CURATOR) 有街道/社区范围 (only a CURATOR has one)")
    if role is Role.PARTNER and not has_unit:
        bag.add("unit", "共建单位账号需要 --unit (a PARTNER needs its co-building unit)")
    if role is not Role.PARTNER and has_unit:
        bag.add("unit", "只有共建单位账号 (PARTNER) 有共建单位 (only a PARTNER has a unit)")
    return bag


async def ensure_demo_accounts() -> list[DemoAccount]:
    """One account per role (created once; later runs leave them as they are)."""
    street = await Street.filter(name=DEMO_CURATOR_STREET).order_by("id").first()
    unit = await CoBuildingUnit.filter(agreements__id__isnull=False).order_by("id").first()
    accounts: list[DemoAccount] = []
    for username, role in DEMO_ACCOUNTS:
        scopes: dict[Role, dict[str, Any]] = {
            Role.CURATOR: {"street": street} if street else {},
            Role.PARTNER: {"unit": unit} if unit else {},
        }
        scope = scopes.get(role, {})
        label = next((str(v.name) for v in scope.values()), "")
        if await User.exists(username=username):
            accounts.append(DemoAccount(username, role, None, label))
            continue
        if role in (Role.CURATOR, Role.PARTNER) and not scope:
            continue  # no demo data to scope it to
        password = _demo_password(username)
        await create_account(
            username=username,
            role=role,
            password=password,
            display_name=f"演示{role.label}",
            actor_name="linju demo",
            **scope,
        )
        accounts.append(DemoAccount(username, role, password, label))
    return accounts


async def list_tokens(*, username: str | None = None) -> list[ApiToken]:
    query = ApiToken.all().select_related("user").order_by("id")
    if username:
        query = query.filter(user__username=username)
    return await query
