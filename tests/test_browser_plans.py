"""执法计划、双随机抽查、专项行动 in a real browser at phone and desktop width (R-E1, R-E2): a district regulator
draws this month's list on a phone, sees 复算校验 通过 and publishes it; the public page opens without login; on a
desktop the regulator makes the annual plan and a campaign. Screenshots in ``artifacts/screenshots/plans-*.png``."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.services import enterprises, users
from core.services.actors import SYSTEM
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


def _plans_world(session, world) -> None:
    """Two certified 翔安局 inspectors and twelve more 翔安区 enterprises."""
    for k, name in enumerate(("李执法", "王执法")):
        users.save_user(session, SYSTEM, {
            "username": f"xa_c{k}", "display_name": name, "password": factories.PASSWORD, "roles": ["inspector"],
            "jurisdiction_id": world.nodes["翔安区"], "agency_id": world.agencies["翔安局"],
            "cert_number": f"35021300{k + 3:03d}", "cert_valid_until": date.today() + timedelta(days=365)})
    for k in range(12):
        enterprises.create_enterprise(session, SYSTEM, {
            "name": f"厦门翔安{'鑫华恒海嘉宏盛联瑞腾金信'[k]}精细化工股份有限公司", "uscc": factories.uscc(800 + k),
            "jurisdiction_id": world.nodes["马巷街道"], "grid_id": world.nodes["马巷1网格"],
            "is_high_risk": k % 3 == 0, "is_above_scale": k % 2 == 0})


@pytest.fixture(scope="module")
def plan_server(tmp_path_factory):
    with serve_world(tmp_path_factory.mktemp("live-plans"), _plans_world) as (base, _, _):
        yield base


def test_draw_on_a_phone_and_public_page(plan_server, browser):  # noqa: F811 (fixture)
    """R-E1 done-when: a district agency draws its monthly 双随机 list on a phone and publishes it."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = new_page(browser, PHONE)
    log_in(page, plan_server, "xa_reg")
    page.goto(plan_server + "/plans/draws/new")
    assert "监管企业 <b>15</b> 家；执法证有效的执法人员 <b>3</b> 名" in page.content()
    page.fill("input[name=month]", "2026-12")
    page.fill("input[name=count]", "6")
    page.fill("input[name=seed]", "20261201-公开摇号")
    page.check("input[name=classes][value=high_risk]")
    page.check("input[name=classes][value=above_scale]")
    assert_no_horizontal_overflow(page)
    page.screenshot(path=str(SHOTS / "plans-draw-form-phone.png"), full_page=True)
    with page.expect_navigation():
        page.click("form.pl-form button[type=submit]")
    assert "复算校验：通过" in page.content()
    assert page.locator("table.pl-items tbody tr").count() == 6
    assert_no_horizontal_overflow(page)
    page.screenshot(path=str(SHOTS / "plans-draw-detail-phone.png"), full_page=True)
    with page.expect_navigation():
        page.click("text=公布名单")
    assert "名单已公布" in page.content()
    public = page.get_attribute("a:has-text('公示页')", "href")
    context.close()

    anon, page = new_page(browser, PHONE)
    page.goto(plan_server + public)
    assert "双随机抽查名单公示" in page.content() and "20261201-公开摇号" in page.content()
    assert page.locator("table.pl-items tbody tr").count() == 6
    assert_no_horizontal_overflow(page)
    page.screenshot(path=str(SHOTS / "plans-public-phone.png"), full_page=True)
    anon.close()

    desk, page = new_page(browser, DESKTOP)
    page.goto(plan_server + public)
    assert_no_horizontal_overflow(page)
    page.screenshot(path=str(SHOTS / "plans-public-desktop.png"), full_page=True)
    desk.close()


def test_plan_and_campaign_on_desktop_and_phone(plan_server, browser):  # noqa: F811 (fixture)
    """R-E1/R-E2: the annual plan with targets and its progress page; a campaign with scope, period and checklist."""
    context, page = new_page(browser, DESKTOP)
    log_in(page, plan_server, "xa_reg")
    page.goto(plan_server + "/plans/new")
    page.fill("input[name=title]", "厦门市翔安区应急管理局2026年度安全生产监督检查计划")
    page.fill("input[name=target_total]", "240")
    page.fill("input[name=target_classes_high_risk]", "80")
    page.fill("input[name=target_classes_general]", "60")
    page.fill("input[name=target_levels_county]", "100")
    page.fill("input[name=target_sectors_fake]", "30")
    page.fill("textarea[name=note]", "以双随机抽查为基本方式，高危行业提高抽查比例。")
    assert_no_horizontal_overflow(page)
    page.screenshot(path=str(SHOTS / "plans-plan-form-desktop.png"), full_page=True)
    with page.expect_navigation():
        page.click("form.pl-form button[type=submit]")
    assert "0</b><span> / 240 家次" in page.content()
    with page.expect_navigation():
        page.click("text=批准计划")
    assert "计划已批准" in page.content()
    page.screenshot(path=str(SHOTS / "plans-plan-detail-desktop.png"), full_page=True)
    plan_url = page.url

    page.goto(plan_server + "/plans/campaigns/new")
    page.fill("input[name=name]", "2026年岁末年初安全生产大排查大整治")
    page.select_option("select[name=kind]", "big_check")
    page.select_option("select[name=status]", "active")
    page.fill("input[name=starts_on]", "2026-11-01")
    page.fill("input[name=ends_on]", "2027-02-28")
    page.check("input[name=checklist_codes][value=fake-basic]")
    page.screenshot(path=str(SHOTS / "plans-campaign-form-desktop.png"), full_page=True)
    with page.expect_navigation():
        page.click("form.pl-form button[type=submit]")
    assert "范围内企业" in page.content()
    assert_no_horizontal_overflow(page)
    page.screenshot(path=str(SHOTS / "plans-campaign-detail-desktop.png"), full_page=True)
    campaign_url = page.url
    context.close()

    phone, page = new_page(browser, PHONE)
    log_in(page, plan_server, "xa_reg")
    for url, name in ((plan_url, "plan-detail"), (campaign_url, "campaign-detail"),
                      (plan_server + "/plans/new", "plan-form"), (plan_server + "/plans/", "index")):
        page.goto(url)
        assert_no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / f"plans-{name}-phone.png"), full_page=True)
    phone.close()
