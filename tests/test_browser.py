"""Real browser checks of the enterprise pages (R-N5, R-A4); fixtures and helpers in :mod:`tests.browser`."""

from __future__ import annotations

import pytest

from tests.browser import (  # noqa: F401 (fixtures)
    DESKTOP,
    PHONE,
    SHOTS,
    assert_no_horizontal_overflow,
    browser,
    live_server,
    log_in,
    new_page,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport,name", [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_enterprise_list_for_a_district_regulator(browser, live_server, viewport, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = new_page(browser, viewport)
    try:
        log_in(page, live_server, "xa_reg")
        page.wait_for_url(live_server + "/")
        assert "您好" in page.inner_text("main")
        page.goto(live_server + "/enterprises/")
        text = page.inner_text("main")
        for visible in ("测试E1有限公司", "测试E2有限公司", "测试E3有限公司"):
            assert visible in text
        assert "测试E4有限公司" not in text  # 同安区: outside 翔安区's scope
        assert_no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / f"enterprises-{name}.png"), full_page=True)

        page.fill("input[name=q]", "E2")
        page.click(".filters button[type=submit]")
        page.wait_for_load_state()
        text = page.inner_text("table.list")
        assert "测试E2有限公司" in text and "测试E1有限公司" not in text
    finally:
        context.close()


def test_login_failure_and_enterprise_form_errors_in_chinese(browser, live_server):
    context, page = new_page(browser, PHONE)
    try:
        log_in(page, live_server, "xa_reg", "wrong-password")
        assert "用户名或密码错误" in page.inner_text("main")
        log_in(page, live_server, "xa_reg")
        page.goto(live_server + "/enterprises/new")
        page.fill("input[name=name]", "浏览器测试有限公司")
        page.fill("input[name=uscc]", "91350213MA2YQ12340")  # wrong check digit
        page.click("form.form button[type=submit]")
        page.wait_for_load_state()
        assert "统一社会信用代码校验位错误" in page.inner_text("main")
        assert_no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / "enterprise-form-error-phone.png"), full_page=True)
    finally:
        context.close()


def test_enterprise_user_sees_own_record_only(browser, live_server):
    context, page = new_page(browser, PHONE)
    try:
        log_in(page, live_server, "ent1_mgr")
        page.wait_for_url(live_server + "/")  # the home page is the enterprise's work queue (issue 17)
        page.click("main >> text=测试E1有限公司")
        page.wait_for_url("**/enterprises/*")
        assert "测试E1有限公司" in page.inner_text("main")
        page.screenshot(path=str(SHOTS / "enterprise-detail-phone.png"), full_page=True)
        response = page.goto(live_server + "/enterprises/")
        assert response.status == 200
        assert "测试E2有限公司" not in page.inner_text("main")
    finally:
        context.close()
