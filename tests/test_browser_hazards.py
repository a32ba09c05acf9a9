"""The hidden-danger closed loop in a real browser at phone width (R-H1…R-H3, R-N5), as issue 4's "done when"
describes it: an enterprise manager registers a hazard with a photo, orders rectification and reports it fixed; the
review fails once and passes the second time; a 重大 hazard goes through plan, 挂牌督办 by the 翔安区 regulator,
extension request and approval, 复查 and 销号 — every step through the pages, each user in their own browser.
Fixtures and helpers in :mod:`tests.browser`; screenshots in ``artifacts/screenshots/hazard-*.png``.
"""

from __future__ import annotations

import re
import struct
import zlib
from datetime import timedelta

import pytest

from core.services.hazard_flow import PLAN_FIELDS
from core.services.hazards import today
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


def png(rgb: tuple[int, int, int], size: int = 24) -> bytes:
    """A real (decodable) PNG of one colour, so thumbnails can be checked for having loaded."""
    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def photo(name: str, rgb=(198, 40, 40)) -> dict:
    return {"name": name, "mimeType": "image/png", "buffer": png(rgb)}


class People:
    """One logged-in browser page per user, at phone width, opened on first use."""

    def __init__(self, browser, base: str):
        self.browser, self.base, self.pages, self.contexts = browser, base, {}, []

    def __call__(self, username: str):
        if username not in self.pages:
            context, page = new_page(self.browser, PHONE)
            self.contexts.append(context)
            log_in(page, self.base, username)
            page.wait_for_url(re.compile(r".*/(enterprises/\d+)?$"))
            self.pages[username] = page
        return self.pages[username]

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture()
def people(browser, live_server):
    crowd = People(browser, live_server)
    yield crowd
    crowd.close()


def open_hazard(page, base: str, hazard_id: int) -> None:
    page.goto(f"{base}/hazards/{hazard_id}")
    assert_no_horizontal_overflow(page)


def act(page, label: str, fields: dict | None = None, photos: list | None = None, radio: str | None = None) -> None:
    """Open the action's fold on the detail page, fill its form and submit it; the page must confirm."""
    fold = page.locator("details.hz-action").filter(
        has=page.locator("summary", has_text=re.compile(f"^{re.escape(label)}$")))
    assert fold.count() == 1, f"action {label} not offered: {page.inner_text('#actions')}"
    fold.locator("summary").click()
    for name, value in (fields or {}).items():
        box = fold.locator(f"[name={name}]")
        if box.evaluate("e => e.tagName") == "SELECT":
            box.select_option(value)
        else:
            box.fill(value)
    if radio:
        fold.locator(f"input[type=radio][value={radio}]").check()
    if photos:
        fold.locator("input[name=photos]").set_input_files(photos)
    fold.locator("button[type=submit]").click()
    page.wait_for_selector(".flash-success")
    assert f"已完成：{label}" in page.inner_text(".flash-success")
    assert_no_horizontal_overflow(page)


def register(page, base: str, fields: dict, selects: dict, photos: list | None = None) -> int:
    page.goto(base + "/hazards/new")
    assert_no_horizontal_overflow(page)
    for name, value in fields.items():
        page.fill(f"[name={name}]", value)
    for name, value in selects.items():
        page.select_option(f"select[name={name}]", value)
    if photos:
        page.set_input_files("input[name=photos]", photos)
    page.click("form.hz-register button[type=submit]")
    page.wait_for_url(re.compile(r".*/hazards/\d+$"))
    assert "已登记隐患" in page.inner_text(".flash-success")
    return int(page.url.rsplit("/", 1)[-1])


def steps(page) -> list[str]:
    return page.locator(".hz-step-head b").all_inner_texts()


def test_general_hazard_loop_at_phone_width(people, live_server):
    """R-H1, R-H2: register with a photo, assign, report fixed with a photo, review fails, review passes."""
    mgr, principal = people("ent1_mgr"), people("ent1_principal")
    # from the home page's queue of open hazards, like an enterprise user starts
    mgr.goto(live_server + "/")
    mgr.click("text=登记隐患")
    mgr.wait_for_url(re.compile(r".*/hazards/new.*"))
    hazard_id = register(mgr, live_server, {"description": "二号车间配电箱未接地，箱门破损", "location": "二号车间"},
                         {"category": "thing"}, [photo("现场.png")])
    thumb = mgr.locator(".hz-photos img").first
    assert thumb.evaluate("img => img.complete && img.naturalWidth") == 24  # the photo came back through the page
    act(mgr, "下达整改", {"responsible_name": "王五", "days": "10", "measures": "更换箱门，重新接地"})
    assert "整改中" in mgr.inner_text("h1")
    act(mgr, "整改完成，申请复查", {"comment": "已更换箱门并重新接地"}, photos=[photo("整改后.png", (46, 125, 50))])

    open_hazard(principal, live_server, hazard_id)
    later = (today() + timedelta(days=3)).isoformat()
    act(principal, "复查不合格，重新整改", {"comment": "接地电阻仍不合格", "deadline": later})
    open_hazard(mgr, live_server, hazard_id)
    act(mgr, "整改完成，申请复查", {"comment": "已复测，接地电阻 2Ω"})
    open_hazard(principal, live_server, hazard_id)
    act(principal, "复查合格", {"comment": "复查合格"})

    open_hazard(mgr, live_server, hazard_id)
    assert "已销号" in mgr.inner_text("h1") and "闭环完成" in mgr.inner_text("#actions")
    assert steps(mgr) == ["登记", "下达整改", "整改完成，申请复查", "复查不合格，重新整改", "整改完成，申请复查",
                          "复查合格"]
    timeline = mgr.inner_text(".hz-timeline")
    for expected in ("ent1_mgr", "ent1_principal", "接地电阻仍不合格", "王五", later, "已复测，接地电阻 2Ω"):
        assert expected in timeline, expected
    assert mgr.locator(".hz-photos img").count() == 2
    mgr.screenshot(path=str(SHOTS / "hazard-detail-closed-phone.png"), full_page=True)


def test_major_hazard_loop_at_phone_width(people, live_server):
    """R-H3: plan, 挂牌督办 by the county regulator, assign, extension and approval, 复查, 销号 by the lister."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    principal, xa_reg = people("ent1_principal"), people("xa_reg")
    hazard_id = register(principal, live_server, {"description": "反应釜安全阀失效，超压无法泄放", "rule_item": "fake/R1#1"},
                         {"category": "thing", "sector": "fake"}, [photo("安全阀.png")])
    assert "等级：重大（依据 fake/R1#1）" in principal.inner_text(".flash-success")
    assert "尚缺" in principal.inner_text(".hz-plan")
    act(principal, "报告与治理方案", {**{k: f"{label}：按方案落实" for k, label in PLAN_FIELDS.items()},
                                  "funds_amount": "30", "approved_by_name": "陈总"})
    assert "齐全" in principal.inner_text(".hz-plan")

    open_hazard(xa_reg, live_server, hazard_id)
    due = (today() + timedelta(days=60)).isoformat()
    act(xa_reg, "挂牌督办", {"due_date": due, "leader_name": "李局长", "requirements": "限期治理，每周报告进度"})
    xa_reg.goto(live_server + "/hazards/supervised")
    assert_no_horizontal_overflow(xa_reg)
    row = xa_reg.locator("table.list tr", has_text="反应釜安全阀失效")
    assert "李局长" in row.inner_text() and "厦门市翔安区应急管理局" in row.inner_text() and due in row.inner_text()
    xa_reg.screenshot(path=str(SHOTS / "hazard-supervised-phone.png"), full_page=True)

    open_hazard(principal, live_server, hazard_id)
    act(principal, "下达整改", {"responsible_name": "张三"})
    later = (today() + timedelta(days=120)).isoformat()
    act(principal, "延期申请", {"new_deadline": later, "reason": "进口安全阀到货延迟"})
    open_hazard(xa_reg, live_server, hazard_id)
    act(xa_reg, "延期审批", {"comment": "同意延期"}, radio="true")
    assert later in xa_reg.inner_text(".hz-timeline")
    open_hazard(principal, live_server, hazard_id)
    act(principal, "整改完成，申请复查", {"comment": "安全阀已更换，申请复查"}, photos=[photo("新安全阀.png", (21, 101, 192))])
    open_hazard(xa_reg, live_server, hazard_id)
    act(xa_reg, "复查合格", {"comment": "现场复查合格"})
    assert "已复查待销号" in xa_reg.inner_text("h1")
    act(xa_reg, "销号", {"comment": "准予销号"})

    open_hazard(principal, live_server, hazard_id)
    assert "已销号" in principal.inner_text("h1")
    assert steps(principal) == ["登记", "报告与治理方案", "挂牌督办", "下达整改", "延期申请", "延期审批",
                                "整改完成，申请复查", "复查合格", "销号"]
    timeline = principal.inner_text(".hz-timeline")
    for expected in ("xa_reg", "ent1_principal", "李局长", "进口安全阀到货延迟", "批准", "准予销号", "随销号摘牌"):
        assert expected in timeline, expected
    assert "已摘牌" in principal.inner_text("main")
    principal.screenshot(path=str(SHOTS / "hazard-detail-major-phone.png"), full_page=True)


@pytest.mark.parametrize("viewport,name", [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_screens_at_phone_and_desktop_width(browser, live_server, viewport, name):
    """R-N5: ledger (filters folded on phones), detail and an action form fit the screen; screenshots to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = new_page(browser, viewport)
    try:
        log_in(page, live_server, "ent1_mgr")
        page.wait_for_url(live_server + "/")  # the enterprise's work queue, with its 登记隐患 button
        assert "登记隐患" in page.inner_text("#queue-open")
        page.click("main >> text=测试E1有限公司")
        page.wait_for_url(re.compile(r".*/enterprises/\d+$"))
        assert "登记隐患" in page.inner_text(".hz-box")  # the enterprise page's hazard box
        page.goto(live_server + "/hazards/new")
        assert_no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / f"hazard-register-{name}.png"), full_page=True)
        hazard_id = register(page, live_server, {"description": f"截图用隐患（{name}）：消防通道堆放杂物"},
                             {"category": "environment"}, [photo("通道.png", (239, 108, 0))])
        act(page, "下达整改", {"responsible_name": "赵六", "days": "5"})
        page.goto(live_server + "/hazards/")
        assert_no_horizontal_overflow(page)
        assert page.locator("details.more").evaluate("d => d.open") is False  # folded until used
        assert page.locator("table.list tbody tr").count() >= 1
        page.screenshot(path=str(SHOTS / f"hazard-ledger-{name}.png"), full_page=True)
        page.goto(f"{live_server}/hazards/?state=rectifying&overdue=false")
        assert page.locator("details.more").evaluate("d => d.open") is True
        assert_no_horizontal_overflow(page)
        open_hazard(page, live_server, hazard_id)
        page.screenshot(path=str(SHOTS / f"hazard-detail-{name}.png"), full_page=True)
        page.goto(f"{live_server}/hazards/{hazard_id}/act/request_review")
        assert_no_horizontal_overflow(page)
        page.click("form.hz-action-form button[type=submit]")  # no comment: the form says what is missing
        page.wait_for_selector(".hz-errors")
        assert "说明" in page.inner_text(".hz-errors")
        assert_no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / f"hazard-action-{name}.png"), full_page=True)
    finally:
        context.close()
