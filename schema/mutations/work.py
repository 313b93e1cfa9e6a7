"""Service and governance places: 阵地 with its 功能室, and 小区微信群."""

from __future__ import annotations

from schema.mutations.crud import Curated, crud_mutations
from schema.types.work import Venue, VenueRoom, WeChatGroup

WorkMutation = crud_mutations(
    "WorkMutation",
    [
        Curated("Venue", Venue, "venue"),
        Curated("VenueRoom", VenueRoom, "venue room"),
        Curated("WeChatGroup", WeChatGroup, "WeChat group"),
    ],
)
