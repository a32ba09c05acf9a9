"""The home work queues in a real browser at 390 and 1280 px (issue 17 item 1, R-O1, R-N5): a district regulator
sees 督办逾期 and 整改逾期 as separate numbers, follows one to the ledger with the same count and opens the
hazard; an enterprise manager starts a 自查 from home. Screenshots under artifacts/screenshots/."""

from __future__ import annotations

import re

import pytest

from tests import factories
from tests.browser import (  # noqa: F401 (fixtures)
    DESKTOP,
    PHONE,
    SHOTS,
    assert_no_horizontal_overflow,
    browser,
    log_in,
    new_page,
    serve_world,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    with serve_world(tmp_path_factory.mktemp("home"), factories.fill_work_queues) as (base, _, _):
        yield base


@pytest.mark.parametrize("viewport,name", [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_regulator_follows_a_queue_number_to_its_list(browser, live_server, viewport, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = new_page(browser, viewport)
    try:
        log_in(page, live_server, "xa_reg")
        page.wait_for_url(live_server + "/")
        overdue = page.locator("#queue-supervision_overdue")
        assert "督办逾期" in overdue.inner_text() and "逾期 3 天" in overdue.inner_text()
        assert "整改逾期" in page.inner_text("#queue-rectification_overdue")
        assert_no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / f"home-regulator-{name}.png"), full_page=True)
        number = overdue.locator(".queue-count b").inner_text()
        overdue.locator(".queue-count").click()
        page.wait_for_url("**/hazards/?*supervision_overdue=true*")
        assert re.search(rf"共 {number} 条", page.inner_text("main"))
        page.goto(live_server + "/")
        page.locator("#queue-supervision_overdue .queue-items a").first.click()
        page.wait_for_url("**/hazards/*")
        assert "液氨储罐区未设置紧急切断装置" in page.inner_text("main")
    finally:
        context.close()


def test_enterprise_manager_starts_a_self_check_from_home(browser, live_server):
    context, page = new_page(browser, PHONE)
    try:
        log_in(page, live_server, "ent1_mgr")
        page.wait_for_url(live_server + "/")
        assert "未销号隐患" in page.inner_text("main")
        assert_no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / "home-enterprise-phone.png"), full_page=True)
        page.click("text=开始自查")
        page.wait_for_url("**/inspections/new")
    finally:
        context.close()


@pytest.mark.parametrize("viewport,name", [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_the_monthly_trend_is_a_chart_over_its_table(browser, live_server, viewport, name):
    """Issue 17 item 2: ECharts, served from the app's own static files, draws the 12-month table as a chart;
    the table stays (screen readers, no JavaScript) and its numbers still link to the ledger."""
    context, page = new_page(browser, viewport)
    try:
        log_in(page, live_server, "xa_reg")
        page.goto(live_server + "/stats/")
        page.wait_for_selector("#trend.chart-drawn .chart-canvas svg")
        assert page.locator("#trend table tbody tr").count() == 12
        assert page.locator("#trend table a.stat-link").count() >= 2  # this month's found and major found
        assert_no_horizontal_overflow(page)
        page.locator("#trend").screenshot(path=str(SHOTS / f"stats-trend-{name}.png"))
    finally:
        context.close()
