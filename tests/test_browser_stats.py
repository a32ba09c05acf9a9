"""Statistics and self-report pages in headless chromium, at phone and desktop width (R-H5, R-H6, R-N5).

The live server gets the hand-placed hidden dangers of :mod:`tests.test_stats` (2025 Q1/Q2, 测试E1 and 测试E4).
Screenshots: ``artifacts/screenshots/stats-*.png``.
"""

from __future__ import annotations

from datetime import date

import pytest

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


def _stats_world(s, w) -> None:
    """The statistics fixture's hidden dangers (tests/test_stats.py)."""
    from tests.test_stats import cn, put

    put(s, w, "E1", "general", cn(2025, 1, 10), date(2025, 1, 20), cn(2025, 1, 18, 10))
    put(s, w, "E1", "general", cn(2025, 2, 1), date(2025, 2, 10), cn(2025, 2, 15, 10))
    put(s, w, "E1", "major", cn(2025, 3, 5), date(2025, 4, 30), cn(2025, 4, 20, 10),
        listed=("county", cn(2025, 3, 10)))
    put(s, w, "E1", "general", cn(2025, 3, 20), date(2025, 3, 25))
    put(s, w, "E4", "major", cn(2025, 1, 15), date(2025, 2, 15), listed=("city", cn(2025, 2, 1)))


@pytest.fixture(scope="module")
def stats_server(tmp_path_factory):
    """Like ``tests.browser.live_server``, with the statistics fixture's hidden dangers in the database."""
    with serve_world(tmp_path_factory.mktemp("live"), _stats_world) as (base, _, _):
        yield base


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_regulator_statistics_and_drill_down(stats_server, browser, size):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = new_page(browser, PHONE if size == "phone" else DESKTOP)
    try:
        log_in(page, stats_server, "city_reg")
        page.goto(stats_server + "/stats/?period=2025Q1")
        assert page.locator("h1").inner_text().startswith("隐患排查治理统计")
        total = page.locator("tr.total")
        assert "40.0%" in total.inner_text() and "合计" in total.inner_text()
        assert_no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / f"stats-city-{size}.png"), full_page=True)
        page.click("text=翔安区")
        page.wait_for_url("**node=*")
        assert "新店街道" in page.locator("table.stats-table").inner_text()
        assert "厦门市" in page.locator(".stats-crumbs").inner_text()
        assert_no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / f"stats-district-{size}.png"), full_page=True)
        page.select_option("select[name=period]", "2025")
        page.click("form.stats-period button[type=submit]")
        assert "2025年度" in page.locator("h1").inner_text() and "新店街道" in page.content()
    finally:
        context.close()


def test_self_report_draft_sign_submit_and_regulator_list(stats_server, browser):
    """Manager drafts on a phone, the principal signs and submits, the district regulator sees it as on time or late."""
    context, page = new_page(browser, PHONE)
    try:
        log_in(page, stats_server, "ent1_mgr")
        page.goto(stats_server + "/stats/self-reports")
        page.select_option("select[name=period]", "2025Q1")
        with page.expect_navigation():
            page.click("text=填写统计分析表")
        page.fill("textarea[name=analysis]", "一季度排查隐患4项，重大隐患1项已挂牌督办；逾期1项已督促整改。")
        page.fill("input[name=signer_name]", "张主要")
        with page.expect_navigation():
            page.click("text=保存草稿")
        assert "草稿已保存" in page.content() and "报送须由主要负责人签字确认" in page.content()
        report_url = page.url
        assert_no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / "stats-report-draft-phone.png"), full_page=True)
    finally:
        context.close()
    context, page = new_page(browser, PHONE)
    try:
        log_in(page, stats_server, "ent1_principal")
        page.goto(report_url)
        with page.expect_navigation():
            page.click("text=签字报送")
        assert "统计分析表已报送" in page.content()
        assert "张主要" in page.locator(".facts").first.inner_text()
        assert_no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / "stats-report-submitted-phone.png"), full_page=True)
    finally:
        context.close()
    for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        context, page = new_page(browser, viewport)
        try:
            log_in(page, stats_server, "xa_reg")
            page.goto(stats_server + "/stats/submissions?period=2025Q1")
            row = page.locator("tr", has_text="测试E1有限公司")
            assert "逾期报送" in row.inner_text() or "按期报送" in row.inner_text()
            assert "未报送" in page.locator("tr", has_text="测试E2有限公司").inner_text()
            assert_no_horizontal_overflow(page)
            page.screenshot(path=str(SHOTS / f"stats-submissions-{size}.png"), full_page=True)
        finally:
            context.close()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_city_regulator_compares_districts_in_the_league_table(stats_server, browser, size):
    """Issue 17 item 3: the city's districts ranked on 整改率, then re-ranked on 期末逾期."""
    context, page = new_page(browser, PHONE if size == "phone" else DESKTOP)
    try:
        log_in(page, stats_server, "city_reg")
        page.goto(stats_server + "/stats/?period=2025Q1")
        page.click(".actions >> text=排名")
        page.wait_for_url("**/stats/league*")
        rows = page.locator("table.league tbody tr")
        assert rows.count() == 2 and "按整改率排名（越高越好）" in page.inner_text("main")
        assert_no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / f"stats-league-{size}.png"), full_page=True)
        page.select_option("select[name=by]", "overdue_at_end")  # the header links too, from 760 px
        page.click("form.stats-period button[type=submit]")
        page.wait_for_url("**by=overdue_at_end*")
        assert "按期末逾期排名（越低越好）" in page.inner_text("main")
    finally:
        context.close()
