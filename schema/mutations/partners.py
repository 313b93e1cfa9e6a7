"""Governance partners: 物业企业, 业委会, 共建单位 and 共建协议."""

from __future__ import annotations

from schema.mutations.crud import Curated, crud_mutations
from schema.types.partners import (
    CoBuildingAgreement,
    CoBuildingUnit,
    OwnersCommittee,
    PropertyCompany,
)

PartnersMutation = crud_mutations(
    "PartnersMutation",
    [
        Curated("PropertyCompany", PropertyCompany, "property company"),
        Curated("OwnersCommittee", OwnersCommittee, "owners' committee"),
        Curated("CoBuildingUnit", CoBuildingUnit, "co-building unit"),
        Curated("CoBuildingAgreement", CoBuildingAgreement, "co-building agreement"),
    ],
)
