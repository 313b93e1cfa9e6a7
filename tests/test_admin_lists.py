"""Console lists over the demo dataset: paging, sorting, Chinese search, filters, export.

Every expectation is computed from the database with the ORM (or the hub's own search),
never written down, so the tests hold on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator

import pytest
from openpyxl import load_workbook
from tortoise.expressions import Q, Subquery

from hub.access import write_scope
from hub.enums import MemberCategory, Role
from hub.models import Branch, Compound, Member, Street
from hub.services.auth import viewer_for
from resolvers.search import search_q
from seeds.loader import SeedReport
from tests.admin_support import Console, Server, console_server, make_account, signed_in

__all__ = ["console_server"]

ROW_ID = re.compile(r'<td class="col-id">\s*(\d+)\s*</td>')
COUNT = re.compile(r"列表 \((\d+)\)")


def ids(html: str) -> list[int]:
    return [int(i) for i in ROW_ID.findall(html)]


def count(html: str) -> int:
    found = COUNT.search(html)
    assert found, "no count on the page"
    return int(found.group(1))


@pytest.fixture(scope="module")
async def admin(demo: SeedReport, console_server: Server) -> AsyncIterator[Console]:
    await make_account("console-lists-admin", Role.ADMIN)
    client = await signed_in(console_server, "console-lists-admin")
    yield client
    await client.close()


async def test_pages_are_disjoint_and_cover_the_list(admin: Console) -> None:
    total = await Member.all().count()
    first = await admin.get("/admin/member/?page_size=50")
    second = await admin.get("/admin/member/?page_size=50&page=1")
    last_page = (total - 1) // 50
    last = await admin.get(f"/admin/member/?page_size=50&page={last_page}")

    assert count(first.text) == total
    expected = await Member.all().order_by("id").limit(50).values_list("id", flat=True)
    assert ids(first.text) == list(expected)
    assert ids(second.text) == list(
        await Member.all().order_by("id").offset(50).limit(50).values_list("id", flat=True)
    )
    assert len(ids(last.text)) == total - 50 * last_page


async def test_sorting_by_a_column_and_by_a_related_name(admin: Console) -> None:
    # column 1 of the member list is the name, column 5 the branch (sorted by its name)
    by_name = await admin.get("/admin/member/?sort=1&desc=1&page_size=20")
    expected = await Member.all().order_by("-name", "id").limit(20).values_list("id", flat=True)
    assert ids(by_name.text) == list(expected)

    by_branch = await admin.get("/admin/member/?sort=5&page_size=20")
    expected = (
        await Member.all().order_by("branch__name", "id").limit(20).values_list("id", flat=True)
    )
    assert ids(by_branch.text) == list(expected)


@pytest.mark.parametrize("term", ["huachen", "hcyy", "華晨", "华晨御园"])
async def test_search_uses_the_hubs_chinese_search(admin: Console, term: str) -> None:
    page = await admin.get("/admin/compound/", params={"search": term, "page_size": 100})
    expected = (
        await Compound.filter(search_q(Compound, term)).order_by("id").values_list("id", flat=True)
    )
    assert expected, "the demo data has 华晨御园"
    assert ids(page.text) == list(expected)


async def test_members_are_found_by_pinyin_initials(admin: Console) -> None:
    member = await Member.filter(name__startswith="张").order_by("id").first()
    assert member is not None
    initials = member.search_text.split("|")[-1]
    page = await admin.get("/admin/member/", params={"search": initials, "page_size": 100})
    assert member.id in ids(page.text)
    assert count(page.text) == await Member.filter(search_q(Member, initials)).count()


FILTERS = [
    # (list, query, expected rows) — one of each kind of field
    ("member", {"flt0_category_equals": "RETIRED"}, Q(category=MemberCategory.RETIRED)),
    ("member", {"flt0_name_contains": "华"}, Q(name__icontains="华")),
    ("compound", {"flt0_households_gt": "800"}, Q(households__gt=800)),
    ("compound", {"flt0_is_old_equals": "1"}, Q(is_old=True)),
    (
        "member",
        {"flt0_registered_on_between": "2020-03-01 to 2020-06-30"},
        Q(registered_on__gte="2020-03-01", registered_on__lte="2020-06-30"),
    ),
    ("member", {"flt0_registered_on_empty": "0"}, Q(registered_on__isnull=False)),
    (
        "member",
        {"flt0_representative_empty": "0", "flt1_category_not_equal": "DIRECT"},
        Q(representative__isnull=False) & ~Q(category=MemberCategory.DIRECT),
    ),
]


@pytest.mark.parametrize(("view", "query", "condition"), FILTERS)
async def test_filters_by_kind_of_field(
    admin: Console, view: str, query: dict[str, str], condition: Q
) -> None:
    model = {"member": Member, "compound": Compound}[view]
    page = await admin.get(f"/admin/{view}/", params={**query, "page_size": 100})
    assert page.status_code == 200
    expected = await model.filter(condition).count()
    assert expected > 0
    assert count(page.text) == expected
    assert ids(page.text) == list(
        await model.filter(condition).order_by("id").limit(100).values_list("id", flat=True)
    )


async def test_foreign_key_filters_by_record_and_by_its_name(admin: Console) -> None:
    branch = await Branch.filter(name__contains="华晨").first()
    assert branch is not None
    by_id = await admin.get("/admin/member/", params={"flt0_branch_equals": branch.id})
    assert count(by_id.text) == await Member.filter(branch_id=branch.id).count()
    # the filter offers the branches by name, loaded for this request
    assert f'"{branch.id}", "{branch.name}"' in by_id.text or branch.name in by_id.text

    by_name = await admin.get("/admin/member/", params={"flt0_branch_name_contains": "hcyy"})
    branches = Subquery(Branch.filter(search_q(Branch, "hcyy")).values("id"))
    assert count(by_name.text) == await Member.filter(branch_id__in=branches).count()


async def test_a_datetime_filter_reads_local_time(admin: Console) -> None:
    # 2020 in Asia/Shanghai starts at 2019-12-31 16:00 UTC
    query = {"flt0_collected_at_between": "2020-01-01 00:00:00 to 2020-12-31 23:59:59"}
    page = await admin.get("/admin/residentrequest/", params=query)
    from hub.models import ResidentRequest
    from hub.services.statistics import year_bounds

    start, end = year_bounds(2020)
    expected = await ResidentRequest.filter(collected_at__gte=start, collected_at__lt=end).count()
    assert count(page.text) == expected


async def test_a_bad_filter_value_is_reported_not_applied(admin: Console) -> None:
    page = await admin.get("/admin/compound/", params={"flt0_households_gt": "many"})
    assert page.status_code == 200
    assert count(page.text) == await Compound.all().count()


async def test_export_of_the_filtered_list_as_csv_and_xlsx(admin: Console) -> None:
    query = {"flt0_category_equals": "FLOATING", "search": "z"}
    expected = await Member.filter(search_q(Member, "z"), category=MemberCategory.FLOATING).count()
    assert expected > 20  # more than one page: the export is not the page

    as_csv = await admin.get("/admin/member/export/csv/", params=query)
    assert as_csv.status_code == 200
    assert "member_" in as_csv.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "姓名", "性别"]
    assert len(rows) - 1 == expected
    category = rows[0].index("党员类别")
    assert {row[category] for row in rows[1:]} == {"流动党员"}  # enums by their labels

    as_xlsx = await admin.get("/admin/member/export/xlsx/", params=query)
    assert as_xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    values = list(sheet.values)
    assert list(values[0][:2]) == ["编号", "姓名"]
    assert len(values) - 1 == expected
    assert [int(r[0]) for r in values[1:]] == [int(r[0]) for r in rows[1:]]


async def test_an_export_shows_its_own_relations_by_name(admin: Console) -> None:
    # Given a member whose party group (a column the list does not show) is set
    member = (
        await Member.filter(party_group_id__not_isnull=True)
        .select_related("branch", "party_group")
        .order_by("id")
        .first()
    )
    assert member is not None and member.party_group is not None

    # When the list filtered to that member is exported
    query = {"flt0_name_equals": member.name}
    as_csv = await admin.get("/admin/member/export/csv/", params=query)

    # Then every related record is exported by its name, fetched with the rows
    assert as_csv.status_code == 200
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    found = [row for row in rows[1:] if row[0] == str(member.id)]
    assert len(found) == 1, rows[:3]
    exported = dict(zip(rows[0], found[0], strict=True))
    assert exported["党小组"] == member.party_group.name
    assert exported["所属支部"] == member.branch.name
    assert not any(" object at 0x" in cell for row in rows for cell in row)


async def test_a_curator_lists_only_its_scope(demo: SeedReport, console_server: Server) -> None:
    street = await Street.get(name="嵩山路街道")
    user = await make_account("console-lists-curator", Role.CURATOR, street=street)
    client = await signed_in(console_server, user.username)
    try:
        page = await client.get("/admin/member/")
        scope = write_scope(viewer_for(user), Member)
        assert count(page.text) == await Member.filter(scope).count()
        assert count(page.text) < await Member.all().count()
        outside = await Member.exclude(scope).first()
        assert outside is not None
        details = await client.get(f"/admin/member/details/?id={outside.id}")
        assert details.status_code == 302  # "record does not exist" for this curator
    finally:
        await client.close()
