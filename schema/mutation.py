"""The root mutation: every write, one class per domain area, merged."""

from __future__ import annotations

from strawberry.tools import merge_types

from schema.auth import AuthMutation

DESCRIPTION = "邻聚 Hub 修改 Linju Hub: change the district's records"

Mutation = merge_types("Mutation", (AuthMutation,))
Mutation.__strawberry_definition__.description = DESCRIPTION  # type: ignore[attr-defined]
