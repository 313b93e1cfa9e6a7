"""Signing in to the console with hub accounts (ADMIN and CURATOR), and its session.

The session is Flask's signed cookie (``settings.secret_key``), so any number of
processes accept it; it names a server-side login session (``LoginSession``) and holds
the user's id and token version, the CSRF secret and the chosen language. Signing out
revokes that login session, so a copy of the cookie replayed later is signed out too;
revoking a user's tokens (``token_version``) or sessions ends their console sessions.
Each request checks the session through the credential cache (no database round trip
while it is warm). Passwords are checked by ``hub.services.auth.authenticate``, with
the API's throttling and audit log.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, flash, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_admin import BaseView, expose
from flask_admin.form import SecureForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice

from admin import bridge
from admin.i18n import LANGUAGES, SESSION_KEY, lazy
from hub.access import Viewer
from hub.enums import AuditAction, Role
from hub.models import User
from hub.services import audit
from hub.services.auth import (
    AuthError,
    authenticate,
    console_account,
    end_session,
    logout,
    open_console_session,
)
from hub.settings import Settings

CONSOLE_ROLES = (Role.ADMIN, Role.CURATOR)
USER_KEY = "uid"
TOKEN_VERSION_KEY = "tv"
SESSION_ID_KEY = "sid"
SESSION_HOURS = 12


class HubSessionInterface(SecureCookieSessionInterface):
    """The signed-cookie session, scoped to the console's path, Secure over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(request.is_secure or app.config.get("SESSION_COOKIE_SECURE"))

    def get_cookie_path(self, app: Flask) -> str:
        return request.script_root or "/"


class HubSecureForm(SecureForm):
    """Every console form carries a CSRF token tied to the session."""

    class Meta:
        csrf_time_limit = dt.timedelta(hours=SESSION_HOURS)


class LoginForm(HubSecureForm):
    username = StringField(lazy("用户名"))
    password = PasswordField(lazy("密码"))
    next = HiddenField()


class LogoutForm(HubSecureForm):
    pass


class LanguageForm(HubSecureForm):
    lang = SelectField(choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()])
    next = HiddenField()


def current_viewer() -> Viewer | None:
    """The signed-in console user of this request, or None."""
    return g.get("viewer")


def load_viewer() -> None:
    """Before each request: who is signed in (its login session still open), or nobody."""
    g.viewer = None
    g.user_name = ""
    user_id = session.get(USER_KEY)
    if user_id is None or (request.endpoint or "").endswith(".static"):
        return
    session_id = session.get(SESSION_ID_KEY)
    token_version = session.get(TOKEN_VERSION_KEY)
    settings: Settings = current_app.config["LINJU_SETTINGS"]
    account = None
    # A cookie from before server-side sessions has no session id: signed out.
    if isinstance(user_id, int) and isinstance(session_id, int) and isinstance(token_version, int):
        try:
            account = bridge.run(
                console_account(
                    settings=settings,
                    user_id=user_id,
                    session_id=session_id,
                    token_version=token_version,
                )
            )
        except AuthError:
            account = None
    if account is None or account.viewer.role not in CONSOLE_ROLES:
        session.pop(USER_KEY, None)
        session.pop(SESSION_ID_KEY, None)
        return
    g.viewer = dataclasses.replace(account.viewer, session_id=session_id)
    g.user_name = account.display_name or account.viewer.username


def client_address() -> str:
    return (request.remote_addr or "")[:64]


def console_path() -> str:
    """This request's path and query as the browser asked for it (``/admin/member/?…``):
    where to come back to after signing in or switching the language."""
    path = (request.script_root or "") + request.path
    query = request.query_string.decode("utf-8", "replace")
    return f"{path}?{query}" if query else path


MAX_NEXT = 2000  # characters of a `next` target kept


def safe_next(target: str | None) -> str:
    """A redirect target inside the console, or the console's home: never another site,
    never a header break (CR/LF), never anything the Location header cannot carry."""
    home = url_for("admin.index")
    if not target or len(target) > MAX_NEXT or target.startswith("//"):
        return home
    if "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return home
    try:
        parts = urlsplit(target)
    except ValueError:  # e.g. "http://[" : not a URL at all
        return home
    root = (request.script_root or "") + "/"
    if parts.scheme or parts.netloc or not parts.path.startswith(root):
        return home
    return target


class LoginView(BaseView):
    """``/admin/login/``: the sign-in form (also shown at the console's root)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(name=lazy("登录"), endpoint="login", url="login")
        self.settings = settings

    def is_visible(self) -> bool:
        return False

    @expose("/", methods=("GET", "POST"))
    def index(self) -> Any:
        form = LoginForm(request.form if request.method == "POST" else None)
        if request.method == "GET":
            form.next.data = request.args.get("next", "")
        if request.method == "POST" and form.validate():
            error = self.sign_in(form.username.data or "", form.password.data or "")
            if error is None:
                return redirect(safe_next(form.next.data))
            form.password.errors = [error]
        elif request.method == "POST":
            form.password.errors = [*form.password.errors, *form.csrf_token.errors]
        status = 200 if request.method == "GET" or not form.errors else 400
        return self.render("hub/login.html", form=form), status

    def sign_in(self, username: str, password: str) -> str | None:
        """Start a session for a good password; the message to show otherwise."""
        try:
            user = bridge.run(
                authenticate(
                    settings=self.settings,
                    username=username.strip(),
                    password=password,
                    address=client_address(),
                )
            )
        except AuthError as exc:
            return exc.message
        if user.role not in CONSOLE_ROLES:
            return str(lazy("该账号无权使用管理后台（仅限管理员和维护员）"))
        session_id = bridge.run(
            open_console_session(user=user, hours=SESSION_HOURS, address=client_address())
        )
        language = session.get(SESSION_KEY)
        session.clear()  # a new session: nothing carried over from before signing in
        session.permanent = True
        session[USER_KEY] = user.id
        session[TOKEN_VERSION_KEY] = user.token_version
        session[SESSION_ID_KEY] = session_id
        session[SESSION_KEY] = user.language if user.language in LANGUAGES else language
        return None


class LogoutView(BaseView):
    def __init__(self) -> None:
        super().__init__(name=lazy("退出"), endpoint="logout", url="logout")

    def is_visible(self) -> bool:
        return False

    @expose("/", methods=("POST",))
    def index(self) -> Response:
        form = LogoutForm(request.form)
        if not form.validate():
            abort(400)
        session_id = session.get(SESSION_ID_KEY)
        viewer = current_viewer()
        if viewer is not None and viewer.session_id == session_id:
            # Server-side (and audited): a copy of this cookie replayed later is signed
            # out too.
            bridge.run(logout(viewer=viewer, address=client_address()))
        elif isinstance(session_id, int):  # a session no longer valid: end it all the same
            bridge.run(end_session(session_id=session_id))
        session.clear()
        flash(str(lazy("您已退出登录")), "info")
        return redirect(url_for("login.index"))


class LanguageView(BaseView):
    """Switches the console's language for this user (kept on the account)."""

    def __init__(self) -> None:
        super().__init__(name=lazy("语言"), endpoint="language", url="language")

    def is_visible(self) -> bool:
        return False

    @expose("/", methods=("POST",))
    def index(self) -> Response:
        form = LanguageForm(request.form)
        if not form.validate():
            abort(400)
        language = form.lang.data
        session[SESSION_KEY] = language
        viewer = current_viewer()
        if viewer is not None and viewer.user_id is not None:
            bridge.run(_remember_language(viewer, str(language), client_address()))
        return redirect(safe_next(form.next.data))


async def _remember_language(viewer: Viewer, language: str, address: str) -> None:
    changed = (
        await User.filter(id=viewer.user_id).exclude(language=language).update(language=language)
    )
    if changed:
        await audit.record(
            actor=viewer,
            action=AuditAction.UPDATE,
            entity="User",
            entity_id=viewer.user_id,
            after={"language": language},
            address=address,
        )


def configure_session(app: Flask, settings: Settings) -> None:
    app.session_interface = HubSessionInterface()
    app.config["LINJU_SETTINGS"] = settings
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="linju_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=SESSION_HOURS),
    )
    app.before_request(load_viewer)

    @app.context_processor
    def console_forms() -> dict[str, Any]:
        return {
            "console_user": g.get("user_name", ""),
            "console_viewer": current_viewer(),
            "logout_form": LogoutForm(),
            "language_form": LanguageForm(),
            "languages": LANGUAGES,
            "debug": current_app.debug,
            "console_path": console_path,
        }
