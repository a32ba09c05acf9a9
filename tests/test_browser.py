"""Real browser checks (headless Debian chromium via Playwright) of the pages people use (R-N5, R-A4).

A live server runs the app in a thread on its own SQLite database with the test world and CSRF enabled, exactly
as users get it. Screenshots go to ``artifacts/screenshots/`` (or ``$ANJIAN_SCREENSHOT_DIR``) to be looked at.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from core.app import create_app
from core.extensions import db
from tests import factories
from tests.conftest import base_config

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(os.environ.get("ANJIAN_SCREENSHOT_DIR", Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"))
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    url = "sqlite:///" + str(tmp_path_factory.mktemp("live") / "live.db")
    app = create_app(base_config(url, WTF_CSRF_ENABLED=True))
    with app.app_context():
        upgrade()
        factories.build_world(db.session)
        db.session.commit()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian chromium is required: scripts/setup installs it"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


def _page(browser, viewport):
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    return context, context.new_page()


def _login(page, base: str, username: str, password: str = factories.PASSWORD) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def _no_horizontal_overflow(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"page is {width}px wide in a {viewport}px viewport"


@pytest.mark.parametrize("viewport,name", [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_enterprise_list_for_a_district_regulator(browser, live_server, viewport, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = _page(browser, viewport)
    try:
        _login(page, live_server, "xa_reg")
        page.wait_for_url(live_server + "/")
        assert "您好" in page.inner_text("main")
        page.goto(live_server + "/enterprises/")
        text = page.inner_text("main")
        for visible in ("测试E1有限公司", "测试E2有限公司", "测试E3有限公司"):
            assert visible in text
        assert "测试E4有限公司" not in text  # 同安区: outside 翔安区's scope
        _no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / f"enterprises-{name}.png"), full_page=True)

        page.fill("input[name=q]", "E2")
        page.click(".filters button[type=submit]")
        page.wait_for_load_state()
        text = page.inner_text("table.list")
        assert "测试E2有限公司" in text and "测试E1有限公司" not in text
    finally:
        context.close()


def test_login_failure_and_enterprise_form_errors_in_chinese(browser, live_server):
    context, page = _page(browser, PHONE)
    try:
        _login(page, live_server, "xa_reg", "wrong-password")
        assert "用户名或密码错误" in page.inner_text("main")
        _login(page, live_server, "xa_reg")
        page.goto(live_server + "/enterprises/new")
        page.fill("input[name=name]", "浏览器测试有限公司")
        page.fill("input[name=uscc]", "91350213MA2YQ12340")  # wrong check digit
        page.click("form.form button[type=submit]")
        page.wait_for_load_state()
        assert "统一社会信用代码校验位错误" in page.inner_text("main")
        _no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / "enterprise-form-error-phone.png"), full_page=True)
    finally:
        context.close()


def test_enterprise_user_sees_own_record_only(browser, live_server):
    context, page = _page(browser, PHONE)
    try:
        _login(page, live_server, "ent1_mgr")
        page.wait_for_url("**/enterprises/*")
        assert "测试E1有限公司" in page.inner_text("main")
        page.screenshot(path=str(SHOTS / "enterprise-detail-phone.png"), full_page=True)
        response = page.goto(live_server + "/enterprises/")
        assert response.status == 200
        assert "测试E2有限公司" not in page.inner_text("main")
    finally:
        context.close()
