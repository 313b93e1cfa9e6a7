"""Party organisation: 小区党支部 with its 支委 and 楼栋党小组, and 党员 (archived, never
deleted)."""

from __future__ import annotations

from schema.mutations.crud import Curated, crud_mutations
from schema.types.party import Branch, CommitteeSeat, Member, PartyGroup

PartyMutation = crud_mutations(
    "PartyMutation",
    [
        Curated("Branch", Branch, "compound party branch"),
        Curated("CommitteeSeat", CommitteeSeat, "branch committee seat"),
        Curated("PartyGroup", PartyGroup, "building party group"),
        Curated("Member", Member, "party member"),
    ],
)
