"""Real browser checks of the notifications page and the top-bar badge (R-H4, R-N5) at phone and desktop width.

The live server here is the one of :mod:`tests.browser` plus hidden dangers near and past their deadlines, and one
run of the reminders job, so that the pages show what users get on a real morning.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.models import Hazard, HazardSupervision
from core.services.hazards import today
from core.services.reminders import run_reminders
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


def _notices_world(session, world) -> None:
    """Three rectifying hazards of E1 due in 3 days / 1 and 7 days overdue (one listed), and the reminders run."""
    on = today()
    for key, days, text in (("E1", 3, "二号车间配电箱未接地，箱门未上锁，周边堆放可燃包装材料"),
                            ("E1", -1, "消防通道被成品货架占用"),
                            ("E1", -7, "可燃气体报警器未定期检定")):
        ent = world.ent(session, key)
        h = Hazard(enterprise_id=ent.id, scope_path=ent.scope_path, description=text, category="thing",
                   level="general", source="self_check", found_by_name="张三", state="rectifying",
                   found_at=datetime.now(UTC), deadline=on + timedelta(days=days), deadline_kind="calendar")
        session.add(h)
        session.flush()
        if days == 3:
            session.add(HazardSupervision(hazard_id=h.id, level="county", agency_id=world.agencies["翔安局"],
                                          due_date=on + timedelta(days=1), leader_name="张局长"))
    run_reminders(session, on)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve_world(tmp_path_factory.mktemp("live"), _notices_world) as (base, _, _):
        yield base


# Two users of E1 with the same notices: each width starts from an unread inbox.
@pytest.mark.parametrize("viewport,name,username", [(PHONE, "phone", "ent1_mgr"), (DESKTOP, "desktop", "ent1_principal")])
def test_badge_list_open_and_mark_all(browser, server, viewport, name, username):
    """R-H4: the badge shows the unread count, the list shows the notices, opening one follows its link and
    marks it read, 全部标为已读 clears the badge."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = new_page(browser, viewport)
    try:
        log_in(page, server, username)
        page.wait_for_load_state()
        # E1's staff: reminder (3 days), 2 overdue notices, 挂牌督办 due tomorrow.
        assert page.inner_text(".topbar .bell .badge") == "4"
        assert_no_horizontal_overflow(page)
        page.click(".topbar .bell")
        page.wait_for_load_state()
        text = page.inner_text("main")
        for visible in ("隐患整改期限将至：还有 3 天", "隐患逾期未整改（已逾期 1 天）", "隐患逾期未整改（已逾期 7 天）",
                        "挂牌督办期限将至：还有 1 天"):
            assert visible in text
        assert_no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / f"notifications-{name}.png"), full_page=True)

        page.click("text=隐患整改期限将至：还有 3 天")
        page.wait_for_load_state()
        assert "/hazards/" in page.url
        page.goto(server + "/notifications/")
        assert page.inner_text(".topbar .bell .badge") == "3"
        page.click("text=全部标为已读")
        page.wait_for_load_state()
        assert "已将 3 条通知标为已读" in page.inner_text("main")
        assert page.locator(".topbar .bell .badge").count() == 0
        page.screenshot(path=str(SHOTS / f"notifications-read-{name}.png"), full_page=True)
    finally:
        context.close()


def test_regulator_sees_the_escalation_on_a_phone(browser, server):
    """R-H4: the district regulator sees the overdue hazard of their enterprise; the city the 7-day escalation."""
    context, page = new_page(browser, PHONE)
    try:
        log_in(page, server, "xa_reg")
        page.goto(server + "/notifications/?show=unread")
        text = page.inner_text("main")
        assert "辖区隐患逾期未整改（逾期 1 天）" in text and "挂牌督办期限将至：还有 1 天" in text
        assert "逾期 7 天" not in text
        page.locator("details.menu summary").click()
        assert page.locator("details.menu nav a", has_text="通知").count() == 1
        page.screenshot(path=str(SHOTS / "notifications-regulator-phone.png"), full_page=True)
    finally:
        context.close()
