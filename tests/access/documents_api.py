"""Access-matrix entries of the 执法文书 JSON API (``/api/v1/documents``).

The same rules as the pages (tests/access/documents.py, whose resolvers are reused): documents in scope for every
role but grid workers, 签收 by the addressed enterprise, issuing by 执法人员 of an agency, 法制审核 inside the agency.
An issued 指令书 needs a registered hazard of 测试E1 and two certified signers of the caller's agency (made in the
body resolver); the expired inspector may not 下达整改 (持证上岗: 403).
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from core.models import LegalReview
from core.services import hazards, users
from core.services.actors import SYSTEM
from tests.access.documents import (
    AGENCY_ISSUERS,
    ISSUERS,
    VIEWERS,
    doc_of,
    legal_review_of,
    listing_of,
    one,
)
from tests.test_access_matrix import Case, api


def order_body(session, world, username, args) -> dict:
    """A 指令书 of a fresh hazard of E1, signed by two fresh certified inspectors of the caller's agency."""
    actor = world.user(session, username)
    h = hazards.register_hazard(session, world.user(session, "ent1_mgr"), {
        "enterprise_id": world.enterprises["E1"], "description": "权限矩阵指令书隐患", "category": "thing"})
    signers = []
    for _ in range(2):
        u = users.save_user(session, SYSTEM, {
            "username": f"m{uuid.uuid4().hex[:10]}", "display_name": "矩阵执法", "password": "matrix-pass-123",
            "roles": ["inspector"], "jurisdiction_id": actor.jurisdiction_id or world.nodes["翔安区"],
            "agency_id": actor.agency_id or world.agencies["翔安局"], "cert_number": uuid.uuid4().hex[:8],
            "cert_valid_until": date.today() + timedelta(days=30)})
        signers.append(u.id)
    session.flush()
    return {"enterprise_id": world.enterprises["E1"], "deadline": (date.today() + timedelta(days=10)).isoformat(),
            "items": [{"hazard_id": h.id, "version": h.version}], "signer_ids": signers}


def review_body(session, world, username, args) -> dict:
    return {"order_id": 987654, "signer_ids": [1, 2], "results": [{"hazard_id": 1, "passed": True}]}


def notice_body(key: str):
    def body(session, world, username, args) -> dict:
        return {"supervision_id": listing_of(key)(session, world, username)}

    return body


def return_body(session, world, username, args) -> dict:
    return {"version": session.get(LegalReview, args["review_id"]).version, "approve": False,
            "opinion": "权限矩阵退回"}


EXPECTED = {
    "api_documents.list_": api(Case(allowed=VIEWERS)),
    "api_documents.detail": api(*one()),
    "api_documents.pdf": api(*one()),
    "api_documents.receive": api(
        Case("E1", {"document_id": doc_of("E1")}, allowed=frozenset({"ent1_mgr", "ent1_principal"}),
             not_found=frozenset({"ent4_mgr"})),
        Case("missing", {"document_id": 987654}, not_found=frozenset({"ent1_mgr", "ent1_principal", "ent4_mgr"})),
    ),
    "api_documents.issue_order": api(
        Case("E1", allowed=frozenset({"city_reg", "xa_reg", "xa_insp"}), not_found=frozenset({"ta_reg"}),
             body=order_body),
    ),
    "api_documents.issue_review": api(Case("missing order", not_found=ISSUERS, body=review_body)),
    "api_documents.issue_notice": api(
        Case("E1", allowed=frozenset({"xa_reg"}), not_found=frozenset({"ta_reg"}), body=notice_body("E1")),
    ),
    "api_documents.legal_reviews": api(Case(allowed=ISSUERS)),
    "api_documents.legal_review": api(
        Case("E1", {"review_id": legal_review_of("E1")}, allowed=AGENCY_ISSUERS["E1"],
             not_found=ISSUERS - AGENCY_ISSUERS["E1"]),
        Case("missing", {"review_id": 987654}, not_found=ISSUERS),
    ),
    "api_documents.legal_decision": api(
        Case("E1", {"review_id": legal_review_of("E1")}, allowed=frozenset({"xa_reg"}),
             not_found=ISSUERS - AGENCY_ISSUERS["E1"], body=return_body),
        Case("E4 own request", {"review_id": legal_review_of("E4")}, not_found=ISSUERS - AGENCY_ISSUERS["E4"],
             body=return_body),
    ),
}
