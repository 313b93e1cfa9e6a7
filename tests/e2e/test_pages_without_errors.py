"""Every console page, and GraphiQL, runs without a JavaScript error under the console's
Content-Security-Policy (issue 14, findings 9 and the browser gate)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import watch_errors

CONSOLE_PAGES = [
    "/admin/",
    "/admin/member/",
    "/admin/member/?flt0_category_equals=FLOATING&search=z",
    "/admin/member/new/",
    "/admin/compound/",
    "/admin/residentrequest/",
    "/admin/residentrequest/new/",
    "/admin/auditlog/",
    "/admin/requestevent/",
    "/admin/roster/",
]


@pytest.mark.parametrize("path", CONSOLE_PAGES)
async def test_a_console_page_has_no_javascript_error(page: Any, path: str) -> None:
    # (the `page` fixture fails the test on any JavaScript error)
    response = await page.goto(path)
    assert response is not None and response.status in (200, 404)
    policy = response.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in policy and "'unsafe-inline'" not in policy
    await page.wait_for_load_state("load")


async def test_details_and_edit_pages_have_no_javascript_error(page: Any) -> None:
    await page.goto("/admin/member/")
    await page.locator("table.model-list a.icon[href*='/details/']").first.click()
    await page.wait_for_load_state("load")
    await page.goto("/admin/member/")
    await page.locator("table.model-list a.icon[href*='/edit/']").first.click()
    await page.wait_for_selector("form.admin-form")


async def test_inline_handlers_still_work_under_the_policy(page: Any) -> None:
    # The delete button asks first (the handler flask-admin writes inline, now attached
    # by console.js); dismissing the question deletes nothing.
    await page.goto("/admin/compound/")
    asked: list[str] = []

    async def dismiss(dialog: Any) -> None:
        asked.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", dismiss)
    before = page.url
    await page.locator("table.model-list form.icon button").first.click()
    await page.wait_for_timeout(300)
    assert asked and page.url == before
    # The filter menu opens and adds a filter row (a "javascript:void(0)" link).
    await page.click("text=添加筛选器")
    await page.click(".field-filters a.filter >> nth=0")
    await page.wait_for_selector(".filters tr")


async def test_the_language_switch_submits_on_change(page: Any) -> None:
    await page.goto("/admin/member/?page=1")
    async with page.expect_navigation():
        await page.select_option("form.hub-language select[name=lang]", "en")
    assert page.url.endswith("/admin/member/?page=1")  # back where it was, in English
    async with page.expect_navigation():
        await page.select_option("form.hub-language select[name=lang]", "zh_Hans_CN")


async def test_graphiql_has_no_javascript_error(browser: Any, hub_url: str) -> None:
    context = await browser.new_context(base_url=hub_url)
    tab = await context.new_page()
    errors = watch_errors(tab)
    try:
        response = await tab.goto("/graphql", wait_until="networkidle")
        assert response is not None and response.status == 200
        await tab.wait_for_selector(".graphiql-container")
    finally:
        await context.close()
    assert errors == [], "JavaScript errors on GraphiQL"
