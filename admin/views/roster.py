"""Member roster import (党员名册导入): template, preview listing every bad row, commit.

The same service as the ``importMembers`` mutation: ``import_members`` checks every row
and saves all of them or none. The preview is a dry run; its page carries the file
itself (signed with the secret key) to the commit, so no process keeps anything
between the two requests — any stateless process may take the commit, which checks
every row again before saving.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from flask import Response, current_app, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from wtforms import FileField, HiddenField

from admin import bridge
from admin.auth import (
    CONSOLE_ROLES,
    HubSecureForm,
    client_address,
    console_path,
    current_viewer,
)
from admin.i18n import lazy
from hub import models as m
from hub.access import write_scope
from hub.access.policy import NOTHING
from hub.services.roster import (
    ImportReport,
    RosterFileError,
    import_members,
    parse_roster,
    roster_template_csv,
    roster_template_xlsx,
)

MAX_BYTES = 10 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UploadForm(HubSecureForm):
    file = FileField(lazy("名册文件（CSV 或 XLSX）"))


class CommitForm(HubSecureForm):
    filename = HiddenField()
    payload = HiddenField()
    signature = HiddenField()


def sign(filename: str, payload: str) -> str:
    key = str(current_app.secret_key).encode()
    message = f"roster:{filename}:{payload}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


class RosterView(BaseView):
    """``/admin/roster/``: upload → preview (dry run) → commit (all or nothing)."""

    def __init__(self, *, category: Any = None) -> None:
        super().__init__(
            name=lazy("党员名册导入"), endpoint="roster", url="roster", category=category
        )

    def is_accessible(self) -> bool:
        who = current_viewer()
        return bool(who and who.role in CONSOLE_ROLES and write_scope(who, m.Member) is not NOTHING)

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        if current_viewer() is None:
            return redirect(url_for("login.index", next=console_path()))
        flash(str(lazy("您无权访问该页面")), "error")
        return redirect(url_for("admin.index"))

    @expose("/", methods=("GET",))
    def index(self) -> Any:
        return self.render("hub/roster.html", form=UploadForm(), report=None, commit=None)

    @expose("/template.<kind>")
    def template(self, kind: str) -> Response:
        if kind == "xlsx":
            body, mimetype = roster_template_xlsx(), XLSX
        elif kind == "csv":
            body, mimetype = roster_template_csv(), "text/csv"
        else:
            return Response(status=404)
        headers = {"Content-Disposition": f"attachment; filename=roster-template.{kind}"}
        return Response(body, mimetype=mimetype, headers=headers)

    @expose("/preview/", methods=("POST",))
    def preview(self) -> Any:
        form = UploadForm(request.form)
        upload = request.files.get("file")
        if not form.validate():
            return self._again(form, *[str(e) for errors in form.errors.values() for e in errors])
        if upload is None or not upload.filename:
            return self._again(form, str(lazy("请选择要导入的名册文件")))
        data = upload.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            return self._again(form, str(lazy("文件太大（最大 10 MB）")))
        filename = upload.filename
        report = self._import(data, filename, dry_run=True)
        commit = None
        if report.ok:
            payload = base64.b64encode(data).decode()
            commit = CommitForm(
                filename=filename, payload=payload, signature=sign(filename, payload)
            )
        return self.render("hub/roster.html", form=UploadForm(), report=report, commit=commit)

    @expose("/commit/", methods=("POST",))
    def commit(self) -> Any:
        form = CommitForm(request.form)
        filename, payload = form.filename.data or "", form.payload.data or ""
        if not form.validate() or not hmac.compare_digest(
            sign(filename, payload), form.signature.data or ""
        ):
            return self._again(UploadForm(), str(lazy("导入请求无效或已过期，请重新上传文件")))
        report = self._import(base64.b64decode(payload), filename, dry_run=False)
        if report.ok:
            flash(str(lazy("已导入 %(count)s 名党员", count=report.created)), "success")
        return self.render("hub/roster.html", form=UploadForm(), report=report, commit=None)

    def _import(self, data: bytes, filename: str, *, dry_run: bool) -> ImportReport:
        # Reading a spreadsheet is CPU work: done here, in the worker thread, so that the
        # event loop only runs the checks and the inserts.
        try:
            rows = parse_roster(data, filename)
        except RosterFileError as exc:
            return ImportReport(filename=filename, dry_run=dry_run, errors=exc.errors)
        return bridge.run(
            import_members(
                actor=current_viewer(),
                data=data,
                filename=filename,
                dry_run=dry_run,
                address=client_address(),
                parsed=rows,
            )
        )

    def _again(self, form: UploadForm, *messages: str) -> Any:
        for message in messages:
            flash(message, "error")
        return self.render("hub/roster.html", form=form, report=None, commit=None), 400
