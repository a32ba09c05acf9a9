"""Hidden-danger statistics per period, per enterprise and up the jurisdiction tree (R-H5, R-H6).

The fixture places hidden dangers by hand in 2025 Q1 and Q2 (China time) in 测试E1 (翔安区 新店1网格) and 测试E4
(同安区 大同1网格). Every expected number below was counted by hand from this list:

====  =====  =======  ==================  ==========  ==================  ==================================
id    ent    level    found (China)       deadline    closed (China)      other
====  =====  =======  ==================  ==========  ==================  ==================================
h1    E1     general  2025-01-10 09:00    2025-01-20  2025-01-18 10:00    on time
h2    E1     general  2025-02-01 09:00    2025-02-10  2025-02-15 10:00    late
h3    E1     major    2025-03-05 09:00    2025-04-30  2025-04-20 10:00    listed (county) 2025-03-10
h4    E1     general  2025-03-20 09:00    2025-03-25  —                   整改中, overdue since 03-26
h5    E1     general  2025-04-01 07:00    —           2025-04-01 07:30    立即整改; 2025-03-31 23:00 UTC
h6    E1     major    2025-05-10 09:00    2025-06-10  —                   待复查: rectified 2025-06-08
h7    E1     general  2025-06-01 09:00    2025-06-20  2025-06-21 07:00    late (UTC date 06-20 would say on time)
g1    E4     major    2025-01-15 09:00    2025-02-15  —                   整改中; listed (city) 2025-02-01
g2    E4     general  2025-05-05 09:00    2025-05-20  2025-05-19 10:00    on time
====  =====  =======  ==================  ==========  ==================  ==================================
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from core.models import Hazard, HazardSupervision
from core.services import stats
from core.services.errors import NotFound, ValidationFailed
from core.services.stats import Counts, Period
from tests.forms import get_form, submit, tamper

CN = timezone(timedelta(hours=8))
Q1, Q2, Y2025 = Period(2025, 1), Period(2025, 2), Period(2025)


def cn(y, m, d, hh=9, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=CN).astimezone(UTC)


def put(session, world, ent: str, level: str, found: datetime, deadline: date | None = None,
        closed: datetime | None = None, state: str | None = None, rectified: datetime | None = None,
        listed: tuple[str, datetime] | None = None, on_spot: bool = False) -> Hazard:
    e = world.ent(session, ent)
    h = Hazard(enterprise_id=e.id, scope_path=e.scope_path, description=f"统计测试隐患 {found:%m%d}",
               category="thing", level=level, source="self_check", found_by_name="测试", found_at=found,
               deadline=deadline, deadline_kind="calendar" if deadline else None, closed_at=closed,
               rectified_at=rectified or closed, closed_on_spot=on_spot,
               state=state or ("closed" if closed else "rectifying"))
    session.add(h)
    session.flush()
    if listed:
        session.add(HazardSupervision(hazard_id=h.id, level=listed[0], listed_at=listed[1],
                                      due_date=listed[1].date() + timedelta(days=60), leader_name="督办领导"))
        session.flush()
    return h


@pytest.fixture()
def placed(session, world):
    put(session, world, "E1", "general", cn(2025, 1, 10), date(2025, 1, 20), cn(2025, 1, 18, 10))
    put(session, world, "E1", "general", cn(2025, 2, 1), date(2025, 2, 10), cn(2025, 2, 15, 10))
    put(session, world, "E1", "major", cn(2025, 3, 5), date(2025, 4, 30), cn(2025, 4, 20, 10),
        listed=("county", cn(2025, 3, 10)))
    put(session, world, "E1", "general", cn(2025, 3, 20), date(2025, 3, 25))
    put(session, world, "E1", "general", cn(2025, 4, 1, 7), None, cn(2025, 4, 1, 7, 30), on_spot=True)
    put(session, world, "E1", "major", cn(2025, 5, 10), date(2025, 6, 10), state="pending_review",
        rectified=cn(2025, 6, 8))
    put(session, world, "E1", "general", cn(2025, 6, 1), date(2025, 6, 20), cn(2025, 6, 21, 7))
    put(session, world, "E4", "major", cn(2025, 1, 15), date(2025, 2, 15), listed=("city", cn(2025, 2, 1)))
    put(session, world, "E4", "general", cn(2025, 5, 5), date(2025, 5, 20), cn(2025, 5, 19, 10))
    session.commit()
    return world


def figures(c: Counts) -> dict:
    return {"found": c.found, "general": c.found_by_level["general"], "major": c.found_by_level["major"],
            "found_closed": c.found_closed, "rate": c.rate, "major_found": c.major_found,
            "major_rate": c.major_rate, "closed": c.closed, "on_time": c.closed_on_time, "late": c.closed_late,
            "open": c.open_at_end, "overdue": c.overdue_at_end, "listed": c.listed}


E1_Q1 = {"found": 4, "general": 3, "major": 1, "found_closed": 2, "rate": 50.0, "major_found": 1,
         "major_rate": 0.0, "closed": 2, "on_time": 1, "late": 1, "open": 2, "overdue": 1, "listed": 1}
E1_Q2 = {"found": 3, "general": 2, "major": 1, "found_closed": 2, "rate": 66.7, "major_found": 1,
         "major_rate": 0.0, "closed": 3, "on_time": 2, "late": 1, "open": 2, "overdue": 1, "listed": 0}
E1_Y = {"found": 7, "general": 5, "major": 2, "found_closed": 5, "rate": 71.4, "major_found": 2,
        "major_rate": 50.0, "closed": 5, "on_time": 3, "late": 2, "open": 2, "overdue": 1, "listed": 1}
E4_Q1 = {"found": 1, "general": 0, "major": 1, "found_closed": 0, "rate": 0.0, "major_found": 1,
         "major_rate": 0.0, "closed": 0, "on_time": 0, "late": 0, "open": 1, "overdue": 1, "listed": 1}
E4_Q2 = {"found": 1, "general": 1, "major": 0, "found_closed": 1, "rate": 100.0, "major_found": 0,
         "major_rate": None, "closed": 1, "on_time": 1, "late": 0, "open": 1, "overdue": 1, "listed": 0}
E4_Y = {"found": 2, "general": 1, "major": 1, "found_closed": 1, "rate": 50.0, "major_found": 1,
        "major_rate": 0.0, "closed": 1, "on_time": 1, "late": 0, "open": 1, "overdue": 1, "listed": 1}
ZERO = {"found": 0, "general": 0, "major": 0, "found_closed": 0, "rate": None, "major_found": 0,
        "major_rate": None, "closed": 0, "on_time": 0, "late": 0, "open": 0, "overdue": 0, "listed": 0}
CITY_Q1 = {"found": 5, "general": 3, "major": 2, "found_closed": 2, "rate": 40.0, "major_found": 2,
           "major_rate": 0.0, "closed": 2, "on_time": 1, "late": 1, "open": 3, "overdue": 2, "listed": 2}


# --- periods -----------------------------------------------------------------------------------------------------

def test_period_parsing_labels_boundaries_and_due_dates():
    """R-H5: quarters and years in China time; 16号令 第十四条 due dates (15th of next quarter, 31 January)."""
    assert Period.parse("2025Q1") == Q1 and Period.parse("2025") == Y2025 and Period.parse(" 2025q4 ") == Period(2025, 4)
    for bad in ("2025Q5", "25Q1", "2025-1", "", "1999"):
        with pytest.raises(ValidationFailed):
            Period.parse(bad)
    assert Q1.label == "2025年第一季度" and Period(2025, 4).label == "2025年第四季度" and Y2025.label == "2025年度"
    assert (Q1.first_day, Q1.last_day) == (date(2025, 1, 1), date(2025, 3, 31))
    assert (Period(2025, 4).first_day, Period(2025, 4).last_day) == (date(2025, 10, 1), date(2025, 12, 31))
    assert Q1.due_date == date(2025, 4, 15) and Q2.due_date == date(2025, 7, 15)
    assert Period(2025, 4).due_date == date(2026, 1, 15) and Y2025.due_date == date(2026, 1, 31)
    start, cut, overdue_day = Q1.bounds(datetime(2026, 1, 1, tzinfo=UTC))
    assert start == datetime(2024, 12, 31, 16, tzinfo=UTC)
    assert cut == datetime(2025, 3, 31, 16, tzinfo=UTC) and overdue_day == date(2025, 4, 1)
    assert Period.last_completed_quarter(date(2025, 1, 5)) == Period(2024, 4)
    assert Period.last_completed_quarter(date(2025, 8, 1)) == Q2
    assert Q1.previous() == Period(2024, 4) and Period(2025, 4).following() == Period(2026, 1)
    assert stats.recent_periods(date(2025, 5, 1), years=1) == [Q2, Q1, Y2025]


# --- per enterprise ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("period", "e1", "e4"), [(Q1, E1_Q1, E4_Q1), (Q2, E1_Q2, E4_Q2), (Y2025, E1_Y, E4_Y)])
def test_enterprise_figures_match_hand_counts(session, placed, period, e1, e4):
    """R-H5/R-H6: found by level, closed on time/late (China dates), open and overdue at the cut, 整改率."""
    admin = placed.user(session, "admin")
    rows = {r.name: figures(r.counts) for r in stats.enterprise_stats(session, admin, period)}
    assert rows == {"测试E1有限公司": e1, "测试E4有限公司": e4, "测试E2有限公司": ZERO, "测试E3有限公司": ZERO}
    ordered = [r.name for r in stats.enterprise_stats(session, admin, period)]
    assert ordered[0] == "测试E1有限公司"  # most found first


def test_running_period_counts_up_to_now(session, placed):
    """A running quarter is cut at now and its overdue day is today (the ledger's overdue rule)."""
    now = cn(2025, 5, 12, 12)
    e1 = stats.enterprise_figures(session, placed.user(session, "admin"), placed.enterprises["E1"], Q2, now=now)
    assert figures(e1) == {"found": 2, "general": 1, "major": 1, "found_closed": 1, "rate": 50.0,
                           "major_found": 1, "major_rate": 0.0, "closed": 2, "on_time": 2, "late": 0,
                           "open": 2, "overdue": 1, "listed": 0}


def test_overdue_today_agrees_with_the_ledger_rule(session, placed):
    """For the running period the overdue count equals the ledger's overdue filter (overdue_clause)."""
    from core.services.hazards import hazard_query, today

    admin = placed.user(session, "admin")
    running = Period.last_completed_quarter(today()).following()
    counts = stats.enterprise_figures(session, admin, placed.enterprises["E1"], running)
    ledger = session.scalars(hazard_query(session, admin, {"enterprise_id": placed.enterprises["E1"],
                                                           "overdue": True})).all()
    assert counts.overdue_at_end == len(ledger) == 1


# --- up the tree -------------------------------------------------------------------------------------------------

def test_city_view_has_one_row_per_district_and_the_total(session, placed):
    """R-H5: aggregated per jurisdiction node; the total equals the sum of the child rows."""
    city = placed.user(session, "city_reg")
    view = stats.node_stats(session, city, Q1)
    assert view.node.name == "厦门市"
    assert [(r.kind, r.name, r.enterprises) for r in view.rows] == [("node", "翔安区", 3), ("node", "同安区", 1)]
    assert figures(view.rows[0].counts) == E1_Q1 and figures(view.rows[1].counts) == E4_Q1
    assert figures(view.total.counts) == CITY_Q1 and view.total.enterprises == 4
    assert [n.name for n in view.trail] == ["厦门市"]


def test_drill_down_district_town_grid(session, placed):
    """The same numbers at every level: 翔安区 → 新店街道 / 马巷街道 → 新店1网格 / 新店2网格."""
    city = placed.user(session, "city_reg")
    district = stats.node_stats(session, city, Y2025, placed.nodes["翔安区"])
    assert [r.name for r in district.rows] == ["新店街道", "马巷街道"]
    assert figures(district.rows[0].counts) == E1_Y and figures(district.rows[1].counts) == ZERO
    assert figures(district.total.counts) == E1_Y and district.rows[1].enterprises == 1
    town = stats.node_stats(session, city, Y2025, placed.nodes["新店街道"])
    assert [(r.name, r.enterprises, r.drill) for r in town.rows] == [("新店1网格", 1, True), ("新店2网格", 1, True)]
    assert figures(town.rows[0].counts) == E1_Y and figures(town.rows[1].counts) == ZERO
    grid = stats.node_stats(session, city, Y2025, placed.nodes["新店1网格"])
    assert [(r.kind, r.name) for r in grid.rows] == [("direct", "新店1网格直属企业")]
    assert figures(grid.total.counts) == E1_Y
    assert [n.name for n in grid.trail] == ["厦门市", "翔安区", "新店街道", "新店1网格"]


def test_admin_sees_the_roots(session, placed):
    view = stats.node_stats(session, placed.user(session, "admin"), Q2)
    assert view.node is None and [r.name for r in view.rows] == ["福建省"]
    assert view.total.counts.found == 4 and view.total.counts.closed == 4


def test_scope_ta_reg_never_sees_xiangan(session, placed):
    """R-A4: 同安区's regulator gets 同安区 numbers only; 翔安区 and the city are not found (404)."""
    ta = placed.user(session, "ta_reg")
    view = stats.node_stats(session, ta, Q1)
    assert view.node.name == "同安区" and [r.name for r in view.rows] == ["大同街道"]
    assert figures(view.total.counts) == E4_Q1
    assert [n.name for n in view.trail] == ["同安区"]  # no 厦门市 crumb above its scope
    for node in ("翔安区", "厦门市", "新店1网格"):
        with pytest.raises(NotFound):
            stats.node_stats(session, ta, Q1, placed.nodes[node])
    assert [r.name for r in stats.enterprise_stats(session, ta, Q1)] == ["测试E4有限公司"]
    with pytest.raises(NotFound):
        stats.enterprise_stats(session, ta, Q1, enterprise_id=placed.enterprises["E1"])
    with pytest.raises(NotFound):
        stats.enterprise_stats(session, ta, Q1, node_id=placed.nodes["翔安区"])


def test_enterprise_users_see_their_own_enterprise_only(session, placed):
    mgr = placed.user(session, "ent1_mgr")
    assert [(r.name, figures(r.counts)) for r in stats.enterprise_stats(session, mgr, Q1)] == [
        ("测试E1有限公司", E1_Q1)]
    with pytest.raises(NotFound):
        stats.node_stats(session, mgr, Q1)
    with pytest.raises(NotFound):
        stats.enterprise_figures(session, mgr, placed.enterprises["E4"], Q1)


def test_grid_workers_have_no_statistics(session, placed):
    from core.services.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        stats.node_stats(session, placed.user(session, "grid1"), Q1)


def test_statistics_take_a_fixed_number_of_queries(session, placed, queries):
    """R-N1: set-based: the node view is a fixed number of queries, not one per enterprise or node."""
    city = placed.user(session, "city_reg")
    stats.node_stats(session, city, Q1)  # loads the user and their node, as any page does first
    with queries() as small:
        stats.node_stats(session, city, Q1)
    for i in range(30):
        put(session, placed, "E4" if i % 2 else "E1", "general", cn(2025, 2, 1 + i % 20), date(2025, 3, 1))
    session.commit()
    stats.node_stats(session, city, Q1)
    with queries() as large:
        view = stats.node_stats(session, city, Q1)
    assert large.count == small.count <= 5  # children, hazards, enterprises, grandchildren, trail
    assert view.total.counts.found == 35


# --- pages, Excel, PDF -------------------------------------------------------------------------------------------

def test_statistics_page_with_drill_down(placed, login):
    """R-H5: the regulator's page: period chooser, one row per district, breadcrumb, drill-down links."""
    page = login("city_reg").get("/stats/?period=2025Q1")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "2025年第一季度" in html
    assert f'node={placed.nodes["翔安区"]}' in html and "同安区" in html and "50.0%" in html and "40.0%" in html
    town = login("city_reg").get(f"/stats/?period=2025&node={placed.nodes['翔安区']}").get_data(as_text=True)
    assert "新店街道" in town and "马巷街道" in town and "71.4%" in town
    assert login("ta_reg").get(f"/stats/?period=2025Q1&node={placed.nodes['翔安区']}").status_code == 404
    ta = login("ta_reg").get("/stats/?period=2025Q1").get_data(as_text=True)
    assert "翔安区" not in ta and "大同街道" in ta
    bad = login("city_reg").get("/stats/?period=2025Q9").get_data(as_text=True)
    assert "统计期应为" in bad  # a bad period falls back to the last quarter with a message


def test_enterprise_user_sees_own_figures(placed, login):
    html = login("ent1_mgr").get("/stats/?period=2025Q1").get_data(as_text=True)
    assert "测试E1有限公司" in html and "50.0%" in html and "测试E4" not in html
    rows = login("city_reg").get(f"/stats/enterprises?period=2025Q2&node={placed.nodes['翔安区']}")
    text = rows.get_data(as_text=True)
    assert "测试E1有限公司" in text and "66.7%" in text and "测试E4" not in text


def test_excel_export_reads_back_with_the_same_numbers(placed, login):
    """R-H6: formatted header, one row per district, a totals row; the enterprise sheet sums to the same."""
    from io import BytesIO

    from openpyxl import load_workbook

    resp = login("city_reg").get("/stats/export.xlsx?period=2025Q1")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    wb = load_workbook(BytesIO(resp.data))
    assert wb.sheetnames == ["辖区汇总", "企业明细"]
    ws = wb["辖区汇总"]
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    assert values[0][0] == "厦门市隐患排查治理情况统计表（2025年第一季度）"
    assert values[1] == ["辖区", "企业数", "本期发现", "其中一般", "其中重大", "其中已销号", "整改率", "重大隐患整改率",
                         "本期销号", "按期销号", "逾期销号", "期末未销号", "期末逾期", "挂牌督办"]
    assert values[2] == ["翔安区", 3, 4, 3, 1, 2, 0.5, 0.0, 2, 1, 1, 2, 1, 1]
    assert values[3] == ["同安区", 1, 1, 0, 1, 0, 0.0, 0.0, 0, 0, 0, 1, 1, 1]
    assert values[4] == ["合计", 4, 5, 3, 2, 2, 0.4, 0.0, 2, 1, 1, 3, 2, 2]
    assert ws["A2"].font.b and ws["A2"].fill.fgColor.rgb.endswith("DCE6F1") and ws["A5"].font.b
    assert ws["G3"].number_format == "0.0%" and ws.freeze_panes == "B3"
    ents = [list(r) for r in wb["企业明细"].iter_rows(values_only=True)]
    assert [r[0] for r in ents[2:]] == ["测试E1有限公司", "测试E4有限公司", "测试E2有限公司", "测试E3有限公司", "合计"]
    assert ents[-1][1:] == values[4][1:]
    own = load_workbook(BytesIO(login("ent1_mgr").get("/stats/export.xlsx?period=2025Q2").data))
    assert [list(r) for r in own.active.iter_rows(values_only=True)][2] == [
        "测试E1有限公司", 1, 3, 2, 1, 2, pytest.approx(0.667), 0.0, 3, 2, 1, 2, 1, 0]


def _pdf_text(body: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)


def test_pdf_of_the_same_numbers(placed, login):
    """The PDF extracts as Chinese text with the page's numbers (fonts embedded with their ToUnicode maps)."""
    resp = login("xa_reg").get("/stats/report.pdf?period=2025Q1")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text = _pdf_text(resp.data)
    assert "隐患排查治理情况统计汇总表" in text and "翔安区 · 2025年第一季度" in text
    assert "新店街道" in text and "50.0%" in text and "厦门市翔安区应急管理局" in text
    own = _pdf_text(login("ent1_mgr").get("/stats/report.pdf?period=2025Q1").data)
    assert "隐患排查治理情况统计分析表" in own and "测试E1有限公司" in own and "主要负责人（签字）" in own
    assert "未报送" in own


def test_self_report_in_the_browser_flow(placed, login, session):
    """Manager drafts, principal signs and submits, the PDF carries the signer; a regulator sees it in the list."""
    from core.models import HazardSelfReport

    mgr = login("ent1_mgr")
    resp = submit(mgr, "/stats/self-reports", {"period": "2025Q1"}, action="/new")
    assert resp.status_code == 302
    report = session.scalars(select_reports()).first()
    url = resp.headers["Location"]
    bad = submit(mgr, url, {"analysis": "长" * 5001}, action="/save")
    assert bad.status_code == 422 and "5000" in bad.get_data(as_text=True)
    assert submit(mgr, url, {"analysis": "一季度分析：逾期1项", "signer_name": "张主要"}, action="/save").status_code == 302
    assert not get_form(mgr, url, action="/save").has_button("签字报送")  # only the principal signs
    refused = tamper(mgr, f"/stats/self-reports/{report.id}/submit", {"version": 2},
                     why="the manager's page has no 签字报送 button")
    assert refused.status_code == 403
    principal = login("ent1_principal")
    done = get_form(principal, url, action="/save").submit(principal, "签字报送", follow_redirects=True)
    html = done.get_data(as_text=True)
    assert "统计分析表已报送" in html and "已报送" in html
    session.expire_all()
    assert session.get(HazardSelfReport, report.id).status == "submitted"
    text = _pdf_text(principal.get(f"/stats/self-reports/{report.id}.pdf").data)
    assert "张主要" in text and "一季度分析：逾期1项" in text and "已于" in text
    listing = login("xa_reg").get("/stats/submissions?period=2025Q1").get_data(as_text=True)
    assert "测试E1有限公司" in listing and f"/stats/self-reports/{report.id}" in listing
    assert "测试E4" not in listing


def select_reports():
    from sqlalchemy import select

    from core.models import HazardSelfReport

    return select(HazardSelfReport).order_by(HazardSelfReport.id.desc())
