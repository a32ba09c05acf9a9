"""Hidden dangers (事故隐患): the ledger, registration, the detail with its timeline, the closed-loop actions with
evidence photos, and the download of evidence files (R-H1…R-H3, R-H6, R-N3).

Actions are posted to ``/<id>/actions/<code>`` as JSON or as ``multipart/form-data`` (the same fields as form
fields, evidence photos as ``photos`` files); each action's fields are those of its schema in
:data:`core.services.hazard_flow.ACTIONS`, and every action needs the ``version`` the client saw (409 if stale).
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_smorest import Blueprint
from sqlalchemy import select

from core.extensions import db
from core.models import Attachment, Hazard
from core.models.hazard import HAZARD_CATEGORIES, HAZARD_SOURCES
from core.schemas.hazard import SUPERVISION_LEVELS, HazardDetailOut, HazardFilterIn, HazardIn, HazardPageOut
from core.services import hazard_flow, hazards
from core.services.attachments import load_with_uploads
from core.services.errors import NotFound
from core.views.api import authenticate, current_actor
from core.views.api.multipart import body_doc, read_body
from core.views.files import send_stored

PREFIX = "/hazards"
blp = Blueprint("api_hazards", __name__, description="事故隐患：台账、登记、闭环处置（整改、复查、挂牌督办、销号）与证据照片")
blp.before_request(authenticate)

# --- dumping: raw values, the response schema dumps them once -----------------------------------------------------

def _summary(h: Hazard) -> dict[str, Any]:
    top = hazard_flow.top_listing(h)
    levels = hazards.level_labels()
    return {
        "id": h.id, "enterprise_id": h.enterprise_id, "enterprise_name": h.enterprise.name,
        "description": h.description, "location": h.location, "category": h.category,
        "category_label": HAZARD_CATEGORIES.get(h.category, h.category), "level": h.level,
        "level_label": levels.get(h.level, h.level), "rule_item": h.rule_item, "classified_by": h.classified_by,
        "sector": h.sector, "checklist_item": h.checklist_item, "source": h.source,
        "source_label": HAZARD_SOURCES.get(h.source, h.source), "risk_point_id": h.risk_point_id,
        "found_by_name": h.found_by_name, "found_at": h.found_at, "state": h.state, "state_label": h.state_label,
        "responsible_name": h.responsible_name, "deadline": h.deadline, "deadline_kind": h.deadline_kind,
        "overdue": h.is_overdue(hazards.today()), "supervised": top is not None,
        "supervision_level": top.level if top else None, "version": h.version,
    }


def _attachment(row: Attachment) -> dict[str, Any]:
    return {"id": row.id, "transition_id": row.transition_id, "filename": row.filename,
            "content_type": row.content_type, "size": row.size, "sha256": row.sha256,
            "uploaded_at": row.uploaded_at,
            "url": url_for("api_hazards.attachment", hazard_id=row.owner_id, attachment_id=row.id)}


def _detail(h: Hazard) -> dict[str, Any]:
    files = list(db.session.scalars(select(Attachment).where(
        Attachment.owner_type == "hazard", Attachment.owner_id == h.id).order_by(Attachment.id)))
    by_step: dict[int | None, list[dict[str, Any]]] = {}
    for row in files:
        by_step.setdefault(row.transition_id, []).append(_attachment(row))
    plan = None
    if h.plan is not None:
        plan = {name: getattr(h.plan, name) for name in (*hazard_flow.PLAN_FIELDS, "funds_amount",
                                                          "approved_by_name", "updated_at")}
        plan["complete"] = not hazard_flow.missing_plan_fields(h)
    return {
        **_summary(h),
        "object_type": h.object_type, "object_ref": h.object_ref, "control_measure_id": h.control_measure_id,
        "measures": h.measures, "reported_at": h.reported_at, "rectified_at": h.rectified_at,
        "closed_at": h.closed_at, "closed_on_spot": h.closed_on_spot, "plan": plan,
        "supervisions": [{
            "id": s.id, "level": s.level, "level_label": SUPERVISION_LEVELS.get(s.level, s.level),
            "agency_id": s.agency_id, "agency_name": s.agency.name if s.agency else None,
            "listed_by_id": s.listed_by_id, "listed_at": s.listed_at, "due_date": s.due_date,
            "leader_name": s.leader_name, "requirements": s.requirements, "lifted_at": s.lifted_at,
            "active": s.lifted_at is None} for s in h.supervisions],
        "extensions": [{
            "id": e.id, "requested_by_id": e.requested_by_id, "old_deadline": e.old_deadline,
            "new_deadline": e.new_deadline, "reason": e.reason, "status": e.status,
            "decided_by_id": e.decided_by_id, "decided_at": e.decided_at,
            "decision_comment": e.decision_comment} for e in h.extensions],
        "transitions": [{
            "id": t.id, "action": t.action, "action_label": hazard_flow.ACTION_LABELS.get(t.action, t.action),
            "from_state": t.from_state, "to_state": t.to_state, "actor_id": t.actor_id, "actor_name": t.actor_name,
            "at": t.at, "comment": t.comment, "data": t.data, "attachments": by_step.get(t.id, [])}
            for t in h.transitions],
        "actions": [{"code": a.code, "label": a.label}
                    for a in hazard_flow.available_actions(current_actor(), h)],
    }


# --- routes -------------------------------------------------------------------------------------------------------

@blp.route("")
@blp.arguments(HazardFilterIn, location="query", as_kwargs=False)
@blp.response(200, HazardPageOut)
def list_(filters):
    """隐患台账: the hidden dangers in the caller's scope, newest first.

    Filters: ``q`` (description contains), ``jurisdiction_id``, ``enterprise_id``, ``sector``, ``level``,
    ``state``, ``source``, ``overdue``, ``supervised`` (挂牌督办中), ``risk_point_id``, ``found_from``/``found_to``.
    Keyset pagination: pass the previous page's ``next_after`` as ``after``; ``size`` 1–200 (default 20).
    ``total`` is counted up to a cap (``total_capped`` says it was reached).
    """
    page = hazards.list_hazards(db.session, current_actor(), filters, after=filters.get("after"),
                                size=filters.get("size") or 20)
    return {"items": [_summary(h) for h in page.items], "next_after": page.next_after, "total": page.total,
            "total_capped": page.total_capped}


@blp.route("", methods=["POST"])
@blp.doc(requestBody=body_doc([HazardIn], "登记"))
@blp.response(201, HazardDetailOut)
def register():
    """登记: register a hidden danger (JSON, or multipart with ``photos``).

    The level is decided by the sector plugins (``classify_hazard``) from the suggested level and rule item.

    Enterprise users register on their own enterprise (source 企业自查); grid workers, inspectors and regulators
    on an enterprise in their jurisdiction (source by role). 404 when the enterprise is not visible to the
    caller, 422 with ``errors.json.<field>`` for bad fields or photos.
    """
    fields, files = read_body()
    data, uploads = load_with_uploads(HazardIn(), fields, files)
    hazard = hazards.register_hazard(db.session, current_actor(), data, uploads=uploads)
    db.session.commit()
    return _detail(hazard)


@blp.route("/<int:hazard_id>")
@blp.response(200, HazardDetailOut)
def detail(hazard_id: int):
    """One hidden danger with its timeline.

    The timeline lists every transition with actor, time, comment, data and the metadata of its evidence files;
    the detail also has the 治理方案, the 挂牌督办 listings, the extension requests and the actions the caller may
    take now. 404 when it does not exist or is outside the caller's scope.
    """
    return _detail(hazards.get_hazard(db.session, current_actor(), hazard_id))


_ACTIONS_DOC = "\n".join(f"* ``{a.code}`` {a.label}（{a.who_label}）" for a in hazard_flow.ACTIONS.values())


@blp.route("/<int:hazard_id>/actions/<code>", methods=["POST"])
@blp.doc(requestBody=body_doc(sorted({a.schema for a in hazard_flow.ACTIONS.values()}, key=lambda s: s.__name__),
                               "操作"),
         description=f"""Perform closed-loop action ``code`` on a hidden danger; the answer is its new detail.

The body is the action's schema (JSON, or the same fields as multipart form fields with evidence ``photos``);
``version`` is required and must be the current one. 404: unknown hazard (or out of scope) or unknown ``code``;
403: the caller may not take this action; 409: stale ``version``, a state or level the action does not apply to,
or someone acted at the same moment (nothing is applied); 422: bad fields or photos (``errors.json.<field>``).

Codes:

{_ACTIONS_DOC}
""")
@blp.response(200, HazardDetailOut)
def act(hazard_id: int, code: str):
    """Perform a closed-loop action (整改、复查、挂牌督办、延期、销号 …)."""
    action = hazard_flow.ACTIONS.get(code)
    if action is None:
        raise NotFound(f"没有名为“{code}”的处置操作")
    actor = current_actor()
    hazards.get_hazard(db.session, actor, hazard_id)  # 404 before anything is said about the body
    fields, files = read_body()
    data, uploads = load_with_uploads(action.schema(), fields, files)
    hazard = hazard_flow.perform(db.session, actor, hazard_id, code, data, uploads=uploads)
    db.session.commit()
    return _detail(hazard)


@blp.route("/<int:hazard_id>/attachments/<int:attachment_id>")
@blp.doc(responses={"200": {"description": "文件内容（类型见 Content-Type）", "content": {
    t: {"schema": {"type": "string", "format": "binary"}}
    for t in ("image/jpeg", "image/png", "image/webp", "application/pdf")}}})
def attachment(hazard_id: int, attachment_id: int):
    """Download an evidence file of a hidden danger.

    404 when the hazard is not visible to the caller or the file belongs to another object.
    """
    return send_stored(hazards.get_attachment(db.session, current_actor(), hazard_id, attachment_id))
