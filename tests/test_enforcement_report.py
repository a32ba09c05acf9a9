"""The monthly enforcement summary (issue 17 item 7, R-E1): checks by agency and inspector, the share located on
site, documents by type; page, Excel and the cron command give the same figures; scoped like the run list."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from core.models import InspectionRun
from core.services import documents, enforcement_report, hazards
from core.services.errors import PermissionDenied
from core.services.stats import Month
from tests.factories import fill_work_queues


@pytest.fixture(autouse=True)
def _uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))


@pytest.fixture()
def month_of_checks(session, world):
    """Three completed enforcement runs this month in 翔安区 (two located on site, one not) by xa_insp with
    xa_insp2, one in 同安区 by ta_reg, one unfinished; the two 指令书 of :func:`fill_work_queues`."""
    made = fill_work_queues(session, world)
    now = datetime.now(UTC)
    insp, insp2 = world.user(session, "xa_insp"), made["insp2"]

    def run(enterprise, by, co=None, located=True, completed=True):
        e = world.ent(session, enterprise)
        r = InspectionRun(enterprise_id=e.id, scope_path=e.scope_path, kind="enforcement", started_by_id=by.id,
                          started_by_name=by.display_name, co_inspector_id=co.id if co else None,
                          started_at=now - timedelta(hours=2), status="completed" if completed else "draft",
                          completed_at=now - timedelta(hours=1) if completed else None,
                          start_lat=24.6 if located else None, end_lat=24.6 if located else None)
        session.add(r)

    run("E1", insp, insp2)
    run("E2", insp, insp2)
    run("E3", insp2, insp, located=False)
    run("E4", world.user(session, "ta_reg"))
    run("E1", insp, insp2, completed=False)
    session.commit()
    return made


def test_checks_by_agency_and_inspector_and_documents_by_type(session, world, month_of_checks):
    this = Month.of(hazards.today())
    summary = enforcement_report.enforcement_summary(session, world.user(session, "xa_reg"), this)
    assert [(a.name, a.checks, a.located) for a in summary.by_agency] == [("厦门市翔安区应急管理局", 3, 2)]
    assert {(i.name, i.checks, i.located) for i in summary.by_inspector} == {("xa_insp", 3, 2), ("李执法", 3, 2)}
    assert (summary.total.checks, summary.total.rate) == (3, 66.7)
    orders = documents.type_config("rectification_order")["name"]
    assert dict(summary.documents) == {orders: 1}  # one of the two 指令书 is dated ten days ago
    city = enforcement_report.enforcement_summary(session, world.user(session, "city_reg"), this)
    assert {a.name: a.checks for a in city.by_agency} == {"厦门市翔安区应急管理局": 3, "厦门市同安区应急管理局": 1}
    with pytest.raises(PermissionDenied):
        enforcement_report.enforcement_summary(session, world.user(session, "ent1_mgr"), this)


def test_page_excel_and_command_show_the_same_figures(login, runner, tmp_path, month_of_checks):
    this = Month.of(hazards.today())
    html = login("xa_reg").get(f"/stats/enforcement?month={this.key}").get_data(as_text=True)
    assert "厦门市翔安区应急管理局" in html and "66.7%" in html and "两名执法人员各计一次" in html
    resp = login("xa_reg").get(f"/stats/enforcement.xlsx?month={this.key}")
    sheet = load_workbook(io.BytesIO(resp.data))["按执法机关"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[2][:4] == ["厦门市翔安区应急管理局", 3, 2, 66.7]
    out = tmp_path / "report.xlsx"
    result = runner.invoke(args=["reports", "enforcement", "--month", this.key, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "检查 4 次" in result.output  # the command sees every jurisdiction
    assert load_workbook(out)["按执法机关"].cell(row=3, column=2).value >= 1
    bad = runner.invoke(args=["reports", "enforcement", "--month", "2026Q1", "--out", str(out)])
    assert bad.exit_code != 0 and "2026-11" in bad.output
    assert "月份应为" in login("xa_reg").get("/stats/enforcement?month=soon", follow_redirects=True).get_data(as_text=True)
