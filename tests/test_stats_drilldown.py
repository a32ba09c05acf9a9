"""Every number of the statistics tables is a link to exactly the hidden dangers it counts (issue 17 item 2, R-H6).

Hidden dangers are spread over the period's figures (found in and before the quarter, closed on time and late,
overdue at the cut, listed) for two districts; then, for every government user and for the running and the last
completed quarter, every linked number of the jurisdiction table and of the enterprise table is followed to the
ledger, whose 「共 N 条」 must equal it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from core.services import hazard_flow, hazards, risks
from core.services.hazards import today
from core.services.stats import Period

LINK = re.compile(r'<a class="stat-link[^"]*" href="([^"]+)">(\d+)</a>')
TOTAL = re.compile(r"共 (\d+)(\+?) 条")


@pytest.fixture()
def spread(session, world):
    """Hidden dangers in many figures: found this quarter and last, closed in each, late, overdue, listed."""
    reg, ta = world.user(session, "xa_reg"), world.user(session, "ta_reg")
    now = datetime.now(UTC)
    this_q = Period(today().year, (today().month - 1) // 3 + 1)
    last_start = datetime.combine(this_q.previous().first_day, datetime.min.time(), UTC) + timedelta(days=3)
    made = []
    for i, (enterprise, by, level, found_at, closed, late, overdue) in enumerate([
            ("E1", reg, "major", now - timedelta(hours=5), False, False, False),
            ("E1", reg, "general", last_start, True, False, False),
            ("E2", reg, "general", last_start + timedelta(days=2), True, True, False),
            ("E3", reg, "general", last_start + timedelta(days=5), False, False, True),
            ("E4", ta, "general", now - timedelta(hours=2), False, False, True),
            ("E4", ta, "major", last_start, True, False, False)]):
        h = hazards.register_hazard(session, by, {"enterprise_id": world.enterprises[enterprise], "level": level,
                                                  "description": f"统计样例{i}", "category": "thing"})
        h.found_at = found_at
        h.sector = "fake" if i % 2 == 0 else None  # half of them in the test plugin's sector
        if overdue:
            h.deadline = today() - timedelta(days=1)
        if closed:
            h.state, h.closed_at = "closed", found_at + timedelta(days=20)
            h.deadline = (found_at + timedelta(days=10 if late else 30)).date()
        made.append(h)
    for manager, (lv, ex, co) in (("ent1_mgr", (3, 6, 40)), ("ent1_mgr", (1, 1, 1)), ("ent4_mgr", (10, 10, 100))):
        risks.create_risk_point(session, world.user(session, manager), {  # 较大 and 低 in E1, 重大 in E4
            "name": f"风险点{lv}", "category": "equipment", "method": "LEC", "inputs": {"L": lv, "E": ex, "C": co}})
    hazard_flow.perform(session, reg, made[0].id, "list", {
        "version": made[0].version, "level": "county", "due_date": today() + timedelta(days=30),
        "leader_name": "林副局长"})
    session.commit()
    return made


@pytest.mark.parametrize("username", ["xa_reg", "city_reg", "ta_reg", "admin", "xa_insp"])
def test_every_statistics_number_opens_the_ledger_with_that_count(login, spread, username):
    client = login(username)
    this_q = Period(today().year, (today().month - 1) // 3 + 1)
    followed = 0
    for period in (this_q, this_q.previous()):
        for page in (f"/stats/?period={period.key}", f"/stats/enterprises?period={period.key}",
                     f"/stats/?period={period.key}&sector=fake", f"/stats/league?period={period.key}&sector=fake"):
            html = client.get(page).get_data(as_text=True)
            links = LINK.findall(html)
            assert links or "league" in page, page
            if "sector=fake" in page:
                assert all("sector=fake" in href for href, _ in links), page
            for href, n in links:
                listing = client.get(href.replace("&amp;", "&"))
                assert listing.status_code == 200, href
                total = TOTAL.search(listing.get_data(as_text=True))
                assert total and total[2] == "" and int(total[1]) == int(n), (page, href, n, total and total[0])
                followed += 1
    assert followed > 40
    # The risk-point grades link to the register with the same count (walked above with the rest).
    if username in ("xa_reg", "city_reg"):
        assert 'href="/risks/?grade=large' in client.get(f"/stats/?period={this_q.key}").get_data(as_text=True)
    # The ledger names the figure it was opened from and keeps it when the filter form is used.
    html = client.get(f"/hazards/?figure=found&period={this_q.key}").get_data(as_text=True)
    assert f"统计口径：{this_q.label} · 本期发现" in html
    assert '<input type="hidden" name="figure" value="found">' in html


def test_a_bad_figure_or_period_is_refused_naming_the_accepted_values(login, world):
    """The ledger treats them as its other filters: a Chinese message naming the accepted figures, no filter."""
    client = login("xa_reg")
    for query in ("figure=everything&period=2026Q1", "figure=found&period=20XX"):
        page = client.get(f"/hazards/?{query}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and "筛选条件有误" in html, query
        assert "统计口径" not in html
    assert "统计项应为以下之一：found、found_closed" in client.get("/hazards/?figure=x&period=2026").get_data(as_text=True)
