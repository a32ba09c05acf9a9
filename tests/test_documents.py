"""执法文书 (R-E3 numbering, R-E4 immutability and signers, R-E5 PDFs): 责令限期整改指令书 and 整改复查意见书."""

from __future__ import annotations

import hashlib
import io
import threading
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.extensions import db
from core.models import Attachment, Document, DocumentCounter, HazardState
from core.services import documents, hazard_flow, hazards, users
from core.services.actors import SYSTEM
from core.services.attachments import storage_path
from core.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.services.hazards import today as china_today
from tests.forms import get_form, submit


@pytest.fixture(autouse=True)
def _uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))


@pytest.fixture()
def insp2(session, world):
    """A second certified inspector of 翔安局 (documents need two signers)."""
    return users.save_user(session, SYSTEM, {
        "username": "xa_insp2", "display_name": "李执法", "password": "secret-password-1", "roles": ["inspector"],
        "jurisdiction_id": world.nodes["翔安区"], "agency_id": world.agencies["翔安局"],
        "cert_number": "XA-003", "cert_valid_until": date.today() + timedelta(days=365)})


def register(session, world, description: str, location: str = "储罐区"):
    return hazards.register_hazard(session, world.user(session, "xa_insp"), {
        "enterprise_id": world.enterprises["E1"], "description": description, "location": location,
        "category": "thing"})


def pdf_text(doc: Document) -> str:
    data = storage_path(doc.pdf_sha256).read_bytes()
    assert hashlib.sha256(data).hexdigest() == doc.pdf_sha256
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return "".join(text.split())


def issue_order(session, world, insp2, hazard_list, deadline=None, **extra):
    deadline = deadline or date.today() + timedelta(days=15)
    return documents.issue_order(session, world.user(session, "xa_insp"), {
        "enterprise_id": world.enterprises["E1"], "deadline": deadline,
        "items": [{"hazard_id": h.id, "version": h.version} for h in hazard_list],
        "signer_ids": [world.users["xa_insp"], insp2.id], **extra})


def test_order_numbers_assigns_and_renders_every_field(session, world, insp2):
    """R-E3/R-E5: 指令书 numbered （翔）应急责改〔year〕n号, hazards 下达整改 with the deadline, PDF has every field
    and the national boilerplate; the PDF is stored once and its SHA-256 recorded."""
    h1 = register(session, world, "液氨储罐区可燃气体报警器失效")
    h2 = register(session, world, "消防通道被货物堵塞", location="二号仓库")
    deadline = date.today() + timedelta(days=20)
    doc = issue_order(session, world, insp2, [h1, h2], deadline=deadline)
    year = china_today().year
    assert doc.number == f"（翔）应急责改〔{year}〕{doc.sequence}号"
    assert h1.state == HazardState.RECTIFYING and h1.deadline == deadline and h2.deadline == deadline
    assert [link.hazard_id for link in doc.hazard_links] == [h1.id, h2.id]
    attachment = session.scalar(select(Attachment).where(Attachment.owner_type == "document",
                                                         Attachment.owner_id == doc.id))
    assert attachment.sha256 == doc.pdf_sha256 and attachment.content_type == "application/pdf"
    text = pdf_text(doc)
    for expected in ["安全生产行政执法文书", "责令限期整改指令书", doc.number, "测试E1", "经查，你单位存在下列问题：",
                     "液氨储罐区可燃气体报警器失效", "消防通道被货物堵塞", "二号仓库",
                     f"{deadline.year}年{deadline.month}月{deadline.day}日",
                     "前整改完毕，达到有关法律法规规章和标准规定的要求。由此造成事故的，依法追究有关人员的责任。",
                     "整改期间，你单位应当采取措施，确保安全生产。对安全生产违法行为，将依法予以行政处罚。",
                     "如果不服本指令，可以依法在60日内向", "翔安区人民政府申请行政复议，或者在6个月内依法向",
                     "翔安区人民法院", "提起行政诉讼，但本指令不停止执行，法律另有规定的除外。",
                     "XA-001", "XA-003", "厦门市翔安区应急管理局（印章）",
                     "本文书一式两份：一份由厦门市翔安区应急管理局备案，一份交被检查单位。", doc.verify_code, "第1页共1页"]:
        assert expected in text, expected
    # No signature was drawn for this document: its signature lines stay blank (certificate numbers only), a
    # printed name would make it look signed (issue 15 item 7).
    assert "李执法" not in text
    # Issued after 2024-01-01: one 复议机关, the 本级人民政府 (issue 15), and no placeholder for a second one.
    assert "人民政府或者" not in text and "上一级" not in text
    assert doc.data["appeal"]["edition"] == "2024"
    assert session.scalar(select(Document.id).where(Document.number == doc.number)) == doc.id


def test_numbers_are_consecutive_per_agency_type_and_year(session, world, insp2):
    """R-E3: consecutive sequence within (agency, type, year); a rolled-back issue gives its number back."""
    first = issue_order(session, world, insp2, [register(session, world, "问题一")])
    second = issue_order(session, world, insp2, [register(session, world, "问题二")])
    assert second.sequence == first.sequence + 1
    agency = world.agencies["翔安局"]
    with pytest.raises(ValidationFailed), session.begin_nested():
        documents.next_sequence(session, agency, "rectification_order", first.year)
        raise ValidationFailed({"x": ["回滚"]})
    assert documents.next_sequence(session, agency, "rectification_order", first.year) == second.sequence + 1
    assert documents.next_sequence(session, agency, "review_opinion", first.year) == 1
    assert documents.next_sequence(session, agency, "rectification_order", first.year + 1) == 1


def test_numbering_is_gap_free_under_concurrent_issuing(app):
    """R-E3: many transactions taking numbers at once get 1…n, each exactly once (real commits, own sessions)."""
    with app.app_context():
        agency_id = app.config["WORLD"].agencies["同安局"]
        key = {"agency_id": agency_id, "doc_type": "concurrency_test", "year": 2099}
        taken: list[int] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def worker() -> None:
            with app.app_context():
                for _ in range(5):
                    with Session(db.engine) as s:
                        try:
                            number = documents.next_sequence(s, **key)
                            s.commit()
                        except BaseException as exc:  # noqa: BLE001 — reported below
                            errors.append(exc)
                            return
                    with lock:
                        taken.append(number)

        threads = [threading.Thread(target=worker) for _ in range(6)]
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert errors == []
            assert sorted(taken) == list(range(1, 31))
        finally:
            with Session(db.engine) as s:
                s.execute(delete(DocumentCounter).where(DocumentCounter.doc_type == "concurrency_test"))
                s.commit()


def test_signers_need_two_valid_certificates(session, world, insp2):
    """R-E4: at least two signers, each with a 执法证 valid on the document date; expired → clear refusal."""
    h = register(session, world, "问题")
    actor = world.user(session, "xa_insp")
    base = {"enterprise_id": world.enterprises["E1"], "deadline": date.today() + timedelta(days=5),
            "items": [{"hazard_id": h.id, "version": h.version}]}
    with pytest.raises(ValidationFailed) as one:
        documents.issue_order(session, actor, {**base, "signer_ids": [world.users["xa_insp"]]})
    assert one.value.errors["signer_ids"] == ["执法文书须由两名以上执法人员签名"]
    with pytest.raises(ValidationFailed) as expired:
        documents.issue_order(session, actor, {**base, "signer_ids": [world.users["xa_insp"],
                                                                      world.users["xa_insp_expired"]]})
    assert "执法证（XA-002）已于" in expired.value.errors["signer_ids"][0]
    assert "过期，不能在执法文书上签名" in expired.value.errors["signer_ids"][0]
    with pytest.raises(ValidationFailed) as foreign:
        documents.issue_order(session, actor, {**base, "signer_ids": [world.users["xa_insp"], world.users["ta_reg"]]})
    assert "不是厦门市翔安区应急管理局的执法人员" in foreign.value.errors["signer_ids"][0]
    with pytest.raises(PermissionDenied):
        documents.issue_order(session, world.user(session, "ent1_mgr"), {**base, "signer_ids": [1, 2]})
    assert h.state == HazardState.REGISTERED


def test_review_splits_passed_and_failed_and_feeds_the_closed_loop(session, world, insp2):
    """R-E5: 复查意见书 refers to the 指令书 by number and date; passed hazards close, failed ones go back to
    整改中 with the new deadline (hazard_flow review_pass / review_fail)."""
    h1, h2 = register(session, world, "报警器失效"), register(session, world, "通道堵塞")
    order = issue_order(session, world, insp2, [h1, h2])
    actor = world.user(session, "xa_insp")
    signers = [world.users["xa_insp"], insp2.id]
    with pytest.raises(ValidationFailed) as early:
        documents.issue_review(session, actor, {"order_id": order.id, "signer_ids": signers, "results": [
            {"hazard_id": h1.id, "passed": True}, {"hazard_id": h2.id, "passed": True}]})
    assert "企业尚未报告整改完成，不能复查" in early.value.errors["results"][0]
    with pytest.raises(ValidationFailed) as missing:
        documents.issue_review(session, actor, {"order_id": order.id, "signer_ids": signers,
                                                "results": [{"hazard_id": h1.id, "passed": True}]})
    assert "缺：第2项" in missing.value.errors["results"][0]
    for h in (h1, h2):
        hazard_flow.perform(session, world.user(session, "ent1_mgr"), h.id, "request_review",
                            {"version": h.version, "comment": "已整改"})
    new_deadline = date.today() + timedelta(days=20)  # not before the 指令书's 15 days
    review = documents.issue_review(session, actor, {"order_id": order.id, "signer_ids": signers, "results": [
        {"hazard_id": h1.id, "passed": True}, {"hazard_id": h2.id, "passed": False, "new_deadline": new_deadline}]})
    assert review.related_id == order.id and review.number.startswith("（翔）应急复查〔")
    assert h1.state == HazardState.CLOSED
    assert h2.state == HazardState.RECTIFYING and h2.deadline == new_deadline
    assert {link.hazard_id: link.result for link in review.hazard_links} == {h1.id: "passed", h2.id: "failed"}
    text = pdf_text(review)
    today = china_today()  # the documents' date is China's (UTC+8)
    for expected in ["整改复查意见书", review.number, "测试E1",
                     (f"本机关于{today.year}年{today.month}月{today.day}日作出了责令限期整改指令书的决定[{order.number}]，"
                      "经对你单位整改情况进行复查，提出如下意见："), "已整改合格", "第1项：报警器失效", "未整改合格",
                     "第2项：通道堵塞", f"{new_deadline.year}年{new_deadline.month}月{new_deadline.day}日",
                     "被复查单位负责人（签名）", "一份交被复查单位。", review.verify_code]:
        assert expected in text, expected
    with pytest.raises(ValidationFailed):
        documents.issue_review(session, actor, {"order_id": review.id, "signer_ids": signers, "results": []})


def test_issued_documents_are_immutable_and_corrections_supersede(session, world, insp2):
    """R-E4: changes are refused; a correction is a new document, the old one kept as superseded."""
    h = register(session, world, "问题")
    old = issue_order(session, world, insp2, [h])
    with pytest.raises(Conflict) as refused:
        documents.change_document(session, world.user(session, "xa_insp"), old.id, {"data": {}})
    assert "已签发，不能修改" in refused.value.message
    new_deadline = date.today() + timedelta(days=30)
    new = issue_order(session, world, insp2, [h], deadline=new_deadline, supersedes_id=old.id)
    assert new.supersedes_id == old.id and new.number != old.number
    assert old.status == "superseded" and new.status == "issued"
    assert old.pdf_sha256 != new.pdf_sha256 and storage_path(old.pdf_sha256).exists()
    assert f"本文书更正并替代{old.number}。" in pdf_text(new)
    with pytest.raises(Conflict):
        issue_order(session, world, insp2, [h], supersedes_id=old.id)


def test_scope_receipt_and_verification(session, world, insp2):
    """R-A4/R-E5: the enterprise sees its documents and signs receipt; others get 404; the code verifies a PDF."""
    doc = issue_order(session, world, insp2, [register(session, world, "问题")])
    for outsider in ("ent4_mgr", "ta_reg"):
        with pytest.raises(NotFound):
            documents.get_document(session, world.user(session, outsider), doc.id)
        assert doc not in documents.list_documents(session, world.user(session, outsider))
    ent = world.user(session, "ent1_mgr")
    assert doc in documents.list_documents(session, ent, doc_type="rectification_order")
    assert documents.acknowledge(session, ent, doc.id).received_by_id == ent.id
    with pytest.raises(PermissionDenied):
        documents.acknowledge(session, world.user(session, "xa_reg"), doc.id)
    found, ok = documents.verify(session, doc.verify_code.lower(), storage_path(doc.pdf_sha256).read_bytes())
    assert found.id == doc.id and ok is True
    assert documents.verify(session, doc.verify_code, b"%PDF-1.7 forged")[1] is False
    assert documents.verify(session, "NOSUCHCODE") == (None, None)


def test_pages_issue_order_then_review_download_receive_and_verify(session, world, insp2, login):
    """R-E3…R-E5 pages: issue a 指令书 from the form, list/filter, download, 签收, 复查意见书, batch ZIP, verify."""
    h1, h2 = register(session, world, "配电箱未接地"), register(session, world, "灭火器过期")
    session.commit()  # keep them when the refused POST below rolls the request's session back
    c = login("xa_insp")
    form = c.get(f"/documents/order/new/{world.enterprises['E1']}")
    assert form.status_code == 200
    page = form.get_data(as_text=True)
    assert "配电箱未接地" in page and "李执法" in page and "xa_insp_expired" not in page
    deadline = date.today() + timedelta(days=7)
    order_url = f"/documents/order/new/{world.enterprises['E1']}"
    refused = submit(c, order_url, {"hazard_ids": [str(h1.id)], "deadline": deadline.isoformat(),
                                    "signer_ids": [str(world.users["xa_insp"])]})
    assert refused.status_code == 422 and "执法文书须由两名以上执法人员签名" in refused.get_data(as_text=True)
    resp = submit(c, order_url, {
        "hazard_ids": [str(h1.id), str(h2.id)], "deadline": deadline.isoformat(),
        f"deadline_{h2.id}": (deadline + timedelta(days=3)).isoformat(),
        "signer_ids": [str(world.users["xa_insp"]), str(insp2.id)]})
    assert resp.status_code == 302
    order = session.get(Document, int(resp.headers["Location"].rsplit("/", 1)[1]))
    assert [link.deadline for link in order.hazard_links] == [deadline, deadline + timedelta(days=3)]
    listing = c.get("/documents/?doc_type=rectification_order").get_data(as_text=True)
    assert order.number in listing
    assert order.number not in c.get("/documents/?doc_type=review_opinion").get_data(as_text=True)
    pdf = c.get(f"/documents/{order.id}/pdf")
    assert pdf.mimetype == "application/pdf" and hashlib.sha256(pdf.data).hexdigest() == order.pdf_sha256

    ent = login("ent1_mgr")
    assert order.number in ent.get("/documents/").get_data(as_text=True)
    assert "签收本文书" in ent.get(f"/documents/{order.id}").get_data(as_text=True)
    assert get_form(ent, f"/documents/{order.id}", action="/receive").submit(ent).status_code == 302
    assert order.received_by_id == world.users["ent1_mgr"]
    for h in (h1, h2):
        hazard_flow.perform(session, world.user(session, "ent1_mgr"), h.id, "request_review",
                            {"version": h.version, "comment": "已整改"})

    c = login("xa_insp")
    assert "配电箱未接地" in c.get(f"/documents/{order.id}/review").get_data(as_text=True)
    resp = submit(c, f"/documents/{order.id}/review", {
        f"result_{h1.id}": "passed", f"result_{h2.id}": "failed",
        f"new_deadline_{h2.id}": (date.today() + timedelta(days=40)).isoformat(),
        "signer_ids": [str(world.users["xa_insp"]), str(insp2.id)]})
    assert resp.status_code == 302
    review = session.get(Document, int(resp.headers["Location"].rsplit("/", 1)[1]))
    assert review.related_id == order.id and h1.state == HazardState.CLOSED and h2.state == HazardState.RECTIFYING
    assert review.number in c.get(f"/documents/{order.id}").get_data(as_text=True)

    import zipfile
    batch = c.get(f"/documents/batch.zip?enterprise_id={world.enterprises['E1']}")
    names = zipfile.ZipFile(io.BytesIO(batch.data)).namelist()
    assert f"{order.number}.pdf" in names and f"{review.number}.pdf" in names

    anon = login("ent4_mgr")
    assert anon.get(f"/documents/{order.id}/pdf").status_code == 404
    verify_url = f"/documents/verify/{order.verify_code}"
    good = get_form(anon, verify_url).attach("pdf", pdf.data, "x.pdf").submit(anon)
    assert "一致：所核对的 PDF 与签发原件完全相同" in good.get_data(as_text=True)
    bad = submit(anon, verify_url, {"sha256": "0" * 64})
    assert "不一致" in bad.get_data(as_text=True)
    assert anon.get("/documents/verify/NOSUCHCODE").status_code == 404


def test_an_order_may_list_a_major_hazard_before_its_plan_but_review_needs_the_plan(session, world, insp2):
    """R-E4/R-H3: an inspector orders a 重大事故隐患 rectified on the spot (the 指令书 is the 下达整改) before the
    enterprise has its 治理方案; the enterprise cannot report it rectified (申请复查) until the plan is complete.
    Without a 指令书, 下达整改 of a major hazard still needs the plan first."""
    major = hazards.register_hazard(session, world.user(session, "xa_insp"), {
        "enterprise_id": world.enterprises["E1"], "description": "重点监管危险化工工艺装置未实现自动化控制",
        "category": "thing", "level": "major"})
    other = hazards.register_hazard(session, world.user(session, "xa_insp"), {
        "enterprise_id": world.enterprises["E1"], "description": "罐区紧急切断阀失效", "category": "thing",
        "level": "major"})
    assert major.level == other.level == "major"
    with pytest.raises(Conflict, match="须先报告并制定治理方案"):
        hazard_flow.perform(session, world.user(session, "xa_insp"), other.id, "assign", {
            "version": other.version, "responsible_name": "王厂长", "deadline": date.today() + timedelta(days=30),
            "deadline_kind": "calendar"})
    deadline = date.today() + timedelta(days=30)
    issue_order(session, world, insp2, [major], deadline=deadline)
    assert (major.state, major.deadline) == (HazardState.RECTIFYING, deadline)
    mgr = world.user(session, "ent1_mgr")
    with pytest.raises(Conflict, match="须先报告治理方案，才能申请复查"):
        hazard_flow.perform(session, mgr, major.id, "request_review", {"version": major.version, "comment": "已整改"})
    assert major.state == HazardState.RECTIFYING
    plan = {k: f"{label}：按方案落实" for k, label in hazard_flow.PLAN_FIELDS.items()}
    hazard_flow.perform(session, mgr, major.id, "plan", {"version": major.version, "funds_amount": 50.0,
                                                         "approved_by_name": "张主要", **plan})
    hazard_flow.perform(session, mgr, major.id, "request_review", {"version": major.version, "comment": "已整改"})
    assert major.state == HazardState.PENDING_REVIEW


def test_an_order_flags_major_hazards_cites_their_rule_and_orders_the_measures_decided(session, world, insp2):
    """Issue 15 items 5–6 (R-E4): each 重大事故隐患 of a 指令书 is flagged with the rule it was judged by, cited by
    title, 文号 and item (never the internal reference); the 重大 sentence names its items; the measures the
    inspector ticked are ordered in the configured wording; unknown measures, or measures without a 重大事故隐患,
    are refused with the accepted values named and nothing issued."""
    actor = world.user(session, "xa_insp")
    major = hazards.register_hazard(session, actor, {
        "enterprise_id": world.enterprises["E1"], "description": "储罐区未设置泄漏检测报警装置", "category": "thing",
        "level": "major", "rule_item": "fake-2020-r1#1", "location": "储罐区"})
    general = register(session, world, "消防通道被货物堵塞", location="二号仓库")
    assert major.level == "major" and major.rule_item == "fake-2020-r1#1"
    issued_before = session.scalar(select(db.func.count(Document.id)))
    with pytest.raises(ValidationFailed) as unknown, session.begin_nested():
        issue_order(session, world, insp2, [general, major], measures=["evacuate", "shutdown_all"])
    assert "shutdown_all" in unknown.value.errors["measures"][0] and "evacuate（从危险区域内撤出作业人员）" in \
        unknown.value.errors["measures"][0]
    with pytest.raises(ValidationFailed) as no_major, session.begin_nested():
        issue_order(session, world, insp2, [general], measures=["suspend"])
    assert no_major.value.errors["measures"] == ["所列隐患中没有重大事故隐患，不能责令采取重大事故隐患的措施"]
    assert session.scalar(select(db.func.count(Document.id))) == issued_before
    session.expire_all()
    assert general.state == major.state == HazardState.REGISTERED  # nothing was 下达整改 by the refused ones
    doc = issue_order(session, world, insp2, [general, major], measures=["evacuate", "suspend"])
    text = pdf_text(doc)
    for expected in ["储罐区：储罐区未设置泄漏检测报警装置（重大事故隐患，判定依据：",
                     "《测试领域重大事故隐患判定标准（测试用）》（测规〔2020〕1号）第一项；整改期限：",
                     "其中事故隐患第2项属于重大隐患。",
                     "对上述第2项重大事故隐患，依据《中华人民共和国安全生产法》第六十五条，责令你单位：",
                     "从危险区域内撤出作业人员；暂时停产停业。"]:
        assert expected in text, expected
    assert "fake-2020-r1" not in text and "停止使用相关设施" not in text
    assert "二号仓库：消防通道被货物堵塞（整改期限：" in text  # a general item is not flagged
    assert doc.data["measures"] == ["evacuate", "suspend"]
    assert doc.data["major_clause"]["verified"] is False  # local wording, listed as 待核对


def test_a_failed_review_cannot_shorten_the_term_of_the_order(session, world, insp2):
    """Issue 15 item 7: the new deadline of a failed 复查 is not earlier than the 指令书's own deadline."""
    h = register(session, world, "报警器失效")
    order = issue_order(session, world, insp2, [h], deadline=date.today() + timedelta(days=30))
    hazard_flow.perform(session, world.user(session, "ent1_mgr"), h.id, "request_review",
                        {"version": h.version, "comment": "已整改"})
    with pytest.raises(ValidationFailed) as shorter:
        documents.issue_review(session, world.user(session, "xa_insp"), {
            "order_id": order.id, "signer_ids": [world.users["xa_insp"], insp2.id],
            "results": [{"hazard_id": h.id, "passed": False, "new_deadline": date.today() + timedelta(days=5)}]})
    original = date.today() + timedelta(days=30)
    assert shorter.value.errors["results"] == [
        f"第1项的新整改期限不能早于指令书规定的原整改期限（{original.year}年{original.month}月{original.day}日）"]
