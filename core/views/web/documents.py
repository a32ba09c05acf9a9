"""执法文书 pages (R-E3…R-E5, R-O2): the list with filters, one document (download its PDF as issued, 签收 by the
enterprise), a batch as one merged PDF or a ZIP (at most ``DOCUMENT_BATCH_MAX``), the phone-first forms that issue
a 责令限期整改指令书 from an enterprise's hazards, a 整改复查意见书 from a 指令书, a 挂牌督办通知书 from a listing and a
plugin's document type, the 法制审核 queue and decisions, and the public verification page behind the code printed
on every PDF. A form whose type needs 法制审核 sends the request to review instead of issuing it."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from marshmallow import ValidationError
from sqlalchemy import select

from core.extensions import db
from core.models import Document, Enterprise, LegalReview, User
from core.pdf import PDF_MIMETYPE
from core.schemas.document import (
    DocumentFilterIn,
    LegalDecisionIn,
    NoticeIn,
    OrderIn,
    ReviewIn,
    TypedDocumentIn,
)
from core.services import documents, enterprises
from core.services.actors import SYSTEM
from core.services.errors import NotFound, ServiceError, ValidationFailed
from core.services.permissions import can, require
from core.views.files import send_bytes
from core.views.web import nav
from core.views.web.forms import posted

bp = Blueprint("documents", __name__, url_prefix="/documents")
nav.add("documents.index", "执法文书", "document.view", 17, group="inspections")
nav.add("documents.legal_index", "法制审核", "document.legal_review", 18, group="inspections")


@bp.app_context_processor
def _document_helpers() -> dict[str, Any]:
    """For the hazard and enterprise pages: the documents that list a hazard, and an enterprise's count."""

    def hazard_documents(hazard) -> list[Document]:
        if not (current_user.is_authenticated and can(current_user, "document.view")):
            return []
        return documents.list_documents(db.session, current_user, hazard_id=hazard.id, limit=50)

    def enterprise_document_count(enterprise) -> int | None:
        if not (current_user.is_authenticated and can(current_user, "document.view")):
            return None
        return documents.count_for_enterprise(db.session, current_user, enterprise.id)

    return {"hazard_documents": hazard_documents, "enterprise_document_count": enterprise_document_count}


def _filters() -> dict[str, Any]:
    try:
        return DocumentFilterIn().load(request.args.to_dict())
    except ValidationError:
        flash("筛选条件有误", "error")
        return {}


def _messages(exc: ValidationFailed) -> list[str]:
    out: list[str] = []
    for value in exc.errors.values():
        if isinstance(value, dict):
            out.extend(m for msgs in value.values() for m in (msgs if isinstance(msgs, list) else [msgs]))
        else:
            out.extend(value if isinstance(value, list) else [str(value)])
    return out


def _issue(schema, service, raw: dict[str, Any]) -> tuple[Any, list[str]]:
    """Validate ``raw``, call the issuing service and commit; (document or pending review, errors)."""
    try:
        result = service(db.session, current_user, schema().load(raw))
        db.session.commit()
        return result, []
    except ValidationError as exc:
        db.session.rollback()
        return None, _messages(ValidationFailed(exc.messages))
    except ValidationFailed as exc:
        db.session.rollback()
        return None, _messages(exc)
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        db.session.rollback()
        return None, [exc.message]


def _done(result):
    if isinstance(result, LegalReview):
        flash("该文书须经法制审核，已送审；审核通过后签发并编号", "success")
        return redirect(url_for(".legal_detail", review_id=result.id))
    flash(f"已签发 {result.number}", "success")
    return redirect(url_for(".detail", document_id=result.id))


def _enterprise(enterprise_id: int | None) -> Enterprise | None:
    """The enterprise a list is filtered by, when the user may see it (shown as a chip, not a <select>: a city
    has tens of thousands of enterprises)."""
    if not enterprise_id or current_user.enterprise_id:
        return None
    try:
        return enterprises.get_enterprise(db.session, current_user, enterprise_id)
    except NotFound:
        return None


def _inspectors() -> list[User]:
    if current_user.enterprise_id or not current_user.agency_id:
        return []
    return list(db.session.scalars(select(User).where(User.agency_id == current_user.agency_id,
                                                      User.cert_number.is_not(None)).order_by(User.id)))


@bp.get("/")
@login_required
def index():
    filters = _filters()
    page = documents.document_page(db.session, current_user, filters, after=request.args.get("after", type=int),
                                   size=current_app.config["PAGE_SIZE"])
    args = {k: v for k, v in request.args.items() if v and k != "after"}
    return render_template("documents/list.html", page=page, filters=filters, args=args,
                           enterprise=_enterprise(filters.get("enterprise_id")), inspectors=_inspectors(),
                           without_enterprise={k: v for k, v in args.items() if k != "enterprise_id"},
                           types=documents.document_types(), plugin_types=documents.plugin_types(),
                           batch_max=current_app.config["DOCUMENT_BATCH_MAX"])


@bp.get("/new")
@login_required
def choose():
    """Pick the enterprise a new document is for: a name search over the enterprises in scope (20 at a time)."""
    require(current_user, "document.issue")
    q = (request.args.get("q") or "").strip()[:100]
    doc_type = request.args.get("new_type") or documents.ORDER
    page = enterprises.list_enterprises(db.session, current_user, {"q": q} if q else {}, size=20)
    return render_template("documents/choose.html", page=page, q=q, doc_type=doc_type,
                           plugin_types=documents.plugin_types())


@bp.get("/batch.zip")
@login_required
def batch():
    docs = documents.batch_documents(db.session, current_user, _filters())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for doc in docs:
            zf.writestr(f"{doc.number}.pdf", documents.pdf_bytes(doc))
    buf.seek(0)
    return send_file(buf, mimetype="application/zip", as_attachment=True, download_name="执法文书.zip")


@bp.get("/batch.pdf")
@login_required
def batch_pdf():
    """The filtered documents as ONE PDF (oldest first, a bookmark per document)."""
    docs = documents.batch_documents(db.session, current_user, _filters())
    return send_file(io.BytesIO(documents.merged_pdf(docs)), mimetype=PDF_MIMETYPE, as_attachment=True,
                     download_name=f"执法文书（{len(docs)}份）.pdf")


@bp.get("/<int:document_id>")
@login_required
def detail(document_id: int):
    doc = documents.get_document(db.session, current_user, document_id)
    reviews = [] if doc.doc_type != documents.ORDER else list(db.session.scalars(
        select(Document).where(Document.related_id == doc.id).order_by(Document.id)))
    superseded_by = db.session.scalar(select(Document).where(Document.supersedes_id == doc.id))
    config = documents.document_types().get(doc.doc_type)  # None when the plugin is no longer enabled
    field_labels = {f.name: f.label for f in config["fields"]} if config else {}
    return render_template("documents/detail.html", doc=doc, reviews=reviews, superseded_by=superseded_by,
                           field_labels=field_labels,
                           type_name=doc.data.get("type_name"), can_issue=can(current_user, "document.issue"))


@bp.get("/<int:document_id>/pdf")
@login_required
def pdf(document_id: int):
    doc = documents.get_document(db.session, current_user, document_id)
    return send_bytes(documents.pdf_bytes(doc), f"{doc.number}.pdf", PDF_MIMETYPE, etag=doc.pdf_sha256,
                      download=True)


@bp.post("/<int:document_id>/receive")
@login_required
def receive(document_id: int):
    documents.acknowledge(db.session, current_user, document_id)
    db.session.commit()
    flash("已签收该文书", "success")
    return redirect(url_for(".detail", document_id=document_id))


@bp.route("/order/new/<int:enterprise_id>", methods=["GET", "POST"])
@login_required
def order_new(enterprise_id: int):
    agency, ent, hazards = documents.order_form_data(db.session, current_user, enterprise_id)
    signers = documents.signer_options(db.session, agency)
    errors: list[str] = []
    form = posted()
    if request.method == "POST":
        chosen = form.getlist("hazard_ids")
        raw = {"enterprise_id": ent.id, "deadline": form.get("deadline"),
               "signer_ids": form.getlist("signer_ids"), "supersedes_id": form.get("supersedes_id"),
               "inspection_run_id": form.get("inspection_run_id"), "measures": form.getlist("measures"),
               "items": [{"hazard_id": hid, "deadline": form.get(f"deadline_{hid}"),
                          "version": form.get(f"version_{hid}")} for hid in chosen]}
        result, errors = _issue(OrderIn, documents.issue_order, raw)
        if result is not None:
            return _done(result)
        agency, ent, hazards = documents.order_form_data(db.session, current_user, enterprise_id)
        signers = documents.signer_options(db.session, agency)
    return render_template("documents/order_form.html", agency=agency, ent=ent, hazards=hazards, signers=signers,
                           errors=errors, form=form, measures=documents.major_measures(), run_id=request.values.get("inspection_run_id", ""),
                           legal_review=documents.needs_legal_review(documents.ORDER)), (422 if errors else 200)


@bp.route("/<int:document_id>/review", methods=["GET", "POST"])
@login_required
def review_new(document_id: int):
    agency, order, hazards = documents.review_form_data(db.session, current_user, document_id)
    signers = documents.signer_options(db.session, agency)
    errors: list[str] = []
    form = posted()
    if request.method == "POST":
        raw = {"order_id": order.id, "signer_ids": form.getlist("signer_ids"), "opinion": form.get("opinion"),
               "inspection_run_id": form.get("inspection_run_id"),
               "results": [{"hazard_id": h.id, "passed": form.get(f"result_{h.id}") == "passed",
                            "new_deadline": form.get(f"new_deadline_{h.id}"), "version": form.get(f"version_{h.id}")}
                           for h in hazards if form.get(f"result_{h.id}") in ("passed", "failed")]}
        result, errors = _issue(ReviewIn, documents.issue_review, raw)
        if result is not None:
            return _done(result)
        agency, order, hazards = documents.review_form_data(db.session, current_user, document_id)
        signers = documents.signer_options(db.session, agency)
    return render_template("documents/review_form.html", agency=agency, order=order, hazards=hazards,
                           signers=signers, errors=errors, form=form,
                           run_id=request.values.get("inspection_run_id", ""),
                           legal_review=documents.needs_legal_review(documents.REVIEW)), (422 if errors else 200)


@bp.route("/notice/new/<int:supervision_id>", methods=["GET", "POST"])
@login_required
def notice_new(supervision_id: int):
    """挂牌督办通知书 from a listing: the page shows what the notice will say; posting issues it."""
    agency, listing = documents.notice_listing(db.session, current_user, supervision_id)
    errors: list[str] = []
    if request.method == "POST":
        result, errors = _issue(NoticeIn, documents.issue_notice, {"supervision_id": supervision_id})
        if result is not None:
            return _done(result)
        agency, listing = documents.notice_listing(db.session, current_user, supervision_id)
    return render_template("documents/notice_form.html", agency=agency, listing=listing, hazard=listing.hazard,
                           existing=documents.notices_of_listing(db.session, listing), errors=errors,
                           requirements=documents._listing_requirements(listing),
                           level_labels=documents.SUPERVISION_LEVEL_LABELS,
                           text=current_app.config["SUPERVISION_NOTICE_TEXT"],
                           legal_review=documents.needs_legal_review(documents.NOTICE)), (422 if errors else 200)


@bp.route("/new/<doc_type>/<int:enterprise_id>", methods=["GET", "POST"])
@login_required
def typed_new(doc_type: str, enterprise_id: int):
    """A document of a plugin's type: its fill-ins, then the signers it needs."""
    agency, ent, config = documents.typed_form_data(db.session, current_user, doc_type, enterprise_id)
    signers = documents.signer_options(db.session, agency) if config["min_signers"] else []
    errors: list[str] = []
    form = posted()
    if request.method == "POST":
        raw = {"doc_type": doc_type, "enterprise_id": ent.id, "signer_ids": form.getlist("signer_ids"),
               "fields": {f.name: form.get(f"field_{f.name}", "") for f in config["fields"]}}
        result, errors = _issue(TypedDocumentIn, documents.issue_typed, raw)
        if result is not None:
            return _done(result)
    return render_template("documents/typed_form.html", agency=agency, ent=ent, config=config, doc_type=doc_type,
                           signers=signers, errors=errors, form=form), (422 if errors else 200)


@bp.get("/legal-reviews/")
@login_required
def legal_index():
    """The 法制审核 queue of the user's agency (pending first; ``?status=`` for decided ones)."""
    status = request.args.get("status", "pending")
    if status not in ("pending", "approved", "returned", "all"):
        status = "pending"
    rows = documents.list_legal_reviews(db.session, current_user, None if status == "all" else status)
    return render_template("documents/legal_list.html", rows=rows, status=status, types=documents.document_types())


@bp.get("/legal-reviews/<int:review_id>")
@login_required
def legal_detail(review_id: int):
    review = documents.get_legal_review(db.session, current_user, review_id)
    return render_template("documents/legal_detail.html", review=review, types=documents.document_types(),
                           signers=_signer_names(review), errors=[], form={})


def _signer_names(review: LegalReview) -> list[str]:
    ids = [i for i in review.request.get("signer_ids") or [] if isinstance(i, int)]
    names = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()) if ids else {}
    return [names.get(i, f"用户 {i}") for i in ids]


@bp.post("/legal-reviews/<int:review_id>/decision")
@login_required
def legal_decide(review_id: int):
    review = documents.get_legal_review(db.session, current_user, review_id)
    form = posted()
    raw = {"version": form.get("version"), "approve": form.get("decision") == "approve",
           "opinion": form.get("opinion")}
    result, errors = _issue(LegalDecisionIn, lambda s, a, d: documents.decide_legal_review(s, a, review_id, d), raw)
    if result is not None:
        if result.document is not None:
            flash(f"法制审核通过，已签发 {result.document.number}", "success")
            return redirect(url_for(".detail", document_id=result.document.id))
        flash("已退回送审人", "success")
        return redirect(url_for(".legal_detail", review_id=review_id))
    review = documents.get_legal_review(db.session, current_user, review_id)
    return render_template("documents/legal_detail.html", review=review, types=documents.document_types(),
                           signers=_signer_names(review), errors=errors, form=form), 422


@bp.route("/verify/<code>", methods=["GET", "POST"])
def verify(code: str):
    """Public: anyone holding a printed or e-mailed document checks it against what was issued."""
    doc, matches = documents.verify(db.session, code)
    if request.method == "POST" and doc is not None:
        upload = request.files.get("pdf")
        if upload is not None and upload.filename:
            doc, matches = documents.verify(db.session, code, upload.read(current_app.config["ATTACHMENT_MAX_BYTES"]))
        else:
            typed = (posted().get("sha256") or "").strip().lower()
            matches = typed == doc.pdf_sha256 if typed else None
    # The archive copy is checked too: a holder must learn when the platform can no longer vouch for it.
    stored_problem = documents.integrity_problem(doc) if doc is not None else None
    return render_template("documents/verify.html", doc=doc, code=code, matches=matches,
                           stored_problem=stored_problem,
                           type_name=doc.data.get("type_name") if doc else None), (200 if doc else 404)


@bp.app_errorhandler(documents.DocumentIntegrityError)
def integrity_failure(exc: documents.DocumentIntegrityError):
    """A stored PDF that is missing or changed (web and API): 409 with a Chinese message, and an
    ``integrity_failure`` audit entry committed on its own (the request's work is rolled back first)."""
    db.session.rollback()
    if request.path.startswith("/api/"):
        from flask import g

        from core.views.api import error_response

        actor = getattr(g, "api_user", None)
        response = error_response(409, exc.message)
    else:
        actor = current_user if current_user.is_authenticated else None
        response = render_template("errors/error.html", code=409, message=exc.message), 409
    documents.record_integrity_failure(db.session, actor or SYSTEM, exc)
    db.session.commit()
    current_app.logger.error("document %s: stored PDF %s", exc.document.id, exc.problem)
    return response
