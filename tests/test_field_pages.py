"""执法检查 pages (R-E3…R-E5): task list, dossier, start with GPS fallback, signing, finishing, the full-process
record and the 现场检查记录 button, through the web client."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from core.models import Document, InspectionRun
from core.services import hazards
from tests.forms import get_form, page_form, script_post
from tests.test_field_helpers import GPS, answer_all, make_insp2, signature_png, start


@pytest.fixture(autouse=True)
def _uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))


def test_task_list_dossier_and_start(session, world, login, monkeypatch):
    insp2 = make_insp2(session, world)
    monkeypatch.setitem(world.users, "xa_insp2", insp2.id)
    hazards.register_hazard(session, world.user(session, "xa_insp"), {
        "enterprise_id": world.enterprises["E1"], "description": "消防通道堵塞", "category": "thing"})
    session.commit()
    c = login("xa_insp")
    page = c.get("/inspections/tasks").get_data(as_text=True)
    assert "执法检查" in page and "没有未完成的执法检查" in page and "没有分配给您的双随机抽查任务" in page
    found = c.get("/inspections/tasks?q=测试E1").get_data(as_text=True)
    assert f"/inspections/enterprises/{world.enterprises['E1']}" in found
    assert "没有找到“测试E4”" in c.get("/inspections/tasks?q=测试E4").get_data(as_text=True)  # out of scope
    dossier = c.get(f"/inspections/enterprises/{world.enterprises['E1']}").get_data(as_text=True)
    for text in ("基本情况", "新店街道测试路1号", "未销号隐患", "消防通道堵塞", "以往检查", "以往执法文书", "开始执法检查"):
        assert text in dossier, text
    form = c.get(f"/inspections/enterprises/{world.enterprises['E1']}/start").get_data(as_text=True)
    assert "李执法（执法证 XA-003" in form and "xa_insp_expired" not in form
    assert 'name="gps_missing" value="unsupported"' in form and "data-gps" in form
    # Without a colleague: refused with the message, nothing started.
    start_url = f"/inspections/enterprises/{world.enterprises['E1']}/start"
    # The page's script reports the missing position into the hidden gps_missing field (here: refused).
    resp = get_form(c, start_url).fill(checklists=["fake-basic"]).scripted("gps_missing", "denied").submit(c)
    assert resp.status_code == 422 and "请选择第二名执法人员" in resp.get_data(as_text=True)
    resp = get_form(c, start_url).fill(checklists=["fake-basic"], co_inspector_id=str(insp2.id), place="仓库").scripted(
        "gps_missing", "denied").submit(c)
    assert resp.status_code == 302
    run_id = int(re.search(r"/inspections/(\d+)$", resp.headers["Location"]).group(1))
    run = session.get(InspectionRun, run_id)
    assert (run.kind, run.co_inspector_id, run.place, run.start_gps_missing) == ("enforcement", insp2.id, "仓库",
                                                                                  "denied")
    page = c.get("/inspections/tasks").get_data(as_text=True)
    assert f"/inspections/{run_id}" in page
    # The colleague finds the run in his list too.
    assert f"/inspections/{run_id}" in login("xa_insp2").get("/inspections/tasks").get_data(as_text=True)
    # Enterprise users and grid workers have no task list.
    assert login("ent1_mgr").get("/inspections/tasks").status_code == 403


def test_sign_finish_record_and_document(session, world, login, monkeypatch):
    insp2 = make_insp2(session, world)
    monkeypatch.setitem(world.users, "xa_insp2", insp2.id)
    run = start(session, world, insp2)
    session.commit()
    c = login("xa_insp")
    page = c.get(f"/inspections/{run.id}").get_data(as_text=True)
    assert "全部条目作答后才能签名" in page and "data-sign-url" not in page and "结束检查" in page
    answer_all(session, world, run)
    session.commit()
    page = c.get(f"/inspections/{run.id}").get_data(as_text=True)
    assert page.count("data-sign-url") == 2 and "尚缺：检查人员 xa_insp、检查人员 李执法、被检查单位现场负责人" in page

    def sign(client, **fields):
        return script_post(client, f"/inspections/{run.id}/sign", {
            **fields, "image": (io.BytesIO(signature_png()), "s.png")}, content_type="multipart/form-data",
            script="js/signature.js")

    resp = sign(c, role="enterprise", name="")
    assert resp.status_code == 422 and resp.get_json()["message"] == "请填写被检查单位现场负责人的姓名"
    assert sign(c, role="inspector", **{k: str(v) for k, v in GPS.items()}).get_json()["missing"] == [
        "检查人员 李执法", "被检查单位现场负责人"]
    assert sign(c, role="enterprise", name="王现场", title="主任").status_code == 200
    c2 = login("xa_insp2")
    assert sign(c2, role="inspector", gps_missing="timeout").get_json()["missing"] == []
    page = c.get(f"/inspections/{run.id}").get_data(as_text=True)
    assert "三方均已签名" in page and page.count('src="data:image/png;base64,') == 3
    assert "检查情况已签名确认" in page and "撤销全部签名" in page
    resp = get_form(c, f"/inspections/{run.id}", action="/complete").scripted("gps_missing", "denied").submit(c)
    assert resp.status_code == 302
    summary = c.get(f"/inspections/{run.id}").get_data(as_text=True)
    assert "制作现场检查记录" in summary and "未获取定位：未授权定位" in summary and "全过程记录" in summary
    resp = get_form(c, f"/inspections/{run.id}", action="/inspection-record").submit(c)
    assert resp.status_code == 302
    doc = session.scalar(select(Document).where(Document.inspection_run_id == run.id))
    assert resp.headers["Location"].endswith(f"/documents/{doc.id}")
    summary = c.get(f"/inspections/{run.id}").get_data(as_text=True)
    assert f"现场检查记录 {doc.number}" in summary and "制作现场检查记录</button>" not in summary
    timeline = login("xa_reg").get(f"/inspections/{run.id}/record").get_data(as_text=True)
    for text in ("执法全过程记录", "开始检查", "拍摄现场照片", "签名", "发现隐患", "结束检查", "制作执法文书", doc.number,
                 "24.61234, 118.24567（±12 米）", "未获取定位：定位超时", "未获取定位：未授权定位"):
        assert text in timeline, text
    assert login("ta_reg").get(f"/inspections/{run.id}/record").status_code == 404


def test_drawn_check_appears_in_the_task_list_and_is_linked_when_started(session, world, login, monkeypatch):
    """R-E1/R-E3: a published 双随机 item of xa_insp and his colleague is on his task list; starting from it links
    the run to the item (plans.link_run), which then leaves the list."""
    from datetime import UTC, date, datetime

    from core.models.plan import DrawItem, InspectionDraw

    insp2 = make_insp2(session, world)
    monkeypatch.setitem(world.users, "xa_insp2", insp2.id)
    draw = InspectionDraw(agency_id=world.agencies["翔安局"], scope_path=world.node(session, "翔安区").path,
                          title="2026年3月双随机抽查", period_start=date(2026, 3, 1), period_end=date(2026, 3, 31),
                          requested_count=1, filters={}, seed="42", algorithm="test", inputs={},
                          drawn_by_name="xa_reg", drawn_at=datetime.now(UTC), status="published")
    session.add(draw)
    session.flush()
    item = DrawItem(draw_id=draw.id, position=1, enterprise_id=world.enterprises["E1"],
                    inspector1_id=world.users["xa_insp"], inspector2_id=insp2.id, status="open")
    session.add(item)
    session.commit()
    c = login("xa_insp")
    page = c.get("/inspections/tasks").get_data(as_text=True)
    assert "2026年3月双随机抽查 · 第 1 项" in page
    assert f"/inspections/enterprises/{world.enterprises['E1']}?draw_item_id={item.id}" in page
    dossier = c.get(f"/inspections/enterprises/{world.enterprises['E1']}?draw_item_id={item.id}").get_data(
        as_text=True)
    assert "双随机抽查对象" in dossier and f"start?draw_item_id={item.id}" in dossier
    form = c.get(f"/inspections/enterprises/{world.enterprises['E1']}/start?draw_item_id={item.id}").get_data(
        as_text=True)
    assert f'name="draw_item_id" value="{item.id}"' in form
    resp = page_form(c.get(f"/inspections/enterprises/{world.enterprises['E1']}/start?draw_item_id={item.id}")).fill(
        checklists=["fake-basic"], co_inspector_id=str(insp2.id)).scripted("gps_missing", "timeout").submit(c)
    assert resp.status_code == 302
    session.expire_all()
    linked = session.get(DrawItem, item.id)
    assert linked.status == "done" and linked.inspection_run_id is not None
    assert "2026年3月双随机抽查" not in c.get("/inspections/tasks").get_data(as_text=True)
