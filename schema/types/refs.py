"""Lazy references to every node type, so the domain modules can point at each other."""

from __future__ import annotations

from schema.fields import lazy

District = lazy("District", "geography")
Street = lazy("Street", "geography")
Community = lazy("Community", "geography")
Compound = lazy("Compound", "geography")
Building = lazy("Building", "geography")
Branch = lazy("Branch", "party")
Member = lazy("Member", "party")
CommitteeSeat = lazy("CommitteeSeat", "party")
PartyGroup = lazy("PartyGroup", "party")
PropertyCompany = lazy("PropertyCompany", "partners")
OwnersCommittee = lazy("OwnersCommittee", "partners")
CoBuildingUnit = lazy("CoBuildingUnit", "partners")
CoBuildingAgreement = lazy("CoBuildingAgreement", "partners")
Venue = lazy("Venue", "work")
VenueRoom = lazy("VenueRoom", "work")
ServiceActivity = lazy("ServiceActivity", "work")
WeChatGroup = lazy("WeChatGroup", "work")
JointMeeting = lazy("JointMeeting", "work")
ResidentRequest = lazy("ResidentRequest", "requests")
RequestEvent = lazy("RequestEvent", "requests")
