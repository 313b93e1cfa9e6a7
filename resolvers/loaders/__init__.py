"""Per-request DataLoaders, one class per module, gathered in a typed container.

A fresh :class:`DataLoaders` is made for every request (see
:func:`resolvers.context.build_context`), so its caches never outlive the request
and never mix what two users may see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass
class DataLoaders:
    """Every loader one viewer's request may use; each applies the viewer's row scope."""

    viewer: Viewer = ANONYMOUS
    district: ByIdLoader[m.District] = field(init=False)
    street: ByIdLoader[m.Street] = field(init=False)
    community: ByIdLoader[m.Community] = field(init=False)
    compound: ByIdLoader[m.Compound] = field(init=False)
    building: ByIdLoader[m.Building] = field(init=False)
    branch: ByIdLoader[m.Branch] = field(init=False)
    member: ByIdLoader[m.Member] = field(init=False)
    committee_seat: ByIdLoader[m.CommitteeSeat] = field(init=False)
    party_group: ByIdLoader[m.PartyGroup] = field(init=False)
    property_company: ByIdLoader[m.PropertyCompany] = field(init=False)
    owners_committee: ByIdLoader[m.OwnersCommittee] = field(init=False)
    co_building_unit: ByIdLoader[m.CoBuildingUnit] = field(init=False)
    co_building_agreement: ByIdLoader[m.CoBuildingAgreement] = field(init=False)
    venue: ByIdLoader[m.Venue] = field(init=False)
    venue_room: ByIdLoader[m.VenueRoom] = field(init=False)
    service_activity: ByIdLoader[m.ServiceActivity] = field(init=False)
    wechat_group: ByIdLoader[m.WeChatGroup] = field(init=False)
    joint_meeting: ByIdLoader[m.JointMeeting] = field(init=False)
    resident_request: ByIdLoader[m.ResidentRequest] = field(init=False)
    request_event: ByIdLoader[m.RequestEvent] = field(init=False)
    audit_log: ByIdLoader[m.AuditLog] = field(init=False)
    account: ByIdLoader[m.User] = field(init=False)
    owners_committee_by_compound: ReverseOneLoader[m.OwnersCommittee] = field(init=False)
    member_duties: MemberDutiesLoader = field(init=False)
    relation_page: RelationPageLoader = field(default_factory=RelationPageLoader)
    relation_count: RelationCountLoader = field(default_factory=RelationCountLoader)
    _by_model: dict[type[Model], ByIdLoader[Any]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        for name, model in BY_ID.items():
            setattr(self, name, ByIdLoader(model, self.viewer))
        self.owners_committee_by_compound = ReverseOneLoader(
            m.OwnersCommittee, "compound_id", self.viewer
        )
        self.member_duties = MemberDutiesLoader(self.viewer)
        self._by_model = {model: getattr(self, name) for name, model in BY_ID.items()}

    def by_id(self, model: type[M]) -> ByIdLoader[M]:
        """The by-id loader of ``model`` (KeyError for a model the API does not expose)."""
        return self._by_model[model]
