"""Console forms write through the API's services: same rules, same messages, same audit."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from hub import models as m
from hub.enums import AuditAction, Duty, MemberCategory, MemberStatus, Role
from hub.services import records
from hub.services.errors import ServiceError
from tests.admin_support import Console, Server, console_server, make_account, signed_in
from tests.service_world import World, build_world

__all__ = ["console_server"]


@dataclass
class Place:
    world: World
    admin: Console
    admin_user: m.User
    curator: Console


@pytest.fixture
async def place(console_server: Server, unique_name: str) -> AsyncIterator[Place]:
    world = await build_world(unique_name)
    admin_user = await make_account(f"{unique_name}-a", Role.ADMIN)
    await make_account(f"{unique_name}-c", Role.CURATOR, community=world.community)
    admin = await signed_in(console_server, admin_user.username)
    curator = await signed_in(console_server, f"{unique_name}-c")
    yield Place(world, admin, admin_user, curator)
    await admin.close()
    await curator.close()


def shown(page: str) -> str:
    return html.unescape(page)


def problems(page: str) -> list[str]:
    """Flash messages and field errors on a page (for failure messages)."""
    found = re.findall(r'class="alert[^"]*">(.*?)</div>|text-danger[^>]*>(.*?)</ul>', page, re.S)
    texts = [html.unescape(re.sub(r"<[^>]+>|&times;", "", a or b)).strip() for a, b in found]
    return [t for t in texts if t] or [shown(page)[-3000:]]


def form_version(page: str) -> str:
    found = re.search(r'<input[^>]*name="version"[^>]*>', page)
    assert found, "the edit form carries the record's version"
    value = re.search(r'value="(\d+)"', found.group(0))
    assert value
    return value.group(1)


def compound_form(world: World, **changes: str) -> dict[str, str]:
    data = {
        "community_id": str(world.community.id),
        "name": "新建小区",
        "address": "天元区某路1号",
        "households": "320",
        "built_year": "2005",
        "property_company_id": str(world.company.id),
    }
    return {**data, **changes}


async def test_creating_a_record_goes_through_the_service_and_its_audit(place: Place) -> None:
    w = place.world
    page = "/admin/compound/new/"
    response = await place.admin.submit(page, page, compound_form(w, is_old="y"))

    assert response.status_code == 302, problems(response.text)
    created = await m.Compound.get(community_id=w.community.id, name="新建小区")
    assert created.households == 320 and created.is_old is True
    assert created.search_text  # the model's own save() ran
    entry = await m.AuditLog.get(entity="Compound", entity_id=str(created.id))
    assert entry.action is AuditAction.CREATE and entry.user_id == place.admin_user.id


async def test_a_refused_edit_shows_the_services_own_message(place: Place) -> None:
    w = place.world
    # What the API says for a compound built in 1800:
    with pytest.raises(ServiceError) as api:
        await records.update(
            actor=w.admin,
            entity="Compound",
            id=w.compound.id,
            version=w.compound.version,
            data={"built_year": 1800},
        )
    message = api.value.for_field("built_year")[0].message

    edit = f"/admin/compound/edit/?id={w.compound.id}"
    form = await place.admin.get(edit)
    data = compound_form(
        w, name=w.compound.name, built_year="1800", version=form_version(form.text)
    )
    refused = await place.admin.submit(edit, edit, data)

    assert refused.status_code == 200  # the form again, with the message on the field
    assert message in shown(refused.text)
    await w.compound.refresh_from_db()
    assert w.compound.built_year is None


async def test_a_duplicate_name_in_the_other_script_is_refused(place: Place) -> None:
    w = place.world
    page = "/admin/compound/new/"
    # 甲小区 exists in this community: its Traditional spelling is the same name
    refused = await place.admin.submit(page, page, compound_form(w, name="甲小區"))
    assert refused.status_code == 200
    assert "已有小区名称为「甲小区」的小区" in shown(refused.text)


async def test_a_stale_edit_is_refused_not_overwritten(place: Place) -> None:
    w = place.world
    edit = f"/admin/compound/edit/?id={w.compound.id}"
    # Given the form loaded by one curator ...
    loaded = await place.admin.get(edit)
    version = form_version(loaded.text)
    # ... and someone else's save meanwhile
    await records.update(
        actor=w.admin,
        entity="Compound",
        id=w.compound.id,
        version=int(version),
        data={"households": 111},
    )
    # When the first form is saved
    data = compound_form(w, name=w.compound.name, households="999", version=version)
    refused = await place.admin.submit(edit, edit, data)
    # Then it is refused with the API's conflict message and nothing is overwritten
    assert refused.status_code == 200
    assert "已被他人修改" in shown(refused.text)
    await w.compound.refresh_from_db()
    assert w.compound.households == 111


async def test_a_curator_edits_only_inside_its_scope(place: Place) -> None:
    w = place.world
    # outside: not found for this curator
    other = await place.curator.get(f"/admin/compound/edit/?id={w.other_compound.id}")
    assert other.status_code == 302
    # moving a record out of the scope is refused with the service's message
    page = "/admin/compound/new/"
    refused = await place.curator.submit(
        page, page, compound_form(w, community_id=str(w.other_community.id))
    )
    assert refused.status_code == 200
    assert "不在您的维护范围内" in shown(refused.text)
    assert not await m.Compound.exists(name="新建小区", community_id=w.other_community.id)


async def test_foreign_key_choices_are_searched_and_scoped(place: Place) -> None:
    w = place.world
    lookup = "/admin/compound/ajax/lookup/"
    # the curator's communities only (a compound's community is in its write scope) ...
    mine = await place.curator.get(lookup, params={"name": "community", "query": "甲"})
    names = [label for _, label in mine.json()]
    assert any(label.startswith("甲社区") for label in names)
    theirs = await place.curator.get(lookup, params={"name": "community", "query": "yi"})
    assert all(not label.startswith("乙社区") for _, label in theirs.json())
    # ... and the admin finds them by pinyin initials too
    # (other tests' worlds have communities of the same name: the page may hold theirs)
    found = await place.admin.get(lookup, params={"name": "community", "query": "ysq"})
    labels = [label for _, label in found.json()]
    assert labels and all(label.startswith("乙社区") for label in labels)
    assert await m.Community.filter(id=w.other_community.id, search_text__contains="ysq").exists()


async def test_enums_show_their_labels_and_datetimes_local_time(place: Place) -> None:
    w = place.world
    new = await place.admin.get("/admin/member/new/")
    assert '<option value="RETIRED">退休党员</option>' in new.text

    page = "/admin/serviceactivity/new/"
    data = {
        "title": f"{w.name}义诊",
        "branch_id": str(w.branch.id),
        "category": "CLINIC",
        "delivery_mode": "MENU",
        "service_force": "PARTY_MEMBERS",
        "held_at": "2020-05-01 09:30:00",
        "residents_served": "40",
        "participants": str(w.member.id),
    }
    created = await place.admin.submit(page, page, data)
    assert created.status_code == 302, problems(created.text)
    activity = await m.ServiceActivity.get(title=f"{w.name}义诊")
    # typed in Asia/Shanghai, stored in UTC
    assert activity.held_at == dt.datetime(2020, 5, 1, 1, 30, tzinfo=dt.UTC)
    assert [p.id for p in await activity.participants.all()] == [w.member.id]
    edit = await place.admin.get(f"/admin/serviceactivity/edit/?id={activity.id}")
    assert 'value="2020-05-01 09:30:00"' in edit.text


async def test_many_to_many_and_enum_set_fields(place: Place) -> None:
    w = place.world
    third = await m.Compound.create(community=w.community, name="丁小区")
    edit = f"/admin/branch/edit/?id={w.branch.id}"
    loaded = await place.admin.get(edit)
    # the branch's compounds are shown with their names in the ajax select
    tag = re.search(r'<input[^>]*name="compounds"[^>]*>', loaded.text)
    assert tag is not None
    current = re.search(r'data-json="([^"]*)"', tag.group(0))
    assert current and "甲小区" in html.unescape(current.group(1))
    data = {
        "community_id": str(w.community.id),
        "name": w.branch.name,
        "compounds": f"{w.compound.id},{third.id}",
        "star_rating": "3",
        "version": form_version(loaded.text),
    }
    saved = await place.admin.submit(edit, edit, data)
    assert saved.status_code == 302, problems(saved.text)
    assert sorted(c.id for c in await w.branch.compounds.all()) == sorted([w.compound.id, third.id])

    page = "/admin/member/new/"
    member = {
        "name": f"{w.name}李四",
        "category": "RETIRED",
        "branch_id": str(w.branch.id),
        "duties": ["PROPAGANDIST", "PEACEMAKER"],
    }
    created = await place.admin.submit(page, page, member)
    assert created.status_code == 302, problems(created.text)
    record = await m.Member.get(name=f"{w.name}李四")
    duties = await m.MemberDuty.filter(member_id=record.id).values_list("duty", flat=True)
    assert sorted(duties) == sorted([Duty.PROPAGANDIST, Duty.PEACEMAKER])
    details = await place.admin.get(f"/admin/member/details/?id={record.id}")
    assert "宣传员" in details.text and "和事佬" in details.text


async def test_members_are_archived_never_deleted(place: Place) -> None:
    w = place.world
    second = await m.Member.create(name="王五", category=MemberCategory.DIRECT, branch=w.branch)
    third = await m.Member.create(name="赵六", category=MemberCategory.DIRECT, branch=w.branch)
    # one with the archive button of its row (the form the list page renders) ...
    listing = "/admin/member/"
    page = await place.curator.get(listing, params={"flt0_branch_equals": w.branch.id})
    row_form = re.search(
        rf'<form class="icon" method="POST" action="([^"]+)">'
        rf'<input id="id" name="id" type="hidden" value="{w.member.id}">(.*?)</form>',
        page.text,
        re.S,
    )
    assert row_form is not None and "fa-archive" in row_form.group(2)
    hidden = dict(re.findall(r'name="(\w+)" type="hidden" value="([^"]*)"', row_form.group(2)))
    assert set(hidden) == {"url", "csrf_token"}
    done = await place.curator.post(
        html.unescape(row_form.group(1)), {"id": str(w.member.id), **hidden}
    )
    assert done.status_code == 302
    await w.member.refresh_from_db()
    assert w.member.status is MemberStatus.ARCHIVED
    # ... and several with the bulk action
    bulk = await place.curator.submit(
        listing,
        "/admin/member/action/",
        {"action": "delete", "rowid": [str(second.id), str(third.id)]},
    )
    assert bulk.status_code == 302
    statuses = await m.Member.filter(id__in=[second.id, third.id]).values_list("status", flat=True)
    assert set(statuses) == {MemberStatus.ARCHIVED}
    entries = await m.AuditLog.filter(
        entity="Member", action=AuditAction.ARCHIVE, entity_id__in=[str(second.id), str(third.id)]
    )
    assert len(entries) == 2


async def test_deleting_a_record_in_use_is_refused(place: Place) -> None:
    w = place.world
    listing = "/admin/compound/"
    refused = await place.admin.submit(
        listing, "/admin/compound/delete/", {"id": str(w.compound.id)}
    )
    assert refused.status_code == 302
    assert await m.Compound.exists(id=w.compound.id)
    page = await place.admin.get(listing)
    assert "不能删除" in shown(page.text)  # the service's message, flashed

    building = await m.Building.create(compound=w.compound, name="1栋")
    gone = await place.admin.submit(
        "/admin/building/", "/admin/building/delete/", {"id": str(building.id)}
    )
    assert gone.status_code == 302
    assert not await m.Building.exists(id=building.id)
    assert await m.AuditLog.exists(
        entity="Building", entity_id=str(building.id), action=AuditAction.DELETE
    )


async def test_reference_choices_offer_only_what_the_curator_may_link(place: Place) -> None:
    # given a member of the curator's community and one of another community
    w = place.world
    ours = await m.Member.create(
        name=f"{w.name}本社区党员", category=MemberCategory.DIRECT, branch=w.branch
    )
    theirs = await m.Member.create(
        name=f"{w.name}外社区党员", category=MemberCategory.DIRECT, branch=w.other_branch
    )
    # when the curator looks for a building's head (a reference without a declared scope)
    lookup = "/admin/building/ajax/lookup/"
    found = await place.curator.get(lookup, params={"name": "head_member", "query": w.name})
    assert found.status_code == 200, found.text[:500]
    ids = {int(pk) for pk, _ in found.json()}
    # then only the member the write service would accept is offered
    assert ours.id in ids
    assert theirs.id not in ids
    # and the admin, who may link to either, is offered both
    everything = await place.admin.get(lookup, params={"name": "head_member", "query": w.name})
    assert {ours.id, theirs.id} <= {int(pk) for pk, _ in everything.json()}
