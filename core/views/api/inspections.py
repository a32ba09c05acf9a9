"""Inspection runs (检查记录, R-P2): list, start, detail with every item and its answer, save one answer, complete.

Answers are saved one at a time (JSON, or multipart with ``photos`` for the answer's photos); each answer carries
its own ``version`` (required once the answer exists; 409 when stale). A completed run is read-only (409).
Completing registers a hidden danger for every failing item whose ``on_fail.hazard`` is set; the summary lists
their ids and counts by level.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from core.extensions import db
from core.models import InspectionRun
from core.schemas.inspection import (
    AnswerIn,
    CompleteIn,
    RunDetailOut,
    RunFilterIn,
    RunOut,
    RunPageOut,
    RunStartIn,
    SavedAnswerOut,
)
from core.services import inspections
from core.services.attachments import load_with_uploads
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
    }


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
    run = inspections.complete_run(db.session, current_actor(), run_id, data["version"])
    db.session.commit()
    return _run(run)
