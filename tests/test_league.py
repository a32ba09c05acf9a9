"""League tables (issue 17 item 3, R-O1): the children of a node ranked on one indicator with the change against the
previous period; the figures are the statistics table's own, link to the same ledger rows, and export to Excel."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook

from core.services import league
from core.services.errors import ValidationFailed
from core.services.stats import Period
from tests.test_stats import cn, put

Q1, Q2 = Period(2025, 1), Period(2025, 2)


@pytest.fixture()
def towns(session, world):
    """翔安区's towns: 新店街道 (E1, E2) and 马巷街道 (E3). Q1: 新店 2 found / 1 closed, 马巷 1/1.
    Q2: 新店 2/2 (and Q1's open E2 overdue at the end: 1), 马巷 2/0 (both overdue at the end: 2)."""
    put(session, world, "E1", "general", cn(2025, 1, 10), date(2025, 1, 20), cn(2025, 1, 18))
    put(session, world, "E2", "general", cn(2025, 2, 10), date(2025, 5, 20))
    put(session, world, "E3", "general", cn(2025, 3, 1), date(2025, 3, 20), cn(2025, 3, 10))
    put(session, world, "E1", "general", cn(2025, 4, 10), date(2025, 4, 20), cn(2025, 4, 18))
    put(session, world, "E2", "major", cn(2025, 5, 10), date(2025, 5, 30), cn(2025, 5, 28))
    put(session, world, "E3", "general", cn(2025, 5, 1), date(2025, 6, 1))
    put(session, world, "E3", "general", cn(2025, 6, 1), date(2025, 6, 10))
    session.commit()


def test_towns_ranked_on_the_rectification_rate_with_the_change(session, world, towns):
    table = league.league(session, world.user(session, "xa_reg"), Q2, world.nodes["翔安区"], "rate")
    rows = {r.name: r for r in table.rows}
    assert [r.name for r in table.rows] == ["新店街道", "马巷街道"]
    xindian, maxiang = rows["新店街道"], rows["马巷街道"]
    assert (xindian.rank, xindian.value, xindian.previous, xindian.change) == (1, 100.0, 50.0, 50.0)
    assert (maxiang.rank, maxiang.value, maxiang.previous, maxiang.change) == (2, 0.0, 100.0, -100.0)
    assert (xindian.rank_change, maxiang.rank_change) == (1, -1)


def test_lower_is_better_for_overdue_and_ties_share_a_rank(session, world, towns):
    reg = world.user(session, "xa_reg")
    overdue = league.league(session, reg, Q2, world.nodes["翔安区"], "overdue_at_end")
    assert [(r.name, r.rank, r.value) for r in overdue.rows] == [("新店街道", 1, 1), ("马巷街道", 2, 2)]
    listed = league.league(session, reg, Q2, world.nodes["翔安区"], "listed")
    assert [r.rank for r in listed.rows] == [1, 1]
    with pytest.raises(ValidationFailed) as bad:
        league.league(session, reg, Q2, world.nodes["翔安区"], "popularity")
    assert "rate（整改率）" in bad.value.errors["by"][0]


def test_the_page_links_each_count_to_its_rows_and_exports_the_same_table(login, world, towns):
    c = login("city_reg")
    node = world.nodes["翔安区"]
    html = c.get(f"/stats/league?period={Q2.key}&node={node}&by=overdue_at_end").get_data(as_text=True)
    assert "按期末逾期排名（越低越好）" in html and "与上一统计期（2025年第一季度）比较" in html
    for href, n in re.findall(r'<a class="stat-link[^"]*" href="([^"]+)">(\d+)</a>', html):
        listed = c.get(href.replace("&amp;", "&")).get_data(as_text=True)
        assert re.search(rf"共 {n} 条", listed), (href, n)
    resp = c.get(f"/stats/league.xlsx?period={Q2.key}&node={node}&by=rate")
    sheet = load_workbook(io.BytesIO(resp.data)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][:4] == ["名次", "辖区", "整改率（2025年第二季度）", "整改率（2025年第一季度）"]
    assert values[1][:6] == [1, "新店街道", 100.0, 50.0, 50.0, 1]
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    # Enterprise users have no jurisdiction to rank.
    assert login("ent1_mgr").get(f"/stats/league?period={Q2.key}").status_code == 404
