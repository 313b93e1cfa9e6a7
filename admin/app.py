"""The admin console's Flask app, mounted at /admin through a2wsgi.

flask-admin over the Tortoise models (``admin.contrib.tortoise``), in Simplified
Chinese by default with English per user, behind a sign-in with hub accounts. The app
keeps no state between requests: the session is a signed cookie, and every database
call goes to the server's event loop through ``admin.bridge``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import Babel

from admin.auth import LanguageView, LoginView, LogoutView, configure_session
from admin.contrib.tortoise.tools import format_local
from admin.i18n import current_language, hub_gettext, label, lazy, select_locale
from admin.security import csp_nonce, secure_headers
from admin.views import audit, records
from admin.views.dashboard import DashboardView
from admin.views.documents import DocumentsView
from admin.views.requests import ResidentRequestView
from admin.views.roster import MAX_BYTES, RosterView
from hub import models as m
from hub.settings import Settings

HERE = Path(__file__).parent

GEOGRAPHY = lazy("区划")
PARTY = lazy("党组织")
PARTNERS = lazy("共建共治")
WORK = lazy("服务工作")
REQUESTS = lazy("居民诉求")
SYSTEM = lazy("系统")


def create_admin(settings: Settings) -> Flask:
    """The console for these settings, as a WSGI app to mount under /admin."""
    app = Flask(
        __name__,
        template_folder=str(HERE / "templates"),
        static_folder=str(HERE / "static"),
        static_url_path="/assets",
    )
    app.config.update(
        DEBUG=settings.debug,
        MAX_CONTENT_LENGTH=MAX_BYTES * 2,
        FLASK_ADMIN_SWATCH="default",
        BABEL_DEFAULT_LOCALE=settings.language,
        BABEL_DEFAULT_TIMEZONE="UTC",
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    configure_session(app, settings)
    secure_headers(app)
    # flask-admin needs Babel on the app, or every page fails.
    Babel(app, locale_selector=lambda: select_locale(settings.language))
    console = Admin(
        app,
        name=lazy("邻聚 Hub 管理后台"),
        url="/",
        index_view=DashboardView(settings),
        theme=Bootstrap4Theme(base_template="hub/base.html", fluid=True),
        csp_nonce_generator=csp_nonce,
    )
    zone = ZoneInfo(settings.timezone)

    @app.context_processor
    def hub_helpers() -> dict[str, Any]:
        return {
            "hub_text": hub_gettext,
            "hub_label": label,
            "current_language": current_language(),
            "local_time": lambda value: format_local(value, zone) if value else "",
        }

    console.add_view(LoginView(settings))
    console.add_view(LogoutView())
    console.add_view(LanguageView())
    add_record_views(console)
    return app


def add_record_views(console: Admin) -> None:
    r = records
    for view in (
        r.DistrictView(m.District, category=GEOGRAPHY),
        r.StreetView(m.Street, category=GEOGRAPHY),
        r.CommunityView(m.Community, category=GEOGRAPHY),
        r.CompoundView(m.Compound, category=GEOGRAPHY),
        r.BuildingView(m.Building, category=GEOGRAPHY),
        r.BranchView(m.Branch, category=PARTY),
        r.CommitteeSeatView(m.CommitteeSeat, category=PARTY),
        r.PartyGroupView(m.PartyGroup, category=PARTY),
        r.MemberView(m.Member, category=PARTY),
        RosterView(category=PARTY),
        r.PropertyCompanyView(m.PropertyCompany, category=PARTNERS),
        r.OwnersCommitteeView(m.OwnersCommittee, category=PARTNERS),
        r.CoBuildingUnitView(m.CoBuildingUnit, category=PARTNERS),
        r.CoBuildingAgreementView(m.CoBuildingAgreement, category=PARTNERS),
        r.VenueView(m.Venue, category=WORK),
        r.VenueRoomView(m.VenueRoom, category=WORK),
        r.ServiceActivityView(m.ServiceActivity, category=WORK),
        r.WeChatGroupView(m.WeChatGroup, category=WORK),
        r.JointMeetingView(m.JointMeeting, category=WORK),
        ResidentRequestView(category=REQUESTS),
        audit.RequestEventView(category=REQUESTS),
        audit.AuditLogView(category=SYSTEM),
        DocumentsView(category=SYSTEM),
    ):
        console.add_view(view)
