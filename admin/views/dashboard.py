"""The console's home page: the statistics of the signed-in user's place, with charts.

Figures come from ``hub.services.statistics`` (the API's own); a curator sees its street
or community, an admin the whole hub. Charts are inline SVG drawn by the template —
nothing is loaded from outside the hub.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import request
from flask_admin import AdminIndexView, expose

from admin import bridge
from admin.auth import LoginForm, current_viewer
from admin.i18n import label, lazy
from hub.access import Viewer
from hub.services.statistics import (
    EVERYTHING,
    FIRST_YEAR,
    Scope,
    ScopeLevel,
    Statistics,
    compute_statistics,
    find_scope,
)
from hub.settings import Settings


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    width: float  # 0–100, share of the chart's largest bar


def bars(items: list[tuple[str, int]]) -> list[Bar]:
    largest = max((value for _, value in items), default=0) or 1
    return [Bar(text, value, round(100 * value / largest, 1)) for text, value in items]


async def statistics_for(viewer: Viewer, year: int | None, timezone: str) -> Statistics:
    """The figures of the viewer's place: a curator's community or street, else all."""
    scope: Scope = EVERYTHING
    if not viewer.is_admin and viewer.community_id is not None:
        scope = await find_scope(level=ScopeLevel.COMMUNITY, id=viewer.community_id)
    elif not viewer.is_admin and viewer.street_id is not None:
        scope = await find_scope(level=ScopeLevel.STREET, id=viewer.street_id)
    return await compute_statistics(scope=scope, year=year, timezone=timezone)


class DashboardView(AdminIndexView):
    def __init__(self, settings: Settings) -> None:
        super().__init__(name=lazy("首页"), url="/", endpoint="admin")
        self.settings = settings

    @expose("/")
    def index(self) -> Any:
        who = current_viewer()
        if who is None:
            form = LoginForm()
            form.next.data = request.args.get("next", "")
            return self.render("hub/login.html", form=form)
        this_year = dt.date.today().year
        year = request.args.get("year", type=int)
        if year is not None and not FIRST_YEAR <= year <= this_year + 1:
            year = None
        stats = bridge.run(statistics_for(who, year, self.settings.timezone))
        charts = {
            "members": bars([(label(t.value), t.count) for t in stats.members.by_category]),
            "requests": bars([(label(t.value), t.count) for t in stats.requests.by_status]),
            "request_categories": bars(
                [(label(t.value), t.count) for t in stats.requests.by_category]
            ),
            "activities": bars(
                [(label(t.value), t.count) for t in stats.activities.by_category if t.count]
            ),
            "forces": bars(
                [(label(t.value), t.residents_served) for t in stats.activities.by_service_force]
            ),
            "stars": bars([(f"{s.stars}★", s.count) for s in stats.branches.stars]),
        }
        return self.render(
            "hub/dashboard.html",
            stats=stats,
            charts_data=charts,
            year=year,
            years=list(range(this_year, 2018, -1)),
            place=stats.scope.name or str(lazy("全区")),
        )
