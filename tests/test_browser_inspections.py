"""Issue 5's "done when" in a real browser (R-P2, R-H1, R-N5): a hazchem enterprise's safety manager starts a
self-inspection on a phone, answers part of the hazchem checklist, closes the browser half-way, logs in again in a
new browser, resumes (the answers are there), finishes; the failing items appear in the hidden-danger ledger, one of
them 重大 with the 121号 item it matches. The live server runs the real hazchem plugin with the catalog synced.
Screenshots in ``artifacts/screenshots/inspection-*.png``.
"""

from __future__ import annotations

import re

import pytest

from core.services import enterprises, users
from core.services.actors import SYSTEM
from core.services.catalog import sync_catalog
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
from tests.test_browser_hazards import photo

pytestmark = pytest.mark.browser
R121 = "hazchem-2017-121"
#: Failing answers: a 121号 question (major) and a basic-duty question (general).
FAIL = ("1.5", "3.1")


def _hazchem_world(session, world) -> None:
    """The catalog synced and a hazchem enterprise (测试化工有限公司, 新店1网格) whose safety manager is ``hz_mgr``."""
    sync_catalog(session)
    ent = enterprises.create_enterprise(session, SYSTEM, {
        "name": "测试化工有限公司", "uscc": factories.uscc(77), "jurisdiction_id": world.nodes["新店街道"],
        "grid_id": world.nodes["新店1网格"], "sectors": [{"sector": "hazchem", "activities": ["生产", "储存"],
                                                         "data": {}}]})
    users.save_user(session, SYSTEM, {"username": "hz_mgr", "display_name": "化工安全员",
                                      "password": factories.PASSWORD, "roles": ["enterprise_manager"],
                                      "enterprise_id": ent.id})


@pytest.fixture(scope="module")
def hazchem_server(tmp_path_factory):
    """Like :func:`tests.browser.live_server`, with the real hazchem plugin."""
    with serve_world(tmp_path_factory.mktemp("live-hz"), _hazchem_world, plugins=["hazchem"]) as (base, _, _):
        yield base


def _items(page) -> list[dict]:
    return page.evaluate("""() => [...document.querySelectorAll('.insp-item')].map(el => ({
        id: el.dataset.item, type: el.dataset.type, code: el.querySelector('.insp-q b').textContent.trim()}))""")


def _answer(page, item: dict) -> None:
    sel = f"#item-{item['id']}"
    if item["code"] in FAIL:
        page.click(f"{sel} label.insp-no")
        page.fill(f"{sel} textarea[name=comment-{item['id']}]", f"现场检查发现第{item['code']}条不符合要求")
        page.locator(f"{sel} textarea[name=comment-{item['id']}]").blur()
        photo_input = page.locator(f"{sel} input[type=file]")
        if photo_input.count():
            photo_input.first.set_input_files(photo(f"{item['code']}.png"))
    else:
        page.click(f"{sel} label.insp-yes")


def _wait_saved(page) -> None:
    page.wait_for_function("() => document.getElementById('insp-state').dataset.state === 'saved'", timeout=15000)


def test_self_inspection_survives_a_closed_browser(browser, hazchem_server):  # noqa: F811
    base = hazchem_server
    SHOTS.mkdir(parents=True, exist_ok=True)

    # 1. Phone: start the self-inspection and answer about half of the checklist, then close the browser.
    context, page = new_page(browser, PHONE)
    log_in(page, base, "hz_mgr")
    page.goto(base + "/inspections/new")
    assert page.locator("input[name=checklists][value=hazchem-basic]").is_checked()
    assert_no_horizontal_overflow(page)
    page.screenshot(path=str(SHOTS / "inspection-start-phone.png"), full_page=True)
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r".*/inspections/\d+$"))
    run_url = page.url
    items = _items(page)
    assert len(items) >= 25
    half = len(items) // 2
    first, rest = items[:half], items[half:]
    assert "1.5" in [i["code"] for i in first] and "3.1" in [i["code"] for i in rest]
    for item in first:
        _answer(page, item)
    _wait_saved(page)
    assert page.locator("[data-answered]").text_content() == str(half)
    assert_no_horizontal_overflow(page)
    page.locator("#item-" + next(i["id"] for i in first if i["code"] == "1.5")).scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "inspection-run-phone.png"))
    context.close()

    # 2. A new browser: log in again, reopen the run from the list, find the answers, finish.
    context, page = new_page(browser, PHONE)
    log_in(page, base, "hz_mgr")
    page.goto(base + "/inspections/")
    page.click("text=继续检查")
    page.wait_for_url(run_url)
    for item in first:
        expected = "no" if item["code"] in FAIL else "yes"
        assert page.locator(f"#item-{item['id']} input[value={expected}]").is_checked(), item
    failed = next(i for i in first if i["code"] == "1.5")
    assert page.locator(f"#item-{failed['id']} .insp-photos img").count() == 1
    # Offline: the answer is kept in localStorage, the state says 未保存, and it is sent once back online.
    context.set_offline(True)
    _answer(page, rest[0])
    page.wait_for_function("() => document.getElementById('insp-state').dataset.state === 'offline'", timeout=15000)
    assert page.text_content("#insp-state").startswith("未保存")
    assert page.evaluate(f"localStorage.getItem('anjian-inspection-{run_url.rsplit('/', 1)[1]}')")
    context.set_offline(False)
    _wait_saved(page)
    assert page.locator("[data-answered]").text_content() == str(half + 1)
    for item in rest[1:]:
        _answer(page, item)
    _wait_saved(page)
    page.click("#insp-complete")
    page.wait_for_url(run_url)
    page.wait_for_selector("text=检查结果")
    text = page.text_content("main")
    assert "登记的隐患 2 条" in re.sub(r"\s+", " ", text)
    assert f"{R121}#5" in text and "hazchem-basic/1.5" in text and "hazchem-basic/3.1" in text
    assert_no_horizontal_overflow(page)
    page.screenshot(path=str(SHOTS / "inspection-summary-phone.png"), full_page=True)

    # 3. The hidden-danger ledger lists both, the 121号 one as 重大.
    page.goto(base + "/hazards/")
    rows = page.locator("table.hz-list tbody tr")
    assert rows.count() == 2
    major = page.locator("table.hz-list tbody tr", has_text="重大")
    assert major.count() == 1
    major.locator("a").first.click()
    page.wait_for_url(re.compile(r".*/hazards/\d+$"))
    assert f"{R121}#5" in page.text_content("main")
    context.close()

    # 4. Desktop: the summary and a fresh run page.
    context, page = new_page(browser, DESKTOP)
    log_in(page, base, "hz_mgr")
    page.goto(run_url)
    assert_no_horizontal_overflow(page)
    page.screenshot(path=str(SHOTS / "inspection-summary-desktop.png"), full_page=True)
    page.goto(base + "/inspections/new")
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r".*/inspections/\d+$"))
    page.click(f"#item-{_items(page)[0]['id']} label.insp-no")
    _wait_saved(page)
    assert_no_horizontal_overflow(page)
    page.screenshot(path=str(SHOTS / "inspection-run-desktop.png"))
    page.goto(base + "/inspections/")
    page.screenshot(path=str(SHOTS / "inspection-list-desktop.png"), full_page=True)
    context.close()
