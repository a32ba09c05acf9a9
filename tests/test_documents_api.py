"""The 执法文书 JSON API (R-E4, R-E5, R-O2, R-N3) and the batch download as one merged PDF.

Lists filter by type, date range, enterprise and signing inspector and page by keyset; other agencies' and
enterprises' documents are 404; bad bodies are 422 with Chinese messages per field; 法制审核 decisions go through the
API too. The merged PDF of a batch has as many pages as its documents together.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from core.services import documents, hazard_flow, hazards, users
from core.services.actors import SYSTEM
from core.services.hazards import today as china_today
from tests.api_helpers import error, ok

API = "/api/v1/documents"


@pytest.fixture(autouse=True)
def _uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))


@pytest.fixture()
def insp2(session, world):
    return users.save_user(session, SYSTEM, {
        "username": "xa_insp2", "display_name": "李执法", "password": "secret-password-1", "roles": ["inspector"],
        "jurisdiction_id": world.nodes["翔安区"], "agency_id": world.agencies["翔安局"],
        "cert_number": "XA-003", "cert_valid_until": date.today() + timedelta(days=365)})


def hazard(session, world, text: str, key: str = "E1", who: str = "xa_insp"):
    return hazards.register_hazard(session, world.user(session, who), {
        "enterprise_id": world.enterprises[key], "description": text, "category": "thing"})


def order_body(world, insp2, hazard_list, **extra) -> dict:
    return {"enterprise_id": world.enterprises["E1"], "deadline": (date.today() + timedelta(days=9)).isoformat(),
            "items": [{"hazard_id": h.id, "version": h.version} for h in hazard_list],
            "signer_ids": [world.users["xa_insp"], insp2.id], **extra}


def test_issue_list_filter_page_detail_pdf_and_receive(session, world, insp2, api):
    """R-E4/R-O2: issue 指令书 by JSON, list with every filter and keyset pages, detail, PDF, 签收."""
    c = api("xa_insp")
    first = ok(c.post(f"{API}/orders", json=order_body(world, insp2, [hazard(session, world, "一号问题")])), 201)
    assert first["status"] == "issued" and first["legal_review"] is None
    doc1 = first["document"]
    assert doc1["number"].startswith("（翔）应急责改〔") and doc1["hazards"][0]["position"] == 1
    second = ok(c.post(f"{API}/orders", json=order_body(world, insp2, [hazard(session, world, "二号问题")],
                                                        signer_ids=[world.users["xa_insp"], insp2.id])), 201)["document"]
    reg_only = documents.issue_order(session, world.user(session, "ta_reg"), {
        "enterprise_id": world.enterprises["E4"], "deadline": date.today() + timedelta(days=5),
        "items": [{"hazard_id": hazard(session, world, "同安问题", "E4", "ta_reg").id}],
        "signer_ids": [_certified(session, world, "ta1").id, _certified(session, world, "ta2").id]})
    session.commit()

    page = ok(c.get(f"{API}?size=1"))
    assert [d["id"] for d in page["items"]] == [second["id"]] and page["total"] >= 2
    nxt = ok(c.get(f"{API}?size=1&after={page['next_after']}"))
    assert nxt["items"][0]["id"] == doc1["id"]
    ids = lambda q: [d["id"] for d in ok(c.get(f"{API}?{q}"))["items"]]
    assert second["id"] in ids("doc_type=rectification_order") and ids("doc_type=review_opinion") == []
    assert ids(f"inspector_id={insp2.id}")[:2] == [second["id"], doc1["id"]]
    assert ids(f"inspector_id={world.users['xa_insp_expired']}") == []
    today = china_today()  # the documents' date is China's (UTC+8)
    assert doc1["id"] in ids(f"date_from={today}&date_to={today}")
    assert ids(f"date_from={today + timedelta(days=1)}") == []
    assert reg_only.id not in ids("")  # 同安局's document is outside 翔安区
    assert ids(f"enterprise_id={world.enterprises['E4']}") == []
    city = api("city_reg")
    assert reg_only.id in [d["id"] for d in ok(city.get(f"{API}?enterprise_id={world.enterprises['E4']}"))["items"]]

    detail = ok(c.get(f"{API}/{doc1['id']}"))
    assert detail["data"]["problems"][0]["description"] == "一号问题" and detail["legal_review"] is None
    pdf = c.get(detail["pdf_url"])
    assert pdf.mimetype == "application/pdf"
    import hashlib
    assert hashlib.sha256(pdf.data).hexdigest() == detail["pdf_sha256"]
    error(api("ta_reg").get(f"{API}/{doc1['id']}"), 404)
    error(api("ent4_mgr").get(f"{API}/{doc1['id']}/pdf"), 404)
    error(c.post(f"{API}/{doc1['id']}/receive"), 403)
    received = ok(api("ent1_mgr").post(f"{API}/{doc1['id']}/receive"))
    assert received["received_at"] and received["received_by_id"] == world.users["ent1_mgr"]
    assert ok(api("ent1_mgr").get(API))["total"] >= 2


def _certified(session, world, name):
    return users.save_user(session, SYSTEM, {
        "username": name, "display_name": name, "password": "secret-password-1", "roles": ["inspector"],
        "jurisdiction_id": world.nodes["同安区"], "agency_id": world.agencies["同安局"],
        "cert_number": name.upper(), "cert_valid_until": date.today() + timedelta(days=30)})


def test_422_with_chinese_field_messages(session, world, insp2, api):
    """R-N3: schema and service errors are 422 with ``errors.json.<field>`` in Chinese."""
    c = api("xa_insp")
    body = error(c.post(f"{API}/orders", json={"enterprise_id": "x", "items": [], "deadline": "明天"}), 422)
    errs = body["errors"]["json"]
    assert errs["enterprise_id"] == ["应为整数"] and errs["deadline"] == ["应为日期（格式 YYYY-MM-DD）"]
    assert errs["signer_ids"] == ["必填项"]
    h = hazard(session, world, "单人签名")
    session.commit()
    body = error(c.post(f"{API}/orders", json=order_body(world, insp2, [h], signer_ids=[world.users["xa_insp"]])), 422)
    assert body["errors"]["json"]["signer_ids"] == ["执法文书须由两名以上执法人员签名"]
    body = error(c.post(f"{API}/review-opinions", json={"order_id": 1, "results": [{"passed": "也许"}],
                                                        "signer_ids": []}), 422)
    assert body["errors"]["json"]["results"]["0"] == {"hazard_id": ["必填项"], "passed": ["应为是/否"]}
    body = error(c.get(f"{API}?date_from=昨天"), 422)
    assert body["errors"]["query"]["date_from"] == ["应为日期（格式 YYYY-MM-DD）"]
    error(c.post(f"{API}/orders", json=order_body(world, insp2, [h], stray=1)), 422)


def test_review_notice_and_legal_decision_through_the_api(session, world, insp2, api, app, monkeypatch):
    """R-E5/R-O2: 复查意见书 by JSON; a 挂牌督办通知书 sent to 法制审核 and approved by the agency's regulator."""
    c = api("xa_insp")
    h = hazard(session, world, "复查问题")
    session.commit()
    order = ok(c.post(f"{API}/orders", json=order_body(world, insp2, [h])), 201)["document"]
    hazard_flow.perform(session, world.user(session, "ent1_mgr"), h.id, "request_review",
                        {"version": h.version, "comment": "已整改"})
    session.commit()
    review = ok(c.post(f"{API}/review-opinions", json={
        "order_id": order["id"], "signer_ids": [world.users["xa_insp"], insp2.id],
        "results": [{"hazard_id": h.id, "passed": True}]}), 201)["document"]
    assert review["related_id"] == order["id"] and review["hazards"][0]["result"] == "passed"

    types = {k: dict(v) for k, v in app.config["DOCUMENT_TYPES"].items()}
    types["supervision_notice"]["legal_review"] = True
    monkeypatch.setitem(app.config, "DOCUMENT_TYPES", types)
    reg = world.user(session, "xa_reg")
    major = hazards.register_hazard(session, reg, {"enterprise_id": world.enterprises["E1"], "category": "thing",
                                                   "description": "重大问题待督办", "level": "major"})
    hazard_flow.perform(session, reg, major.id, "list", {"version": major.version, "level": "county",
                                                         "due_date": date.today() + timedelta(days=20),
                                                         "leader_name": "督办领导"})
    session.commit()
    listing_id = major.supervisions[-1].id
    error(c.post(f"{API}/supervision-notices", json={"supervision_id": listing_id}), 403)
    pending = ok(api("xa_reg").post(f"{API}/supervision-notices", json={"supervision_id": listing_id}), 201)
    assert pending["status"] == "pending_legal_review" and pending["document"] is None
    lr = pending["legal_review"]
    assert lr["status"] == "pending" and lr["type_name"] == "挂牌督办通知书"
    assert [r["id"] for r in ok(c.get(f"{API}/legal-reviews"))][:1] == [lr["id"]]
    own = error(api("xa_reg").post(f"{API}/legal-reviews/{lr['id']}/decision",
                                   json={"version": lr["version"], "approve": True}), 403)
    assert "不能审核自己送审的文书" in own["message"]
    other = users.save_user(session, SYSTEM, {
        "username": "xa_legal", "display_name": "法制科", "password": "secret-password-1", "roles": ["regulator"],
        "jurisdiction_id": world.nodes["翔安区"], "agency_id": world.agencies["翔安局"]})
    raw, _ = users.create_token(session, SYSTEM, other, "tests")
    session.commit()
    legal = app.test_client()
    legal.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    error(legal.post(f"{API}/legal-reviews/{lr['id']}/decision", json={"version": lr["version"]}), 422)
    decided = ok(legal.post(f"{API}/legal-reviews/{lr['id']}/decision",
                            json={"version": lr["version"], "approve": True, "opinion": "同意"}))
    assert decided["status"] == "approved" and decided["decided_by_name"] == "法制科"
    notice = ok(c.get(f"{API}/{decided['document_id']}"))
    assert notice["doc_type"] == "supervision_notice" and notice["legal_review"]["decided_by_id"] == other.id
    error(legal.post(f"{API}/legal-reviews/{lr['id']}/decision", json={"version": decided["version"],
                                                                        "approve": True}), 409)
    error(api("ta_reg").get(f"{API}/legal-reviews/{lr['id']}"), 404)


def test_batch_as_one_merged_pdf_and_the_bound(session, world, insp2, login, monkeypatch, app):
    """R-O2 (issue 7 item 6): the filtered documents as ONE PDF whose page count is the sum of theirs; the
    batch is bounded (DOCUMENT_BATCH_MAX, 200 by default; the page says so)."""
    actor = world.user(session, "xa_insp")
    issued = []
    for n in range(3):
        hs = [hazard(session, world, f"第{n}批问题{i}：" + "隐患描述较长，" * 12) for i in range(1 + 14 * n)]
        issued.append(documents.issue_order(session, actor, {
            "enterprise_id": world.enterprises["E1"], "deadline": date.today() + timedelta(days=8),
            "items": [{"hazard_id": h.id} for h in hs], "signer_ids": [world.users["xa_insp"], insp2.id]}))
    session.commit()
    pages = [len(PdfReader(io.BytesIO(documents.pdf_bytes(d))).pages) for d in issued]
    assert pages[0] == 1 and pages[2] >= 2
    c = login("xa_insp")
    listing = c.get("/documents/").get_data(as_text=True)
    assert "合并为一个 PDF" in listing and "最多 200 份" in listing
    ids = {d.id for d in issued}
    docs = [d for d in documents.list_documents(session, actor, enterprise_id=world.enterprises["E1"]) if d.id in ids]
    merged = PdfReader(io.BytesIO(documents.merged_pdf(list(reversed(docs)))))
    assert len(merged.pages) == sum(pages)
    assert [o.title for o in merged.outline if not isinstance(o, list)] == [d.number for d in issued]
    resp = c.get(f"/documents/batch.pdf?enterprise_id={world.enterprises['E1']}")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    all_e1 = documents.list_documents(session, actor, enterprise_id=world.enterprises["E1"])
    whole = PdfReader(io.BytesIO(resp.data))
    assert len(whole.pages) == sum(len(PdfReader(io.BytesIO(documents.pdf_bytes(d))).pages) for d in all_e1)
    monkeypatch.setitem(app.config, "DOCUMENT_BATCH_MAX", 2)
    refused = c.get(f"/documents/batch.pdf?enterprise_id={world.enterprises['E1']}", follow_redirects=True)
    assert "符合条件的文书超过 2 份，请缩小筛选范围后再批量下载" in refused.get_data(as_text=True)


def test_the_document_list_page_pages_and_searches(session, world, insp2, login, app, monkeypatch):
    """R-N1: the 执法文书 page shows one keyset page (not every document) and searches by number or enterprise
    name instead of listing every enterprise in a drop-down; picking the enterprise for a new 指令书 is a search."""
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    docs = [documents.issue_order(session, world.user(session, "xa_insp"),
                                  {**order_body(world, insp2, [hazard(session, world, f"问题{i}")]),
                                   "deadline": date.today() + timedelta(days=9)})
            for i in range(3)]
    session.commit()
    client = login("xa_reg")
    first = client.get("/documents/").get_data(as_text=True)
    assert docs[2].number in first and docs[1].number in first and docs[0].number not in first
    assert "<select name=\"enterprise_id\"" not in first and "下一页" in first
    second = client.get(f"/documents/?after={docs[1].id}").get_data(as_text=True)
    assert docs[0].number in second and docs[2].number not in second
    by_name = client.get("/documents/?q=测试E1").get_data(as_text=True)
    assert docs[2].number in by_name
    assert "没有执法文书" in client.get("/documents/?q=测试E4").get_data(as_text=True)
    assert docs[0].number in client.get(f"/documents/?q={docs[0].number}").get_data(as_text=True)
    chip = client.get(f"/documents/?enterprise_id={world.enterprises['E1']}").get_data(as_text=True)
    assert "企业：<b>测试E1有限公司</b>" in chip
    pick = client.get("/documents/new?q=测试E1").get_data(as_text=True)
    assert f"/documents/order/new/{world.enterprises['E1']}" in pick and "测试E4" not in pick
    assert login("ent1_mgr").get("/documents/new").status_code == 403
