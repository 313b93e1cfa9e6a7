"""Row scopes: which records a viewer may read, and which a curator may change.

Everything is declared in ``SCOPE_PATHS``: for each model, the ORM paths that lead
from a row to its street, to its community and to the co-building unit whose
partner may read it. ``row_scope`` and ``write_scope`` turn a viewer into a Tortoise
``Q`` from those paths; every query the API or the console runs goes through them,
and ``link_scope`` says which rows a write may reference.
A model missing from the table is a programming error (a test checks them all).
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import Q, Subquery
from tortoise.fields.relational import (
    BackwardFKRelation,
    ManyToManyFieldInstance,
    RelationalField,
)
from tortoise.models import Model

from hub import models as m
from hub.access.viewer import Viewer
from hub.enums import Role
from hub.lookups import lookup

Paths = tuple[str, ...]


@dataclass(frozen=True)
class ScopePaths:
    """ORM paths from a row of one model to what scopes it (alternatives are OR-ed)."""

    street: Paths = ()
    community: Paths = ()
    partner: Paths = ()
    admin_only: bool = False


def _geo(prefix: str) -> ScopePaths:
    """Paths for a model that hangs below a compound/branch/community at ``prefix``."""
    return ScopePaths(street=(f"{prefix}street_id",), community=(f"{prefix}id",))


SCOPE_PATHS: dict[type[Model], ScopePaths] = {
    # Geography: districts are the district office's; curators work below streets.
    m.District: ScopePaths(),
    m.Street: ScopePaths(street=("id",)),
    m.Community: ScopePaths(street=("street_id",), community=("id",)),
    m.Compound: ScopePaths(
        street=("community__street_id",),
        community=("community_id",),
        partner=("branches__agreements__unit_id",),
    ),
    m.Building: _geo("compound__community__"),
    # Party organisation
    m.Branch: ScopePaths(
        street=("community__street_id",),
        community=("community_id",),
        partner=("agreements__unit_id",),
    ),
    m.Member: _geo("branch__community__"),
    m.MemberDuty: _geo("member__branch__community__"),
    m.CommitteeSeat: _geo("branch__community__"),
    m.PartyGroup: _geo("branch__community__"),
    # Governance partners: companies and units are district-wide records.
    m.PropertyCompany: ScopePaths(),
    m.OwnersCommittee: _geo("compound__community__"),
    m.CoBuildingUnit: ScopePaths(partner=("id",)),
    m.CoBuildingAgreement: ScopePaths(
        street=("branch__community__street_id",),
        community=("branch__community_id",),
        partner=("unit_id",),
    ),
    # Service and governance work
    m.Venue: _geo("compound__community__"),
    m.VenueRoom: _geo("venue__compound__community__"),
    m.ServiceActivity: ScopePaths(
        street=("branch__community__street_id",),
        community=("branch__community_id",),
        partner=("co_building_units__id",),
    ),
    m.WeChatGroup: _geo("compound__community__"),
    m.JointMeeting: ScopePaths(
        street=("street_id", "community__street_id", "compound__community__street_id"),
        community=("community_id", "compound__community_id"),
    ),
    m.ResidentRequest: _geo("compound__community__"),
    m.RequestEvent: _geo("request__compound__community__"),
    # The hub's own records
    m.User: ScopePaths(admin_only=True),
    m.LoginThrottle: ScopePaths(admin_only=True),
    m.LoginSession: ScopePaths(admin_only=True),
    m.ApiToken: ScopePaths(admin_only=True),
    m.AuditLog: ScopePaths(admin_only=True),
    m.TrustedDocument: ScopePaths(admin_only=True),
}

NOTHING = Q(id__in=[])
EVERYTHING = Q()


def scope_paths(model: type[Model]) -> ScopePaths:
    try:
        return SCOPE_PATHS[model]
    except KeyError:
        raise LookupError(
            f"{model.__name__} has no entry in hub.access.policy.SCOPE_PATHS"
        ) from None


def row_scope(viewer: Viewer, model: type[Model]) -> Q:
    """The rows of ``model`` that ``viewer`` may read."""
    paths = scope_paths(model)
    if viewer.role is Role.ADMIN:
        return EVERYTHING
    if viewer.role in (Role.CURATOR, Role.READER):
        return NOTHING if paths.admin_only else EVERYTHING
    if viewer.role is Role.PARTNER and viewer.unit_id is not None:
        return _match(model, paths.partner, viewer.unit_id)
    return NOTHING


def write_scope(viewer: Viewer, model: type[Model]) -> Q:
    """The rows of ``model`` that ``viewer`` may create, change or archive."""
    paths = scope_paths(model)
    if viewer.role is Role.ADMIN:
        return EVERYTHING
    if viewer.role is not Role.CURATOR:
        return NOTHING
    if viewer.community_id is not None:
        return _match(model, paths.community, viewer.community_id)
    if viewer.street_id is not None:
        return _match(model, paths.street, viewer.street_id)
    return NOTHING


def link_scope(viewer: Viewer, model: type[Model]) -> Q:
    """The rows of ``model`` that a write by ``viewer`` may point at (a foreign key, an id
    list): its write scope for records that lie in a street or community; for the
    district-wide registers (property companies, co-building units, districts), which
    curators do not keep but must name, what it may read."""
    paths = scope_paths(model)
    if paths.street or paths.community or paths.admin_only:
        return write_scope(viewer, model)
    if viewer.role is not Role.CURATOR and viewer.role is not Role.ADMIN:
        return NOTHING
    return row_scope(viewer, model)


def _match(model: type[Model], paths: Paths, value: int) -> Q:
    if not paths:
        return NOTHING
    return Q(*(_path_q(model, path, value) for path in paths), join_type=Q.OR)


def _path_q(model: type[Model], path: str, value: int) -> Q:
    if not _crosses_to_many(model, path):
        return lookup(path, value)
    # A to-many hop would repeat rows in a join: match through a subquery instead.
    return Q(id__in=Subquery(model.filter(**{path: value}).values("id")))


def _crosses_to_many(model: type[Model], path: str) -> bool:
    current: type[Model] = model
    for hop in path.split("__")[:-1]:
        field = current._meta.fields_map[hop]
        if isinstance(field, (BackwardFKRelation, ManyToManyFieldInstance)):
            return True
        assert isinstance(field, RelationalField)  # a path's hops are relations
        current = field.related_model
    return False
