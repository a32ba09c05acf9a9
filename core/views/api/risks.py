"""Risk register (双重预防, 一企一清单; R-R1, R-R2): risk points with their assessment, control measures, periodic
inspection tasks, due checks and recording a check (a failed check registers a hidden danger linked to the
risk point and the failed measure), the regulator's 重大/较大 list and the counts per grade.

Score and grade are always computed by the server from ``method`` and ``inputs`` with the configured value
tables and thresholds (``RISK_METHODS``). Edits carry the ``version`` the client saw (409 when stale).
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from core.extensions import db
from core.models import ControlMeasure, InspectionTask, RiskPoint, TaskCheck
from core.models.risk import RISK_CATEGORIES
from core.schemas.risk import (
    CONTROL_LEVELS,
    MEASURE_KINDS,
    PERIODS,
    UPDATE_PARTIAL,
    CheckIn,
    CheckOut,
    CountsFilterIn,
    DueFilterIn,
    DueListOut,
    GradeCountsOut,
    MeasureIn,
    MeasureOut,
    MeasureUpdateIn,
    RiskFilterIn,
    RiskPointDetailOut,
    RiskPointIn,
    RiskPointPageOut,
    RiskPointUpdateIn,
    SupervisionFilterIn,
    TaskIn,
    TaskOut,
    TaskUpdateIn,
    VersionIn,
)
from core.services import hazards, risk_methods, risks
from core.services.attachments import load_with_uploads
from core.views.api import authenticate, current_actor
from core.views.api.multipart import body_doc, read_body

PREFIX = "/risk-points"
blp = Blueprint("api_risks", __name__,
                description="安全风险分级管控（双重预防）：风险点、管控措施、隐患排查任务、排查记录、重大较大风险清单")
blp.before_request(authenticate)


# --- dumping -----------------------------------------------------------------------------------------------------

def _task(t: InspectionTask) -> dict[str, Any]:
    return {"id": t.id, "measure_id": t.measure_id, "risk_point_id": t.measure.risk_point_id,
            "enterprise_id": t.enterprise_id, "content": t.content, "assignee_user_id": t.assignee_user_id,
            "assignee_name": t.assignee_name, "period": t.period, "period_label": PERIODS.get(t.period, t.period),
            "next_due": t.next_due, "last_done": t.last_done, "overdue": t.is_active and t.next_due < hazards.today(),
            "is_active": t.is_active, "version": t.version}


def _measure(m: ControlMeasure) -> dict[str, Any]:
    return {"id": m.id, "kind": m.kind, "kind_label": MEASURE_KINDS.get(m.kind, m.kind), "description": m.description,
            "level": m.level, "level_label": CONTROL_LEVELS.get(m.level) if m.level else None,
            "tasks": [_task(t) for t in m.tasks]}


def _summary(p: RiskPoint) -> dict[str, Any]:
    method = risk_methods.methods().get(p.method)
    return {
        **{name: getattr(p, name) for name in (
            "id", "enterprise_id", "name", "category", "location", "hazard_identification", "possible_accidents",
            "method", "inputs", "score", "grade", "grade_label", "colour", "responsible_company",
            "responsible_workshop", "responsible_team", "responsible_post", "plan_x", "plan_y", "longitude",
            "latitude", "is_active", "updated_at", "version")},
        "enterprise_name": p.enterprise.name, "category_label": RISK_CATEGORIES.get(p.category, p.category),
        "method_name": method.name if method else p.method,
    }


def _detail(p: RiskPoint) -> dict[str, Any]:
    linked = risks.linked_hazards(db.session, current_actor(), p)
    return {**_summary(p), "measures": [_measure(m) for m in p.measures],
            "hazards": [{"id": h.id, "description": h.description, "level": h.level, "state": h.state,
                         "state_label": h.state_label, "control_measure_id": h.control_measure_id,
                         "found_at": h.found_at} for h in linked]}


def _check(c: TaskCheck, task: InspectionTask) -> dict[str, Any]:
    return {"id": c.id, "task_id": c.task_id, "due_date": c.due_date, "done_on": c.done_on,
            "done_by_id": c.done_by_id, "passed": c.passed, "note": c.note, "hazard_id": c.hazard_id,
            "task": _task(task)}


# --- risk points -------------------------------------------------------------------------------------------------

@blp.route("")
@blp.arguments(RiskFilterIn, location="query", as_kwargs=False)
@blp.response(200, RiskPointPageOut)
def list_(filters):
    """The risk register (风险清单) in the caller's scope, newest first.

    Enterprise users see their own enterprise's points, government users those in their jurisdiction. Filters:
    ``q`` (name contains), ``enterprise_id``, ``jurisdiction_id``, ``category``, ``grade``, ``active`` (default:
    in use only). Keyset pagination: pass ``next_after`` as ``after``; ``size`` 1–200 (default 20).
    """
    page = risks.list_risk_points(db.session, current_actor(), filters, after=filters.get("after"),
                                  size=filters.get("size") or 20)
    return {"items": [_summary(p) for p in page.items], "next_after": page.next_after, "total": page.total,
            "total_capped": page.total_capped}


@blp.route("", methods=["POST"])
@blp.arguments(RiskPointIn)
@blp.response(201, RiskPointDetailOut)
def create(data):
    """Add a risk point to the caller's enterprise (enterprise users only) with its assessment.

    ``method`` is a configured method code (``LEC``, ``LS`` by default) and ``inputs`` its factor values, e.g.
    ``{"L": 3, "E": 6, "C": 7}``: the server computes ``score`` (D = 126) and ``grade`` (``general`` 一般风险).
    A value outside the method's table is a 422 on ``inputs.<factor>``.
    """
    point = risks.create_risk_point(db.session, current_actor(), data)
    db.session.commit()
    return _detail(point)


@blp.route("/<int:point_id>")
@blp.response(200, RiskPointDetailOut)
def detail(point_id: int):
    """One risk point with its control measures, their inspection tasks and the hidden dangers found on it.

    404 when it does not exist or is outside the caller's scope.
    """
    return _detail(risks.get_risk_point(db.session, current_actor(), point_id))


@blp.route("/<int:point_id>", methods=["PATCH"])
@blp.arguments(RiskPointUpdateIn(partial=UPDATE_PARTIAL))
@blp.response(200, RiskPointDetailOut)
def update(data, point_id: int):
    """Change some fields (``method`` and ``inputs`` together reassess it); 409 when ``version`` is stale."""
    point = risks.update_risk_point(db.session, current_actor(), point_id, data)
    db.session.commit()
    return _detail(point)


@blp.route("/<int:point_id>/deactivate", methods=["POST"])
@blp.arguments(VersionIn)
@blp.response(200, RiskPointDetailOut)
def deactivate(data, point_id: int):
    """停用: the point leaves the register, the maps and the due checks (nothing is deleted)."""
    point = risks.set_risk_point_active(db.session, current_actor(), point_id, data["version"], False)
    db.session.commit()
    return _detail(point)


# --- measures and tasks ------------------------------------------------------------------------------------------

@blp.route("/<int:point_id>/measures", methods=["POST"])
@blp.arguments(MeasureIn)
@blp.response(201, MeasureOut)
def add_measure(data, point_id: int):
    """Add a control measure (管控措施) to the risk point."""
    measure = risks.add_measure(db.session, current_actor(), point_id, data)
    db.session.commit()
    return _measure(measure)


@blp.route("/<int:point_id>/measures/<int:measure_id>", methods=["PATCH"])
@blp.arguments(MeasureUpdateIn(partial=("kind", "description", "level")))
@blp.response(200, MeasureOut)
def update_measure(data, point_id: int, measure_id: int):
    """Change a control measure; ``version`` is the risk point's (it moves on; 409 when stale)."""
    measure = risks.update_measure(db.session, current_actor(), point_id, measure_id, data)
    db.session.commit()
    return _measure(measure)


@blp.route("/<int:point_id>/tasks", methods=["POST"])
@blp.arguments(TaskIn)
@blp.response(201, TaskOut)
def add_task(data, point_id: int):
    """Add a periodic inspection task (隐患排查任务) for one of the point's measures; first due ``next_due``."""
    task = risks.add_task(db.session, current_actor(), point_id, data)
    db.session.commit()
    return _task(task)


@blp.route("/tasks/<int:task_id>", methods=["PATCH"])
@blp.arguments(TaskUpdateIn)
@blp.response(200, TaskOut)
def update_task(data, task_id: int):
    """Change a task (content, assignee, period, next due date, in use); 409 when ``version`` is stale."""
    task = risks.update_task(db.session, current_actor(), task_id, data)
    db.session.commit()
    return _task(task)


@blp.route("/due-checks")
@blp.arguments(DueFilterIn, location="query", as_kwargs=False)
@blp.response(200, DueListOut)
def due_checks(filters):
    """Inspection tasks due on or before ``on`` (default today) in the caller's scope, earliest first (at most
    500), with their risk point and measure."""
    on = filters.get("on") or hazards.today()
    tasks = risks.due_tasks(db.session, current_actor(), on, enterprise_id=filters.get("enterprise_id"))
    return {"on": on, "items": [{
        **_task(t), "risk_point_name": t.measure.risk_point.name, "grade": t.measure.risk_point.grade,
        "grade_label": t.measure.risk_point.grade_label, "measure_description": t.measure.description,
        "enterprise_name": t.measure.risk_point.enterprise.name} for t in tasks]}


@blp.route("/tasks/<int:task_id>/checks", methods=["POST"])
@blp.doc(requestBody=body_doc([CheckIn], "排查记录"))
@blp.response(201, CheckOut)
def record_check(task_id: int):
    """Record a check of the task for its current due date (enterprise users); ``next_due`` moves on.

    ``passed`` false: the control measure failed and a hidden danger (企业自查) is registered on the risk point
    and the measure from ``description``, ``category``, ``level``, ``location``, with ``photos`` (multipart) as
    evidence; ``hazard_id`` names it. ``version`` is the task's: 409 when someone recorded it first.
    """
    actor = current_actor()
    risks.get_task(db.session, actor, task_id)  # 404 before anything is said about the body
    fields, files = read_body()
    data, uploads = load_with_uploads(CheckIn(), fields, files)
    check = risks.record_check(db.session, actor, task_id, data, uploads=uploads if not data["passed"] else [])
    db.session.commit()
    return _check(check, risks.get_task(db.session, actor, task_id))


# --- regulator's views -------------------------------------------------------------------------------------------

@blp.route("/supervision")
@blp.arguments(SupervisionFilterIn, location="query", as_kwargs=False)
@blp.response(200, RiskPointPageOut)
def supervision(filters):
    """重大/较大 (red/orange) risk points in use across the caller's jurisdiction (government users), newest
    first; ``grade`` narrows to one of the two, ``jurisdiction_id`` to a subtree. Keyset pagination."""
    page = risks.supervision_list(db.session, current_actor(), filters, after=filters.get("after"),
                                  size=filters.get("size") or 20)
    return {"items": [_summary(p) for p in page.items], "next_after": page.next_after, "total": page.total,
            "total_capped": page.total_capped}


@blp.route("/counts")
@blp.arguments(CountsFilterIn, location="query", as_kwargs=False)
@blp.response(200, GradeCountsOut)
def counts(filters):
    """Risk points in use per grade in the caller's scope (optionally one enterprise or jurisdiction subtree)."""
    return risks.grade_counts(db.session, current_actor(), enterprise_id=filters.get("enterprise_id"),
                              jurisdiction_id=filters.get("jurisdiction_id"))
