"""Catalog pages in headless chromium at phone and desktop width (R-P2, R-N5).

The live server gets the fake sector's catalog stored (``sync_catalog``). Screenshots:
``artifacts/screenshots/catalog-*.png``.
"""

from __future__ import annotations

import pytest

from core.services.catalog import sync_catalog
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
def catalog_server(tmp_path_factory):
    with serve_world(tmp_path_factory.mktemp("live"), lambda session, world: sync_catalog(session)) as (base, _, _):
        yield base


@pytest.mark.parametrize("viewport, tag", [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_catalog_pages_fit_the_screen(browser, catalog_server, viewport, tag):  # noqa: F811 - fixture
    """R-N5: index, rule set and checklist pages without horizontal overflow, phone and desktop."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = new_page(browser, viewport)
    try:
        log_in(page, catalog_server, "ent1_mgr")
        page.goto(catalog_server + "/catalog/")
        assert page.locator("h1").inner_text() == "判定标准与检查表"
        assert page.locator(".cat-status").first.is_visible()
        assert_no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / f"catalog-index-{tag}.png"), full_page=True)

        page.click("text=测试领域重大事故隐患判定标准（测试用）")
        page.wait_for_url("**/catalog/rules/fake-2020-r1")
        assert page.locator(".cat-unverified").count() == 1
        assert "未核实" in page.locator("#item-3").inner_text()
        assert_no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / f"catalog-rule-set-{tag}.png"), full_page=True)

        page.goto(catalog_server + "/catalog/checklists/fake-basic/1.0")
        page.click("#item-1\\.1 .cat-basis a >> nth=0")
        page.wait_for_url("**/catalog/rules/fake-2020-r1#item-1")
        page.go_back()
        assert page.locator(".cat-question").count() == 5
        assert_no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / f"catalog-checklist-{tag}.png"), full_page=True)
    finally:
        context.close()
