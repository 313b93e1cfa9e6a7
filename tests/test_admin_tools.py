"""Curator tools: the request workflow, roster import, the dashboard, the audit log, and
the English catalogue of the console's labels."""

from __future__ import annotations

import html
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from openpyxl import load_workbook

from admin.i18n import catalogue
from admin.views.labels import all_labels
from hub import enums
from hub import models as m
from hub.enums import AuditAction, RequestStatus, Role
from hub.services import requests as workflow
from hub.services.roster import COLUMNS
from hub.services.statistics import ScopeLevel, compute_statistics, find_scope
from tests.admin_support import Console, Server, console_server, make_account, signed_in
from tests.service_world import World, build_world

__all__ = ["console_server"]


@dataclass
class Place:
    world: World
    curator: Console
    user: m.User


@pytest.fixture
async def place(console_server: Server, unique_name: str) -> AsyncIterator[Place]:
    world = await build_world(unique_name)
    user = await make_account(f"{unique_name}-c", Role.CURATOR, community=world.community)
    curator = await signed_in(console_server, user.username)
    yield Place(world, curator, user)
    await curator.close()


def steps(page: str) -> list[str]:
    return sorted(re.findall(r'id="step-([a-z]+)"', page))


def text(page: str) -> str:
    return html.unescape(page)


async def test_a_request_moves_only_through_the_allowed_steps(place: Place) -> None:
    w = place.world
    request = await workflow.report(
        actor=w.curator,
        data={
            "compound_id": w.compound.id,
            "category": "PARKING",
            "channel": "VISIT",
            "description": "停车难",
        },
    )
    details = f"/admin/residentrequest/details/?id={request.id}"
    page = await place.curator.get(details)
    assert steps(page.text) == ["assign"]  # COLLECTED: assigning is the only step

    # a step the status does not allow is refused by the workflow service
    jumped = await place.curator.submit(
        details,
        f"/admin/residentrequest/step/{request.id}/RESOLVE/",
        {"version": "1", "resolution": "已解决"},
    )
    assert jumped.status_code == 302
    assert "不能转为「已解决」" in text((await place.curator.get(details)).text)

    assigned = await place.curator.submit(
        details,
        f"/admin/residentrequest/step/{request.id}/ASSIGN/",
        {"version": "1", "assignee_kind": "GRID_WORKER", "assignee_name": "网格员甲"},
    )
    assert assigned.status_code == 302
    await request.refresh_from_db()
    assert request.status is RequestStatus.ASSIGNED and request.assignee_name == "网格员甲"
    page = await place.curator.get(details)
    assert steps(page.text) == ["respond", "return"]

    # a step taken on a stale page (version 1) is refused like a stale edit
    stale = await place.curator.submit(
        details,
        f"/admin/residentrequest/step/{request.id}/RETURN/",
        {"version": "1", "note": "信息不全"},
    )
    assert stale.status_code == 302
    assert "已被他人修改" in text((await place.curator.get(details)).text)
    await request.refresh_from_db()
    assert request.status is RequestStatus.ASSIGNED

    history = [e.action.value for e in await workflow.history(request_id=request.id)]
    assert history == ["REPORT", "ASSIGN"]
    assert 'data-action="ASSIGN"' in page.text
    entry = await m.AuditLog.filter(
        entity="ResidentRequest", entity_id=str(request.id), action=AuditAction.TRANSITION
    ).first()
    assert entry is not None and entry.user_id == place.user.id


async def test_roster_template_preview_and_all_or_nothing_commit(place: Place) -> None:
    w = place.world
    template = await place.curator.get("/admin/roster/template.xlsx")
    sheet = load_workbook(io.BytesIO(template.content)).active
    assert [c.value for c in sheet[1]] == [c.header for c in COLUMNS]
    csv_template = await place.curator.get("/admin/roster/template.csv")
    assert csv_template.content.startswith(b"\xef\xbb\xbf")

    rows = [
        "姓名,手机号码,党员类别,所属支部",
        f"{w.name}一,13900000001,退休党员,{w.branch.name}",
        f"{w.name}二,13900000002,不知道,{w.branch.name}",  # bad category
        f"{w.name}三,13900000003,在职党员,{w.other_branch.name}",  # outside the scope
    ]
    upload = ("roster.csv", "\n".join(rows).encode("utf-8"), "text/csv")
    token = await place.curator.token("/admin/roster/")
    preview = await place.curator.http.post(
        "/admin/roster/preview/", data={"csrf_token": token}, files={"file": upload}
    )
    assert preview.status_code == 200
    lines = re.findall(r'class="roster-error" data-line="(\d+)"', preview.text)
    assert sorted(set(lines)) == ["3", "4"]
    assert 'id="roster-commit"' not in preview.text
    assert not await m.Member.filter(name__startswith=w.name).exists()

    good = ("roster.csv", "\n".join(rows[:2]).encode("utf-8"), "text/csv")
    token = await place.curator.token("/admin/roster/")
    ok = await place.curator.http.post(
        "/admin/roster/preview/", data={"csrf_token": token}, files={"file": good}
    )
    assert 'id="roster-ok"' in ok.text
    fields = dict(
        re.findall(
            r'id="(filename|payload|signature)" name="\1" type="hidden" value="([^"]*)"', ok.text
        )
    )
    commit_form = ok.text[ok.text.index('id="roster-commit"') :]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', commit_form)
    assert token and set(fields) == {"filename", "payload", "signature"}

    tampered = await place.curator.post(
        "/admin/roster/commit/",
        {**fields, "csrf_token": token.group(1), "payload": fields["payload"][:-4] + "AAAA"},
    )
    assert tampered.status_code == 400
    assert not await m.Member.filter(name=f"{w.name}一").exists()

    committed = await place.curator.post(
        "/admin/roster/commit/", {**fields, "csrf_token": token.group(1)}
    )
    assert 'id="roster-done"' in committed.text
    member = await m.Member.get(name=f"{w.name}一")
    assert member.branch_id == w.branch.id  # type: ignore[attr-defined]
    assert await m.AuditLog.exists(
        entity="Member", action=AuditAction.IMPORT, user_id=place.user.id
    )


async def test_the_dashboard_shows_the_curators_own_figures(place: Place) -> None:
    page = await place.curator.get("/admin/")
    scope = await find_scope(level=ScopeLevel.COMMUNITY, id=place.world.community.id)
    stats = await compute_statistics(scope=scope)
    figures = dict(re.findall(r'id="figure-(\w+)">.*?hub-figure-value">([\d,]+)<', page.text, re.S))
    assert figures["branches"] == f"{stats.branches.branches:,}"
    assert figures["members"] == f"{stats.members.total:,}"
    assert figures["coverage"] == f"{stats.compounds.covered:,}"
    assert place.world.community.name in page.text
    assert page.text.count("<svg") >= 6  # charts drawn by the hub, inline
    assert "cdn" not in page.text.lower() and "https://" not in page.text


async def test_the_audit_log_is_filtered_for_admins(
    console_server: Server, unique_name: str
) -> None:
    admin = await make_account(unique_name, Role.ADMIN)
    client = await signed_in(console_server, unique_name)
    try:
        page = await client.get(
            "/admin/auditlog/",
            params={"flt0_actor_name_equals": unique_name, "flt1_action_equals": "LOGIN"},
        )
        found = [int(i) for i in re.findall(r'<td class="col-id">\s*(\d+)', page.text)]
        expected = await m.AuditLog.filter(actor_name=unique_name, action=AuditAction.LOGIN)
        assert found == [e.id for e in expected] and found
        details = await client.get(f"/admin/auditlog/details/?id={found[0]}")
        assert "登录" in details.text and str(admin.id) in details.text
    finally:
        await client.close()


def test_every_label_of_the_console_has_its_english() -> None:
    english = catalogue("en")
    labels = set(all_labels())
    for enum in vars(enums).values():
        if (
            isinstance(enum, type)
            and issubclass(enum, enums.LabeledEnum)
            and enum is not enums.LabeledEnum
        ):
            labels |= {member.label for member in enum}
    missing = sorted(label for label in labels if label not in english)
    assert not missing, f"no English for: {missing}"
