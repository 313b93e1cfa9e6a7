"""The duties each member shows on 亮身份, by member id."""

from __future__ import annotations

from collections import defaultdict

from strawberry.dataloader import DataLoader

from hub.access import Viewer, row_scope
from hub.enums import Duty
from hub.models import MemberDuty


class MemberDutiesLoader(DataLoader[int, list[Duty]]):
    """``load(member_id)`` → that member's duties in declaration order; one query per batch."""

    def __init__(self, viewer: Viewer) -> None:
        self.scope = row_scope(viewer, MemberDuty)
        super().__init__(load_fn=self._load)

    async def _load(self, member_ids: list[int]) -> list[list[Duty]]:
        rows = await MemberDuty.filter(self.scope, member_id__in=member_ids).values_list(
            "member_id", "duty"
        )
        duties: dict[int, set[Duty]] = defaultdict(set)
        for member_id, duty in rows:
            duties[member_id].add(Duty(duty))
        order = list(Duty)
        return [sorted(duties.get(mid, ()), key=order.index) for mid in member_ids]
