"""A stored issued PDF whose bytes changed, or that is missing, is detected on every download (409, audited as
``integrity_failure``) and on the public verification page (R-E4 immutability, R-E5; issue 14 item 6)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core.models import AuditEntry
from core.services import documents, hazards, users
from core.services.actors import SYSTEM
from core.services.attachments import storage_path


@pytest.fixture(autouse=True)
def _uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))


@pytest.fixture()
def doc(session, world):
    """An issued 指令书 (two certified signers of 翔安局), committed."""
    insp2 = users.save_user(session, SYSTEM, {
        "username": "xa_insp2", "display_name": "李执法", "password": "secret-password-1", "roles": ["inspector"],
        "jurisdiction_id": world.nodes["翔安区"], "agency_id": world.agencies["翔安局"],
        "cert_number": "XA-003", "cert_valid_until": date.today() + timedelta(days=365)})
    inspector = world.user(session, "xa_insp")
    h = hazards.register_hazard(session, inspector, {"enterprise_id": world.enterprises["E1"],
                                                     "description": "配电箱未接地", "category": "thing"})
    issued = documents.issue_order(session, inspector, {
        "enterprise_id": world.enterprises["E1"], "deadline": date.today() + timedelta(days=15),
        "items": [{"hazard_id": h.id, "version": h.version}], "signer_ids": [inspector.id, insp2.id]})
    session.commit()
    return issued


def tamper(doc) -> None:
    path = storage_path(doc.pdf_sha256)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit: the PDF still opens, the hash no longer matches
    path.write_bytes(bytes(data))


def failures(session, doc) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == "integrity_failure",
                                                         AuditEntry.object_id == str(doc.id))))


def test_an_intact_pdf_downloads_with_safe_headers(login, doc):
    resp = login("xa_insp").get(f"/documents/{doc.id}/pdf")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF") and resp.mimetype == "application/pdf"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize("damage", ["changed", "missing"])
def test_a_changed_or_missing_pdf_gets_409_and_an_audit_entry_on_the_page(login, session, world, doc, damage):
    if damage == "changed":
        tamper(doc)
    else:
        storage_path(doc.pdf_sha256).unlink()
    resp = login("xa_insp").get(f"/documents/{doc.id}/pdf")
    assert resp.status_code == 409 and resp.mimetype == "text/html"
    problem = "已被改动" if damage == "changed" else "缺失"
    html = resp.get_data(as_text=True)
    assert f"文书 {doc.number} 的存档 PDF {problem}，与签发时记录的校验值不符" in html
    (entry,) = failures(session, doc)
    assert (entry.actor_id, entry.object_type, entry.before["pdf_sha256"], entry.after["problem"]) == (
        world.users["xa_insp"], "document", doc.pdf_sha256, problem)
    assert (entry.after["found_sha256"] is None) == (damage == "missing")


def test_the_api_answers_409_json_and_audits_the_token_user(api, session, world, doc):
    tamper(doc)
    resp = api("xa_reg").get(f"/api/v1/documents/{doc.id}/pdf")
    assert resp.status_code == 409 and resp.is_json
    assert "已被改动" in resp.get_json()["message"]
    (entry,) = failures(session, doc)
    assert entry.actor_id == world.users["xa_reg"]


def test_batch_downloads_refuse_a_tampered_pdf_too(login, session, doc):
    tamper(doc)
    client = login("xa_insp")
    for url in ("/documents/batch.zip", "/documents/batch.pdf"):
        assert client.get(url).status_code == 409, url
    assert len(failures(session, doc)) == 2


def test_the_public_verification_page_warns(client, doc):
    intact = client.get(f"/documents/verify/{doc.verify_code}").get_data(as_text=True)
    assert "警告：本平台存档的该文书 PDF" not in intact
    tamper(doc)
    resp = client.get(f"/documents/verify/{doc.verify_code}")
    assert resp.status_code == 200
    assert "警告：本平台存档的该文书 PDF 已被改动，平台目前无法为其作证" in resp.get_data(as_text=True)
