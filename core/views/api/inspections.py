"""Inspection runs (检查记录, R-P2): list, start, detail with every item and its answer, save one answer, complete.

Answers are saved one at a time (JSON, or multipart with ``photos`` for the answer's photos); each answer carries
its own ``version`` (required once the answer exists; 409 when stale). A completed run is read-only (409).
Completing registers a hidden danger for every failing item whose ``on_fail.hazard`` is set; the summary lists
their ids and counts by level.

执法检查 (R-E3…R-E5): ``kind`` enforcement starts with a second certified inspector and the start position (or the
reason there is none); signatures are posted as multipart PNGs; completing needs both inspectors' and the on-site
person's signatures and the end position; ``/record`` is the full-process record; ``/inspection-record`` issues the
现场检查记录.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Blueprint
from marshmallow import ValidationError

from core.extensions import db
from core.models import InspectionRun, InspectionSignature
from core.schemas.inspection import (
    AnswerIn,
    CompleteIn,
    IssuedRecordOut,
    RecordOut,
    RunDetailOut,
    RunFilterIn,
    RunOut,
    RunPageOut,
    RunStartIn,
    SavedAnswerOut,
    SignatureIn,
    SignatureListOut,
    SignatureOut,
)
from core.services import field, inspection_record, inspections, signatures
from core.services.attachments import load_with_uploads
from core.services.errors import ValidationFailed
from core.views.api import authenticate, current_actor
from core.views.api.multipart import body_doc, read_body

PREFIX = "/inspections"
blp = Blueprint("api_inspections", __name__, description="检查记录：按检查表自查/检查，逐条保存答案，完成后不合格项生成隐患")
blp.before_request(authenticate)


def _run(run: InspectionRun) -> dict[str, Any]:
    return {
        "id": run.id, "enterprise_id": run.enterprise_id, "enterprise_name": run.enterprise.name, "kind": run.kind,
        "kind_label": run.kind_label, "object_type": run.object_type, "object_ref": run.object_ref,
        "task_id": run.task_id, "started_by_name": run.started_by_name, "started_at": run.started_at,
        "status": run.status, "status_label": run.status_label, "completed_at": run.completed_at,
        "summary": run.summary, "version": run.version,
        "checklists": [{"code": link.checklist.code, "version": link.checklist.version,
                        "title": link.checklist.title, "sector": link.checklist.sector} for link in run.checklists],
        "started_by_id": run.started_by_id, "co_inspector_id": run.co_inspector_id, "place": run.place,
        "onsite_name": run.onsite_name, "onsite_title": run.onsite_title,
        "start_position": _position(run.start_lat, run.start_lng, run.start_accuracy_m, run.start_gps_missing)
        if run.kind == "enforcement" else None,
        "end_position": _position(run.end_lat, run.end_lng, run.end_accuracy_m, run.end_gps_missing)
        if run.kind == "enforcement" and run.is_completed else None,
    }


def _position(lat, lng, accuracy_m, missing) -> dict[str, Any]:
    return {"lat": lat, "lng": lng, "accuracy_m": accuracy_m, "gps_missing": missing,
            "label": field.position_label(lat, lng, accuracy_m, missing)}


def _answer(iv: inspections.ItemView) -> dict[str, Any] | None:
    a = iv.answer
    if a is None:
        return None
    return {"item_id": iv.item.id, "value": a.value, "passed": a.passed, "comment": a.comment, "version": a.version,
            "hazard_id": a.hazard_id, "photos": [{"id": p.id, "filename": p.filename, "content_type": p.content_type,
                                                   "size": p.size, "sha256": p.sha256} for p in iv.photos],
            "missing_on_failure": iv.missing_on_failure()}


def _detail(view: inspections.RunView) -> dict[str, Any]:
    return {
        **_run(view.run), "progress": inspections.progress(view),
        "can_answer": inspections.can_perform(current_actor(), view.run),
        "items": [{
            "item_id": iv.item.id, "checklist": iv.checklist.code, "code": iv.item.code, "section": iv.item.section,
            "question": iv.item.question, "guidance": iv.guidance, "answer_type": iv.item.answer_type,
            "pass_when": iv.item.pass_when, "on_fail": iv.item.on_fail, "points": iv.item.points,
            "basis": [{"ref": ref, "text": text, "verified": verified} for ref, text, verified in iv.basis],
            "answer": _answer(iv)} for iv in view.items],
    }


@blp.route("")
@blp.arguments(RunFilterIn, location="query", as_kwargs=False)
@blp.response(200, RunPageOut)
def list_(filters):
    """The runs in the caller's scope, newest first (filters ``enterprise_id``, ``status``, ``kind``; keyset
    pagination with ``after`` = the previous page's ``next_after``, ``size`` 1–200)."""
    page = inspections.list_runs(db.session, current_actor(), filters, after=filters.get("after"),
                                 size=filters.get("size") or 20)
    return {"items": [_run(r) for r in page.items], "next_after": page.next_after, "total": page.total,
            "total_capped": page.total_capped}


@blp.route("", methods=["POST"])
@blp.arguments(RunStartIn, as_kwargs=False)
@blp.response(201, RunDetailOut)
def start(data):
    """Start a run with checklists (codes) applicable to the enterprise; their newest version is kept with the run.

    ``kind`` self_check (企业自查, the enterprise's staff on their own enterprise), enforcement (执法检查) or
    grid_patrol (网格巡查). 403 without the kind's permission, 404 for an enterprise out of scope, 422 when a
    checklist does not apply.
    """
    run = inspections.start_run(db.session, current_actor(), data)
    db.session.commit()
    return _detail(inspections.load_run(db.session, current_actor(), run.id))


@blp.route("/<int:run_id>")
@blp.response(200, RunDetailOut)
def detail(run_id: int):
    """The run with every item (question, guidance, basis with its rule text, answer type, pass condition) and its
    answer; ``progress`` counts answered/passed/failed/n.a. items and the score of scored checklists."""
    return _detail(inspections.load_run(db.session, current_actor(), run_id))


@blp.route("/<int:run_id>/answers", methods=["POST"])
@blp.doc(requestBody=body_doc([AnswerIn], "答案"))
@blp.response(200, SavedAnswerOut)
def save_answer(run_id: int):
    """Save the answer to one item (insert or update): ``value`` yes/no/na, a number or a text by the item's
    type (photo items: the ``photos`` files); ``version`` of the existing answer (409 when stale); 409 once the
    run is completed; 422 for a value the item's type does not take."""
    actor = current_actor()
    inspections.get_run(db.session, actor, run_id)  # 404 before anything is said about the body
    fields, files = read_body()
    data, uploads = load_with_uploads(AnswerIn(), fields, files)
    inspections.save_answer(db.session, actor, run_id, data, uploads=uploads)
    db.session.commit()
    view = inspections.load_run(db.session, actor, run_id)
    iv = next(i for i in view.items if i.item.id == data["item_id"])
    progress = inspections.progress(view)
    return {**_answer(iv), "progress": {k: v for k, v in progress.items() if k != "checklists"},
            "score": progress["score"]}


@blp.route("/<int:run_id>/complete", methods=["POST"])
@blp.arguments(CompleteIn, as_kwargs=False)
@blp.response(200, RunOut)
def complete(data, run_id: int):
    """Complete the run (``version`` of the run): 422 naming the unanswered items and the failing items that lack
    their required 说明/照片; otherwise the failing items become hidden dangers and the run is read-only."""
    position = {k: data.get(k) for k in ("lat", "lng", "accuracy_m", "gps_missing")}
    run = inspections.complete_run(db.session, current_actor(), run_id, data["version"], position)
    db.session.commit()
    return _run(run)


# --- 执法检查: signatures, full-process record, 现场检查记录 ----------------------------------------------------------

def _signature(row: InspectionSignature) -> dict[str, Any]:
    return {"id": row.id, "role": row.role, "role_label": row.role_label, "user_id": row.user_id, "name": row.name,
            "title": row.title, "cert_number": row.cert_number, "signed_at": row.signed_at, "sha256": row.sha256,
            "lat": row.lat, "lng": row.lng, "accuracy_m": row.accuracy_m}


def _signature_list(run_id: int) -> dict[str, Any]:
    actor = current_actor()
    rows = signatures.signature_rows(db.session, actor, run_id)
    run = inspections.get_run(db.session, actor, run_id)
    missing = signatures.missing_signatures(db.session, run) if run.kind == "enforcement" else []
    return {"items": [_signature(r) for r in rows], "missing": missing}


_SIGNATURE_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["role", "image"],
    "properties": {"role": {"type": "string", "enum": ["inspector", "enterprise"]},
                   "name": {"type": "string", "description": "现场负责人姓名（role=enterprise 时必填）"},
                   "title": {"type": "string"}, "lat": {"type": "number"}, "lng": {"type": "number"},
                   "accuracy_m": {"type": "number"}, "gps_missing": {"type": "string"},
                   "image": {"type": "string", "format": "binary", "description": "签名 PNG（不超过 200 KB，不能空白）"}}}}}}


@blp.route("/<int:run_id>/signatures")
@blp.response(200, SignatureListOut)
def signature_list(run_id: int):
    """The run's signatures (inspectors first, then the enterprise's on-site person) and who still has to sign."""
    return _signature_list(run_id)


@blp.route("/<int:run_id>/signatures", methods=["POST"])
@blp.doc(requestBody=_SIGNATURE_BODY)
@blp.response(201, SignatureOut)
def sign(run_id: int):
    """Sign an enforcement run (multipart): ``role`` inspector — the caller signs for himself, with a 执法证 valid
    today (422 naming the expiry date otherwise); ``role`` enterprise — the on-site person signs on the caller's
    device, ``name`` required. ``image``: a PNG, at most 200 KB, not blank. Needs every item answered (422);
    403 for anyone but the run's two inspectors; 409 once completed."""
    actor = current_actor()
    signatures.signable(db.session, actor, run_id)  # 404/403/409 before anything is said about the body
    if request.mimetype != "multipart/form-data":
        raise ValidationFailed({"image": ["请以 multipart/form-data 上传签名图片（image 字段）"]})
    try:
        data = SignatureIn().load({k: v for k, v in request.form.items()})
    except ValidationError as exc:
        raise ValidationFailed(exc.messages) from None
    image = request.files.get("image")
    row = signatures.sign(db.session, actor, run_id, data,
                          image.read(signatures.MAX_BYTES + 1) if image else b"")
    db.session.commit()
    return _signature(row)


@blp.route("/<int:run_id>/signatures", methods=["DELETE"])
@blp.response(200, SignatureListOut)
def withdraw_signatures(run_id: int):
    """Withdraw every signature of a draft enforcement run (so that its answers can be corrected)."""
    signatures.withdraw(db.session, current_actor(), run_id)
    db.session.commit()
    return _signature_list(run_id)


@blp.route("/<int:run_id>/record")
@blp.response(200, RecordOut)
def record(run_id: int):
    """执法全过程记录: every step of the run, oldest first, with who, when, where (or why no position) and the
    SHA-256 of its evidence files."""
    steps = field.events(db.session, current_actor(), run_id)
    return {"run_id": run_id, "items": [{
        "id": e.id, "at": e.at, "actor_id": e.actor_id, "actor_name": e.actor_name, "action": e.action,
        "action_label": field.EVENT_LABELS.get(e.action, e.action), "detail": e.detail, "lat": e.lat, "lng": e.lng,
        "accuracy_m": e.accuracy_m, "gps_missing": e.gps_missing,
        "place_label": field.position_label(e.lat, e.lng, e.accuracy_m, e.gps_missing),
        "attachment_shas": e.attachment_shas} for e in steps]}


@blp.route("/<int:run_id>/inspection-record", methods=["POST"])
@blp.response(201, IssuedRecordOut)
def issue_record(run_id: int):
    """Issue the 现场检查记录 of a completed enforcement run (one per run: 409 when it exists); the PDF is then
    at ``/api/v1/documents/{document_id}`` like every document."""
    doc = inspection_record.issue_record(db.session, current_actor(), run_id)
    db.session.commit()
    return {"document_id": doc.id, "number": doc.number, "pdf_sha256": doc.pdf_sha256,
            "verify_code": doc.verify_code}
