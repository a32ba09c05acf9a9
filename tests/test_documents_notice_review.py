"""挂牌督办通知书 (R-O2) and 法制审核 (R-E5), and a 指令书 issued in an inspection signed for itself (R-E4).

* The notice is made from a 重大事故隐患 listed at 县区 level by the listing agency's 监管人员; its PDF has every
  filled field (督办单位, 隐患, 整改责任单位, 整改期限, 督办要求 …) and the configured neutral wording.
* A type flagged for 法制审核 is not issued on request: pending → approved issues it with the next number;
  returned issues nothing; inspectors and other agencies may not decide; nobody decides on their own request.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from core.models import (
    AuditEntry,
    Document,
    DocumentCounter,
    HazardState,
    InspectionEvent,
    InspectionRun,
    InspectionSignature,
    LegalReview,
)
from core.services import documents, hazard_flow, hazards, users
from core.services.actors import SYSTEM
from core.services.attachments import Upload, store
from core.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests.forms import get_form, submit


def png(shade: int) -> bytes:
    """A small PNG "signature" (signature pads send PNG); each shade gives different bytes."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (120, 40), (255, 255, 255, 0))
    ImageDraw.Draw(img).line([(5, 30), (40, 8), (80, 32), (115, 10)], fill=(shade, 0, 0, 255), width=3)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(autouse=True)
def _uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))


@pytest.fixture()
def insp2(session, world):
    return users.save_user(session, SYSTEM, {
        "username": "xa_insp2", "display_name": "李执法", "password": "secret-password-1", "roles": ["inspector"],
        "jurisdiction_id": world.nodes["翔安区"], "agency_id": world.agencies["翔安局"],
        "cert_number": "XA-003", "cert_valid_until": date.today() + timedelta(days=365)})


def pdf_text(doc: Document) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(documents.pdf_bytes(doc)))
    return "".join("".join(p.extract_text().split()) for p in reader.pages), len(reader.pages)


def listed_major(session, world, requirements: str | None = "每周五前书面报送整改进展", comment: str | None = None):
    reg = world.user(session, "xa_reg")
    h = hazards.register_hazard(session, reg, {
        "enterprise_id": world.enterprises["E1"], "description": "液氨储罐区未设置紧急切断装置",
        "location": "液氨储罐区", "category": "thing", "level": "major"})
    hazard_flow.perform(session, reg, h.id, "list", {
        "version": h.version, "level": "county", "due_date": date.today() + timedelta(days=45),
        "leader_name": "林副局长", "requirements": requirements, "comment": comment})
    return h, h.supervisions[-1]


def test_notice_from_a_county_listing_has_every_field(session, world):
    """R-O2: 挂牌督办通知书 by the listing agency; every filled field and the configured wording in the PDF."""
    h, listing = listed_major(session, world)
    doc = documents.issue_notice(session, world.user(session, "xa_reg"), {"supervision_id": listing.id})
    year = date.today().year
    assert doc.number == f"（翔）应急督办〔{year}〕{doc.sequence}号" and doc.signer_ids == []
    assert [(link.hazard_id, link.deadline) for link in doc.hazard_links] == [(h.id, listing.due_date)]
    text, pages = pdf_text(doc)
    due = listing.due_date
    for expected in ["挂牌督办通知书", doc.number, "测试E1有限公司：", "经研究，决定对你单位存在的下列重大事故隐患实行挂牌督办：",
                     "督办单位厦门市翔安区应急管理局", "县（区）级挂牌督办", "液氨储罐区未设置紧急切断装置",
                     f"隐患编号{h.id}", "隐患部位液氨储罐区", "整改责任单位测试E1有限公司",
                     f"整改期限{due.year}年{due.month}月{due.day}日前", "督办责任领导林副局长",
                     "督办要求每周五前书面报送整改进展", "请你单位按照督办要求", "厦门市翔安区应急管理局（印章）",
                     doc.verify_code]:
        assert expected in text, expected
    assert pages == 1
    with pytest.raises(Conflict, match="该挂牌督办已制作通知书"):
        documents.issue_notice(session, world.user(session, "xa_reg"), {"supervision_id": listing.id})


def test_notice_requirements_fall_back_to_the_listing_comment_and_only_the_listing_agency_issues(session, world):
    _, listing = listed_major(session, world, requirements=None, comment="限期完成紧急切断改造并组织验收")
    for outsider, exc in (("city_reg", PermissionDenied), ("xa_insp", PermissionDenied), ("ta_reg", NotFound),
                          ("ent1_principal", PermissionDenied)):
        with pytest.raises(exc):
            documents.issue_notice(session, world.user(session, outsider), {"supervision_id": listing.id})
    doc = documents.issue_notice(session, world.user(session, "xa_reg"), {"supervision_id": listing.id})
    assert "督办要求限期完成紧急切断改造并组织验收" in pdf_text(doc)[0]
    with pytest.raises(NotFound):
        documents.issue_notice(session, world.user(session, "xa_reg"), {"supervision_id": 987654})


def test_notice_pages_button_and_hazard_documents(session, world, login):
    """R-O2: the button on the hazard page (listing agency only), the form, and the notice listed on the hazard."""
    h, listing = listed_major(session, world)
    session.commit()
    reg = login("xa_reg")
    page = reg.get(f"/hazards/{h.id}").get_data(as_text=True)
    assert "制作挂牌督办通知书" in page and f"/documents/notice/new/{listing.id}" in page
    assert "制作挂牌督办通知书" not in login("xa_insp").get(f"/hazards/{h.id}").get_data(as_text=True)
    form = reg.get(f"/documents/notice/new/{listing.id}").get_data(as_text=True)
    assert "林副局长" in form and "每周五前书面报送整改进展" in form and "不引用法律条文" in form
    url = f"/documents/notice/new/{listing.id}"
    notice, second_tab = get_form(reg, url), get_form(reg, url)
    resp = notice.submit(reg)
    assert resp.status_code == 302
    doc = session.get(Document, int(resp.headers["Location"].rsplit("/", 1)[1]))
    assert doc.doc_type == "supervision_notice"
    hazard_page = login("ent1_mgr").get(f"/hazards/{h.id}").get_data(as_text=True)
    assert f"挂牌督办通知书 {doc.number}" in hazard_page
    again = second_tab.submit(reg)  # the same notice again from a tab opened before it was issued
    assert again.status_code == 422 and "该挂牌督办已制作通知书" in again.get_data(as_text=True)
    ent_page = reg.get(f"/enterprises/{world.enterprises['E1']}").get_data(as_text=True)
    count = len(documents.list_documents(session, world.user(session, "xa_reg"), enterprise_id=world.enterprises["E1"]))
    assert f"共 {count} 份文书" in ent_page and count >= 1


# --- 法制审核 ----------------------------------------------------------------------------------------------------

@pytest.fixture()
def order_needs_review(app, monkeypatch):
    types = {k: dict(v) for k, v in app.config["DOCUMENT_TYPES"].items()}
    types["rectification_order"]["legal_review"] = True
    monkeypatch.setitem(app.config, "DOCUMENT_TYPES", types)


def _request(session, world, insp2, who="xa_insp"):
    h = hazards.register_hazard(session, world.user(session, "xa_insp"), {
        "enterprise_id": world.enterprises["E1"], "description": "配电室未配备绝缘垫", "category": "thing"})
    result = documents.issue_order(session, world.user(session, who), {
        "enterprise_id": world.enterprises["E1"], "deadline": date.today() + timedelta(days=10),
        "items": [{"hazard_id": h.id, "version": h.version}], "signer_ids": [world.users["xa_insp"], insp2.id]})
    return h, result


def _last_sequence(session, world) -> int:
    row = session.get(DocumentCounter, (world.agencies["翔安局"], "rectification_order", date.today().year))
    return row.last_sequence if row else 0


def test_pending_then_approved_issues_with_the_next_number(session, world, insp2, order_needs_review):
    """R-E5: the request changes nothing and takes no number; approval issues it then, numbered, in the
    requester's name, pointing back to the review; the audit log has request and approval."""
    before = _last_sequence(session, world)
    h, review = _request(session, world, insp2)
    assert isinstance(review, LegalReview) and review.status == "pending"
    assert h.state == HazardState.REGISTERED and _last_sequence(session, world) == before
    assert session.scalar(select(Document.id).where(Document.legal_review_id == review.id)) is None
    for outsider, exc in (("xa_insp", PermissionDenied), ("ta_reg", NotFound), ("city_reg", NotFound),
                          ("ent1_mgr", PermissionDenied)):
        with pytest.raises(exc):
            documents.decide_legal_review(session, world.user(session, outsider), review.id,
                                          {"version": review.version, "approve": True})
    with pytest.raises(Conflict):
        documents.decide_legal_review(session, world.user(session, "xa_reg"), review.id,
                                      {"version": review.version + 5, "approve": True})
    documents.decide_legal_review(session, world.user(session, "xa_reg"), review.id,
                                  {"version": review.version, "approve": True, "opinion": "事实清楚，依据充分"})
    doc = review.document
    assert review.status == "approved" and review.decided_by_id == world.users["xa_reg"]
    assert doc.sequence == before + 1 and doc.number.endswith(f"〔{date.today().year}〕{before + 1}号")
    assert doc.legal_review_id == review.id and doc.issued_by_id == world.users["xa_insp"]
    assert h.state == HazardState.RECTIFYING
    actions = set(session.scalars(select(AuditEntry.action).where(
        AuditEntry.object_id.in_([str(doc.id), str(review.id)]))))
    assert {"legal_review_request", "legal_approve", "issue"} <= actions
    with pytest.raises(Conflict, match="已审核"):
        documents.decide_legal_review(session, world.user(session, "xa_reg"), review.id,
                                      {"version": review.version, "approve": True})


def test_returned_issues_nothing_and_own_requests_are_not_decided(session, world, insp2, order_needs_review):
    before = _last_sequence(session, world)
    h, review = _request(session, world, insp2)
    reg = world.user(session, "xa_reg")
    with pytest.raises(ValidationFailed) as no_reason:
        documents.decide_legal_review(session, reg, review.id, {"version": review.version, "approve": False})
    assert no_reason.value.errors == {"opinion": ["退回须写明理由"]}
    documents.decide_legal_review(session, reg, review.id, {"version": review.version, "approve": False,
                                                            "opinion": "整改期限过短，请重新核定"})
    assert review.status == "returned" and review.document is None and review.opinion == "整改期限过短，请重新核定"
    assert h.state == HazardState.REGISTERED and _last_sequence(session, world) == before
    _, own = _request(session, world, insp2, who="xa_reg")
    with pytest.raises(PermissionDenied, match="不能审核自己送审的文书"):
        documents.decide_legal_review(session, reg, own.id, {"version": own.version, "approve": True})
    with pytest.raises(ValidationFailed):  # the dry run checks the request completely
        documents.issue_order(session, world.user(session, "xa_insp"), {
            "enterprise_id": world.enterprises["E1"], "deadline": date.today(),
            "items": [{"hazard_id": h.id}], "signer_ids": [world.users["xa_insp"]]})


def test_legal_review_pages(session, world, insp2, order_needs_review, login):
    """R-E5 pages: the form says it goes to review; the queue; the decision shown on the document page."""
    h = hazards.register_hazard(session, world.user(session, "xa_insp"), {
        "enterprise_id": world.enterprises["E1"], "description": "叉车无牌照作业", "category": "thing"})
    session.commit()
    insp = login("xa_insp")
    assert "提交法制审核" in insp.get(f"/documents/order/new/{world.enterprises['E1']}").get_data(as_text=True)
    resp = submit(insp, f"/documents/order/new/{world.enterprises['E1']}", {
        "hazard_ids": [str(h.id)], "deadline": (date.today() + timedelta(days=5)).isoformat(),
        "signer_ids": [str(world.users["xa_insp"]), str(insp2.id)]})
    assert resp.status_code == 302 and "/documents/legal-reviews/" in resp.headers["Location"]
    review_id = int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    detail = insp.get(f"/documents/legal-reviews/{review_id}").get_data(as_text=True)
    assert "待法制审核" in detail and "提交审核决定" not in detail
    reg = login("xa_reg")
    queue = reg.get("/documents/legal-reviews/").get_data(as_text=True)
    assert "责令限期整改指令书：测试E1有限公司" in queue
    detail_url = f"/documents/legal-reviews/{review_id}"
    bad = submit(reg, detail_url, {"decision": "return"}, action="/decision")
    assert bad.status_code == 422 and "退回须写明理由" in bad.get_data(as_text=True)
    ok = submit(reg, detail_url, {"decision": "approve", "opinion": "同意"}, action="/decision")
    assert ok.status_code == 302
    doc_page = reg.get(ok.headers["Location"]).get_data(as_text=True)
    assert "法制审核" in doc_page and "审核通过 · xa_reg" in doc_page and "意见：同意" in doc_page
    assert "待审核的送审文书" in reg.get("/documents/legal-reviews/").get_data(as_text=True)


# --- signatures of the inspection ---------------------------------------------------------------------------------

def test_order_issued_in_an_inspection_is_signed_for_itself(session, world, insp2):
    """R-E4, issue 15 item 3: the signatures drawn at the end of an inspection were given for its 现场检查记录;
    a 指令书 issued from the run does not carry them (no pictures, empty signature lines, no printed names on
    them) and adds a document_issued step to the run's full-process record."""
    ent = world.ent(session, "E1")
    run = InspectionRun(enterprise_id=ent.id, scope_path=ent.scope_path, kind="enforcement",
                        started_by_id=world.users["xa_insp"], started_by_name="xa_insp")
    session.add(run)
    session.flush()
    signers = (("inspector", world.users["xa_insp"], "xa_insp", "XA-001"), ("inspector", insp2.id, "李执法", "XA-003"),
               ("enterprise", None, "王现场", None))
    for shade, (role, uid, name, cert) in enumerate(signers):
        upload = Upload(data=png(40 * shade), content_type="image/png", filename="sig.png")
        store(session, SYSTEM, upload, "inspection_run", run.id)
        session.add(InspectionSignature(run_id=run.id, role=role, user_id=uid, name=name, cert_number=cert,
                                        sha256=upload.sha256))
    session.flush()
    h = hazards.register_hazard(session, world.user(session, "xa_insp"), {
        "enterprise_id": ent.id, "description": "气瓶未固定", "category": "thing"})
    doc = documents.issue_order(session, world.user(session, "xa_insp"), {
        "enterprise_id": ent.id, "deadline": date.today() + timedelta(days=3), "inspection_run_id": run.id,
        "items": [{"hazard_id": h.id}], "signer_ids": [world.users["xa_insp"], insp2.id]})
    assert doc.inspection_run_id == run.id
    assert "signatures" not in doc.data
    reader = PdfReader(io.BytesIO(documents.pdf_bytes(doc)))
    assert [img for page in reader.pages for img in page.images] == []
    text = "".join(reader.pages[0].extract_text().split())
    assert "王现场" not in text and "李执法" not in text  # the 证号 lines are filled, the signature lines empty
    assert "XA-003" in text
    event = session.scalar(select(InspectionEvent).where(InspectionEvent.run_id == run.id,
                                                         InspectionEvent.action == "document_issued"))
    assert event.detail == {"number": doc.number, "doc_type": "rectification_order", "document_id": doc.id}
    other = world.ent(session, "E4")
    with pytest.raises(ValidationFailed) as wrong:
        documents.issue_order(session, world.user(session, "xa_insp"), {
            "enterprise_id": ent.id, "deadline": date.today() + timedelta(days=3), "inspection_run_id": 987654,
            "items": [{"hazard_id": h.id}], "signer_ids": [world.users["xa_insp"], insp2.id]})
    assert wrong.value.errors["inspection_run_id"] == [f"检查记录 987654 不是对{ent.name}的检查"]
    assert other.name != ent.name


def test_demo_issues_the_notice_of_the_listed_hazard_once(session, world):
    """R-O2 demo: core/demo_documents.py issues the 挂牌督办通知书 of a listed 重大 hazard being rectified."""
    from core.demo_documents import seed_demo_documents

    users.save_user(session, SYSTEM, {"username": "xa_regulator", "display_name": "林科长", "password": "demo-pass-123",
                                      "roles": ["regulator"], "jurisdiction_id": world.nodes["翔安区"],
                                      "agency_id": world.agencies["翔安局"]})
    h, listing = listed_major(session, world)
    mgr = world.user(session, "ent1_mgr")
    hazard_flow.perform(session, mgr, h.id, "plan", {"version": h.version, **{
        k: f"{label}：按方案落实" for k, label in hazard_flow.PLAN_FIELDS.items()}})
    hazard_flow.perform(session, mgr, h.id, "assign", {"version": h.version, "responsible_name": "李负责",
                                                        "days": 60, "deadline_kind": "calendar"})
    doc = seed_demo_documents(session)
    assert doc is not None and doc.doc_type == "supervision_notice" and doc.issued_on == listing.listed_at.date()
    assert seed_demo_documents(session) is None
