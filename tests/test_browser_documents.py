"""执法文书 pages in a real browser at phone and desktop width (R-E3…R-E5): an inspector issues a 责令限期整改指令书
from 测试E1's hazards on a phone, the document page offers the PDF and the verification link; the enterprise signs
receipt. Screenshots in ``artifacts/screenshots/documents-*.png``."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.services import hazards
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
from tests.test_field_helpers import make_insp2

pytestmark = pytest.mark.browser


def _documents_world(session, world) -> int:
    """A second certified inspector of 翔安局 and two registered hazards of 测试E1; returns 测试E1's id."""
    make_insp2(session, world, password=factories.PASSWORD)
    insp = world.user(session, "xa_insp")
    for text, where in (("液氨储罐区可燃气体报警器失效", "储罐区"), ("消防通道被货物堵塞", "二号仓库")):
        hazards.register_hazard(session, insp, {"enterprise_id": world.enterprises["E1"], "description": text,
                                                "location": where, "category": "thing"})
    return world.enterprises["E1"]


@pytest.fixture(scope="module")
def doc_server(tmp_path_factory):
    with serve_world(tmp_path_factory.mktemp("live-docs"), _documents_world) as (base, _, e1):
        yield base, e1


def test_issue_order_on_phone_then_receive(doc_server, browser):  # noqa: F811 (fixture)
    """R-E3/R-E5: phone-first issue form → numbered 指令书 → enterprise 签收, PDF download, verification page."""
    base, e1 = doc_server
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = new_page(browser, PHONE)
    log_in(page, base, "xa_insp")
    page.goto(base + "/documents/")
    page.fill(".doc-start input[name=q]", "测试E1")
    page.click(".doc-start button[type=submit]")
    page.wait_for_url("**/documents/new?**")
    assert_no_horizontal_overflow(page)
    page.click("text=测试E1有限公司")
    page.wait_for_url(f"**/documents/order/new/{e1}")
    for box in page.query_selector_all("input[name=hazard_ids]"):
        box.check()
    page.fill("input[name=deadline]", (date.today() + timedelta(days=15)).isoformat())
    page.check("text=李执法")
    assert_no_horizontal_overflow(page)
    page.screenshot(path=str(SHOTS / "documents-order-phone.png"), full_page=True)
    with page.expect_navigation():
        page.click("button:has-text('签发指令书')")
    assert "已签发（翔）应急责改〔" in page.inner_text("body").replace(" ", "")
    assert_no_horizontal_overflow(page)
    page.screenshot(path=str(SHOTS / "documents-detail-phone.png"), full_page=True)
    detail_url = page.url
    context.close()

    context, page = new_page(browser, DESKTOP)
    log_in(page, base, "ent1_mgr")
    page.goto(base + "/documents/")
    assert "责令限期整改指令书" in page.inner_text("body")
    page.screenshot(path=str(SHOTS / "documents-list-desktop.png"), full_page=True)
    page.goto(detail_url)
    with page.expect_navigation():
        page.click("button:has-text('签收本文书')")
    assert "已签收该文书" in page.inner_text("body")
    with page.expect_download() as download:
        page.click("text=下载 PDF")
    assert download.value.suggested_filename.startswith("（翔）应急责改〔")
    page.click(".doc-meta a[href*='/documents/verify/']")
    assert "执法文书核验" in page.inner_text("body")
    page.screenshot(path=str(SHOTS / "documents-verify-desktop.png"), full_page=True)
    context.close()
