"""The Content-Security-Policy in a real browser (issue 14 item 6, R-N5): the pages with scripts — the layout's menu
and confirmations, the risk map, an enforcement run with its signature pads — work under the policy and the browser
reports no violation. A probe (an inline script added to a page) shows the check sees violations when there are."""

from __future__ import annotations

import re

import pytest

from tests import factories
from tests.browser import DESKTOP, PHONE, browser, log_in, serve_world  # noqa: F401 (fixtures)
from tests.test_browser_inspections_field import _draw, _item, _wait_saved
from tests.test_field_helpers import make_insp2

pytestmark = pytest.mark.browser

WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || ""));
});
"""


@pytest.fixture(scope="module")
def csp_server(tmp_path_factory):
    def setup(session, world):
        make_insp2(session, world, password=factories.PASSWORD)
        return world.enterprises["E1"]

    with serve_world(tmp_path_factory.mktemp("live-csp"), setup) as (base, _, e1):
        yield base, e1


class Watched:
    """A browser page that collects CSP violations (DOM events and console messages) and page errors."""

    def __init__(self, browser, viewport):
        self.context = browser.new_context(viewport=viewport, locale="zh-CN")
        self.context.add_init_script(WATCH)  # injected by the browser itself, not subject to the page's policy
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.console.append(m.text) if "Content Security Policy" in m.text else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def violations(self) -> list[str]:
        return list(self.page.evaluate("window.__csp || []")) + self.console

    def assert_clean(self, where: str) -> None:
        assert not self.violations(), f"{where}: {self.violations()}"
        assert not self.errors, f"{where}: {self.errors}"

    def close(self) -> None:
        self.context.close()


def test_the_check_sees_a_violation(browser, csp_server):
    base, _ = csp_server
    w = Watched(browser, DESKTOP)
    try:
        w.page.goto(base + "/login")
        w.assert_clean("login page")
        csp = w.page.evaluate("fetch('/login').then(r => r.headers.get('Content-Security-Policy'))")
        assert "script-src 'self'" in csp
        w.page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';
                                   document.body.appendChild(s); }""")
        w.page.wait_for_timeout(200)
        assert w.page.evaluate("window.__ran") is None, "an inline script ran despite the policy"
        assert any(v.startswith("script-src") for v in w.violations()), w.violations()
    finally:
        w.close()


def test_layout_menu_and_confirmations_work_under_the_policy(browser, csp_server):
    base, _ = csp_server
    w = Watched(browser, DESKTOP)
    try:
        log_in(w.page, base, "admin")
        w.page.goto(base + "/admin/jurisdictions")
        # The menu script (site.js): opening one drop-down closes the other.
        groups = w.page.locator("nav.bar details.navgroup")
        if groups.count() >= 2:
            groups.nth(0).locator("summary").click()
            groups.nth(1).locator("summary").click()
            assert groups.nth(0).get_attribute("open") is None
        # data-confirm: cancelling the question submits nothing.
        asked = []
        w.page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
        w.page.locator("form[data-confirm] button").first.click()
        w.page.wait_for_timeout(300)
        assert asked and asked[0].startswith("确定删除“")
        assert w.page.url.endswith("/admin/jurisdictions")
        w.assert_clean("jurisdictions page")
        w.page.goto(base + "/account/password")
        w.assert_clean("password page")
    finally:
        w.close()


def test_risk_map_works_under_the_policy(browser, csp_server):
    base, _ = csp_server
    w = Watched(browser, DESKTOP)
    try:
        log_in(w.page, base, "ent1_mgr")
        w.page.goto(base + "/risks/map")
        w.page.wait_for_load_state("networkidle")
        w.assert_clean("risk map")
        w.page.goto(base + "/risks/new")
        w.page.wait_for_load_state("networkidle")
        w.assert_clean("risk point form")
    finally:
        w.close()


def test_enforcement_run_and_signature_pad_work_under_the_policy(browser, csp_server):
    base, e1 = csp_server
    w = Watched(browser, PHONE)
    try:
        w.context.grant_permissions(["geolocation"])
        w.context.set_geolocation({"latitude": 24.61234, "longitude": 118.24567, "accuracy": 15})
        page = w.page
        log_in(page, base, "xa_insp")
        page.goto(base + f"/inspections/enterprises/{e1}/start")
        w.assert_clean("start page")
        page.select_option("select[name=co_inspector_id]", index=1)
        page.fill("input[name=onsite_name]", "王现场")
        page.click("button[type=submit].primary")
        page.wait_for_url(re.compile(r".*/inspections/\d+$"))
        w.assert_clean("inspection run")
        # Answer every item (inspection.js saves them with fetch), then the signature pads appear.
        page.click(f"#item-{_item(page, '1.1')} label.insp-yes")
        _wait_saved(page)
        page.fill(f"#item-{_item(page, '1.2')} input[type=number]", "1.2")
        page.locator(f"#item-{_item(page, '1.2')} input[type=number]").blur()
        page.click(f"#item-{_item(page, '2.1')} label.insp-yes")
        _wait_saved(page)
        page.reload()
        pads = page.locator(".sig-pad")
        assert pads.count() == 2
        w.assert_clean("inspection run with signature pads")
        # Draw, then resize: the pad redraws its strokes from a data: URL image; then save it (a blob upload).
        _draw(page, pads.nth(0))
        page.set_viewport_size({"width": 420, "height": 844})
        page.wait_for_timeout(300)
        with page.expect_navigation():
            pads.nth(0).locator("[data-save]").click()
        assert page.locator(".fi-sigs li.is-signed img").count() == 1  # the saved signature is shown
        w.assert_clean("signature pad after drawing and resizing")
    finally:
        w.close()
