"""执法检查 on a phone in a real browser (R-E3…R-E5, R-N5): an inspector finds 测试E1 from his task list, opens its
dossier, starts with the browser's position and a colleague, answers (part of it offline: the answers wait in
localStorage, survive a reload and reach the server once the connection is back), signs with the mouse on the pad,
lets the on-site person sign; the colleague signs on his own (desktop) browser, where the position is refused and
the fallback is shown; the inspector finishes, issues the 现场检查记录 and opens the full-process record.
Screenshots in ``artifacts/screenshots/field-*.png``.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import (
    Document,
    Enterprise,
    InspectionAnswer,
    InspectionEvent,
    InspectionRun,
    InspectionSignature,
)
from tests import factories
from tests.browser import (  # noqa: F401 (fixtures)
    DESKTOP,
    PHONE,
    SHOTS,
    assert_no_horizontal_overflow,
    browser,
    log_in,
    serve_world,
)
from tests.test_field_helpers import make_insp2

pytestmark = pytest.mark.browser
HERE = {"latitude": 24.61234, "longitude": 118.24567, "accuracy": 15}


@pytest.fixture(scope="module")
def field_server(tmp_path_factory):
    """The live app (fake sector) with a second certified 翔安局 inspector ``xa_insp2`` (李执法); yields the base
    URL and the app (to look at what reached the server)."""
    def second_inspector(session, world):
        make_insp2(session, world, password=factories.PASSWORD)

    with serve_world(tmp_path_factory.mktemp("live-field"), second_inspector) as (base, app, _):
        yield base, app


def _server(app, fn):
    with app.app_context():
        try:
            return fn(db.session)
        finally:
            db.session.remove()


def _item(page, code: str) -> str:
    return page.evaluate(f"""() => [...document.querySelectorAll('.insp-item')].find(
        el => el.querySelector('.insp-q b').textContent.trim() === '{code}').dataset.item""")


def _wait_saved(page) -> None:
    page.wait_for_function("() => document.getElementById('insp-state').dataset.state === 'saved'", timeout=20000)


def _draw(page, pad) -> None:
    """A signature drawn with mouse events across the pad's canvas."""
    canvas = pad.locator("canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x0, y0 = box["x"] + 20, box["y"] + box["height"] * 0.7
    page.mouse.move(x0, y0)
    page.mouse.down()
    for n, (dx, dy) in enumerate([(30, -50), (60, 10), (90, -45), (130, 15), (170, -30), (210, 5)]):
        page.mouse.move(x0 + dx, y0 + dy, steps=4 + n % 2)
    page.mouse.up()


def test_field_inspection_on_a_phone(browser, field_server):  # noqa: F811
    base, app = field_server
    SHOTS.mkdir(parents=True, exist_ok=True)
    e1 = _server(app, lambda s: s.scalar(select(Enterprise.id).where(Enterprise.name == "测试E1有限公司")))

    # 1. Phone, position allowed: task list → search → dossier → start with the colleague.
    ctx = browser.new_context(viewport=PHONE, locale="zh-CN", geolocation=HERE, permissions=["geolocation"])
    page = ctx.new_page()
    log_in(page, base, "xa_insp")
    page.goto(base + "/inspections/tasks")
    assert "没有未完成的执法检查" in page.text_content("main")
    page.fill("input[name=q]", "测试E1")
    page.click(".fi-search button")
    page.click("text=测试E1有限公司")
    page.wait_for_url(re.compile(rf".*/inspections/enterprises/{e1}$"))
    assert "未销号隐患" in page.text_content("main")
    assert_no_horizontal_overflow(page)
    page.screenshot(path=str(SHOTS / "field-dossier-phone.png"), full_page=True)
    page.click(".head a.button.primary")
    page.wait_for_function("() => document.querySelector('[data-gps-state]').dataset.gpsResult === 'ok'", timeout=15000)
    assert page.text_content("[data-gps-state]").startswith("已定位：24.61234, 118.24567")
    page.select_option("select[name=co_inspector_id]", index=1)
    assert "李执法" in page.locator("select[name=co_inspector_id] option:checked").text_content()
    page.fill("input[name=onsite_name]", "王现场")
    assert_no_horizontal_overflow(page)
    page.screenshot(path=str(SHOTS / "field-start-phone.png"), full_page=True)
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r".*/inspections/\d+$"))
    run_id = int(page.url.rsplit("/", 1)[1])
    run = _server(app, lambda s: s.get(InspectionRun, run_id))
    assert (run.kind, run.start_lat, run.start_gps_missing) == ("enforcement", 24.61234, None)

    # 2. Answers: 1.1 online; 1.2 and 2.1 offline (queued, counted), kept over a reload, sent once back online.
    page.click(f"#item-{_item(page, '1.1')} label.insp-yes")
    _wait_saved(page)
    ctx.set_offline(True)
    page.fill(f"#item-{_item(page, '1.2')} input[type=number]", "1.2")
    page.locator(f"#item-{_item(page, '1.2')} input[type=number]").blur()
    page.click(f"#item-{_item(page, '2.1')} label.insp-yes")
    page.wait_for_function("() => document.getElementById('insp-pending').dataset.count === '2'", timeout=15000)
    assert page.text_content("#insp-pending") == "待发送 2 条"
    assert page.text_content("#insp-state").startswith("未保存")
    page.screenshot(path=str(SHOTS / "field-offline-phone.png"))
    # Back online but the answers endpoint still unreachable: reload; the page shows the queued answers again.
    page.route("**/answers", lambda route: route.abort())
    ctx.set_offline(False)
    page.reload()
    assert page.locator(f"#item-{_item(page, '2.1')} input[value=yes]").is_checked()
    assert page.locator(f"#item-{_item(page, '1.2')} input[type=number]").input_value() == "1.2"
    page.wait_for_function("() => document.getElementById('insp-pending').dataset.count === '2'", timeout=15000)
    page.unroute("**/answers")
    _wait_saved(page)  # the interval retry sends them
    assert page.locator("#insp-pending").is_hidden()
    saved = _server(app, lambda s: sorted(a.value for a in s.scalars(
        select(InspectionAnswer).where(InspectionAnswer.run_id == run_id))))
    assert saved == ["1.2", "yes", "yes"]

    # 3. Signatures: his own with the mouse, then the on-site person's on the same phone.
    page.reload()
    pads = page.locator(".sig-pad")
    assert pads.count() == 2
    _draw(page, pads.nth(0))
    with page.expect_navigation():
        pads.nth(0).locator("[data-save]").click()
    pad = page.locator(".sig-pad[data-role=enterprise]")
    pad.locator("input[data-field=title]").fill("安全主任")
    _draw(page, pad)
    with page.expect_navigation():
        pad.locator("[data-save]").click()
    assert "尚缺：检查人员 李执法" in page.text_content("#fi-sign")
    assert page.locator(".fi-sigs img").count() == 2
    assert_no_horizontal_overflow(page)
    page.locator("#fi-sign").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "field-signatures-phone.png"))

    # 4. The colleague on a desktop browser without position permission: fallback shown, he signs.
    ctx2 = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page2 = ctx2.new_page()
    log_in(page2, base, "xa_insp2")
    page2.goto(base + f"/inspections/enterprises/{e1}/start")
    page2.wait_for_function("() => document.querySelector('[data-gps-state]').dataset.gpsResult === 'missing'",
                            timeout=20000)
    assert page2.text_content("[data-gps-state]").startswith("未获取定位：")
    page2.screenshot(path=str(SHOTS / "field-start-nogps-desktop.png"), full_page=True)
    page2.goto(base + "/inspections/tasks")
    assert "（您为第二名执法人员）" in page2.text_content("main")
    page2.screenshot(path=str(SHOTS / "field-tasks-desktop.png"), full_page=True)
    page2.click(f"a[href='/inspections/{run_id}']")
    pad2 = page2.locator(".sig-pad[data-role=inspector]")
    pad2.locator("[data-save]").click()  # nothing drawn yet: told so, nothing sent
    assert pad2.locator("[data-msg]").text_content() == "请先在签名框内签名"
    _draw(page2, pad2)
    with page2.expect_navigation():
        pad2.locator("[data-save]").click()
    assert "三方均已签名" in page2.text_content("#fi-sign")
    assert_no_horizontal_overflow(page2)
    page2.screenshot(path=str(SHOTS / "field-run-desktop.png"), full_page=True)
    ctx2.close()
    sigs = _server(app, lambda s: [(g.role, g.name) for g in s.scalars(
        select(InspectionSignature).where(InspectionSignature.run_id == run_id).order_by(InspectionSignature.id))])
    assert sigs == [("inspector", "xa_insp"), ("enterprise", "王现场"), ("inspector", "李执法")]

    # 5. Finish with the position, issue the 现场检查记录, open the full-process record.
    page.reload()
    page.wait_for_function("() => document.querySelector('#fi-finish [data-gps-state]').dataset.gpsResult === 'ok'",
                           timeout=15000)
    with page.expect_navigation():
        page.click("#fi-finish button[type=submit]")
    assert "检查结果" in page.text_content("main")
    assert_no_horizontal_overflow(page)
    page.screenshot(path=str(SHOTS / "field-summary-phone.png"), full_page=True)
    with page.expect_navigation():
        page.click("text=制作现场检查记录")
    assert "现场检查记录" in page.text_content("main")
    page.screenshot(path=str(SHOTS / "field-document-phone.png"), full_page=True)
    doc = _server(app, lambda s: s.scalar(select(Document).where(Document.inspection_run_id == run_id)))
    assert doc.number.startswith("（翔）应急检记〔")
    page.goto(base + f"/inspections/{run_id}/record")
    text = page.text_content("main")
    for step in ("开始检查", "记录检查情况", "签名", "结束检查", "制作执法文书", "24.61234, 118.24567"):
        assert step in text, step
    assert_no_horizontal_overflow(page)
    page.screenshot(path=str(SHOTS / "field-record-phone.png"), full_page=True)
    steps = _server(app, lambda s: [e.action for e in s.scalars(
        select(InspectionEvent).where(InspectionEvent.run_id == run_id).order_by(InspectionEvent.id))])
    assert steps[0] == "start" and steps[-2:] == ["complete", "document_issued"] and steps.count("sign") == 3
    ctx.close()
