"""The console in a real browser: sign in, search, edit, stale edits, roster import,
the request workflow and export — as a district organiser would use it."""

from __future__ import annotations

import csv
import io
import re
import uuid
from pathlib import Path
from typing import Any

from hub.search import search_text
from tests.e2e.conftest import sign_in, watch_errors
from tests.e2e.hub_server import COMMUNITY_CURATOR

COUNT = re.compile(r"\((\d+)\)")


async def list_count(page: Any) -> int:
    tab = await page.inner_text("ul.nav-tabs .nav-link.active")
    found = COUNT.search(tab)
    return int(found.group(1)) if found else 0


async def column(page: Any, name: str) -> list[str]:
    return [
        t.strip() for t in await page.locator(f"table.model-list td.col-{name}").all_inner_texts()
    ]


async def test_find_a_member_by_pinyin_initials(page: Any) -> None:
    # Given a member taken from the list (the demo data is the hub's own)
    await page.goto("/admin/member/?sort=1")
    names = await column(page, "name")
    ids = await column(page, "id")
    name, member_id = names[3], ids[3]
    initials = search_text(name).split("|")[-1]

    # When the organiser types the name's pinyin initials into the search box
    await page.fill("input[name=search]", initials)
    await page.press("input[name=search]", "Enter")
    await page.wait_for_url(re.compile(r"search="))

    # Then the member is among the results, and every result matches the initials
    assert member_id in await column(page, "id")
    assert 0 < await list_count(page) < 12_000
    for found in await column(page, "name"):
        assert initials in search_text(found)


async def _open_compound(page: Any, query: str) -> None:
    await page.goto("/admin/compound/")
    await page.fill("input[name=search]", query)
    await page.press("input[name=search]", "Enter")
    await page.wait_for_url(re.compile(r"search="))
    await page.locator(
        "table.model-list a[title='编辑记录'], table.model-list a.icon[href*='/edit/']"
    ).first.click()
    await page.wait_for_selector("form.admin-form")


async def test_edit_a_compound(page: Any) -> None:
    await _open_compound(page, "lushanlian")  # 庐山恋, by its pinyin
    assert await page.input_value("#name") == "庐山恋"
    households = int(await page.input_value("#households")) + 7
    await page.fill("#households", str(households))
    await page.click("form.admin-form input[type=submit].btn-primary")

    await page.wait_for_selector(".alert-success")
    assert "保存成功" in await page.inner_text(".alert-success") or "成功" in await page.inner_text(
        ".alert-success"
    )
    await page.fill("input[name=search]", "庐山恋")
    await page.press("input[name=search]", "Enter")
    await page.wait_for_url(re.compile(r"search="))
    assert str(households) in await column(page, "households")


async def test_a_stale_edit_is_refused(page: Any) -> None:
    # Two tabs open the same compound ...
    await _open_compound(page, "huachenyuyuan")
    other = await page.context.new_page()
    await other.goto(page.url)
    await other.wait_for_selector("form.admin-form")
    # ... the first saves ...
    await page.fill("#address", "泰山路 1 号")
    await page.click("form.admin-form input[type=submit].btn-primary")
    await page.wait_for_selector(".alert-success")
    # ... and the second, loaded before that save, is refused with the API's message.
    await other.fill("#address", "泰山路 2 号")
    await other.click("form.admin-form input[type=submit].btn-primary")
    await other.wait_for_selector(".alert-danger")
    assert "已被他人修改" in await other.inner_text("body")
    await other.goto(other.url)  # a fresh GET: what is saved now
    assert await other.input_value("#address") == "泰山路 1 号"


def _roster(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["姓名", "性别", "手机号码", "党员类别", "所属支部", "入党日期"])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


async def test_import_a_roster_with_a_bad_row(page: Any, tmp_path: Path) -> None:
    # The branch is taken from the member list, by its name as shown
    await page.goto("/admin/member/?sort=5")
    branch = (await column(page, "branch"))[0]
    tag = uuid.uuid4().hex[:6]
    good = [
        [f"导入甲{tag}", "男", "13800000001", "退休党员", branch, "1980-07-01"],
        [f"导入乙{tag}", "女", "13800000002", "在职党员", branch, "1990-07-01"],
    ]
    bad = [f"导入丙{tag}", "女", "12345", "退休党员", branch, "1985-07-01"]  # a bad phone
    with_bad = tmp_path / "roster-bad.csv"
    with_bad.write_bytes(_roster([good[0], bad, good[1]]))

    await page.goto("/admin/roster/")
    await page.set_input_files("#file", str(with_bad))
    await page.click("#roster-upload button[type=submit]")
    await page.wait_for_selector("#roster-report")
    # the preview lists the bad row (line 3 of the file) and offers no import
    assert await page.locator("#roster-bad").count() == 1
    lines = await page.locator("tr.roster-error").evaluate_all(
        "rows => rows.map(r => r.dataset.line)"
    )
    assert lines == ["3"]
    assert "电话" in await page.inner_text("#roster-errors")
    assert await page.locator("#roster-commit").count() == 0

    # the corrected file previews clean, and its import saves every row
    fixed = tmp_path / "roster-good.csv"
    fixed.write_bytes(_roster(good))
    await page.set_input_files("#file", str(fixed))
    await page.click("#roster-upload button[type=submit]")
    await page.wait_for_selector("#roster-ok")
    await page.click("#roster-commit button[type=submit]")
    await page.wait_for_selector("#roster-done")
    await page.goto(f"/admin/member/?flt0_name_contains={tag}")
    assert sorted(await column(page, "name")) == sorted([good[0][0], good[1][0]])


async def _steps(page: Any) -> list[str]:
    return sorted(await page.locator("form.hub-step").evaluate_all("fs => fs.map(f => f.id)"))


async def test_walk_a_request_through_the_workflow(browser: Any, hub_url: str) -> None:
    context = await browser.new_context(base_url=hub_url)
    context.set_default_timeout(15_000)
    page = await context.new_page()
    errors = watch_errors(page)
    try:
        await sign_in(page, COMMUNITY_CURATOR)
        # report one (问题收集) in the curator's own compound
        await page.goto("/admin/residentrequest/new/")
        await page.click("#s2id_compound_id a")
        await page.keyboard.type("lsl")
        await page.wait_for_selector(".select2-result-label")
        await page.click(".select2-result-label")
        await page.select_option("#category", "PARKING", force=True)
        await page.select_option("#channel", "WECHAT_GROUP", force=True)
        await page.fill("#description", "夜间车辆乱停，消防通道被占")
        await page.fill("#reporter_name", "业主王先生")
        await page.click("form.admin-form input[type=submit].btn-primary")
        await page.wait_for_selector(".alert-success")
        await page.goto("/admin/residentrequest/?sort=0&desc=1")
        await page.locator("table.model-list a.icon[href*='/details/']").first.click()
        await page.wait_for_selector("#workflow")
        assert await _steps(page) == ["step-assign"]

        # 及时交办 → 快速反应 → 有效解决 → 评价, offered one at a time
        await page.select_option("#step-assign select[name=assignee_kind]", "GRID_WORKER")
        await page.fill("#step-assign input[name=assignee_name]", "网格员李娟")
        await page.click("#step-assign button[type=submit]")
        await page.wait_for_selector(".alert-success")
        assert await _steps(page) == ["step-respond", "step-return"]

        await page.fill("#step-respond textarea[name=note]", "已到现场查看")
        await page.click("#step-respond button[type=submit]")
        await page.wait_for_selector(".alert-success")
        assert await _steps(page) == ["step-resolve", "step-return"]

        # resolving without saying how is refused with the service's message
        await page.click("#step-resolve button[type=submit]")
        await page.wait_for_selector(".alert-danger")
        assert "解决情况不能为空" in await page.inner_text(".alert-danger")
        await page.fill("#step-resolve textarea[name=resolution]", "增划停车区域，人车分流")
        await page.click("#step-resolve button[type=submit]")
        await page.wait_for_selector(".alert-success")
        assert await _steps(page) == ["step-rate", "step-reopen"]

        await page.select_option("#step-rate select[name=satisfaction]", "5")
        await page.click("#step-rate button[type=submit]")
        await page.wait_for_selector(".alert-success")
        assert await _steps(page) == ["step-reopen"]

        history = await page.locator("#history tr.history-event").evaluate_all(
            "rows => rows.map(r => r.dataset.action)"
        )
        assert history == ["REPORT", "ASSIGN", "RESPOND", "RESOLVE", "RATE"]
        assert "已解决" in await page.inner_text("table.searchable")
    finally:
        await context.close()
    assert errors == [], "JavaScript errors on the console's pages"


async def test_export_a_filtered_list(page: Any) -> None:
    # filter the members by category with the filter menu, then export what is shown
    await page.goto("/admin/member/")
    await page.click("text=添加筛选器")
    await page.click(".field-filters a:text-is('党员类别')")
    # (select2 hides the selects it dresses: set them directly; "equals" is the default)
    await page.select_option("select.filter-val", "FLOATING", force=True)
    # listening before the click: the filtered page's navigation cannot be missed
    async with page.expect_navigation(url=re.compile(r"flt\d+_category_equals=FLOATING")):
        await page.click("button:has-text('应用')")
    shown = await list_count(page)
    assert 0 < shown < 12_000

    await page.click("text=导出")
    async with page.expect_download() as waiting:
        await page.click("a.dropdown-item:has-text('CSV')")
    download = await waiting.value
    rows = list(csv.reader(io.StringIO(Path(await download.path()).read_text("utf-8-sig"))))
    assert len(rows) - 1 == shown
    category = rows[0].index("党员类别")
    assert {row[category] for row in rows[1:]} == {"流动党员"}
    # related records (branch, party group, compound) are exported by name, not as objects
    assert not any(" object at 0x" in cell for row in rows for cell in row)
