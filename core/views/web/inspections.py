"""Checklist inspections (自查检查 / 检查记录, R-P2): the list of runs, starting a run (ad hoc or from a risk-register
task), the run page at phone width with autosave (core/static/js/inspection.js posts each answer to ``answer``)
and a whole-form fallback without JavaScript, completion and the summary with the hidden dangers it registered."""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from marshmallow import ValidationError

from core.extensions import db
from core.models.hazard import HAZARD_SOURCES
from core.models.inspection import RUN_KINDS, RUN_STATUS_LABELS
from core.schemas.inspection import AnswerIn, RunFilterIn
from core.services import enterprises, hazards, inspections
from core.services.attachments import check_uploads, storage_path
from core.services.errors import Conflict, NotFound, ServiceError, ValidationFailed
from core.services.permissions import require
from core.views.web import nav

bp = Blueprint("inspections", __name__, url_prefix="/inspections")
nav.add("inspections.start", "自查检查", "inspection.self_check", 15, audience="enterprise", group="inspections")
nav.add("inspections.index", "检查记录", "inspection.view", 16, group="inspections")


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
        chosen = request.form.getlist("checklists")
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
    if view.run.is_completed:
        made = inspections.created_hazards(db.session, current_user, view.run)
        return render_template("inspections/summary.html", view=view, run=view.run, summary=view.run.summary,
                               made=made, levels=hazards.level_labels(), sources=HAZARD_SOURCES)
    return render_template("inspections/run.html", view=view, run=view.run, progress=progress,
                           editable=inspections.can_perform(current_user, view.run),
                           values=inspections.ANSWER_VALUES)


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
    raw = request.get_json(silent=True) if request.is_json else request.form.to_dict()
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
    form = request.form
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
                "version": form.get(f"version-{key}", type=int)}, uploads=uploads)
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
        return _complete(run_id, form.get("run_version", type=int))
    return redirect(url_for(".detail", run_id=run_id))


def _complete(run_id: int, version: int | None):
    try:
        run = inspections.complete_run(db.session, current_user, run_id, version)
        db.session.commit()
    except (ValidationFailed, Conflict) as exc:
        db.session.rollback()
        message = "；".join(exc.errors.get("_schema", [])) if isinstance(exc, ValidationFailed) else exc.message
        flash(f"未能完成检查：{message or exc.message}", "error")
        return redirect(url_for(".detail", run_id=run_id))
    made = (run.summary or {}).get("hazards", {})
    flash(f"检查已完成，生成隐患 {len(made.get('ids', []))} 条（其中重大 {made.get('major', 0)} 条）", "success")
    return redirect(url_for(".detail", run_id=run_id))


@bp.post("/<int:run_id>/complete")
@login_required
def complete(run_id: int):
    return _complete(run_id, request.form.get("version", type=int))


@bp.get("/<int:run_id>/photos/<int:attachment_id>")
@login_required
def photo(run_id: int, attachment_id: int):
    row = inspections.get_photo(db.session, current_user, run_id, attachment_id)
    path = storage_path(row.sha256)
    if not path.exists():
        raise NotFound("文件不存在")
    return send_file(io.BytesIO(path.read_bytes()), mimetype=row.content_type, download_name=row.filename,
                     max_age=3600)
