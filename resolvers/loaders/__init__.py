"""Per-request DataLoaders, one class per module, gathered in a typed container.

A fresh :class:`DataLoaders` is made for every request (see
:func:`resolvers.context.build_context`), so its caches never outlive the request
and never mix what two users may see.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, TypeVar

from tortoise.models import Model

from hub import models as m
from hub.access import ANONYMOUS, Viewer
from resolvers.loaders.by_id import ByIdLoader
from resolvers.loaders.member_duties import MemberDutiesLoader
from resolvers.loaders.relation_count import RelationCountKey, RelationCountLoader
from resolvers.loaders.relation_page import RelationPageKey, RelationPageLoader
from resolvers.loaders.reverse_one import ReverseOneLoader

M = TypeVar("M", bound=Model)

__all__ = [
    "ByIdLoader",
    "DataLoaders",
    "MemberDutiesLoader",
    "RelationCountKey",
    "RelationCountLoader",
    "RelationPageKey",
    "RelationPageLoader",
    "ReverseOneLoader",
]


# The by-id loader attribute of each exposed model.
BY_ID: dict[str, type[Model]] = {
    "district": m.District,
    "street": m.Street,
    "community": m.Community,
    "compound": m.Compound,
    "building": m.Building,
    "branch": m.Branch,
    "member": m.Member,
    "committee_seat": m.CommitteeSeat,
    "party_group": m.PartyGroup,
    "property_company": m.PropertyCompany,
    "owners_committee": m.OwnersCommittee,
    "co_building_unit": m.CoBuildingUnit,
    "co_building_agreement": m.CoBuildingAgreement,
    "venue": m.Venue,
    "venue_room": m.VenueRoom,
    "service_activity": m.ServiceActivity,
    "wechat_group": m.WeChatGroup,
    "joint_meeting": m.JointMeeting,
    "resident_request": m.ResidentRequest,
    "request_event": m.RequestEvent,
    "audit_log": m.AuditLog,
    "account": m.User,
}


class DataLoaders:
    """Every loader one viewer's request may use; each applies the viewer's row scope.

    Loaders are made on first use: a request touching three models builds three
    loaders, not one per model of the API. ``loaders.branch`` is
    ``loaders.by_id(m.Branch)`` (the attribute names are those of ``BY_ID``).
    """

    district: ByIdLoader[m.District]
    street: ByIdLoader[m.Street]
    community: ByIdLoader[m.Community]
    compound: ByIdLoader[m.Compound]
    building: ByIdLoader[m.Building]
    branch: ByIdLoader[m.Branch]
    member: ByIdLoader[m.Member]
    committee_seat: ByIdLoader[m.CommitteeSeat]
    party_group: ByIdLoader[m.PartyGroup]
    property_company: ByIdLoader[m.PropertyCompany]
    owners_committee: ByIdLoader[m.OwnersCommittee]
    co_building_unit: ByIdLoader[m.CoBuildingUnit]
    co_building_agreement: ByIdLoader[m.CoBuildingAgreement]
    venue: ByIdLoader[m.Venue]
    venue_room: ByIdLoader[m.VenueRoom]
    service_activity: ByIdLoader[m.ServiceActivity]
    wechat_group: ByIdLoader[m.WeChatGroup]
    joint_meeting: ByIdLoader[m.JointMeeting]
    resident_request: ByIdLoader[m.ResidentRequest]
    request_event: ByIdLoader[m.RequestEvent]
    audit_log: ByIdLoader[m.AuditLog]
    account: ByIdLoader[m.User]

    def __init__(self, viewer: Viewer = ANONYMOUS) -> None:
        self.viewer = viewer
        self._by_model: dict[type[Model], ByIdLoader[Any]] = {}

    def __repr__(self) -> str:
        return f"DataLoaders(viewer={self.viewer!r})"

    def by_id(self, model: type[M]) -> ByIdLoader[M]:
        """The by-id loader of ``model`` (KeyError for a model the API does not expose)."""
        loader = self._by_model.get(model)
        if loader is None:
            if model not in _EXPOSED:
                raise KeyError(model)
            loader = self._by_model[model] = ByIdLoader(model, self.viewer)
        return loader

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes not set yet: the by-id loaders, made on first use.
        model = BY_ID.get(name)
        if model is None:
            raise AttributeError(f"{type(self).__name__} has no loader {name!r}")
        loader = self.by_id(model)
        setattr(self, name, loader)
        return loader

    @cached_property
    def owners_committee_by_compound(self) -> ReverseOneLoader[m.OwnersCommittee]:
        return ReverseOneLoader(m.OwnersCommittee, "compound_id", self.viewer)

    @cached_property
    def member_duties(self) -> MemberDutiesLoader:
        return MemberDutiesLoader(self.viewer)

    @cached_property
    def relation_page(self) -> RelationPageLoader:
        return RelationPageLoader()

    @cached_property
    def relation_count(self) -> RelationCountLoader:
        return RelationCountLoader()


_EXPOSED = frozenset(BY_ID.values())
