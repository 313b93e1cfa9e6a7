"""Resident requests (居民诉求) and their workflow in the console.

A request is reported through ``requests.report`` and moved only through the workflow
steps of ``hub.services.requests``: the details page offers a button (with its small
form) for each transition the request's status allows — as ``TRANSITIONS`` says — and
shows the request's history. Each step posts the version it was shown at, so a step
taken on a stale page is refused like a stale edit. A committed report or step is
announced to ``requestChanged`` subscribers, as the GraphQL mutation announces it.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_admin.babel import gettext
from flask_admin.helpers import get_redirect_target
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from admin.auth import HubSecureForm, client_address
from admin.contrib.tortoise.form import LocalDateTimeField
from admin.contrib.tortoise.view import default_search
from admin.i18n import label, lazy
from admin.views.base import HubModelView, show_service_errors, viewer
from hub import events
from hub import models as m
from hub.enums import AssigneeKind, RequestAction, RequestStatus
from hub.search import query_term
from hub.services import requests as workflow
from hub.services.errors import ServiceError
from hub.services.fields import LOCAL_TZ
from hub.services.requests import REQUEST, TRANSITIONS

A = RequestAction


class StepForm(HubSecureForm):
    version = HiddenField()
    note = TextAreaField(lazy("备注"))


class AssignForm(StepForm):
    assignee_kind = SelectField(lazy("交办对象类型"), choices=[], validate_choice=False)
    assignee_id = StringField(
        lazy("承办对象编号（党员、物业企业或业委会；物业、业委会可留空取本小区的）")
    )
    assignee_name = StringField(lazy("承办人"))
    due_at = LocalDateTimeField(lazy("办结时限"), zone=LOCAL_TZ)


class ResolveForm(StepForm):
    resolution = TextAreaField(lazy("解决情况"))


class RateForm(StepForm):
    satisfaction = SelectField(
        lazy("满意度"),
        choices=[SelectChoice(str(n), "★" * n) for n in range(5, 0, -1)],
        validate_choice=False,
    )


class ReopenForm(StepForm):
    to = SelectField(lazy("重新打开到"), choices=[], validate_choice=False)


FORMS: dict[RequestAction, type[StepForm]] = {
    A.ASSIGN: AssignForm,
    A.RESPOND: StepForm,
    A.RESOLVE: ResolveForm,
    A.RATE: RateForm,
    A.RETURN: StepForm,
    A.REOPEN: ReopenForm,
}


def allowed_actions(record: Any) -> list[RequestAction]:
    """The steps the workflow allows from the request's status (rating only once)."""
    found: list[RequestAction] = [
        action
        for action, moves in TRANSITIONS.items()
        if action is not A.REPORT and record.status in moves
    ]
    if record.satisfaction is not None:
        found = [a for a in found if a is not A.RATE]
    return found


class ResidentRequestView(HubModelView):
    entity = "ResidentRequest"
    details_template = "hub/request_details.html"
    column_list = (
        "id",
        "compound",
        "category",
        "channel",
        "status",
        "collected_at",
        "assignee_name",
        "due_at",
        "resolved_at",
        "satisfaction",
    )
    column_filters = (
        "status",
        "category",
        "channel",
        "compound",
        "collected_at",
        "due_at",
        "resolved_at",
        "assignee_kind",
        "satisfaction",
        "description",
    )
    column_details_list = (
        "id",
        "compound",
        "category",
        "channel",
        "status",
        "description",
        "reporter_name",
        "reporter_contact",
        "collected_at",
        "assignee_kind",
        "assignee_name",
        "assignee_member",
        "assignee_company",
        "assignee_committee",
        "assigned_at",
        "due_at",
        "responded_at",
        "resolved_at",
        "resolution",
        "satisfaction",
        "version",
        "created_at",
        "updated_at",
    )
    column_default_sort = ("collected_at", True)
    text_search = ("description",)

    def __init__(self, model: type[Any] = m.ResidentRequest, **kwargs: Any) -> None:
        super().__init__(model, **kwargs)

    @property
    def can_edit(self) -> bool:
        return False

    @property
    def can_delete(self) -> bool:
        return False

    def search_q(self, model: type[Any], term: str) -> Any:
        if model is m.ResidentRequest:
            return default_search(model, ["description"], term) | default_search(
                model, ["description"], query_term(term)
            )
        return super().search_q(model, term)

    def create_model(self, form: Any) -> Any:
        data, who = self.service_data(form, creating=True), viewer()
        try:
            record = self.run(
                self.committed(
                    workflow.report(actor=who, data=data, address=client_address()), created=True
                )
            )
        except ServiceError as exc:
            show_service_errors(form, exc, REQUEST)
            return False
        return record

    async def announce(self, record: Any, *, created: bool) -> None:
        # Requests are reported here, never edited: every other change is a step.
        if created:
            await events.request_changed(record, A.REPORT)

    def get_actions_list(self) -> Any:
        return [], {}

    # --- the details page with the workflow -------------------------------------------------

    @expose("/details/")
    def details_view(self) -> Any:
        return_url = get_redirect_target() or self.get_url(".index_view")
        record = self.get_one(request.args.get("id"))
        if record is None:
            flash(gettext("Record does not exist."), "error")
            return redirect(return_url)
        history = self.run(workflow.history(request_id=record.id))
        return self.render(
            self.details_template,
            model=record,
            details_columns=self._details_columns,
            get_value=self.get_detail_value,
            return_url=return_url,
            history=history,
            steps=self.step_forms(record),
            label=label,
        )

    def step_forms(self, record: Any) -> list[tuple[RequestAction, StepForm]]:
        steps = []
        for action in allowed_actions(record) if self.can_step else []:
            form = FORMS[action](None)
            form.version.data = record.version
            if isinstance(form, AssignForm):
                form.assignee_kind.choices = [SelectChoice(k.value, label(k)) for k in AssigneeKind]
            if isinstance(form, ReopenForm):
                form.to.choices = [
                    SelectChoice(s.value, label(s))
                    for s in TRANSITIONS[A.REOPEN][RequestStatus.RESOLVED]
                ]
            steps.append((action, form))
        return steps

    @property
    def can_step(self) -> bool:
        return self._writable

    @expose("/step/<int:id>/<action>/", methods=("POST",))
    def step_view(self, id: int, action: str) -> Any:
        back = self.get_url(".details_view", id=id, url=get_redirect_target())
        try:
            step = RequestAction(action)
        except ValueError:
            abort(404)
        if step not in FORMS or not self.can_step:
            abort(403)
        form = FORMS[step](request.form)
        if not form.validate():
            for errors in form.errors.values():
                for message in errors:
                    flash(str(message), "error")
            return redirect(back)
        try:
            self.run(self.take_step(step, id, form, viewer(), client_address()))
        except ServiceError as exc:
            for error in exc.errors:
                flash(error.message, "error")
            return redirect(back)
        flash(str(lazy("已%(action)s", action=label(step))), "success")
        return redirect(back)

    async def take_step(
        self, step: RequestAction, id: int, form: Any, actor: Any, address: str
    ) -> Any:
        """One workflow step, announced once it committed (runs on the loop: everything it
        needs is passed in)."""
        request = await self.transition(step, id, form, actor, address)
        await events.request_changed(request, step)
        return request

    async def transition(
        self, step: RequestAction, id: int, form: Any, actor: Any, address: str
    ) -> Any:
        """The workflow service call of ``step`` (each runs its own transaction)."""
        common: dict[str, Any] = {
            "actor": actor,
            "request_id": id,
            "version": _version(form.version.data),
            "note": form.note.data or "",
            "address": address,
        }
        if step is A.ASSIGN:
            return await workflow.assign(
                **common,
                assignee_kind=form.assignee_kind.data,
                assignee_id=form.assignee_id.data or None,
                assignee_name=form.assignee_name.data or "",
                due_at=form.due_at.data or None,
            )
        if step is A.RESPOND:
            return await workflow.respond(**common)
        if step is A.RESOLVE:
            return await workflow.resolve(**common, resolution=form.resolution.data or "")
        if step is A.RATE:
            return await workflow.rate(**common, satisfaction=form.satisfaction.data)
        if step is A.RETURN:
            return await workflow.return_request(**common)
        return await workflow.reopen(**common, to=RequestStatus(form.to.data))


def _version(raw: Any) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return 0
