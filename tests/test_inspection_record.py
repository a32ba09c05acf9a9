"""现场检查记录 (R-E4, R-E5): issued from a completed enforcement run after the 2016 national template; every
filled field and the verified boilerplate in the PDF text; signatures embedded as images; numbering, one record
per run, and the ``document_issued`` step in the full-process record."""

from __future__ import annotations

import hashlib
import io
import time
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from core.models import Document, InspectionEvent
from core.services import inspection_record, inspections
from core.services.attachments import storage_path
from core.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests.browser import SHOTS as SHOTS_DIR
from tests.test_field_helpers import GPS, answer_all, make_insp2, sign_all, start

#: The template's fixed text as verified (2016 set, §3.2), except that 「我们是____安全生产监督管理局行政执法人员」
#: names the issuing agency as configured (issue 15).
BOILERPLATE = ["安全生产行政执法文书", "现场检查记录", "被检查单位：", "地址：", "法定代表人（负责人）：", "职务：",
               "联系电话：", "检查场所：", "检查时间：", "我们是", "行政执法人员", "，证件号码为",
               "，这是我们的证件（出示证件）。现依法对你单位进行现场检查，请予以配合。", "检查情况：",
               "检查人员（签名）：", "被检查单位现场负责人（签名）："]


@pytest.fixture(autouse=True)
def _uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))


@pytest.fixture()
def completed(session, world):
    """A completed enforcement run of 测试E1 by xa_insp and 李执法 (two findings, three signatures)."""
    insp2 = make_insp2(session, world)
    e1 = world.ent(session, "E1")
    e1.legal_representative, e1.principal_phone = "赵法人", "0592-7654321"
    run = start(session, world, insp2)
    answer_all(session, world, run)
    sign_all(session, world, run, insp2)
    run = inspections.complete_run(session, world.user(session, "xa_insp"), run.id, run.version, GPS)
    run.started_at = datetime(2026, 3, 5, 1, 30, tzinfo=UTC)  # 09:30 in China
    run.completed_at = datetime(2026, 3, 5, 3, 5, tzinfo=UTC)  # 11:05
    session.flush()
    return run


def _pages(doc: Document) -> list[str]:
    data = storage_path(doc.pdf_sha256).read_bytes()
    assert hashlib.sha256(data).hexdigest() == doc.pdf_sha256
    return ["".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(data)).pages]


def test_record_pdf_has_every_field_the_boilerplate_and_the_signatures(session, world, completed):
    """R-E4: number （翔）应急检记〔2026〕1号; fields from the run and the enterprise; times in Chinese format; the two
    inspectors and their 执法证号 in the opening sentence; findings with rule references; three signature images."""
    started = time.perf_counter()
    doc = inspection_record.issue_record(session, world.user(session, "xa_insp"), completed.id)
    elapsed = time.perf_counter() - started
    assert elapsed < 5, elapsed
    assert (doc.doc_type, doc.number, doc.inspection_run_id, doc.issued_on.isoformat()) == (
        "inspection_record", "（翔）应急检记〔2026〕1号", completed.id, "2026-03-05")
    pages = _pages(doc)
    assert len(pages) == 1
    text = pages[0]
    for phrase in BOILERPLATE:
        assert phrase in text, phrase
    assert "安全生产监督管理局" not in text  # the agency is named as configured (issue 15)
    for filled in ("测试E1有限公司", "新店街道测试路1号", "赵法人", "0592-7654321", "储罐区及中控室",
                   "2026年3月5日9时30分至3月5日11时5分",
                   "我们是厦门市翔安区应急管理局行政执法人员xa_insp、李执法，证件号码为XA-001、XA-003，", "储罐区是否设置泄漏检测报警装置？", "重大事故隐患", "报警器未安装",
                   "《测试领域重大事故隐患判定标准（测试用）》（测规〔2020〕1号）第一项：储罐区未设置泄漏检测报警装置",
                   "检查项", "是否建立测试台账？", "台账缺失", "《测试安全法》第十一条", "王现场（安全主任）",
                   "2026年3月5日", doc.verify_code, "第1页共1页"):
        assert filled in text, filled
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    (SHOTS_DIR / "inspection-record.pdf").write_bytes(storage_path(doc.pdf_sha256).read_bytes())
    assert "检查5项：合格1项，不合格2项，不适用0项" in text
    # Internal codes are never printed as citations, nor a checklist number as an article (issue 15 item 5).
    assert "fake-2020-r1" not in text and "#1" not in text and "第1.1条" not in text
    assert "应当建立测试台账；《测试安全法》第十一条" in text and "。；" not in text
    reader = PdfReader(io.BytesIO(storage_path(doc.pdf_sha256).read_bytes()))
    images = list(reader.pages[0].images)
    assert len(images) == 3  # both inspectors and the on-site person
    # The document keeps the signatures' SHA-256, not the image bytes.
    assert [s["name"] for s in doc.data["signatures"]] == ["xa_insp", "李执法", "王现场"]
    assert all("data_uri" not in s and len(s["sha256"]) == 64 for s in doc.data["signatures"])
    assert doc.signer_ids == [world.users["xa_insp"], completed.co_inspector_id]
    step = session.scalar(select(InspectionEvent).where(InspectionEvent.run_id == completed.id)
                          .order_by(InspectionEvent.id.desc()).limit(1))
    assert (step.action, step.detail["number"], step.detail["document_id"], step.attachment_shas) == (
        "document_issued", doc.number, doc.id, [doc.pdf_sha256])


def test_one_record_per_completed_enforcement_run(session, world, completed):
    lead = world.user(session, "xa_insp")
    doc = inspection_record.issue_record(session, lead, completed.id)
    with pytest.raises(Conflict) as exc:
        inspection_record.issue_record(session, lead, completed.id)
    assert exc.value.message == f"本次检查已制作现场检查记录 {doc.number}"
    assert inspection_record.existing_record(session, completed.id).id == doc.id


def test_record_refusals(session, world):
    insp2 = make_insp2(session, world)
    run = start(session, world, insp2)
    lead = world.user(session, "xa_insp")
    with pytest.raises(Conflict):  # not completed
        inspection_record.issue_record(session, lead, run.id)
    with pytest.raises(NotFound):  # out of scope
        inspection_record.issue_record(session, world.user(session, "ta_reg"), run.id)
    with pytest.raises(PermissionDenied):  # enterprise users do not issue documents
        inspection_record.issue_record(session, world.user(session, "ent1_mgr"), run.id)
    mgr = world.user(session, "ent1_mgr")
    self_check = inspections.start_run(session, mgr, {"checklists": ["fake-basic"]})
    session.flush()
    with pytest.raises(ValidationFailed):
        inspection_record.issue_record(session, lead, self_check.id)


def test_time_parts():
    assert inspection_record.time_parts(datetime(2026, 12, 31, 17, 4, tzinfo=UTC)) == {
        "year": 2027, "month": 1, "day": 1, "hour": 1, "minute": 4}
