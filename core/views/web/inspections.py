"""Checklist inspections (自查检查 / 检查记录, R-P2): the list of runs, starting a run (ad hoc or from a risk-register
task), the run page at phone width with autosave (core/static/js/inspection.js posts each answer to ``answer``)
and a whole-form fallback without JavaScript, completion and the summary with the hidden dangers it registered.

执法检查 on site (R-E3…R-E5): the inspector's task list, the enterprise dossier, starting with a colleague and the
browser's position (or the reason there is none), signatures drawn on the run page (core/static/js/signature.js
posts them to ``sign``), finishing with the end position, the full-process record and the 现场检查记录 PDF."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from marshmallow import ValidationError

from core.extensions import db
from core.models.hazard import HAZARD_SOURCES
from core.models.inspection import GPS_MISSING, RUN_KINDS, RUN_STATUS_LABELS, SIGNATURE_ROLES
from core.schemas.inspection import AnswerIn, RunFilterIn, SignatureIn
from core.services import enterprises, field, hazards, inspection_record, inspections, signatures
from core.services.attachments import check_uploads
from core.services.errors import Conflict, ServiceError, ValidationFailed
from core.services.permissions import can, require
from core.views.files import send_stored
from core.views.web import nav
from core.views.web.forms import form_data, posted

bp = Blueprint("inspections", __name__, url_prefix="/inspections")
nav.add("inspections.tasks", "执法检查", "inspection.enforce", 14, audience="government", group="inspections")
nav.add("inspections.start", "自查检查", "inspection.self_check", 15, audience="enterprise", group="inspections")
nav.add("inspections.index", "检查记录", "inspection.view", 16, group="inspections")
POSITION_FIELDS = ("lat", "lng", "accuracy_m", "gps_missing")


def answer_json(iv: inspections.ItemView) -> dict[str, Any]:
    a = iv.answer
    return {"item_id": iv.item.id, "value": a.value if a else None, "passed": a.passed if a else None,
            "comment": a.comment if a else None, "version": a.version if a else None,
            "hazard_id": a.hazard_id if a else None,
            "photos": [{"id": p.id, "filename": p.filename} for p in iv.photos],
            "missing_on_failure": iv.missing_on_failure()}


# --- list and start ---------------------------------------------------------------------------------------------------

@bp.get("/")
@login_required
def index():
    try:
        filters = RunFilterIn().load(request.args.to_dict())
    except ValidationError:
        flash("筛选条件有误", "error")
        filters = {}
    page = inspections.list_runs(db.session, current_user, filters, after=filters.get("after"),
                                 size=filters.get("size") or 20)
    args = {k: v for k, v in request.args.items() if k != "after" and v}
    return render_template("inspections/list.html", page=page, filters=filters, args=args,
                           statuses=RUN_STATUS_LABELS, kinds=RUN_KINDS)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def start():
    require(current_user, "inspection.self_check")
    ent = enterprises.get_enterprise(db.session, current_user, current_user.enterprise_id)
    task = None
    task_id = request.values.get("task_id", type=int)
    if task_id:
        from core.services import risks

        task = risks.get_task(db.session, current_user, task_id)
    applicable = inspections.applicable_checklists(ent)
    if request.method == "POST":
        chosen = posted().getlist("checklists")
        try:
            run = inspections.start_run(db.session, current_user, {
                "checklists": chosen, "task_id": task.id if task else None, "kind": "self_check"})
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            ent = enterprises.get_enterprise(db.session, current_user, current_user.enterprise_id)
            errors = [m for msgs in exc.errors.values() for m in msgs]
            return render_template("inspections/start.html", ent=ent, applicable=applicable, task=task,
                                   chosen=chosen, errors=errors, drafts=[]), 422
        flash("已开始检查：逐条作答，答案会自动保存，可随时离开后继续。", "success")
        return redirect(url_for(".detail", run_id=run.id))
    if task is not None and task.checklist_code:
        chosen = [task.checklist_code]
    else:
        chosen = [c.code for c in applicable]
    drafts = inspections.list_runs(db.session, current_user, {"status": "draft"}, size=5).items
    return render_template("inspections/start.html", ent=ent, applicable=applicable, task=task, chosen=chosen,
                           errors=[], drafts=drafts)


# --- the run ----------------------------------------------------------------------------------------------------------

@bp.get("/<int:run_id>")
@login_required
def detail(run_id: int):
    view = inspections.load_run(db.session, current_user, run_id)
    progress = inspections.progress(view)
    run = view.run
    enforcement = _enforcement_context(run) if run.kind == "enforcement" else None
    if run.is_completed:
        made = inspections.created_hazards(db.session, current_user, run)
        return render_template("inspections/summary.html", view=view, run=run, summary=run.summary,
                               made=made, levels=hazards.level_labels(), sources=HAZARD_SOURCES,
                               enforcement=enforcement)
    editable = inspections.can_perform(current_user, run) and not (enforcement and enforcement["signed"])
    return render_template("inspections/run.html", view=view, run=run, progress=progress, editable=editable,
                           values=inspections.ANSWER_VALUES, enforcement=enforcement,
                           problems=inspections.completion_problems(view) if enforcement else [])


def _enforcement_context(run) -> dict[str, Any]:
    rows = signatures.signature_rows(db.session, current_user, run.id)
    images = {s.sha256: s.data_uri for s in signatures.run_signatures(db.session, run.id)} if rows else {}
    record = inspection_record.existing_record(db.session, run.id) if run.is_completed else None
    return {
        "inspectors": field.inspectors_of(db.session, run),
        "signatures": rows, "images": images, "signed": bool(rows),
        "signed_ids": {r.user_id for r in rows if r.role == "inspector"},
        "onsite_signed": any(r.role == "enterprise" for r in rows),
        "missing": signatures.missing_signatures(db.session, run),
        "is_inspector": field.is_inspector_of_run(current_user, run),
        "start": field.position_label(run.start_lat, run.start_lng, run.start_accuracy_m, run.start_gps_missing),
        "end": field.position_label(run.end_lat, run.end_lng, run.end_accuracy_m, run.end_gps_missing),
        "record": record,
        "can_issue": record is None and can(current_user, "document.issue"),
    }


def _json_error(exc: ServiceError):
    db.session.rollback()
    body: dict[str, Any] = {"code": exc.status, "message": exc.message}
    if isinstance(exc, ValidationFailed):
        body["errors"] = exc.errors
        body["message"] = "；".join(m for msgs in exc.errors.values() for m in (msgs if isinstance(msgs, list)
                                                                                  else [str(msgs)]))
    return jsonify(body), exc.status


@bp.post("/<int:run_id>/answers")
@login_required
def answer(run_id: int):
    """Autosave of one answer (JSON, or form/multipart with ``photos``): the saved answer and the run's progress."""
    raw = request.get_json(silent=True) if request.is_json else form_data()
    try:
        data = AnswerIn().load(raw or {})
    except ValidationError as exc:
        return _json_error(ValidationFailed(exc.messages))
    try:
        uploads = check_uploads(request.files.getlist("photos"), images_only=True) if request.files else []
        inspections.save_answer(db.session, current_user, run_id, data, uploads=uploads)
        db.session.commit()
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise  # the error page, as for every page
        return _json_error(exc)
    view = inspections.load_run(db.session, current_user, run_id)
    iv = next(i for i in view.items if i.item.id == data["item_id"])
    progress = inspections.progress(view)
    return jsonify({**answer_json(iv), "progress": {k: progress[k] for k in ("total", "answered", "failed")},
                    "score": progress["score"]})


@bp.post("/<int:run_id>/save")
@login_required
def save(run_id: int):
    """The no-JavaScript fallback: every changed answer of the form (``value-<item>``, ``comment-<item>``,
    ``version-<item>``, ``photos-<item>``), then back to the run, or on to completing it."""
    view = inspections.load_run(db.session, current_user, run_id)
    try:
        inspections.ensure_performer(current_user, view.run)
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect(url_for(".detail", run_id=run_id))
    form = posted()
    errors: list[str] = []
    saved = 0
    for iv in view.items:
        key = str(iv.item.id)
        value = form.get(f"value-{key}")
        comment = (form.get(f"comment-{key}") or "").strip() or None
        files = [f for f in request.files.getlist(f"photos-{key}") if f and f.filename]
        current_value = iv.answer.value if iv.answer else None
        current_comment = iv.answer.comment if iv.answer else None
        if iv.item.answer_type == "photo" or value is None:
            value = current_value
        value = (value or "").strip() or None
        if value == current_value and comment == current_comment and not files:
            continue
        try:
            uploads = check_uploads(files, images_only=True) if files else []
            inspections.save_answer(db.session, current_user, run_id, {
                "item_id": iv.item.id, "value": value, "comment": comment,
                "version": form.integer(f"version-{key}")}, uploads=uploads)
            db.session.commit()
            saved += 1
        except (ValidationFailed, Conflict) as exc:
            db.session.rollback()
            detail = "；".join(m for msgs in exc.errors.values() for m in msgs) if isinstance(
                exc, ValidationFailed) else exc.message
            errors.append(f"第 {iv.item.code} 条：{detail}")
    if errors:
        flash("部分答案未保存：" + "；".join(errors[:10]), "error")
    elif saved:
        flash(f"已保存 {saved} 条答案", "success")
    if form.get("complete") and not errors:
        return _complete(run_id, form.integer("run_version"))
    return redirect(url_for(".detail", run_id=run_id))


def _complete(run_id: int, version: int | None):
    position = {k: posted().get(k) for k in POSITION_FIELDS}
    try:
        run = field.complete(db.session, current_user, run_id, version, position)
        db.session.commit()
    except (ValidationFailed, Conflict) as exc:
        db.session.rollback()
        message = "；".join(m for msgs in exc.errors.values() for m in msgs) if isinstance(exc, ValidationFailed) \
            else exc.message
        flash(f"未能完成检查：{message or exc.message}", "error")
        return redirect(url_for(".detail", run_id=run_id))
    made = (run.summary or {}).get("hazards", {})
    flash(f"检查已完成，生成隐患 {len(made.get('ids', []))} 条（其中重大 {made.get('major', 0)} 条）", "success")
    return redirect(url_for(".detail", run_id=run_id))


@bp.post("/<int:run_id>/complete")
@login_required
def complete(run_id: int):
    return _complete(run_id, posted().integer("version"))


@bp.get("/<int:run_id>/photos/<int:attachment_id>")
@login_required
def photo(run_id: int, attachment_id: int):
    return send_stored(inspections.get_photo(db.session, current_user, run_id, attachment_id))


# --- 执法检查 on site: task list, dossier, start -------------------------------------------------------------------

@bp.get("/tasks")
@login_required
def tasks():
    """The inspector's list: drawn 双随机 checks, his unfinished enforcement runs, and a search to start ad hoc."""
    require(current_user, "inspection.enforce")
    drawn = field.drawn_tasks(db.session, current_user)
    runs = field.open_runs(db.session, current_user)
    q = (request.args.get("q") or "").strip()
    found = enterprises.list_enterprises(db.session, current_user, {"q": q}, size=20).items if q else []
    return render_template("inspections/tasks.html", drawn=drawn, runs=runs, q=q, found=found)


@bp.get("/enterprises/<int:enterprise_id>")
@login_required
def dossier(enterprise_id: int):
    d = field.dossier(db.session, current_user, enterprise_id)
    return render_template("inspections/dossier.html", d=d, ent=d.enterprise, levels=hazards.level_labels(),
                           draw_item_id=request.args.get("draw_item_id", type=int))


def _start_context(ent, values: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    return {"ent": ent, "applicable": inspections.applicable_checklists(ent), "values": values, "errors": errors,
            "colleagues": field.colleague_options(db.session, current_user), "gps_missing": GPS_MISSING,
            "own_problem": field.certificate_problem(current_user, hazards.today(), "进行执法检查")}


@bp.route("/enterprises/<int:enterprise_id>/start", methods=["GET", "POST"])
@login_required
def enforce_start(enterprise_id: int):
    """Start an enforcement run: checklists, the second inspector, place, on-site person and the position the
    browser gives (filled in by inspection.js; without it the reason stays ``unsupported``)."""
    require(current_user, "inspection.enforce")
    ent = enterprises.get_enterprise(db.session, current_user, enterprise_id)
    if request.method == "GET":
        values = {"checklists": [c.code for c in inspections.applicable_checklists(ent)], "place": ent.address,
                  "draw_item_id": request.args.get("draw_item_id", type=int), "gps_missing": "unsupported"}
        return render_template("inspections/enforce_start.html", **_start_context(ent, values, {}))
    form = posted()
    values = {k: form.get(k) for k in ("co_inspector_id", "place", "onsite_name", "onsite_title", "draw_item_id",
                                       *POSITION_FIELDS)}
    values["checklists"] = form.getlist("checklists")
    data = {**values, "kind": "enforcement", "enterprise_id": ent.id,
            "co_inspector_id": form.integer("co_inspector_id"),
            "draw_item_id": form.integer("draw_item_id")}
    try:
        run = inspections.start_run(db.session, current_user, data)
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        ent = enterprises.get_enterprise(db.session, current_user, enterprise_id)
        return render_template("inspections/enforce_start.html", **_start_context(ent, values, exc.errors)), 422
    flash("执法检查已开始：逐条记录检查情况，答案随填随存；网络中断时会暂存在本机，恢复后自动提交。", "success")
    return redirect(url_for(".detail", run_id=run.id))


# --- signatures, record, document -------------------------------------------------------------------------------------

@bp.post("/<int:run_id>/sign")
@login_required
def sign(run_id: int):
    """One signature (multipart: ``role``, ``name``/``title`` for the on-site person, the PNG in ``image``, the
    position); JSON answer for signature.js."""
    try:
        data = SignatureIn().load(dict(posted().items()))
    except ValidationError as exc:
        return _json_error(ValidationFailed(exc.messages))
    image = request.files.get("image")
    png = image.read(signatures.MAX_BYTES + 1) if image else b""
    try:
        sig = signatures.sign(db.session, current_user, run_id, data, png)
        db.session.commit()
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        return _json_error(exc)
    run = inspections.get_run(db.session, current_user, run_id)
    return jsonify({"id": sig.id, "role": sig.role, "name": sig.name,
                    "missing": signatures.missing_signatures(db.session, run)})


@bp.post("/<int:run_id>/signatures/withdraw")
@login_required
def withdraw_signatures(run_id: int):
    count = signatures.withdraw(db.session, current_user, run_id)
    db.session.commit()
    flash(f"已撤销 {count} 个签名，可以修改检查情况后重新签名。" if count else "没有需要撤销的签名。", "success")
    return redirect(url_for(".detail", run_id=run_id))


@bp.get("/<int:run_id>/record")
@login_required
def record(run_id: int):
    """执法全过程记录: every step of the run with who, when, where and evidence."""
    run = inspections.get_run(db.session, current_user, run_id)
    steps = field.events(db.session, current_user, run_id)
    return render_template("inspections/record.html", run=run, steps=steps, labels=field.EVENT_LABELS,
                           roles=SIGNATURE_ROLES, position_label=field.position_label)


@bp.post("/<int:run_id>/inspection-record")
@login_required
def issue_record(run_id: int):
    """Issue the 现场检查记录 of a completed enforcement run and open it."""
    doc = inspection_record.issue_record(db.session, current_user, run_id)
    db.session.commit()
    flash(f"已制作现场检查记录 {doc.number}", "success")
    return redirect(url_for("documents.detail", document_id=doc.id))
