"""Real browser checks of the risk register and the four-colour map (R-R1, R-R2, R-N5).

One module-scoped live server (see :mod:`tests.browser`): the tests run in order and build on each other — the
enterprise manager adds a risk point with LEC at phone width, uploads a site plan and places the point with a
click; a second point goes on another spot; the district regulator then finds both on the red/orange list and,
after giving the enterprise coordinates, on the jurisdiction map.
"""

from __future__ import annotations

from pathlib import Path

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
FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def site_plan_png(path: Path) -> Path:
    """A simple drawn site plan (厂区平面图) with labelled buildings."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", (1200, 800), "#f4f1e8")
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(FONT), 34) if FONT.exists() else ImageFont.load_default()
    draw.rectangle([20, 20, 1180, 780], outline="#555", width=6)
    for (x0, y0, x1, y1), name in [((80, 80, 520, 360), "甲类车间"), ((640, 80, 1120, 300), "罐区"),
                                   ((80, 460, 420, 720), "仓库"), ((560, 420, 1120, 720), "办公楼")]:
        draw.rectangle([x0, y0, x1, y1], fill="#dfe6ee", outline="#34495e", width=4)
        draw.text((x0 + 20, y0 + 20), name, fill="#1f2933", font=font)
    draw.line([(560, 380), (1180, 380)], fill="#aaa", width=18)
    img.save(path, "PNG")
    return path


def _choose(page, name: str, value: str) -> None:
    page.select_option(f"select[name={name}]", value)


def test_manager_adds_a_risk_point_with_lec_at_phone_width_and_places_it(browser, live_server, tmp_path):
    """R-R1, R-R2: LEC selects with the table's words, the computed grade shown live, the register, the plan."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = new_page(browser, PHONE)
    try:
        log_in(page, live_server, "ent1_mgr")
        page.wait_for_url(live_server + "/")  # enterprise users land on their work queue
        page.click("summary[aria-label=菜单]")
        page.click(".menu nav >> text=风险清单")
        page.wait_for_url("**/risks/")
        page.click("text=新增风险点")
        page.fill("input[name=name]", "液氨储罐区")
        page.fill("input[name=location]", "罐区")
        _choose(page, "category", "equipment")
        # Only the chosen method's factors are shown.
        assert page.is_visible("select[name=f_LEC_L]") and not page.is_visible("select[name=f_LS_L]")
        _choose(page, "f_LEC_L", "3")
        _choose(page, "f_LEC_E", "6")
        assert "选择各项取值后" in page.inner_text(".risk-result")
        _choose(page, "f_LEC_C", "15")
        assert page.inner_text(".risk-result") == "计算结果：D = 270 → 较大风险"
        page.fill("input[name=responsible_company]", "张总")
        assert_no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / "risk-form-phone.png"), full_page=True)
        page.click("form.risk-form button[type=submit]")
        page.wait_for_url("**/risks/*")
        text = page.inner_text("main")
        assert "较大风险" in text and "D = 270" in text and "已新增风险点：液氨储罐区（较大风险，LEC 270）" in text

        # A second point through the matrix method: R = 5 × 4 = 20 → 重大.
        page.goto(live_server + "/risks/new")
        page.fill("input[name=name]", "反应釜区")
        _choose(page, "category", "process")
        _choose(page, "method", "LS")
        _choose(page, "f_LS_L", "5")
        _choose(page, "f_LS_S", "4")
        assert page.inner_text(".risk-result") == "计算结果：R = 20 → 重大风险"
        page.click("form.risk-form button[type=submit]")
        page.wait_for_url("**/risks/*")

        page.goto(live_server + "/risks/")
        rows = page.inner_text("table.list")
        assert "液氨储罐区" in rows and "反应釜区" in rows
        assert [page.inner_text(f".risk-count.risk-{g} b") for g in ("major", "large", "general", "low")] == [
            "1", "1", "0", "0"]
        assert_no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / "risk-register-phone.png"), full_page=True)

        # The map: no plan yet → upload one → place the points by clicking on it.
        page.click(".menu summary")
        page.click(".menu nav >> text=四色图")
        page.wait_for_url("**/map")
        assert "尚未上传厂区平面图" in page.inner_text("main")
        page.set_input_files("input[name=file]", str(site_plan_png(tmp_path / "plan.png")))
        page.click(".risk-place form[enctype] button[type=submit]")
        page.wait_for_load_state()
        assert "已上传厂区平面图" in page.inner_text("main")
        svg = page.locator("svg.risk-map-svg[data-kind=plan]")
        assert svg.count() == 1

        for name, (fx, fy) in (("液氨储罐区", (0.72, 0.22)), ("反应釜区", (0.25, 0.3))):
            page.select_option("#risk-place-point", label=page.locator("#risk-place-point option",
                                                                       has_text=name).inner_text().strip())
            box = svg.bounding_box()
            plan_height = box["width"] * 800 / 1200  # the plan keeps its aspect; the legend is below it
            svg.click(position={"x": box["width"] * fx, "y": plan_height * fy})
            page.wait_for_load_state()
            assert f"已放置风险点：{name}" in page.inner_text("main")
        markers = page.locator("svg.risk-map-svg .risk-marker")
        assert markers.count() == 2
        grades = sorted(markers.nth(i).get_attribute("data-grade") for i in range(2))
        assert grades == ["large", "major"]
        legend = page.text_content("svg.risk-map-svg .risk-legend")
        for label in ("重大风险（红）", "较大风险（橙）", "一般风险（黄）", "低风险（蓝）"):
            assert label in legend
        assert "未标注位置的风险点" not in page.inner_text("main")
        assert_no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / "risk-map-phone.png"), full_page=True)
    finally:
        context.close()


def test_measure_task_and_a_failed_check_at_phone_width(browser, live_server, tmp_path):
    """R-R1, R-R2: a control measure and a daily task on the first point; the due check fails with a photo and
    registers a hidden danger that the risk point's page lists."""
    context, page = new_page(browser, PHONE)
    try:
        log_in(page, live_server, "ent1_mgr")
        page.wait_for_url(live_server + "/")
        page.goto(live_server + "/risks/")
        page.click("table.list >> text=液氨储罐区")
        page.click("text=新增管控措施")
        _choose(page, "kind", "engineering")
        _choose(page, "level", "workshop")
        page.fill("textarea[name=description]", "储罐区设置氨气泄漏报警并与喷淋联锁")
        page.click("form.form button[type=submit]")
        page.wait_for_load_state()
        page.click("text=为该措施新增排查任务")
        page.fill("textarea[name=content]", "检查报警仪和喷淋联锁是否投用")
        _choose(page, "period", "daily")
        page.fill("input[name=assignee_name]", "罐区班长")
        page.click("form.form button[type=submit]")
        page.wait_for_load_state()
        assert "检查报警仪和喷淋联锁是否投用 · 每日 · 罐区班长" in page.inner_text("main")

        page.click(".menu summary")
        page.click(".menu nav >> text=排查任务")
        page.wait_for_url("**/risks/due")
        assert "今天" in page.inner_text("table.list")
        assert_no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / "risk-due-phone.png"), full_page=True)
        page.click("table.list a.button.primary")
        page.check("input[name=passed][value='0']")
        page.fill("textarea[name=description]", "氨气泄漏报警仪探头被遮挡")
        photo = tmp_path / "photo.png"
        from PIL import Image

        Image.new("RGB", (64, 48), "#b33").save(photo, "PNG")
        page.set_input_files("input[name=photos]", str(photo))
        assert_no_horizontal_overflow(page)
        page.click("form.risk-check button[type=submit]")
        page.wait_for_url("**/risks/due")
        assert "已记录排查不合格，并登记隐患" in page.inner_text("main")
        assert "没有到期的排查任务" in page.inner_text("table.list")

        page.goto(live_server + "/risks/")
        page.click("table.list >> text=液氨储罐区")
        text = page.inner_text("main")
        assert "氨气泄漏报警仪探头被遮挡" in text and "不合格" in text
        assert_no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / "risk-detail-phone.png"), full_page=True)
    finally:
        context.close()


def test_manager_map_at_desktop_width(browser, live_server):
    context, page = new_page(browser, DESKTOP)
    try:
        log_in(page, live_server, "ent1_mgr")
        page.wait_for_url(live_server + "/")  # enterprise users land on their work queue
        page.goto(live_server + "/risks/map")
        page.wait_for_url("**/enterprises/*/map")
        box = page.locator("svg.risk-map-svg").bounding_box()
        assert box["width"] > 900  # the plan fills the page width on a desktop
        title = page.locator("svg.risk-map-svg .risk-marker title").all_text_contents()
        assert any(t.startswith("液氨储罐区｜较大风险｜LEC 270") for t in title)
        assert_no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / "risk-map-desktop.png"), full_page=True)
        page.goto(live_server + "/risks/")
        page.screenshot(path=str(SHOTS / "risk-register-desktop.png"), full_page=True)
    finally:
        context.close()


@pytest.mark.parametrize("viewport,name", [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_regulator_sees_red_and_orange_and_the_jurisdiction_map(browser, live_server, viewport, name):
    """R-R2: the district regulator's list has both points (重大 first by recency) and the area map shows E1."""
    context, page = new_page(browser, viewport)
    try:
        log_in(page, live_server, "xa_reg")
        page.wait_for_url(live_server + "/")
        page.goto(live_server + "/risks/supervision")
        table = page.inner_text("table.list")
        assert "反应釜区" in table and "液氨储罐区" in table and "测试E1有限公司" in table
        assert_no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / f"risk-supervision-{name}.png"), full_page=True)

        if name == "phone":  # give E1 coordinates once, through the enterprise form
            page.goto(live_server + "/enterprises/")
            page.click("text=测试E1有限公司")
            page.click("text=编辑")
            page.fill("input[name=longitude]", "118.2461")
            page.fill("input[name=latitude]", "24.6370")
            page.click("form.form button[type=submit]")
            page.wait_for_load_state()
            assert "已保存" in page.inner_text("main")
        page.goto(live_server + "/risks/area-map")
        marker = page.locator("svg.risk-map-svg .risk-marker")
        assert marker.count() == 1 and marker.first.get_attribute("data-grade") == "major"
        assert "测试E1有限公司" in page.text_content("svg.risk-map-svg")
        assert_no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / f"risk-area-map-{name}.png"), full_page=True)
    finally:
        context.close()
