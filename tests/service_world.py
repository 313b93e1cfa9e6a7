"""A small world of its own for the write-side service tests (hub.services.*).

One fresh district: two streets, three communities, compounds, branches, a property
company, and four accounts (admin, street curator, community curator, reader).
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

import pytest

from hub import models as m
from hub.access import Viewer
from hub.credit_code import make_credit_code
from hub.enums import MemberCategory, Role
from hub.services.auth import viewer_for
from hub.services.errors import ErrorCode, FieldError, ServiceError

T = TypeVar("T")


@dataclass
class World:
    name: str
    district: m.District
    street: m.Street
    other_street: m.Street
    community: m.Community
    sibling_community: m.Community  # same street as ``community``
    other_community: m.Community  # in ``other_street``
    compound: m.Compound
    other_compound: m.Compound
    branch: m.Branch
    other_branch: m.Branch
    member: m.Member
    company: m.PropertyCompany
    admin: Viewer
    street_curator: Viewer
    curator: Viewer  # community curator of ``community``
    reader: Viewer


async def _account(username: str, role: Role, **scope: object) -> Viewer:
    user = await m.User.create(username=username, password_hash="-", role=role, **scope)
    return viewer_for(user)


async def build_world(name: str) -> World:
    district = await m.District.create(name=f"{name}区")
    street = await m.Street.create(district=district, name=f"{name}一街道")
    other_street = await m.Street.create(district=district, name=f"{name}二街道")
    community = await m.Community.create(street=street, name="甲社区")
    sibling = await m.Community.create(street=street, name="丙社区")
    other_community = await m.Community.create(street=other_street, name="乙社区")
    compound = await m.Compound.create(community=community, name="甲小区")
    other_compound = await m.Compound.create(community=other_community, name="乙小区")
    branch = await m.Branch.create(community=community, name="甲支部")
    other_branch = await m.Branch.create(community=other_community, name="乙支部")
    await branch.compounds.add(compound)
    await other_branch.compounds.add(other_compound)
    member = await m.Member.create(name="张三", category=MemberCategory.DIRECT, branch=branch)
    code = make_credit_code(f"91430211{abs(hash(name)) % 10**9:09d}")
    company = await m.PropertyCompany.create(name=f"{name}物业", credit_code=code)
    return World(
        name=name,
        district=district,
        street=street,
        other_street=other_street,
        community=community,
        sibling_community=sibling,
        other_community=other_community,
        compound=compound,
        other_compound=other_compound,
        branch=branch,
        other_branch=other_branch,
        member=member,
        company=company,
        admin=await _account(f"{name}-admin", Role.ADMIN),
        street_curator=await _account(f"{name}-street", Role.CURATOR, street=street),
        curator=await _account(f"{name}-community", Role.CURATOR, community=community),
        reader=await _account(f"{name}-reader", Role.READER),
    )


async def refused(call: Awaitable[T]) -> ServiceError:
    """The ServiceError a service call raises (the test fails if it succeeds)."""
    with pytest.raises(ServiceError) as caught:
        await call
    return caught.value


def error(exc: ServiceError, field: str) -> FieldError:
    """The one error on ``field``."""
    found = exc.for_field(field)
    assert len(found) == 1, f"expected one error on {field!r}, got {exc.errors}"
    return found[0]


def codes(exc: ServiceError) -> dict[str, ErrorCode]:
    return {e.field: e.code for e in exc.errors}
