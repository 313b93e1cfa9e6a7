"""Geography: 街道/镇, 社区, 小区, 楼栋 — create, update and delete."""

from __future__ import annotations

from schema.mutations.crud import Curated, crud_mutations
from schema.types.geography import Building, Community, Compound, Street

GeographyMutation = crud_mutations(
    "GeographyMutation",
    [
        Curated("Street", Street, "street or town"),
        Curated("Community", Community, "community"),
        Curated("Compound", Compound, "residential compound"),
        Curated("Building", Building, "building"),
    ],
)
