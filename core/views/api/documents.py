"""执法文书 (R-E3…R-E5, R-O2): the list with filters and keyset pages, one document, its PDF exactly as issued,
签收 by the enterprise, issuing a 责令限期整改指令书, a 整改复查意见书 or a 挂牌督办通知书 from JSON, and 法制审核.

An issue request answers 201 with ``status`` ``issued`` and the document, or — for a type that needs 法制审核 —
``pending_legal_review`` and the review (the document is issued and numbered when a reviewer approves it).
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_smorest import Blueprint
from sqlalchemy import select

from core.extensions import db
from core.models import Document, LegalReview
from core.pdf import PDF_MIMETYPE
from core.schemas.document import (
    DocumentDetailOut,
    DocumentPageIn,
    DocumentPageOut,
    IssuedOut,
    LegalDecisionIn,
    LegalReviewOut,
    NoticeIn,
    OrderIn,
    ReviewIn,
)
from core.services import documents
from core.views.api import authenticate, current_actor
from core.views.files import send_bytes

PREFIX = "/documents"
blp = Blueprint("api_documents", __name__,
                description="执法文书：列表与筛选、PDF 下载、企业签收、签发指令书/复查意见书/挂牌督办通知书、法制审核")
blp.before_request(authenticate)


def _summary(d: Document) -> dict[str, Any]:
    return {"id": d.id, "doc_type": d.doc_type, "type_name": d.data.get("type_name", d.doc_type), "number": d.number,
            "agency_id": d.agency_id, "agency_name": d.agency.name, "enterprise_id": d.enterprise_id,
            "enterprise_name": d.enterprise.name, "issued_on": d.issued_on, "issued_at": d.issued_at,
            "status": d.status, "status_label": d.status_label, "signers": d.data.get("signers", []),
            "received_at": d.received_at, "verify_code": d.verify_code, "pdf_sha256": d.pdf_sha256,
            "pdf_url": url_for("api_documents.pdf", document_id=d.id)}


def _review(r: LegalReview) -> dict[str, Any]:
    types = documents.document_types()
    doc = r.document
    return {"id": r.id, "doc_type": r.doc_type, "type_name": types.get(r.doc_type, {}).get("name", r.doc_type),
            "enterprise_id": r.enterprise_id, "enterprise_name": r.enterprise.name, "summary": r.summary,
            "status": r.status, "status_label": r.status_label, "requested_by_id": r.requested_by_id,
            "requested_by_name": r.requested_by.display_name, "requested_at": r.requested_at,
            "decided_by_id": r.decided_by_id, "decided_by_name": r.decided_by.display_name if r.decided_by else None,
            "decided_at": r.decided_at, "opinion": r.opinion, "document_id": doc.id if doc else None,
            "request": r.request, "version": r.version}


def _detail(d: Document) -> dict[str, Any]:
    superseded_by = db.session.scalar(select(Document.id).where(Document.supersedes_id == d.id))
    return {**_summary(d), "data": d.data, "related_id": d.related_id, "supersedes_id": d.supersedes_id,
            "superseded_by_id": superseded_by, "inspection_run_id": d.inspection_run_id,
            "received_by_id": d.received_by_id,
            "hazards": [{"hazard_id": link.hazard_id, "position": link.position, "deadline": link.deadline,
                         "result": link.result} for link in d.hazard_links],
            "legal_review": _review(d.legal_review) if d.legal_review else None}


def _issued(result: Document | LegalReview) -> dict[str, Any]:
    if isinstance(result, LegalReview):
        return {"status": "pending_legal_review", "document": None, "legal_review": _review(result)}
    return {"status": "issued", "document": _detail(result), "legal_review": None}


@blp.route("")
@blp.arguments(DocumentPageIn, location="query", as_kwargs=False)
@blp.response(200, DocumentPageOut)
def list_(filters):
    """Documents in the caller's scope, newest first (enterprise users: those addressed to their enterprise).

    Filters: ``doc_type``, ``enterprise_id``, ``date_from``/``date_to`` (the document date), ``inspector_id``
    (a signing 执法人员). Keyset pagination: pass the previous page's ``next_after`` as ``after``; ``size`` 1–200
    (default 20)."""
    page = documents.document_page(db.session, current_actor(), filters, after=filters.get("after"),
                                   size=filters.get("size") or 20)
    return {"items": [_summary(d) for d in page.items], "next_after": page.next_after, "total": page.total,
            "total_capped": page.total_capped}


@blp.route("/<int:document_id>")
@blp.response(200, DocumentDetailOut)
def detail(document_id: int):
    """One document with its filled fields, hazards, relations and 法制审核 (404 when not visible)."""
    return _detail(documents.get_document(db.session, current_actor(), document_id))


@blp.route("/<int:document_id>/pdf")
@blp.doc(responses={"200": {"description": "签发时存储的 PDF（SHA-256 与 pdf_sha256 一致）",
                            "content": {PDF_MIMETYPE: {"schema": {"type": "string", "format": "binary"}}}}})
def pdf(document_id: int):
    """The PDF exactly as issued (404 when not visible; 409 when the stored file no longer matches its hash)."""
    doc = documents.get_document(db.session, current_actor(), document_id)
    return send_bytes(documents.pdf_bytes(doc), f"{doc.number}.pdf", PDF_MIMETYPE, etag=doc.pdf_sha256,
                      download=True)


@blp.route("/<int:document_id>/receive", methods=["POST"])
@blp.response(200, DocumentDetailOut)
def receive(document_id: int):
    """签收: the addressed enterprise acknowledges receipt (recorded once; 403 for other roles)."""
    doc = documents.acknowledge(db.session, current_actor(), document_id)
    db.session.commit()
    return _detail(doc)


@blp.route("/orders", methods=["POST"])
@blp.arguments(OrderIn, as_kwargs=False)
@blp.response(201, IssuedOut)
def issue_order(data):
    """Issue a 责令限期整改指令书 from registered hazards of one enterprise (each is 下达整改 with its deadline).

    403: not an 执法人员 of an agency; 404: enterprise not visible; 409: stale hazard ``version``; 422: bad fields,
    fewer than two signers with a valid 执法证, hazards of another enterprise or not awaiting 下达整改."""
    result = documents.issue_order(db.session, current_actor(), data)
    db.session.commit()
    return _issued(result)


@blp.route("/review-opinions", methods=["POST"])
@blp.arguments(ReviewIn, as_kwargs=False)
@blp.response(201, IssuedOut)
def issue_review(data):
    """Issue a 整改复查意见书 for a 指令书: one result per hazard (failed ones with a new deadline, which returns
    them to 整改中). 404: 指令书 not visible; 409: superseded 指令书 or stale version; 422: missing results,
    hazards not awaiting 复查, bad signers."""
    result = documents.issue_review(db.session, current_actor(), data)
    db.session.commit()
    return _issued(result)


@blp.route("/supervision-notices", methods=["POST"])
@blp.arguments(NoticeIn, as_kwargs=False)
@blp.response(201, IssuedOut)
def issue_notice(data):
    """Issue the 挂牌督办通知书 of an active 县区/市/省 listing (``supervision_id``), as a 监管人员 of the listing
    agency (403 otherwise; 404 when the listing is not visible; 409 when lifted or already notified)."""
    result = documents.issue_notice(db.session, current_actor(), data)
    db.session.commit()
    return _issued(result)


@blp.route("/legal-reviews")
@blp.response(200, LegalReviewOut(many=True))
def legal_reviews():
    """The 法制审核 requests of the caller's agency that are pending, newest first (issuers and reviewers)."""
    return [_review(r) for r in documents.list_legal_reviews(db.session, current_actor())]


@blp.route("/legal-reviews/<int:review_id>")
@blp.response(200, LegalReviewOut)
def legal_review(review_id: int):
    """One 法制审核 request with the request as submitted and the decision (404 outside the caller's agency)."""
    return _review(documents.get_legal_review(db.session, current_actor(), review_id))


@blp.route("/legal-reviews/<int:review_id>/decision", methods=["POST"])
@blp.arguments(LegalDecisionIn, as_kwargs=False)
@blp.response(200, LegalReviewOut)
def legal_decision(data, review_id: int):
    """法制审核 decision by a reviewer of the agency (``document.legal_review``; never on one's own request):
    ``approve`` true issues and numbers the document now; false returns it (``opinion`` required). 409 when
    already decided or ``version`` is stale."""
    review = documents.decide_legal_review(db.session, current_actor(), review_id, data)
    db.session.commit()
    return _review(review)
