"""The root mutation: every write, one class per domain area, merged."""

from __future__ import annotations

from strawberry.tools import merge_types

from schema.auth import AuthMutation
from schema.mutations.activities import ActivityMutation
from schema.mutations.documents import DocumentsMutation
from schema.mutations.geography import GeographyMutation
from schema.mutations.partners import PartnersMutation
from schema.mutations.party import PartyMutation
from schema.mutations.requests import RequestMutation
from schema.mutations.roster import RosterMutation
from schema.mutations.work import WorkMutation

DESCRIPTION = "邻聚 Hub 修改 Linju Hub: change the district's records"

Mutation = merge_types(
    "Mutation",
    (
        AuthMutation,
        GeographyMutation,
        PartyMutation,
        PartnersMutation,
        WorkMutation,
        RequestMutation,
        ActivityMutation,
        RosterMutation,
        DocumentsMutation,
    ),
)
Mutation.__strawberry_definition__.description = DESCRIPTION  # type: ignore[attr-defined]
