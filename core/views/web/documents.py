"""执法文书 pages (R-E3…R-E5): the list with filters, one document (download its PDF as issued, 签收 by the
enterprise), a batch as one ZIP, the phone-first forms that issue a 责令限期整改指令书 from an enterprise's hazards
and a 整改复查意见书 from a 指令书, and the public verification page behind the code printed on every PDF."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from marshmallow import ValidationError
from sqlalchemy import select

from core.extensions import db
from core.models import Document, Enterprise
from core.pdf import PDF_MIMETYPE
from core.schemas.document import DocumentFilterIn, OrderIn, ReviewIn
from core.services import documents
from core.services.errors import ServiceError, ValidationFailed
from core.services.permissions import can
from core.services.scope import enterprise_clause
from core.views.web import nav

bp = Blueprint("documents", __name__, url_prefix="/documents")
nav.add("documents.index", "执法文书", "document.view", 17, group="inspections")


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


@bp.get("/")
@login_required
def index():
    new_for = request.args.get("new_for", type=int)
    if new_for:
        return redirect(url_for(".order_new", enterprise_id=new_for))
    filters = _filters()
    docs = documents.list_documents(db.session, current_user, **filters)
    ents = [] if current_user.enterprise_id else list(db.session.scalars(
        select(Enterprise).where(enterprise_clause(current_user)).order_by(Enterprise.name).limit(500)))
    args = {k: v for k, v in request.args.items() if v}
    return render_template("documents/list.html", docs=docs, filters=filters, args=args, enterprises=ents,
                           types=current_app.config["DOCUMENT_TYPES"])


@bp.get("/batch.zip")
@login_required
def batch():
    docs = documents.list_documents(db.session, current_user, **_filters(), limit=200)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for doc in docs:
            zf.writestr(f"{doc.number}.pdf", documents.pdf_bytes(doc))
    buf.seek(0)
    return send_file(buf, mimetype="application/zip", as_attachment=True, download_name="执法文书.zip")


@bp.get("/<int:document_id>")
@login_required
def detail(document_id: int):
    doc = documents.get_document(db.session, current_user, document_id)
    reviews = [] if doc.doc_type != documents.ORDER else list(db.session.scalars(
        select(Document).where(Document.related_id == doc.id).order_by(Document.id)))
    return render_template("documents/detail.html", doc=doc, reviews=reviews,
                           type_name=doc.data.get("type_name"), can_issue=can(current_user, "document.issue"))


@bp.get("/<int:document_id>/pdf")
@login_required
def pdf(document_id: int):
    doc = documents.get_document(db.session, current_user, document_id)
    return send_file(io.BytesIO(documents.pdf_bytes(doc)), mimetype=PDF_MIMETYPE, as_attachment=True,
                     download_name=f"{doc.number}.pdf")


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
    form = request.form
    if request.method == "POST":
        chosen = form.getlist("hazard_ids")
        raw = {"enterprise_id": ent.id, "deadline": form.get("deadline"),
               "signer_ids": form.getlist("signer_ids"), "supersedes_id": form.get("supersedes_id"),
               "items": [{"hazard_id": hid, "deadline": form.get(f"deadline_{hid}"),
                          "version": form.get(f"version_{hid}")} for hid in chosen]}
        try:
            data = OrderIn().load(raw)
            doc = documents.issue_order(db.session, current_user, data)
            db.session.commit()
            flash(f"已签发 {doc.number}", "success")
            return redirect(url_for(".detail", document_id=doc.id))
        except ValidationError as exc:
            db.session.rollback()
            errors = _messages(ValidationFailed(exc.messages))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = _messages(exc)
        except ServiceError as exc:
            db.session.rollback()
            errors = [exc.message]
        agency, ent, hazards = documents.order_form_data(db.session, current_user, enterprise_id)
        signers = documents.signer_options(db.session, agency)
    return render_template("documents/order_form.html", agency=agency, ent=ent, hazards=hazards, signers=signers,
                           errors=errors, form=form), (422 if errors else 200)


@bp.route("/<int:document_id>/review", methods=["GET", "POST"])
@login_required
def review_new(document_id: int):
    agency, order, hazards = documents.review_form_data(db.session, current_user, document_id)
    signers = documents.signer_options(db.session, agency)
    errors: list[str] = []
    form = request.form
    if request.method == "POST":
        raw = {"order_id": order.id, "signer_ids": form.getlist("signer_ids"), "opinion": form.get("opinion"),
               "results": [{"hazard_id": h.id, "passed": form.get(f"result_{h.id}") == "passed",
                            "new_deadline": form.get(f"new_deadline_{h.id}"), "version": form.get(f"version_{h.id}")}
                           for h in hazards if form.get(f"result_{h.id}") in ("passed", "failed")]}
        try:
            data = ReviewIn().load(raw)
            doc = documents.issue_review(db.session, current_user, data)
            db.session.commit()
            flash(f"已签发 {doc.number}", "success")
            return redirect(url_for(".detail", document_id=doc.id))
        except ValidationError as exc:
            db.session.rollback()
            errors = _messages(ValidationFailed(exc.messages))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = _messages(exc)
        except ServiceError as exc:
            db.session.rollback()
            errors = [exc.message]
        agency, order, hazards = documents.review_form_data(db.session, current_user, document_id)
        signers = documents.signer_options(db.session, agency)
    return render_template("documents/review_form.html", agency=agency, order=order, hazards=hazards,
                           signers=signers, errors=errors, form=form), (422 if errors else 200)


@bp.route("/verify/<code>", methods=["GET", "POST"])
def verify(code: str):
    """Public: anyone holding a printed or e-mailed document checks it against what was issued."""
    doc, matches = documents.verify(db.session, code)
    if request.method == "POST" and doc is not None:
        upload = request.files.get("pdf")
        if upload is not None and upload.filename:
            doc, matches = documents.verify(db.session, code, upload.read(current_app.config["ATTACHMENT_MAX_BYTES"]))
        else:
            typed = (request.form.get("sha256") or "").strip().lower()
            matches = typed == doc.pdf_sha256 if typed else None
    return render_template("documents/verify.html", doc=doc, code=code, matches=matches,
                           type_name=doc.data.get("type_name") if doc else None), (200 if doc else 404)
