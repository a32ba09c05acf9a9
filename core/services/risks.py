"""The risk register of dual prevention (双重预防, 一企一清单; R-R1, R-R2).

Risk points (风险点) belong to an enterprise and copy its ``scope_path``; each carries the assessment (method,
inputs, score, grade; see :mod:`core.services.risk_methods`), responsible persons per control level, control
measures (管控措施) and the periodic inspection tasks (隐患排查任务) that check those measures. A failed check is a
failed control measure: it registers a hidden danger through :func:`core.services.hazards.register_hazard`,
linked to the risk point and the measure.

Who: the enterprise's own users maintain its register and perform its checks (``risk.manage``,
``risk.check``); government users read what lies in their jurisdiction (``risk.view``) and get the list of
重大/较大 (red/orange) risks across it (``risk.supervise``). Out of scope is *not found*, as everywhere.

The four-colour map (四色图) is computed here as plain data (:class:`MapView`): the enterprise's risk points on
its site plan (or on a longitude/latitude grid) and, for regulators, the enterprises of a jurisdiction coloured by
their highest grade. Templates turn it into SVG; nothing is fetched from the internet.
"""

from __future__ import annotations

import calendar
import io
import math
import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from core.models import (
    Attachment,
    ControlMeasure,
    Enterprise,
    Hazard,
    InspectionTask,
    Jurisdiction,
    RiskGrade,
    RiskPoint,
    TaskCheck,
    User,
)
from core.models.base import utcnow
from core.services import audit, hazards, risk_methods
from core.services.actors import Actor
from core.services.attachments import Upload, store
from core.services.base import Page, check_version, keyset_page
from core.services.errors import NotFound, ValidationFailed
from core.services.inspections import applicable_checklists
from core.services.permissions import require
from core.services.scope import ensure_enterprise_visible, ensure_jurisdiction_visible, path_clause, scope_of

#: Owner type of a site-plan image (厂区平面图) in :class:`~core.models.Attachment`; owner id = enterprise id.
SITE_PLAN = "enterprise_site_plan"
#: Grades high to low, and a SQL rank for "highest grade" aggregates.
GRADE_ORDER = (RiskGrade.MAJOR, RiskGrade.LARGE, RiskGrade.GENERAL, RiskGrade.LOW)
SUPERVISED_GRADES = (RiskGrade.MAJOR.value, RiskGrade.LARGE.value)
_RANK = {g.value: 4 - i for i, g in enumerate(GRADE_ORDER)}  # major 4 … low 1
_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}
_DAYS = {"shift": 1, "daily": 1, "weekly": 7}
PERIOD_CODES = tuple(_DAYS) + tuple(_MONTHS)

_POINT_FIELDS = ("name", "category", "location", "hazard_identification", "possible_accidents",
                 "responsible_company", "responsible_workshop", "responsible_team", "responsible_post",
                 "plan_x", "plan_y", "longitude", "latitude")
_AUDITED = ("enterprise_id", *_POINT_FIELDS, "method", "inputs", "score", "grade", "is_active")


# --- scope -------------------------------------------------------------------------------------------------------

def risk_clause(actor: Actor) -> ColumnElement[bool]:
    """Filter for the risk points the actor may see (own enterprise, or the jurisdiction subtree)."""
    scope = scope_of(actor)
    if scope.enterprise_id is not None:
        return RiskPoint.enterprise_id == scope.enterprise_id
    return path_clause(RiskPoint.scope_path, scope)


def _visible(actor: Actor, point: RiskPoint | None) -> RiskPoint:
    if point is None:
        raise NotFound()
    scope = scope_of(actor)
    if scope.enterprise_id is not None:
        if point.enterprise_id != scope.enterprise_id:
            raise NotFound()
    elif not scope.covers_path(point.scope_path):
        raise NotFound()
    return point


def _node_prefix(session: Session, actor: Actor, jurisdiction_id: int | None) -> str | None:
    if not jurisdiction_id:
        return None
    return ensure_jurisdiction_visible(actor, session.get(Jurisdiction, jurisdiction_id)).path


# --- risk points -------------------------------------------------------------------------------------------------

def risk_query(session: Session, actor: Actor, filters: dict[str, Any]) -> Select:
    """The scoped, filtered SELECT behind the register pages and the API list (active points unless
    ``active`` is False)."""
    require(actor, "risk.view")
    stmt = select(RiskPoint).where(risk_clause(actor))
    prefix = _node_prefix(session, actor, filters.get("jurisdiction_id"))
    if prefix:
        stmt = stmt.where(RiskPoint.scope_path.like(prefix + "%"))
    for key in ("enterprise_id", "category", "grade"):
        if filters.get(key) is not None:
            stmt = stmt.where(getattr(RiskPoint, key) == filters[key])
    stmt = stmt.where(RiskPoint.is_active.is_(filters.get("active") is not False))
    q = (filters.get("q") or "").strip()
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(RiskPoint.name.like(pattern, escape="\\"))
    return stmt


def list_risk_points(session: Session, actor: Actor, filters: dict[str, Any], *, after: int | None = None,
                     size: int = 20) -> Page[RiskPoint]:
    """One keyset page of the register, newest first, enterprises loaded in bulk."""
    stmt = risk_query(session, actor, filters).options(selectinload(RiskPoint.enterprise))
    return keyset_page(session, stmt, RiskPoint.id, after=after, size=size, total_cap=10_000)


def get_risk_point(session: Session, actor: Actor, point_id: int) -> RiskPoint:
    """The risk point, or :class:`NotFound` when missing or outside the actor's scope."""
    require(actor, "risk.view")
    return _visible(actor, session.get(RiskPoint, point_id))


def _manageable(session: Session, actor: Actor, point_id: int) -> RiskPoint:
    point = get_risk_point(session, actor, point_id)  # 404 before 403: ids out of scope do not leak
    require(actor, "risk.manage")
    return point


def _assess(data: dict[str, Any]) -> risk_methods.Assessment:
    return risk_methods.assess(risk_methods.method(data["method"]), data.get("inputs") or {})


def _apply_assessment(point: RiskPoint, result: risk_methods.Assessment) -> None:
    point.method, point.inputs, point.score, point.grade = (result.method, dict(result.inputs), result.score,
                                                              result.grade.value)


def create_risk_point(session: Session, actor: Actor, data: dict[str, Any]) -> RiskPoint:
    """Add a risk point to the actor's own enterprise (``enterprise_id`` may be left out) with its assessment."""
    require(actor, "risk.manage")
    enterprise_id = data.get("enterprise_id") or actor.enterprise_id
    enterprise = ensure_enterprise_visible(actor, session.get(Enterprise, enterprise_id) if enterprise_id else None)
    result = _assess(data)
    point = RiskPoint(enterprise_id=enterprise.id, scope_path=enterprise.scope_path, is_active=True,
                      **{k: data.get(k) for k in _POINT_FIELDS})
    _apply_assessment(point, result)
    session.add(point)
    session.flush()
    audit.record(session, actor, "create", "risk_point", point.id,
                 summary=f"新增风险点：{point.name}（{point.grade_label}）", after=audit.snapshot(point, _AUDITED))
    return point


def update_risk_point(session: Session, actor: Actor, point_id: int, data: dict[str, Any]) -> RiskPoint:
    """Partial update; ``data['version']`` must be the edited version (409 otherwise). Sending ``method`` and
    ``inputs`` reassesses the point (score and grade are never set directly)."""
    point = _manageable(session, actor, point_id)
    check_version(point, data.get("version"), "该风险点")
    moved_to = data.get("enterprise_id")
    if moved_to is not None and moved_to != point.enterprise_id:
        # A point belongs to its enterprise for good (its measures, tasks and hidden dangers do too); silently
        # keeping the old one answered 200 to a change that did not happen (issue 14).
        raise ValidationFailed({"enterprise_id": [
            f"风险点不能移到其他企业：enterprise_id 应为 {point.enterprise_id} 或省略"]})
    result = _assess(data) if "method" in data else None
    before = audit.snapshot(point, _AUDITED)
    for key in _POINT_FIELDS:
        if key in data:
            setattr(point, key, data[key])
    if result is not None:
        _apply_assessment(point, result)
    session.flush()
    b, a = audit.diff(before, audit.snapshot(point, _AUDITED))
    if a:
        audit.record(session, actor, "update", "risk_point", point.id, summary=f"修改风险点：{point.name}",
                     before=b, after=a)
    return point


def set_risk_point_active(session: Session, actor: Actor, point_id: int, version: int | None,
                          active: bool) -> RiskPoint:
    """停用/启用: an inactive point leaves the register, the maps and the due checks; nothing is deleted."""
    point = _manageable(session, actor, point_id)
    check_version(point, version, "该风险点")
    if point.is_active != active:
        point.is_active = active
        session.flush()
        audit.record(session, actor, "update", "risk_point", point.id,
                     summary=f"{'启用' if active else '停用'}风险点：{point.name}",
                     before={"is_active": not active}, after={"is_active": active})
    return point


def linked_hazards(session: Session, actor: Actor, point: RiskPoint, limit: int = 100) -> list[Hazard]:
    """Hidden dangers found on the risk point (newest first), as far as the actor may see them."""
    return list(session.scalars(select(Hazard).where(Hazard.risk_point_id == point.id,
                                                     hazards.hazard_clause(actor))
                                .order_by(Hazard.id.desc()).limit(limit)))


def grade_counts(session: Session, actor: Actor, *, enterprise_id: int | None = None,
                 jurisdiction_id: int | None = None) -> dict[str, int]:
    """Active risk points per grade in the actor's scope (optionally one enterprise or one subtree)."""
    require(actor, "risk.view")
    stmt = select(RiskPoint.grade, func.count()).where(risk_clause(actor), RiskPoint.is_active.is_(True))
    if enterprise_id is not None:
        stmt = stmt.where(RiskPoint.enterprise_id == enterprise_id)
    prefix = _node_prefix(session, actor, jurisdiction_id)
    if prefix:
        stmt = stmt.where(RiskPoint.scope_path.like(prefix + "%"))
    counts = {g.value: 0 for g in GRADE_ORDER}
    counts.update({grade: n for grade, n in session.execute(stmt.group_by(RiskPoint.grade))})
    counts["total"] = sum(counts[g.value] for g in GRADE_ORDER)
    return counts


def supervision_list(session: Session, actor: Actor, filters: dict[str, Any], *, after: int | None = None,
                     size: int = 20) -> Page[RiskPoint]:
    """The regulator's list of 重大/较大 (red/orange) active risk points in the jurisdiction, newest first."""
    require(actor, "risk.supervise")
    grades = [filters["grade"]] if filters.get("grade") in SUPERVISED_GRADES else list(SUPERVISED_GRADES)
    stmt = select(RiskPoint).where(risk_clause(actor), RiskPoint.is_active.is_(True), RiskPoint.grade.in_(grades))
    prefix = _node_prefix(session, actor, filters.get("jurisdiction_id"))
    if prefix:
        stmt = stmt.where(RiskPoint.scope_path.like(prefix + "%"))
    stmt = stmt.options(selectinload(RiskPoint.enterprise).selectinload(Enterprise.jurisdiction))
    return keyset_page(session, stmt, RiskPoint.id, after=after, size=size, total_cap=10_000)


# --- control measures --------------------------------------------------------------------------------------------

def _touch(point: RiskPoint) -> None:
    """Mark the risk point changed so that its version moves (its measures are part of it)."""
    point.updated_at = utcnow()


def add_measure(session: Session, actor: Actor, point_id: int, data: dict[str, Any]) -> ControlMeasure:
    point = _manageable(session, actor, point_id)
    measure = ControlMeasure(risk_point_id=point.id, kind=data["kind"], description=data["description"],
                             level=data.get("level"))
    session.add(measure)
    session.flush()
    audit.record(session, actor, "create", "control_measure", measure.id,
                 summary=f"新增管控措施（{point.name}）：{measure.description[:60]}",
                 after=audit.snapshot(measure, ["risk_point_id", "kind", "description", "level"]))
    return measure


def get_measure(session: Session, actor: Actor, point_id: int, measure_id: int) -> ControlMeasure:
    point = get_risk_point(session, actor, point_id)
    measure = session.get(ControlMeasure, measure_id)
    if measure is None or measure.risk_point_id != point.id:
        raise NotFound()
    return measure


def update_measure(session: Session, actor: Actor, point_id: int, measure_id: int,
                   data: dict[str, Any]) -> ControlMeasure:
    """Change a measure; ``data['version']`` is the risk point's version, which moves on (409 when stale)."""
    measure = get_measure(session, actor, point_id, measure_id)
    point = _manageable(session, actor, point_id)
    check_version(point, data.get("version"), "该风险点")
    fields = ("kind", "description", "level")
    before = audit.snapshot(measure, fields)
    for key in fields:
        if key in data:
            setattr(measure, key, data[key])
    _touch(point)
    session.flush()
    b, a = audit.diff(before, audit.snapshot(measure, fields))
    if a:
        audit.record(session, actor, "update", "control_measure", measure.id,
                     summary=f"修改管控措施（{point.name}）", before=b, after=a)
    return measure


# --- inspection tasks and checks ---------------------------------------------------------------------------------

def add_period(day: date, period: str, n: int = 1) -> date:
    """``day`` plus ``n`` periods. Month-based periods keep the day of the month where it exists and take the
    month's last day otherwise (31 Jan + 1 month = 28/29 Feb)."""
    if period in _DAYS:
        return day + timedelta(days=_DAYS[period] * n)
    months = day.month - 1 + _MONTHS[period] * n
    year, month = day.year + months // 12, months % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_due_after(due: date, period: str, done_on: date) -> date:
    """The next due date after a check done on ``done_on`` for the date ``due``: the first date of the task's
    schedule (``due`` + k periods, k ≥ 1) after ``done_on``. A late check does not shift the schedule, and the
    periods it skipped are not asked for again (the late check covers them; it is recorded with its due date)."""
    if period in _DAYS:
        step = _DAYS[period]
        n = max(1, (done_on - due).days // step + 1)
        return due + timedelta(days=step * n)
    n = max(1, ((done_on.year - due.year) * 12 + done_on.month - due.month) // _MONTHS[period])
    nxt = add_period(due, period, n)
    while nxt <= done_on:
        n += 1
        nxt = add_period(due, period, n)
    return nxt


def _check_assignee(session: Session, enterprise_id: int, user_id: int | None) -> None:
    if user_id is None:
        return
    user = session.get(User, user_id)
    if user is None or user.enterprise_id != enterprise_id or not user.is_active:
        raise ValidationFailed({"assignee_user_id": ["排查人应为本企业的在用账号"]})


def _check_checklist(session: Session, enterprise_id: int, code: str | None) -> None:
    """A task's checklist must be one that applies to the enterprise (its sectors and activities)."""
    if not code:
        return
    if code not in {c.code for c in applicable_checklists(session.get(Enterprise, enterprise_id))}:
        raise ValidationFailed({"checklist_code": ["请选择适用于本企业的检查表"]})


def add_task(session: Session, actor: Actor, point_id: int, data: dict[str, Any]) -> InspectionTask:
    """A periodic inspection task for one control measure of the risk point; first due ``next_due`` (today)."""
    measure = get_measure(session, actor, point_id, data["measure_id"])
    point = _manageable(session, actor, point_id)
    _check_assignee(session, point.enterprise_id, data.get("assignee_user_id"))
    _check_checklist(session, point.enterprise_id, data.get("checklist_code"))
    task = InspectionTask(measure_id=measure.id, enterprise_id=point.enterprise_id, content=data["content"],
                          assignee_user_id=data.get("assignee_user_id"), assignee_name=data.get("assignee_name"),
                          period=data["period"], next_due=data.get("next_due") or hazards.today(), is_active=True,
                          checklist_code=data.get("checklist_code"))
    session.add(task)
    session.flush()
    audit.record(session, actor, "create", "inspection_task", task.id,
                 summary=f"新增排查任务（{point.name}）：{task.content[:60]}",
                 after=audit.snapshot(task, ["measure_id", "content", "assignee_name", "period", "next_due"]))
    return task


def get_task(session: Session, actor: Actor, task_id: int) -> InspectionTask:
    """The task, or :class:`NotFound` when missing or its risk point is out of the actor's scope."""
    require(actor, "risk.view")
    task = session.get(InspectionTask, task_id)
    if task is None:
        raise NotFound()
    _visible(actor, task.measure.risk_point)
    return task


def update_task(session: Session, actor: Actor, task_id: int, data: dict[str, Any]) -> InspectionTask:
    task = get_task(session, actor, task_id)
    require(actor, "risk.manage")
    check_version(task, data.get("version"), "该排查任务")
    _check_assignee(session, task.enterprise_id, data.get("assignee_user_id"))
    _check_checklist(session, task.enterprise_id, data.get("checklist_code"))
    fields = ("content", "assignee_user_id", "assignee_name", "period", "next_due", "is_active", "checklist_code")
    before = audit.snapshot(task, fields)
    for key in fields:
        if key in data:
            setattr(task, key, data[key])
    session.flush()
    b, a = audit.diff(before, audit.snapshot(task, fields))
    if a:
        audit.record(session, actor, "update", "inspection_task", task.id, summary=f"修改排查任务：{task.content[:60]}",
                     before=b, after=a)
    return task


def due_tasks(session: Session, actor: Actor, on: date, *, enterprise_id: int | None = None,
              limit: int = 500) -> list[InspectionTask]:
    """Active tasks of active risk points due on or before ``on``, earliest first (capped at ``limit``),
    with measure, risk point and enterprise loaded in the same query."""
    require(actor, "risk.view")
    stmt = (select(InspectionTask)
            .join(ControlMeasure, ControlMeasure.id == InspectionTask.measure_id)
            .join(RiskPoint, RiskPoint.id == ControlMeasure.risk_point_id)
            .where(InspectionTask.is_active.is_(True), RiskPoint.is_active.is_(True), InspectionTask.next_due <= on,
                   risk_clause(actor))
            .options(joinedload(InspectionTask.measure).joinedload(ControlMeasure.risk_point)
                     .joinedload(RiskPoint.enterprise))
            .order_by(InspectionTask.next_due, InspectionTask.id).limit(limit))
    if enterprise_id is not None:
        stmt = stmt.where(InspectionTask.enterprise_id == enterprise_id)
    return list(session.scalars(stmt).unique())


def record_check(session: Session, actor: Actor, task_id: int, data: dict[str, Any],
                 uploads: list[Upload] | None = None) -> TaskCheck:
    """排查: record a check of the task's control measure for its current due date, and move ``next_due`` on.

    Failed (``passed`` false): the measure did not hold; a hidden danger is registered (企业自查) on the risk
    point and the measure, with the photos as its evidence, and the check points to it. ``version`` is the
    task's (409 when someone else recorded the check first).
    """
    task = get_task(session, actor, task_id)
    require(actor, "risk.check")
    check_version(task, data.get("version"), "该排查任务")
    point = task.measure.risk_point
    if not task.is_active or not point.is_active:
        raise ValidationFailed({"_schema": ["该排查任务或风险点已停用"]})
    done_on = data.get("done_on") or hazards.today()
    if done_on > hazards.today():
        raise ValidationFailed({"done_on": ["排查日期不能晚于今天"]})
    hazard = None
    if not data["passed"]:
        hazard = hazards.register_hazard(session, actor, {
            "enterprise_id": point.enterprise_id, "description": data["description"],
            "category": data.get("category") or "thing", "level": data.get("level") or hazards.GENERAL,
            "location": data.get("location") or point.location, "risk_point_id": point.id,
            "control_measure_id": task.measure_id, "found_on": done_on,
        }, uploads=uploads)
    check = TaskCheck(task_id=task.id, due_date=task.next_due, done_on=done_on, done_by_id=actor.id,
                      passed=data["passed"], note=data.get("note"), hazard_id=hazard.id if hazard else None)
    session.add(check)
    before = {"next_due": task.next_due, "last_done": task.last_done}
    task.next_due = next_due_after(task.next_due, task.period, done_on)
    task.last_done = done_on
    session.flush()
    audit.record(session, actor, "check", "inspection_task", task.id,
                 summary=f"排查{'合格' if check.passed else '不合格，登记隐患'}：{task.content[:50]}",
                 before=before, after={"next_due": task.next_due, "last_done": task.last_done,
                                       "passed": check.passed, "hazard_id": check.hazard_id})
    return check


def recent_checks(session: Session, actor: Actor, point: RiskPoint, limit: int = 50) -> list[TaskCheck]:
    """The latest checks of the point's tasks (the point must have been fetched for the actor)."""
    return list(session.scalars(
        select(TaskCheck).join(InspectionTask, InspectionTask.id == TaskCheck.task_id)
        .join(ControlMeasure, ControlMeasure.id == InspectionTask.measure_id)
        .where(ControlMeasure.risk_point_id == point.id).order_by(TaskCheck.id.desc()).limit(limit)))


# --- site plan -----------------------------------------------------------------------------------------------------

def site_plan(session: Session, actor: Actor, enterprise_id: int) -> Attachment | None:
    """The enterprise's current site plan (the newest uploaded), or None."""
    require(actor, "risk.view")
    ensure_enterprise_visible(actor, session.get(Enterprise, enterprise_id))
    return session.scalar(select(Attachment).where(Attachment.owner_type == SITE_PLAN,
                                                   Attachment.owner_id == enterprise_id)
                          .order_by(Attachment.id.desc()).limit(1))


def upload_site_plan(session: Session, actor: Actor, enterprise_id: int, upload: Upload) -> Attachment:
    """Store a new site plan image (JPEG/PNG/WebP, checked by the caller with ``images_only``); it replaces the
    previous one on the map, which stays stored (points keep their 0–1 positions)."""
    require(actor, "risk.manage")
    enterprise = ensure_enterprise_visible(actor, session.get(Enterprise, enterprise_id))
    if image_size(upload.data) is None:
        raise ValidationFailed({"file": ["无法读取图片尺寸，请上传 JPEG、PNG 或 WebP 图片"]})
    row = store(session, actor, upload, SITE_PLAN, enterprise.id)
    session.flush()
    audit.record(session, actor, "create", "attachment", row.id, summary=f"上传厂区平面图：{upload.filename}",
                 after={"owner_type": SITE_PLAN, "owner_id": enterprise.id, "sha256": upload.sha256})
    return row


def image_size(source: bytes | Path) -> tuple[int, int] | None:
    """(width, height) of an image (bytes or a file), read from its header only; None when unreadable."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # Only the header is read: a large plan is no decompression bomb here.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as img:
                width, height = img.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    return (width, height) if width > 0 and height > 0 else None


# --- the four-colour map ---------------------------------------------------------------------------------------------

@dataclass
class Marker:
    x: float
    y: float
    grade: str
    label: str
    title: str
    href: str | None = None
    #: For a risk point: its id and version (the placing script needs them); for an enterprise: counts.
    ref: Any = None


@dataclass
class MapView:
    """A four-colour map as plain data; ``templates/risks/map.svg.html`` draws it."""

    width: float
    height: float
    markers: list[Marker]
    #: "plan": markers on the site plan image; "grid": on a longitude/latitude grid; "empty": nothing to place.
    kind: str
    background: str | None = None
    grid: list[tuple[str, float, float, float, float, str]] = field(default_factory=list)  # (axis, x1,y1,x2,y2, text)
    #: What could not be placed (no position): shown as a list beside the map.
    unplaced: list[Any] = field(default_factory=list)
    show_labels: bool = True


def _nice_step(span: float, target: int = 5) -> float:
    raw = span / target
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def grid_layout(points: list[tuple[float, float]], width: float = 800.0) -> tuple[float, Any, list]:
    """Project (longitude, latitude) pairs onto a ``width``-wide canvas (equirectangular, x scaled by the cosine
    of the mean latitude so that distances look right at city scale), with grid lines at round degrees.

    Returns (height, project(lon, lat) → (x, y), grid lines). The height stays between 320 and ¾ of the width
    (a tall area is centred horizontally). A single point or identical points get a ±0.005° frame (about 500 m).
    """
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    pad_lon = max((max(lons) - min(lons)) * 0.08, 0.005)
    pad_lat = max((max(lats) - min(lats)) * 0.08, 0.005)
    west, east = min(lons) - pad_lon, max(lons) + pad_lon
    south, north = min(lats) - pad_lat, max(lats) + pad_lat
    kx = math.cos(math.radians((north + south) / 2))
    margin = 48.0
    inner = width - 2 * margin
    scale = inner / ((east - west) * kx)
    height = min(max((north - south) * scale + 2 * margin, 320.0), width * 0.75)
    # Fit both ways: a tall area is scaled to the height cap, centred horizontally.
    scale = min(scale, (height - 2 * margin) / (north - south))
    x0 = margin + (inner - (east - west) * kx * scale) / 2
    y0 = margin + ((height - 2 * margin) - (north - south) * scale) / 2

    def project(lon: float, lat: float) -> tuple[float, float]:
        return round(x0 + (lon - west) * kx * scale, 1), round(y0 + (north - lat) * scale, 1)

    lines = []
    step = _nice_step(max(east - west, north - south))
    exponent = math.floor(math.log10(step))
    decimals = max(0, -exponent + (1 if round(step / 10 ** exponent, 6) == 2.5 else 0))
    lon = math.ceil(west / step) * step
    while lon <= east:
        x, _ = project(lon, north)
        lines.append(("lon", x, margin / 2, x, height - margin / 2, f"{lon:.{decimals}f}°E"))
        lon += step
    lat = math.ceil(south / step) * step
    while lat <= north:
        _, y = project(west, lat)
        lines.append(("lat", margin / 2, y, width - margin / 2, y, f"{lat:.{decimals}f}°N"))
        lat += step
    return height, project, lines


def _point_title(p: RiskPoint) -> str:
    return f"{p.name}｜{p.grade_label}｜{p.method} {p.score:g}"


def enterprise_map(session: Session, actor: Actor, enterprise_id: int, *, plan_url: str | None = None,
                   point_url=lambda p: None) -> tuple[MapView, Attachment | None]:
    """四色图 of an enterprise: its active risk points on the site plan (positions 0–1) when it has one, else on
    a longitude/latitude grid. Points without a position are listed in ``unplaced``."""
    plan = site_plan(session, actor, enterprise_id)
    points = list(session.scalars(select(RiskPoint).where(
        RiskPoint.enterprise_id == enterprise_id, RiskPoint.is_active.is_(True), risk_clause(actor))
        .order_by(RiskPoint.id)))
    size = None
    if plan is not None:
        from core.services.attachments import storage_path

        path = storage_path(plan.sha256)
        size = image_size(path) if path.is_file() else None
    if plan is not None and size is not None:
        width = 1000.0
        height = round(width * size[1] / size[0], 1)
        placed = [p for p in points if p.plan_x is not None and p.plan_y is not None]
        markers = [Marker(round(p.plan_x * width, 1), round(p.plan_y * height, 1), p.grade, p.name,
                          _point_title(p), point_url(p), p) for p in placed]
        return MapView(width, height, markers, "plan", background=plan_url,
                       unplaced=[p for p in points if p not in placed]), plan
    located = [p for p in points if p.longitude is not None and p.latitude is not None]
    if not located:
        return MapView(800.0, 320.0, [], "empty", unplaced=points), plan
    height, project, lines = grid_layout([(p.longitude, p.latitude) for p in located])
    markers = [Marker(*project(p.longitude, p.latitude), p.grade, p.name, _point_title(p), point_url(p), p)
               for p in located]
    return MapView(800.0, height, markers, "grid", grid=lines,
                   unplaced=[p for p in points if p not in located]), plan


@dataclass
class EnterpriseGrade:
    enterprise: Enterprise
    grade: str
    counts: dict[str, int]


def enterprise_grades(session: Session, actor: Actor, jurisdiction_id: int | None = None) -> list[EnterpriseGrade]:
    """Every enterprise in the actor's jurisdiction with active risk points, with its highest grade and its
    counts per grade (one aggregate query plus one for the enterprises), highest grade first."""
    require(actor, "risk.supervise")
    rank = case(*((RiskPoint.grade == g, r) for g, r in _RANK.items()), else_=0)

    def count(grade: str) -> Any:
        return func.coalesce(func.sum(case((RiskPoint.grade == grade, 1), else_=0)), 0)

    stmt = (select(RiskPoint.enterprise_id, func.max(rank), *(count(g.value) for g in GRADE_ORDER))
            .where(risk_clause(actor), RiskPoint.is_active.is_(True)).group_by(RiskPoint.enterprise_id))
    prefix = _node_prefix(session, actor, jurisdiction_id)
    if prefix:
        stmt = stmt.where(RiskPoint.scope_path.like(prefix + "%"))
    rows = session.execute(stmt).all()
    by_rank = {r: g for g, r in _RANK.items()}
    ents = {e.id: e for e in session.scalars(select(Enterprise).where(Enterprise.id.in_([r[0] for r in rows])))} \
        if rows else {}
    out = [EnterpriseGrade(ents[r[0]], by_rank[r[1]], {g.value: int(n) for g, n in zip(GRADE_ORDER, r[2:])})
           for r in rows if r[0] in ents]
    out.sort(key=lambda e: (-_RANK[e.grade], e.enterprise.name))
    return out


def area_map(session: Session, actor: Actor, jurisdiction_id: int | None = None,
             enterprise_url=lambda e: None) -> tuple[MapView, list[EnterpriseGrade]]:
    """四色图 of a jurisdiction: enterprises coloured by their highest risk grade, placed by coordinates.
    Enterprises without coordinates are listed in ``unplaced``. Names are drawn up to 60 enterprises."""
    rows = enterprise_grades(session, actor, jurisdiction_id)
    located = [r for r in rows if r.enterprise.longitude is not None and r.enterprise.latitude is not None]
    unplaced = [r for r in rows if r not in located]
    if not located:
        return MapView(800.0, 320.0, [], "empty", unplaced=unplaced), rows
    height, project, lines = grid_layout([(r.enterprise.longitude, r.enterprise.latitude) for r in located])
    # Lower grades first so that red and orange are drawn on top where markers overlap.
    markers = [Marker(*project(r.enterprise.longitude, r.enterprise.latitude), r.grade, r.enterprise.name,
                      f"{r.enterprise.name}｜最高{RiskGrade(r.grade).label}｜" + "、".join(
                          f"{RiskGrade(g).label}{n}" for g, n in r.counts.items() if n),
                      enterprise_url(r.enterprise), r) for r in reversed(located)]
    return MapView(800.0, height, markers, "grid", grid=lines, unplaced=unplaced,
                   show_labels=len(located) <= 60), rows
