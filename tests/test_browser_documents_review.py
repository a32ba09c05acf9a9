"""挂牌督办通知书 and 法制审核 in a real browser at phone and desktop width (R-O2, R-E5): the listing regulator
opens a listed 重大 hazard on a phone and issues its notice; an inspector sends a 指令书 to 法制审核 (the order type
is configured to need it) and the agency's regulator approves it in the queue; the list offers the merged PDF.
Screenshots in ``artifacts/screenshots/documents-*.png``."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.config import DefaultConfig
from core.services import hazard_flow, hazards
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


def _review_world(session, world) -> dict[str, int]:
    """A second certified inspector, a 重大 hazard of 测试E1 listed by 翔安局, a registered one."""
    make_insp2(session, world, password=factories.PASSWORD)
    reg = world.user(session, "xa_reg")
    major = hazards.register_hazard(session, reg, {
        "enterprise_id": world.enterprises["E1"], "description": "液氨储罐区未设置紧急切断装置，一旦泄漏无法及时切断",
        "location": "液氨储罐区", "category": "thing", "level": "major"})
    hazard_flow.perform(session, reg, major.id, "list", {
        "version": major.version, "level": "county", "due_date": date.today() + timedelta(days=60),
        "leader_name": "林副局长", "requirements": "每周五前书面报送整改进展，整改完成后申请验收"})
    hazards.register_hazard(session, world.user(session, "xa_insp"), {
        "enterprise_id": world.enterprises["E1"], "description": "配电室未配备绝缘垫", "location": "配电室",
        "category": "thing"})
    return {"major": major.id, "e1": world.enterprises["E1"]}


@pytest.fixture(scope="module")
def review_server(tmp_path_factory):
    """The 指令书 type needs 法制审核 here (DOCUMENT_TYPES override)."""
    types = {k: dict(v) for k, v in DefaultConfig.DOCUMENT_TYPES.items()}
    types["rectification_order"]["legal_review"] = True
    with serve_world(tmp_path_factory.mktemp("live-doc-review"), _review_world, DOCUMENT_TYPES=types) as (base, _, ids):
        yield base, ids


def test_notice_from_hazard_page_on_phone(review_server, browser):  # noqa: F811 (fixture)
    """R-O2: the hazard page's button → the notice form (fields from the listing) → the issued notice."""
    base, ids = review_server
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = new_page(browser, PHONE)
    log_in(page, base, "xa_reg")
    page.goto(f"{base}/hazards/{ids['major']}")
    page.click("text=制作挂牌督办通知书")
    page.wait_for_url("**/documents/notice/new/*")
    body = page.inner_text("body")
    assert "林副局长" in body and "每周五前书面报送整改进展" in body
    assert_no_horizontal_overflow(page)
    page.screenshot(path=str(SHOTS / "documents-notice-form-phone.png"), full_page=True)
    with page.expect_navigation():
        page.click("button:has-text('签发挂牌督办通知书')")
    assert "已签发（翔）应急督办〔" in page.inner_text("body").replace(" ", "")
    assert_no_horizontal_overflow(page)
    page.screenshot(path=str(SHOTS / "documents-notice-detail-phone.png"), full_page=True)
    page.goto(f"{base}/hazards/{ids['major']}")
    assert "挂牌督办通知书 （翔）应急督办〔" in page.inner_text("body")
    assert_no_horizontal_overflow(page)
    context.close()


def test_legal_review_queue_and_merged_pdf(review_server, browser):  # noqa: F811 (fixture)
    """R-E5: the order goes to review, the regulator approves it in the queue at desktop width; the list at
    phone width offers the merged PDF and the enterprise page counts the documents."""
    base, ids = review_server
    context, page = new_page(browser, PHONE)
    log_in(page, base, "xa_insp")
    page.goto(f"{base}/documents/order/new/{ids['e1']}")
    assert "本文书须经法制审核" in page.inner_text("body")
    page.check("text=配电室未配备绝缘垫")
    page.fill("input[name=deadline]", (date.today() + timedelta(days=10)).isoformat())
    page.check("text=李执法")
    with page.expect_navigation():
        page.click("button:has-text('提交法制审核')")
    assert "已送审" in page.inner_text("body")
    assert_no_horizontal_overflow(page)
    page.screenshot(path=str(SHOTS / "documents-legal-pending-phone.png"), full_page=True)
    context.close()

    context, page = new_page(browser, DESKTOP)
    log_in(page, base, "xa_reg")
    page.goto(base + "/documents/legal-reviews/")
    assert "责令限期整改指令书：测试E1有限公司" in page.inner_text("body")
    page.screenshot(path=str(SHOTS / "documents-legal-queue-desktop.png"), full_page=True)
    page.click("text=责令限期整改指令书：测试E1有限公司")
    page.check("input[value=approve]")
    page.fill("textarea[name=opinion]", "事实清楚，同意签发")
    page.screenshot(path=str(SHOTS / "documents-legal-decide-desktop.png"), full_page=True)
    with page.expect_navigation():
        page.click("button:has-text('提交审核决定')")
    text = page.inner_text("body")
    assert "法制审核通过，已签发" in text and "事实清楚，同意签发" in text
    page.screenshot(path=str(SHOTS / "documents-legal-approved-desktop.png"), full_page=True)
    context.close()

    context, page = new_page(browser, PHONE)
    log_in(page, base, "xa_reg")
    page.goto(base + "/documents/")
    assert "合并为一个 PDF" in page.inner_text("body")
    assert_no_horizontal_overflow(page)
    page.screenshot(path=str(SHOTS / "documents-list-phone.png"), full_page=True)
    with page.expect_download() as download:
        page.click("text=合并为一个 PDF")
    assert download.value.suggested_filename == "执法文书（2份）.pdf"
    page.goto(f"{base}/enterprises/{ids['e1']}")
    assert "共 2 份文书" in page.inner_text("body")
    assert_no_horizontal_overflow(page)
    context.close()
