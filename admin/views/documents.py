"""Trusted documents (可信文档) in the console: the registered documents with their
usage, registering a manifest (pasted or uploaded), retiring, and who uses what — per
schema field, which registered documents select it, and for a field marked
``@deprecated``, the clients still using it.

The same service as ``linju documents`` and the ``registerDocuments`` mutation
(hub.services.documents): validated against the schema this hub serves, all or
nothing, audited, ADMIN only.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from graphql import GraphQLSchema
from wtforms import FileField, StringField, TextAreaField

from admin import bridge
from admin.auth import HubSecureForm, client_address, console_path, current_viewer
from admin.i18n import lazy
from hub.models import TrustedDocument
from hub.services import documents as service
from hub.settings import Settings

MAX_BYTES = 5 * 1024 * 1024


class RegisterForm(HubSecureForm):
    client_name = StringField(lazy("客户端名称"))
    client_version = StringField(lazy("客户端版本"))
    manifest = TextAreaField(lazy("清单（JSON）或文档文本"))
    file = FileField(lazy("或上传清单 / .graphql 文件"))


class RetireForm(HubSecureForm):
    pass


class DocumentsView(BaseView):
    """``/admin/documents/``: list with usage, register, retire, field usage."""

    def __init__(self, *, category: Any = None) -> None:
        super().__init__(
            name=lazy("可信文档"), endpoint="documents", url="documents", category=category
        )
        self._graphql_schema: GraphQLSchema | None = None

    def is_accessible(self) -> bool:
        who = current_viewer()
        return bool(who and who.is_admin)

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        if current_viewer() is None:
            return redirect(url_for("login.index", next=console_path()))
        flash(str(lazy("您无权访问该页面")), "error")
        return redirect(url_for("admin.index"))

    @property
    def settings(self) -> Settings:
        settings: Settings = current_app.config["LINJU_SETTINGS"]
        return settings

    def api_schema(self) -> GraphQLSchema:
        """The schema the hub serves (built once per console, on first use)."""
        if self._graphql_schema is None:
            from schema.build import build_schema
            from schema.internals import graphql_schema

            self._graphql_schema = graphql_schema(build_schema(self.settings))
        return self._graphql_schema

    @expose("/", methods=("GET",))
    def index(self) -> Any:
        return self._page(RegisterForm(), report=None)

    @expose("/register/", methods=("POST",))
    def register(self) -> Any:
        from schema.documents import registration_limits

        form = RegisterForm(request.form)
        if not form.validate():
            return self._again(form, *[str(e) for errors in form.errors.values() for e in errors])
        upload = request.files.get("file")
        try:
            if upload is not None and upload.filename:
                data = upload.read(MAX_BYTES + 1)
                if len(data) > MAX_BYTES:
                    return self._again(form, str(lazy("文件太大（最大 5 MB）")))
                submitted = service.parse_manifest(data=data, name=upload.filename)
            elif (pasted := (form.manifest.data or "").strip()) != "":
                name = "manifest.json" if pasted.startswith("{") else "pasted.graphql"
                submitted = service.parse_manifest(data=pasted, name=name)
            else:
                return self._again(form, str(lazy("请粘贴清单或上传文件")))
        except service.ManifestError as exc:
            return self._again(form, str(exc))
        schema = self.api_schema()
        report = bridge.run(
            service.register(
                documents=submitted,
                client_name=form.client_name.data or "",
                client_version=form.client_version.data or "",
                schema=schema,
                limits=registration_limits(self.settings, schema),
                actor=current_viewer(),
                address=client_address(),
            )
        )
        if not report.ok:
            flash(str(lazy("有文档被拒绝，未登记任何文档")), "error")
            return self._page(form, report=report), 400
        flash(
            str(
                lazy(
                    "已登记 %(new)s 个文档，%(same)s 个原已登记",
                    new=len(report.registered),
                    same=len(report.unchanged),
                )
            ),
            "success",
        )
        return redirect(url_for(".index"))

    @expose("/retire/<document_id>/", methods=("POST",))
    def retire(self, document_id: str) -> Any:
        from hub.services.errors import ServiceError

        if not RetireForm(request.form).validate():
            flash(str(lazy("请求无效或已过期，请重试")), "error")
            return redirect(url_for(".index"))
        try:
            bridge.run(
                service.retire(
                    document_id=document_id, actor=current_viewer(), address=client_address()
                )
            )
        except ServiceError as exc:
            flash("; ".join(e.message for e in exc.errors), "error")
        else:
            flash(str(lazy("已停用该文档")), "success")
        return redirect(url_for(".index"))

    def _page(self, form: RegisterForm, *, report: service.RegisterReport | None) -> Any:
        rows: list[TrustedDocument] = bridge.run(
            TrustedDocument.all().order_by("retired_at", "client_name", "registered_at")
        )
        active = [row for row in rows if row.retired_at is None]
        schema = self.api_schema()
        usage = service.field_usage(schema=schema, documents=active)
        deprecated = service.deprecated_usage(schema=schema, documents=active)
        return self.render(
            "hub/documents.html",
            form=form,
            retire_form=RetireForm(),
            report=report,
            rows=rows,
            usage=sorted(usage.items()),
            deprecated=deprecated,
            mode=self.settings.documents,
        )

    def _again(self, form: RegisterForm, *messages: str) -> Any:
        for message in messages:
            flash(message, "error")
        return self._page(form, report=None), 400
