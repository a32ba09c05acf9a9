"""Access-matrix entries of the 执法文书 pages (``/documents``).

Documents are made directly in the resolvers (a row and a tiny stored PDF, no rendering): one addressed to 测试E1
by 翔安局 and one to 测试E4 by 同安局. Everyone but grid workers sees the documents in their scope (enterprise users:
those addressed to them); only 执法人员 with an agency (inspectors, regulators) open the issue forms; only the
enterprise signs receipt. The verification page is public.
"""

from __future__ import annotations

import uuid
from datetime import date

from core.models import Document
from core.services.actors import SYSTEM
from core.services.attachments import Upload, store
from tests.test_access_matrix import EVERYONE, SEES_E1, SEES_E4, Case

PDF = b"%PDF-1.4\n% matrix\n"
AGENCY = {"E1": "翔安局", "E4": "同安局"}
VIEWERS = EVERYONE - {"grid1"}
ISSUERS = frozenset({"city_reg", "xa_reg", "ta_reg", "xa_insp", "xa_insp_expired"})


def doc_of(key: str, code: str | None = None):
    """Resolver: a fresh 指令书 addressed to enterprise ``key``."""

    def make(session, world, username) -> int | str:
        upload = Upload(data=PDF, content_type="application/pdf", filename="matrix.pdf")
        seq = uuid.uuid4().int % 1_000_000
        doc = Document(agency_id=world.agencies[AGENCY[key]], enterprise_id=world.enterprises[key],
                       scope_path=world.ent(session, key).scope_path, doc_type="rectification_order",
                       number=f"（矩阵）应急责改〔2099〕{seq}号", year=2099, sequence=seq, issued_on=date.today(),
                       signer_ids=[], data={"type_name": "责令限期整改指令书", "agency": {"name": "矩阵"},
                                            "enterprise": {"name": key}, "signers": []},
                       pdf_sha256=upload.sha256, verify_code=uuid.uuid4().hex[:10].upper())
        session.add(doc)
        session.flush()
        store(session, SYSTEM, upload, "document", doc.id)
        session.flush()
        return doc.verify_code if code else doc.id

    return make


def one(endpoint_args: str = "document_id", allowed_e1=VIEWERS & SEES_E1, allowed_e4=VIEWERS & SEES_E4):
    return [
        Case("E1", {endpoint_args: doc_of("E1")}, allowed=allowed_e1, not_found=EVERYONE - SEES_E1),
        Case("E4", {endpoint_args: doc_of("E4")}, allowed=allowed_e4, not_found=EVERYONE - SEES_E4 - {"grid1"}),
        Case("missing", {endpoint_args: 987654}, not_found=EVERYONE - {"grid1"}),
    ]


EXPECTED = {
    "documents.index": [Case(allowed=VIEWERS)],
    "documents.batch": [Case(allowed=VIEWERS)],
    "documents.detail": one(),
    "documents.pdf": one(),
    "documents.receive": [
        Case("E1", {"document_id": doc_of("E1")}, allowed=frozenset({"ent1_mgr", "ent1_principal"}),
             not_found=frozenset({"ent4_mgr"})),
        Case("E4", {"document_id": doc_of("E4")}, allowed=frozenset({"ent4_mgr"}),
             not_found=frozenset({"ent1_mgr", "ent1_principal"})),
    ],
    "documents.review_new": [
        Case("E1", {"document_id": doc_of("E1")}, allowed=ISSUERS & SEES_E1, not_found=frozenset({"ta_reg"})),
        Case("E4", {"document_id": doc_of("E4")}, allowed=ISSUERS & SEES_E4,
             not_found=frozenset({"xa_reg", "xa_insp", "xa_insp_expired"})),
    ],
    "documents.order_new": [
        Case("E1", {"enterprise_id": lambda s, w, u: w.enterprises["E1"]}, allowed=ISSUERS & SEES_E1,
             not_found=frozenset({"ta_reg"})),
        Case("E4", {"enterprise_id": lambda s, w, u: w.enterprises["E4"]}, allowed=ISSUERS & SEES_E4,
             not_found=frozenset({"xa_reg", "xa_insp", "xa_insp_expired"})),
    ],
    "documents.verify": [Case("E1", {"code": doc_of("E1", code="code")}, allowed=EVERYONE, anonymous="allowed")],
}
