"""The four core documents read as lawful documents of today (issue 15 "done when", R-E4, R-O2).

One real flow per agency — the district's 翔安局 and the city's 市局, each with two certified inspectors of its own:
an enforcement inspection of 测试E1 with a 重大 and a general finding, its 现场检查记录, a 责令限期整改指令书 with
the measures decided for the 重大事故隐患, an 整改复查意见书 with one item failed, and a 挂牌督办通知书 of a listed
重大事故隐患. Each PDF is read back with ``pdftotext`` (as a reader sees the page, not as pypdf reassembles it) and
checked against its field table: every field present and filled, the issuing agency named as configured, no
template placeholder, no internal code, and a 复议 clause naming exactly one 复议机关 — the 本级人民政府. Page
images (``pdftoppm -png``) go to ``instance/shots/documents-lawful`` for a person to look at.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest

from core.models import Document
from core.services import documents, hazard_flow, hazards, inspection_record, inspections, users
from core.services.actors import SYSTEM
from core.services.citations import chinese_number, item_label
from tests import factories
from tests.forms import page_form
from tests.test_field_helpers import GPS, answer_all, sign_all

SHOTS = Path(__file__).resolve().parent.parent / "instance" / "shots" / "documents-lawful"

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")

#: Never on an issued document: the 2016 template's fixed agency, its blank for a second 复议机关, the placeholder
#: of an agency without a parent, internal rule references and checklist numbers printed as articles.
FORBIDDEN = ("安全生产监督管理局", "安全生产监督管理部门", "人民政府或者", "上一级", "fake-20", "#1", "第1.1条",
             "None", "____")

AGENCIES = {
    "district": {"agency": "翔安局", "name": "厦门市翔安区应急管理局", "government": "翔安区人民政府",
                 "court": "翔安区人民法院", "short": "翔", "area": "翔安区", "level": "county", "regulator": "xa_reg"},
    "city": {"agency": "市局", "name": "厦门市应急管理局", "government": "厦门市人民政府", "court": "厦门市人民法院",
             "short": "厦", "area": "厦门市", "level": "city", "regulator": "city_reg"},
}


@pytest.fixture(autouse=True)
def _uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))


def inspectors(session, world, key: str):
    """Two certified inspectors of the agency (the district has xa_insp; the city gets two of its own)."""
    cfg = AGENCIES[key]
    valid = date.today() + timedelta(days=365)

    def make(username, name, cert):
        return users.save_user(session, SYSTEM, {
            "username": username, "display_name": name, "password": "secret-password-1", "roles": ["inspector"],
            "jurisdiction_id": world.nodes[cfg["area"]], "agency_id": world.agencies[cfg["agency"]],
            "cert_number": cert, "cert_valid_until": valid})

    if key == "district":
        return world.user(session, "xa_insp"), make("xa_insp2", "李执法", "XA-003")
    return make("city_insp1", "陈市执法", "XM-101"), make("city_insp2", "吴市执法", "XM-102")


def pdftotext(doc: Document, name: str) -> str:
    """The document's text as poppler lays it out, whitespace removed; its pages saved as PNG images."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    pdf = SHOTS / f"{name}.pdf"
    pdf.write_bytes(documents.pdf_bytes(doc))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(SHOTS / name)], check=True)
    return "".join(text.split())


def flow(session, world, key: str) -> dict[str, Document]:
    """The four documents of one agency from a real flow (module doc)."""
    cfg = AGENCIES[key]
    lead, co = inspectors(session, world, key)
    run = inspections.start_run(session, lead, {
        "kind": "enforcement", "enterprise_id": world.enterprises["E1"], "checklists": ["fake-basic"],
        "co_inspector_id": co.id, "place": "储罐区及中控室", "onsite_name": "王现场", "onsite_title": "安全主任",
        **GPS})
    answer_all(session, world, run, username=lead)
    sign_all(session, world, run, co, username=lead)
    inspections.complete_run(session, lead, run.id, run.version, GPS)
    found = sorted(inspections.created_hazards(session, lead, run), key=lambda h: h.level != "major")
    record = inspection_record.issue_record(session, lead, run.id)
    deadline = date.today() + timedelta(days=20)
    order = documents.issue_order(session, lead, {
        "enterprise_id": world.enterprises["E1"], "deadline": deadline, "inspection_run_id": run.id,
        "items": [{"hazard_id": h.id, "version": h.version} for h in found], "measures": ["evacuate"],
        "signer_ids": [lead.id, co.id]})
    factories.report_rectified(session, world, found)
    review = documents.issue_review(session, lead, {
        "order_id": order.id, "signer_ids": [lead.id, co.id], "opinion": "一项未整改合格，限期再整改",
        "results": [{"hazard_id": found[0].id, "passed": False, "new_deadline": deadline + timedelta(days=20),
                     "version": found[0].version},
                    {"hazard_id": found[1].id, "passed": True, "version": found[1].version}]})
    regulator = world.user(session, cfg["regulator"])
    listed = hazards.register_hazard(session, regulator, {
        "enterprise_id": world.enterprises["E1"], "description": "液氨储罐区未设置紧急切断装置",
        "location": "液氨储罐区", "category": "thing", "level": "major", "rule_item": "fake-2020-r1#1"})
    hazard_flow.perform(session, regulator, listed.id, "list", {
        "version": listed.version, "level": cfg["level"], "due_date": date.today() + timedelta(days=45),
        "leader_name": "林副局长", "requirements": "每周五前书面报送整改进展"})
    notice = documents.issue_notice(session, regulator, {"supervision_id": listed.supervisions[-1].id})
    return {"record": record, "order": order, "review": review, "notice": notice}


def cn(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


@pytest.mark.parametrize("key", sorted(AGENCIES))
def test_every_core_document_reads_as_a_lawful_document(session, world, key):
    cfg = AGENCIES[key]
    docs = flow(session, world, key)
    today = date.today()
    deadline = today + timedelta(days=20)
    texts = {kind: pdftotext(doc, f"{key}-{kind}") for kind, doc in docs.items()}
    year = docs["order"].issued_on.year
    #: The field table: what each document must print, filled from the flow.
    fields = {
        "record": [f"（{cfg['short']}）应急检记〔{year}〕", "现场检查记录", "被检查单位：测试E1有限公司",
                   "地址：新店街道测试路1号", "检查场所：储罐区及中控室",
                   f"我们是{cfg['name']}行政执法人员", "这是我们的证件（出示证件）", "检查情况：",
                   "《测试领域重大事故隐患判定标准（测试用）》（测规〔2020〕1号）第一项", "检查项1.1",
                   "重大事故隐患", "现场情况：报警器未安装", "检查人员（签名）：", "被检查单位现场负责人（签名）：",
                   "王现场（安全主任）", docs["record"].verify_code],
        "order": [f"（{cfg['short']}）应急责改〔{year}〕", "责令限期整改指令书", "测试E1有限公司：",
                  "经查，你单位存在下列问题：", "（重大事故隐患，判定依据：", "其中事故隐患第1项属于重大隐患。",
                  "对上述第1项重大事故隐患，依据《中华人民共和国安全生产法》第六十五条，责令你单位：从危险区域内撤出作业人员。",
                  f"于{cn(deadline)}前整改完毕", "整改期间，你单位应当采取措施，确保安全生产。",
                  (f"如果不服本指令，可以依法在60日内向{cfg['government']}申请行政复议，或者在6个月内依法向"
                   f"{cfg['court']}提起行政诉讼"), f"{cfg['name']}（印章）", f"本文书一式两份：一份由{cfg['name']}备案，一份交被检查单位。",
                  docs["order"].verify_code],
        "review": [f"（{cfg['short']}）应急复查〔{year}〕", "整改复查意见书", f"作出了责令限期整改指令书的决定[{docs['order'].number}]",
                   "经对你单位整改情况进行复查，提出如下意见：", "未整改合格", "已整改合格",
                   cn(deadline + timedelta(days=20)), "被复查单位负责人（签名）", f"{cfg['name']}（印章）",
                   docs["review"].verify_code],
        "notice": [f"（{cfg['short']}）应急督办〔{year}〕", "挂牌督办通知书", "液氨储罐区未设置紧急切断装置", "测试E1有限公司",
                   cn(today + timedelta(days=45)), "林副局长", "每周五前书面报送整改进展", cfg["name"],
                   docs["notice"].verify_code],
    }
    for kind, expected in fields.items():
        text = texts[kind]
        for phrase in expected:
            assert phrase in text, (kind, phrase)
        for bad in FORBIDDEN:
            assert bad not in text, (kind, bad)
        assert not re.search(r"[a-z]+-\d{4}-[a-z0-9]+", text), (kind, "internal rule reference")
    # One 复议机关, the 本级人民政府 of the issuing department (行政复议法 in force since 2024-01-01).
    order = texts["order"]
    assert order.count("申请行政复议") == 1
    assert re.search(r"60日内向(.+?)申请行政复议", order)[1] == cfg["government"]
    # The signatures drawn at the end of the inspection are the record's only (issue 15 item 3).
    assert "signatures" in docs["record"].data and "signatures" not in docs["order"].data
    assert (SHOTS / f"{key}-order-1.png").exists() or shutil.which("pdftoppm") is None


@pytest.mark.parametrize(("kind", "number", "title", "label"), [
    ("major_hazard", "1", None, "第一项"),
    ("major_hazard", "15", None, "第十五项"),
    ("major_hazard", "20", None, "第二十项"),
    ("major_hazard", "6.1", None, "第6.1条"),
    ("major_hazard", "4.1a)", None, "第4.1条a）"),
    ("major_hazard", "第三条(一)", None, "第三条（一）"),
    ("catalogue", "3110", None, "代码3110"),
    ("duty", "押运人员", "配备押运人员", "关于“配备押运人员”的规定"),
])
def test_citations_follow_the_numbering_of_the_source(kind, number, title, label):
    """Issue 15 item 5: the item part of a citation keeps the source's own numbering and never invents an article."""
    assert item_label(kind, number, title) == label
    assert [chinese_number(n) for n in (1, 10, 11, 21, 99)] == ["一", "十", "十一", "二十一", "九十九"]


def test_the_order_form_offers_the_measures_for_a_major_hazard(session, world, login):
    """Issue 15 item 6, as a browser sends it: the 指令书 page shows the configured measures when a listed hazard is
    重大; the ticked one is ordered in the issued document."""
    insp2 = inspectors(session, world, "district")[1]
    major = hazards.register_hazard(session, world.user(session, "xa_insp"), {
        "enterprise_id": world.enterprises["E1"], "description": "储罐区未设置泄漏检测报警装置", "category": "thing",
        "level": "major", "rule_item": "fake-2020-r1#1"})
    session.commit()
    c = login("xa_insp")
    url = f"/documents/order/new/{world.enterprises['E1']}"
    page = c.get(url)
    assert "从危险区域内撤出作业人员" in page.get_data(as_text=True)
    form = page_form(page, page_url=url)
    form.check("hazard_ids", str(major.id)).check("signer_ids", str(insp2.id)).check("measures", "suspend")
    form.set("deadline", (date.today() + timedelta(days=10)).isoformat())
    resp = form.submit(c)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    doc = session.query(Document).filter(Document.doc_type == "rectification_order").one()
    assert doc.data["measures"] == ["suspend"]
    assert "对上述第1项重大事故隐患" in pdftotext(doc, "form-order") and "暂时停产停业" in pdftotext(doc, "form-order")
