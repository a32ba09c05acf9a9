"""安全生产标准化 in headless chromium (R-S1, R-S2, R-N5): 测试E1's manager fills the self-assessment element by
element at phone width (one deduction typed in, evidence attached), the 主要负责人 signs at phone width, the 翔安区
regulator returns it once and then accepts it at desktop width. Screenshots: ``artifacts/screenshots/std-*.png``.
"""

from __future__ import annotations

import pytest

from tests.browser import (  # noqa: F401 - fixtures
    DESKTOP,
    PHONE,
    SHOTS,
    assert_no_horizontal_overflow,
    browser,
    live_server,
    log_in,
    new_page,
)
from tests.images import png_bytes

pytestmark = pytest.mark.browser
PNG = png_bytes()  # real bytes: uploads are decoded (tests/images.py)
FILL_REST = """() => document.querySelectorAll('.std-item').forEach(s => {
  const radio = s.querySelector('input[type=radio][value=scored]');
  const score = s.querySelector('input[name^=score_]');
  if (!score.value) { radio.checked = true; score.value = score.max; }
})"""


def post(page, selector: str) -> None:
    """Click a submit button and wait for the answer page (a click alone returns before the navigation)."""
    with page.expect_navigation():
        page.click(selector)


def test_fill_submit_return_accept(live_server, browser, tmp_path):  # noqa: F811 - fixtures
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server
    context, page = new_page(browser, PHONE)
    try:
        log_in(page, base, "ent1_mgr")
        page.goto(base + "/assessments/")
        assert_no_horizontal_overflow(page)
        page.fill("input[name=team_leader]", "李组长")
        page.fill("input[name=team_members]", "王一、赵二")
        post(page, "text=创建自评")
        assert "0 / 31 项已评定" in page.content()
        assert_no_horizontal_overflow(page)
        post(page, "text=目标职责")
        first = page.locator(".std-item").first
        first.locator("input[value=scored]").check()
        first.locator("input[name^=score_]").fill("15")
        page.evaluate(FILL_REST)
        page.screenshot(path=str(SHOTS / "std-element-phone.png"), full_page=True)
        assert_no_horizontal_overflow(page)
        post(page, "button:has-text('保存，下一要素')")
        assert "有扣分时请填写扣分理由" in page.content()  # 422 with the message beside the item
        page.locator(".std-item").first.locator("textarea[name^=reason_]").fill("安全目标未分解到车间")
        post(page, "button:has-text('保存，下一要素')")
        assert page.locator("h1").inner_text().startswith("制度化管理")
        while True:
            page.evaluate(FILL_REST)
            if page.locator("button:has-text('保存，下一要素')").count():
                post(page, "button:has-text('保存，下一要素')")
            else:
                post(page, "button:has-text('保存并返回')")
                break
        assert "31 / 31 项已评定" in page.content()
        post(page, "text=目标职责")
        (tmp_path / "目标分解.png").write_bytes(PNG)
        page.locator("form.std-evidence").first.locator("input[type=file]").set_input_files(str(tmp_path / "目标分解.png"))
        with page.expect_navigation():
            page.locator("form.std-evidence").first.locator("button").click()
        assert "目标分解.png" in page.content()
        page.goto(page.url.split("/elements/")[0])
        page.screenshot(path=str(SHOTS / "std-detail-phone.png"), full_page=True)
        assert_no_horizontal_overflow(page)
        detail_url = page.url
        context.close()

        context, page = new_page(browser, PHONE)
        log_in(page, base, "ent1_principal")
        page.goto(detail_url)
        page.fill("input[name=signer_name]", "张主要")
        post(page, "button:has-text('签字提交')")
        assert "自评已签字提交：得分 99.5，一级" in page.content()
        context.close()

        context, page = new_page(browser, DESKTOP)
        log_in(page, base, "xa_reg")
        page.goto(detail_url)
        page.fill("textarea[name=comment]", "1.1 请补充目标分解文件")
        post(page, "button:has-text('退回修改')")
        assert "已退回企业修改" in page.content()
        context.close()

        context, page = new_page(browser, PHONE)
        log_in(page, base, "ent1_principal")
        page.goto(detail_url)
        assert "1.1 请补充目标分解文件" in page.content()
        post(page, "button:has-text('签字提交')")
        context.close()

        context, page = new_page(browser, DESKTOP)
        log_in(page, base, "xa_reg")
        page.goto(detail_url)
        post(page, "button:has-text('审核通过')")
        assert "审核通过，自评已锁定" in page.content()
        page.screenshot(path=str(SHOTS / "std-detail-desktop.png"), full_page=True)
        post(page, "text=历年对比")
        page.screenshot(path=str(SHOTS / "std-enterprise-desktop.png"), full_page=True)
        page.goto(base + "/assessments/coverage")
        assert "新店街道" in page.content()
        page.screenshot(path=str(SHOTS / "std-coverage-desktop.png"), full_page=True)
        context.close()

        context, page = new_page(browser, PHONE)
        log_in(page, base, "city_reg")
        page.goto(base + "/assessments/coverage")
        assert "翔安区" in page.content()
        assert_no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / "std-coverage-phone.png"), full_page=True)
    finally:
        context.close()
