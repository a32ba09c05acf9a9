"""Access-matrix entries of the 执法文书 pages (``/documents``).

Documents are made directly in the resolvers (a row and a tiny stored PDF, no rendering): one addressed to 测试E1
by 翔安局 and one to 测试E4 by 同安局. Everyone but grid workers sees the documents in their scope (enterprise users:
those addressed to them); only 执法人员 with an agency (inspectors, regulators) open the issue forms; only the
enterprise signs receipt. The verification page is public.

挂牌督办通知书: a 重大 hazard listed at county level by the district's regulator (E1: xa_reg of 翔安局, E4: ta_reg of
同安局); only a regulator of the listing agency opens the notice form. 法制审核: a pending request of 翔安局 (by
xa_insp) or 同安局 (by ta_reg), made as a row; the agency's issuers see it, its regulators decide (not on their
own request), everyone else in government gets 404 for another agency's request.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from core.models import Document, LegalReview
from core.services import hazard_flow, hazards
from core.services.actors import SYSTEM
from core.services.attachments import Upload, store
from tests.test_access_matrix import EVERYONE, SEES_E1, SEES_E4, Case

PDF = b"%PDF-1.4\n% matrix\n"
AGENCY = {"E1": "翔安局", "E4": "同安局"}
VIEWERS = EVERYONE - {"grid1"}
ISSUERS = frozenset({"city_reg", "xa_reg", "ta_reg", "xa_insp", "xa_insp_expired"})
LISTER = {"E1": "xa_reg", "E4": "ta_reg"}
#: The issuers of each agency (who see its 法制审核 requests).
AGENCY_ISSUERS = {"E1": frozenset({"xa_reg", "xa_insp", "xa_insp_expired"}), "E4": frozenset({"ta_reg"})}


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


def listing_of(key: str):
    """Resolver: a fresh 重大 hazard of enterprise ``key`` listed (挂牌督办) at county level; the listing's id."""

    def make(session, world, username) -> int:
        h = hazards.register_hazard(session, world.user(session, LISTER[key]), {
            "enterprise_id": world.enterprises[key], "description": "权限矩阵重大隐患", "category": "thing",
            "level": "major"})
        hazard_flow.perform(session, world.user(session, LISTER[key]), h.id, "list", {
            "version": h.version, "level": "county", "due_date": date.today() + timedelta(days=30),
            "leader_name": "矩阵领导", "requirements": "按期整改"})
        session.flush()
        return h.supervisions[-1].id

    return make


def legal_review_of(key: str):
    """Resolver: a pending 法制审核 request of the agency of ``key`` (made by an issuer of that agency)."""
    requester = {"E1": "xa_insp", "E4": "ta_reg"}[key]

    def make(session, world, username) -> int:
        ent = world.ent(session, key)
        review = LegalReview(agency_id=world.agencies[AGENCY[key]], enterprise_id=ent.id, scope_path=ent.scope_path,
                             doc_type="rectification_order", request={"enterprise_id": ent.id, "items": []},
                             summary=f"责令限期整改指令书：{ent.name}", requested_by_id=world.users[requester])
        session.add(review)
        session.flush()
        return review.id

    return make


def return_form(session, world, username, args) -> dict:
    return {"version": str(session.get(LegalReview, args["review_id"]).version), "decision": "return",
            "opinion": "权限矩阵退回"}


def one(endpoint_args: str = "document_id", allowed_e1=VIEWERS & SEES_E1, allowed_e4=VIEWERS & SEES_E4):
    return [
        Case("E1", {endpoint_args: doc_of("E1")}, allowed=allowed_e1, not_found=EVERYONE - SEES_E1),
        Case("E4", {endpoint_args: doc_of("E4")}, allowed=allowed_e4, not_found=EVERYONE - SEES_E4 - {"grid1"}),
        Case("missing", {endpoint_args: 987654}, not_found=EVERYONE - {"grid1"}),
    ]


EXPECTED = {
    "documents.index": [Case(allowed=VIEWERS)],
    "documents.choose": [Case(allowed=ISSUERS)],
    "documents.batch": [Case(allowed=VIEWERS)],
    "documents.batch_pdf": [Case(allowed=VIEWERS)],
    "documents.notice_new": [
        Case("E1", {"supervision_id": listing_of("E1")}, allowed=frozenset({"xa_reg"}), not_found=frozenset({"ta_reg"})),
        Case("E4", {"supervision_id": listing_of("E4")}, allowed=frozenset({"ta_reg"}),
             not_found=frozenset({"xa_reg", "xa_insp", "xa_insp_expired"})),
        Case("missing", {"supervision_id": 987654}, not_found=ISSUERS),
    ],
    "documents.typed_new": [
        # The test app enables no plugin with document types: an unknown type is 404 to issuers.
        Case("unknown type", {"doc_type": "nope", "enterprise_id": lambda s, w, u: w.enterprises["E1"]},
             not_found=ISSUERS),
    ],
    "documents.legal_index": [Case(allowed=ISSUERS)],
    "documents.legal_detail": [
        Case("E1", {"review_id": legal_review_of("E1")}, allowed=AGENCY_ISSUERS["E1"],
             not_found=ISSUERS - AGENCY_ISSUERS["E1"]),
        Case("E4", {"review_id": legal_review_of("E4")}, allowed=AGENCY_ISSUERS["E4"],
             not_found=ISSUERS - AGENCY_ISSUERS["E4"]),
        Case("missing", {"review_id": 987654}, not_found=ISSUERS),
    ],
    "documents.legal_decide": [
        # Returned with reasons by 翔安局's regulator; its inspectors may not decide; ta_reg's own request is not
        # his to decide.
        Case("E1", {"review_id": legal_review_of("E1")}, allowed=frozenset({"xa_reg"}),
             not_found=ISSUERS - AGENCY_ISSUERS["E1"], body=return_form),
        Case("E4 own request", {"review_id": legal_review_of("E4")},
             not_found=ISSUERS - AGENCY_ISSUERS["E4"], body=return_form),
    ],
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
