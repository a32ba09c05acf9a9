"""Issue 7 "done when" as one chain through the services and the document pages (R-E1…R-E5, R-H3): a district
agency draws and publishes its monthly 双随机 list; the two drawn, certified inspectors check 测试E1 from that task,
record findings with photos, all three sign, a 现场检查记录 and a 责令限期整改指令书 are issued (the order lists a
重大隐患 before its 治理方案); the enterprise plans and reports; the inspectors issue an 整改复查意见书 with one item
failed and a new deadline that flows back into the hazard; the regulator downloads the three as one merged PDF.
The pieces have their own tests; this one fails when they stop fitting together."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from core.models import Document, Hazard, HazardState, InspectionEvent
from core.services import documents, inspection_record, inspections, plans
from tests import factories
from tests.test_field_helpers import GPS, answer_all, make_insp2, sign_all


@pytest.fixture(autouse=True)
def _uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))


def test_draw_inspect_sign_order_rectify_review_export(session, world, login):
    today = date.today()
    insp2 = make_insp2(session, world)
    reg = world.user(session, "xa_reg")
    draw = plans.create_draw(session, reg, {
        "period_start": today.replace(day=1), "period_end": today.replace(day=1) + timedelta(days=27), "count": 3,
        "seed": "walk-2026"})
    plans.publish_draw(session, reg, draw.id, draw.version)
    assert plans.recompute(draw) is True
    item = next(i for i in draw.items if i.enterprise_id == world.enterprises["E1"])
    lead = world.user(session, "xa_insp") if item.inspector1_id == world.users["xa_insp"] else insp2
    assert {item.inspector1_id, item.inspector2_id} == {world.users["xa_insp"], insp2.id}
    assert item.id in [t.id for t in plans.tasks_for(session, lead)]

    co = insp2 if lead.id != insp2.id else world.user(session, "xa_insp")
    run = inspections.start_run(session, lead, {
        "kind": "enforcement", "enterprise_id": world.enterprises["E1"], "checklists": ["fake-basic"],
        "co_inspector_id": co.id, "place": "储罐区", "onsite_name": "王现场", "onsite_title": "安全主任",
        "draw_item_id": item.id, **GPS})
    answer_all(session, world, run, username=lead.username)
    sign_all(session, world, run, co, username=lead.username)
    inspections.complete_run(session, lead, run.id, run.version, GPS)
    found = inspections.created_hazards(session, lead, run)
    assert len(found) == 2 and {h.level for h in found} == {"major", "general"}
    assert all(h.source == "inspection" for h in found)
    assert item.inspection_run_id == run.id

    record = inspection_record.issue_record(session, lead, run.id)
    deadline = today + timedelta(days=20)
    order = documents.issue_order(session, lead, {
        "enterprise_id": world.enterprises["E1"], "deadline": deadline, "inspection_run_id": run.id,
        "items": [{"hazard_id": h.id, "version": h.version} for h in found],
        "signer_ids": [lead.id, co.id]})
    assert all(h.state == HazardState.RECTIFYING and h.deadline == deadline for h in found)

    factories.report_rectified(session, world, found)
    mgr = world.user(session, "ent1_mgr")
    documents.acknowledge(session, mgr, order.id)

    failed, passed = found[0], found[1]
    new_deadline = today + timedelta(days=40)
    review = documents.issue_review(session, lead, {
        "order_id": order.id, "signer_ids": [lead.id, co.id], "opinion": "一项未整改合格，限期再整改",
        "results": [{"hazard_id": passed.id, "passed": True, "version": passed.version},
                    {"hazard_id": failed.id, "passed": False, "new_deadline": new_deadline,
                     "version": failed.version}]})
    session.commit()
    assert (failed.state, failed.deadline) == (HazardState.RECTIFYING, new_deadline)
    assert (failed.level, passed.level, passed.state) == ("major", "general", HazardState.CLOSED)
    assert review.related_id == order.id

    steps = [e.action for e in session.scalars(select(InspectionEvent).where(InspectionEvent.run_id == run.id)
                                               .order_by(InspectionEvent.id))]
    assert steps[0] == "start" and steps.count("sign") == 3 and steps.count("document_issued") >= 2

    response = login("xa_reg").get(f"/documents/batch.pdf?enterprise_id={world.enterprises['E1']}")
    assert response.status_code == 200
    pages = PdfReader(io.BytesIO(response.data)).pages
    text = "".join("".join(p.extract_text().split()) for p in pages)
    for doc in (record, order, review):
        assert doc.number in text, doc.number
    assert len(pages) == sum(len(PdfReader(io.BytesIO(documents.pdf_bytes(d))).pages)
                             for d in session.scalars(select(Document).where(
                                 Document.id.in_([record.id, order.id, review.id]))))
    assert session.get(Hazard, failed.id).deadline == new_deadline
