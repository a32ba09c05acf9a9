"""执法检查 on site (互联网+执法, R-E3, R-E5): starting an enforcement run with two certified inspectors and the
device's position, and the full-process record (执法全过程记录) of every step.

* Start: the inspector and a second inspector of the same agency, each holding a 执法证 valid that day
  (refused with a message naming the person and the expiry date); the position the browser gave
  (``lat``/``lng``/``accuracy_m``) or why it gave none (``gps_missing``: denied / unsupported / timeout /
  unavailable); the place inspected (检查场所) and the enterprise's on-site person. A drawn 双随机 item the check
  performs is linked to the run (:func:`core.services.plans.link_run`).
* Record: :func:`record_event` appends one step (who, when, where, evidence by SHA-256). Steps come from here
  (start, answers and photos, findings, completion), from :mod:`core.services.signatures` (sign, withdraw) and
  from the documents issued for the run (``document_issued``).
* Complete: the run's end position; the findings (hidden dangers registered by
  :func:`core.services.inspections.complete_run`) and the completion become steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.models import (
    Enterprise,
    Hazard,
    InspectionAnswer,
    InspectionEvent,
    InspectionRun,
    Role,
    RunStatus,
    StoredChecklistItem,
    User,
)
from core.models.base import utcnow
from core.models.inspection import GPS_MISSING
from core.services import audit, inspections
from core.services.actors import Actor
from core.services.attachments import Upload
from core.services.errors import PermissionDenied, ValidationFailed
from core.services.hazards import today
from core.services.permissions import require
from core.services.scope import ensure_enterprise_visible

#: action code → label of a step in the full-process record.
EVENT_LABELS: dict[str, str] = {
    "start": "开始检查",
    "answer": "记录检查情况",
    "photo": "拍摄现场照片",
    "finding": "发现隐患",
    "sign": "签名",
    "signatures_withdrawn": "撤销签名",
    "complete": "结束检查",
    "document_issued": "制作执法文书",
}
MAX_PLACE = 200
MAX_NAME = 50


# --- positions --------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Position:
    """Where a step happened: coordinates (WGS-84, as the browser gives them) or why there are none."""

    lat: float | None = None
    lng: float | None = None
    accuracy_m: float | None = None
    missing: str | None = None

    @property
    def has_fix(self) -> bool:
        return self.lat is not None and self.lng is not None

    @property
    def label(self) -> str:
        return position_label(self.lat, self.lng, self.accuracy_m, self.missing)


def position_label(lat: float | None, lng: float | None, accuracy_m: float | None, missing: str | None) -> str:
    """"24.61234, 118.24567（±12 米）", "未获取定位：未授权定位" or "未记录位置"."""
    if lat is not None and lng is not None:
        text = f"{lat:.5f}, {lng:.5f}"
        return text + (f"（±{accuracy_m:.0f} 米）" if accuracy_m is not None else "")
    if missing:
        return "未获取定位：" + GPS_MISSING.get(missing, missing)
    return "未记录位置"


def _number(raw: Any, field: str, low: float, high: float, errors: dict[str, list[str]]) -> float | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        errors.setdefault(field, []).append("应为数字")
        return None
    if isinstance(raw, bool) or not math.isfinite(value) or not low <= value <= high:
        errors.setdefault(field, []).append(f"应在 {low:g} 到 {high:g} 之间")
        return None
    return value


def position_from(data: dict[str, Any], *, required: bool) -> Position:
    """The position in ``data`` (``lat``, ``lng``, ``accuracy_m``, ``gps_missing``), checked.

    With ``required`` a step needs coordinates or one of the reasons in :data:`GPS_MISSING`; otherwise an
    absent position is recorded as such. Raises :class:`ValidationFailed` on the fields."""
    errors: dict[str, list[str]] = {}
    lat = _number(data.get("lat"), "lat", -90, 90, errors)
    lng = _number(data.get("lng"), "lng", -180, 180, errors)
    accuracy = _number(data.get("accuracy_m"), "accuracy_m", 0, 1_000_000, errors)
    missing = (data.get("gps_missing") or "").strip() or None
    if errors:
        raise ValidationFailed(errors)
    if (lat is None) != (lng is None):
        raise ValidationFailed({"lat" if lat is None else "lng": ["经纬度须同时提供"]})
    if lat is not None:
        return Position(lat, lng, accuracy, None)
    if missing is not None and missing not in GPS_MISSING:
        raise ValidationFailed({"gps_missing": ["应为以下之一：" + "、".join(GPS_MISSING)]})
    if missing is None and required:
        raise ValidationFailed({"gps_missing": ["未获取定位时须说明原因（" + "、".join(GPS_MISSING.values()) + "）"]})
    return Position(missing=missing)


# --- the full-process record ------------------------------------------------------------------------------------------

def record_event(session: Session, run_id: int, actor: Actor, action: str, *, detail: dict | None = None,
                 lat: float | None = None, lng: float | None = None, accuracy_m: float | None = None,
                 attachment_shas: list[str] | None = None, gps_missing: str | None = None) -> None:
    """Append one step to the run's full-process record: ``action`` (a key of :data:`EVENT_LABELS`), its
    content, where it happened (coordinates, or ``gps_missing``: why the device gave none) and the SHA-256 of
    its evidence files. Appends only; the caller's transaction decides."""
    if action not in EVENT_LABELS:
        raise ValueError(f"unknown inspection event {action!r}")
    session.add(InspectionEvent(
        run_id=run_id, at=utcnow(), actor_id=actor.id, actor_name=actor.display_name, action=action,
        detail=audit._jsonable(detail) if detail else None, lat=lat, lng=lng, accuracy_m=accuracy_m,
        gps_missing=None if lat is not None else gps_missing, attachment_shas=list(attachment_shas or []) or None))
    session.flush()


def _event_at(session: Session, run: InspectionRun, actor: Actor, action: str, position: Position,
              **kwargs: Any) -> None:
    record_event(session, run.id, actor, action, lat=position.lat, lng=position.lng,
                 accuracy_m=position.accuracy_m, gps_missing=position.missing, **kwargs)


def events(session: Session, actor: Actor, run_id: int) -> list[InspectionEvent]:
    """The run's full-process record, oldest first (the run must be visible to the actor)."""
    run = inspections.get_run(session, actor, run_id)
    return list(session.scalars(select(InspectionEvent).where(InspectionEvent.run_id == run.id)
                                .order_by(InspectionEvent.at, InspectionEvent.id)))


# --- certificates and inspectors --------------------------------------------------------------------------------------

def certificate_problem(user: User, on: date, doing: str) -> str | None:
    """Why ``user`` may not ``doing`` (e.g. "签名") on ``on`` for want of a valid 执法证, or None."""
    if not user.cert_number or user.cert_valid_until is None:
        return f"{user.display_name}未登记执法证，不能{doing}"
    if not user.cert_valid_on(on):
        return f"{user.display_name}的执法证（{user.cert_number}）已于 {user.cert_valid_until} 过期，不能{doing}"
    return None


def is_inspector_of(user: User, agency_id: int | None) -> bool:
    return (agency_id is not None and user.agency_id == agency_id and user.is_active
            and user.has_role(Role.INSPECTOR, Role.REGULATOR))


def colleague_options(session: Session, actor: Actor, on: date | None = None) -> list[User]:
    """Who may be the second inspector: the actor's agency's active 执法人员 with a 执法证 valid on ``on``."""
    on = on or today()
    if not getattr(actor, "agency_id", None):
        return []
    rows = session.scalars(select(User).where(User.agency_id == actor.agency_id, User.is_active.is_(True),
                                              User.id != actor.id, User.cert_valid_until >= on)
                           .order_by(User.display_name, User.id))
    return [u for u in rows if u.has_role(Role.INSPECTOR, Role.REGULATOR) and u.cert_valid_on(on)]


def inspectors_of(session: Session, run: InspectionRun) -> list[User]:
    """The run's inspectors: the one who started it, then the second inspector."""
    ids = [i for i in (run.started_by_id, run.co_inspector_id) if i]
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return [users[i] for i in ids if i in users]


def _text(data: dict[str, Any], key: str, limit: int, label: str, errors: dict[str, list[str]]) -> str | None:
    value = (data.get(key) or "").strip() or None
    if value and len(value) > limit:
        errors.setdefault(key, []).append(f"{label}不能超过 {limit} 个字")
    return value


# --- start ------------------------------------------------------------------------------------------------------------

def start_enforcement(session: Session, actor: Actor, data: dict[str, Any]) -> InspectionRun:
    """Start an enforcement run (执法检查).

    ``data``: enterprise_id, checklists (codes), co_inspector_id (the second inspector), place (检查场所; default
    the enterprise's address), onsite_name / onsite_title (the enterprise's on-site person, may follow at
    signing), the start position (``lat``/``lng``/``accuracy_m`` or ``gps_missing``), draw_item_id (a drawn
    双随机 item of the actor's this check performs), task_id / object_type / object_ref as for any run.
    """
    require(actor, "inspection.enforce")
    agency_id = getattr(actor, "agency_id", None)
    if not agency_id:
        raise PermissionDenied("您不属于任何执法机关，不能进行执法检查")
    on = today()
    enterprise = ensure_enterprise_visible(
        actor, session.get(Enterprise, data["enterprise_id"]) if data.get("enterprise_id") else None)
    errors: dict[str, list[str]] = {}
    own = certificate_problem(actor, on, "进行执法检查")
    if own:
        errors["inspectors"] = [own]
    co_id = data.get("co_inspector_id")
    co = session.get(User, co_id) if isinstance(co_id, int) else None
    if co_id in (None, ""):
        errors["co_inspector_id"] = ["请选择第二名执法人员（执法检查须由两名以上持证执法人员进行）"]
    elif co is None or not is_inspector_of(co, agency_id):
        errors["co_inspector_id"] = ["第二名执法人员须是本机关在岗的执法人员"]
    elif co.id == actor.id:
        errors["co_inspector_id"] = ["第二名执法人员不能是您本人"]
    else:
        problem = certificate_problem(co, on, "参加执法检查")
        if problem:
            errors["co_inspector_id"] = [problem]
    place = _text(data, "place", MAX_PLACE, "检查场所", errors) or enterprise.address
    onsite_name = _text(data, "onsite_name", MAX_NAME, "现场负责人姓名", errors)
    onsite_title = _text(data, "onsite_title", MAX_NAME, "现场负责人职务", errors)
    try:
        position = position_from(data, required=True)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    run = inspections.create_run(session, actor, {**data, "enterprise_id": enterprise.id}, "enforcement")
    run.co_inspector_id = co.id
    run.place = place
    run.onsite_name, run.onsite_title = onsite_name, onsite_title
    run.start_lat, run.start_lng, run.start_accuracy_m = position.lat, position.lng, position.accuracy_m
    run.start_gps_missing = position.missing
    session.flush()
    item_id = data.get("draw_item_id")
    if item_id:
        from core.services import plans

        plans.link_run(session, actor, item_id, run.id)
    _event_at(session, run, actor, "start", position, detail={
        "inspectors": [{"id": actor.id, "name": actor.display_name, "cert_number": actor.cert_number},
                       {"id": co.id, "name": co.display_name, "cert_number": co.cert_number}],
        "place": place, "onsite_name": onsite_name, "draw_item_id": item_id,
        "checklists": [f"{link.checklist.code}@{link.checklist.version}" for link in run.checklists]})
    audit.record(session, actor, "start", "inspection_run", run.id,
                 summary=f"执法检查 {enterprise.name}：{actor.display_name}、{co.display_name}；{position.label}",
                 after={"co_inspector_id": co.id, "place": place, "onsite_name": onsite_name,
                        "start_lat": position.lat, "start_lng": position.lng,
                        "start_gps_missing": position.missing, "draw_item_id": item_id})
    return run


# --- steps during the run ---------------------------------------------------------------------------------------------

def record_answer(session: Session, actor: Actor, run: InspectionRun, item: StoredChecklistItem,
                  answer: InspectionAnswer, uploads: list[Upload], data: dict[str, Any]) -> None:
    """An answer (with its photos) of an enforcement run enters the record; a position that fails the checks
    is left out rather than losing the answer."""
    try:
        position = position_from(data, required=False)
    except ValidationFailed:
        position = Position()
    _event_at(session, run, actor, "photo" if uploads else "answer", position,
              detail={"item_id": item.id, "item": item.code, "question": item.question[:200],
                      "value": answer.value, "passed": answer.passed, "comment": answer.comment,
                      "photos": [u.filename for u in uploads]},
              attachment_shas=[u.sha256 for u in uploads])


def is_inspector_of_run(actor: Actor, run: InspectionRun) -> bool:
    return actor.id is not None and actor.id in (run.started_by_id, run.co_inspector_id)


# --- completion -------------------------------------------------------------------------------------------------------

def before_complete(session: Session, actor: Actor, run: InspectionRun, data: dict[str, Any]) -> None:
    """Checks and end position of an enforcement run about to be completed (called by ``complete_run``)."""
    from core.services import signatures

    missing = signatures.missing_signatures(session, run)
    position = position_from(data, required=True)
    if missing:
        message = "尚缺签名：" + "、".join(missing)
        raise ValidationFailed({"_schema": [message]}, message)
    run.end_lat, run.end_lng, run.end_accuracy_m = position.lat, position.lng, position.accuracy_m
    run.end_gps_missing = position.missing


def after_complete(session: Session, actor: Actor, run: InspectionRun, view: inspections.RunView,
                   made: list[Hazard]) -> None:
    """The findings (hidden dangers registered) and the completion enter the record."""
    position = Position(run.end_lat, run.end_lng, run.end_accuracy_m, run.end_gps_missing)
    by_hazard = {iv.answer.hazard_id: iv for iv in view.items if iv.answer and iv.answer.hazard_id}
    for hazard in made:
        iv = by_hazard.get(hazard.id)
        _event_at(session, run, actor, "finding", position, detail={
            "hazard_id": hazard.id, "level": hazard.level, "description": hazard.description[:300],
            "checklist_item": hazard.checklist_item, "rule_item": hazard.rule_item},
            attachment_shas=[p.sha256 for p in iv.photos] if iv else None)
    summary = run.summary or {}
    _event_at(session, run, actor, "complete", position, detail={
        "passed": summary.get("passed"), "failed": summary.get("failed"), "na": summary.get("na"),
        "hazards": len(made), "major": summary.get("hazards", {}).get("major", 0)})


def complete(session: Session, actor: Actor, run_id: int, version: int | None,
             position: dict[str, Any] | None = None) -> InspectionRun:
    """Complete a run of any kind (see :func:`core.services.inspections.complete_run`)."""
    return inspections.complete_run(session, actor, run_id, version, position)


# --- the inspector's lists --------------------------------------------------------------------------------------------

def open_runs(session: Session, actor: Actor, limit: int = 50) -> list[InspectionRun]:
    """The actor's unfinished enforcement runs (started by him or with him as second inspector), newest first."""
    require(actor, "inspection.view")
    if actor.id is None:
        return []
    return list(session.scalars(
        select(InspectionRun).where(InspectionRun.kind == "enforcement", InspectionRun.status == RunStatus.DRAFT.value,
                                    or_(InspectionRun.started_by_id == actor.id,
                                        InspectionRun.co_inspector_id == actor.id),
                                    inspections.run_clause(actor))
        .order_by(InspectionRun.id.desc()).limit(limit)))


def drawn_tasks(session: Session, actor: Actor) -> list[Any]:
    """The actor's open 双随机 draw items (:func:`core.services.plans.tasks_for`)."""
    from core.services import plans

    return plans.tasks_for(session, actor)


# --- the enterprise dossier -------------------------------------------------------------------------------------------

@dataclass
class Dossier:
    """What an inspector looks at before a check: the enterprise, its previous inspections, open hazards and
    previous documents."""

    enterprise: Enterprise
    runs: list[InspectionRun]
    open_hazards: list[Hazard]
    hazard_counts: dict[str, int]
    documents: list[Any]


def dossier(session: Session, actor: Actor, enterprise_id: int, limit: int = 10) -> Dossier:
    """The dossier of a visible enterprise (404 outside the scope); for inspectors and regulators."""
    from core.services import documents, hazards

    require(actor, "inspection.enforce")
    enterprise = ensure_enterprise_visible(actor, session.get(Enterprise, enterprise_id))
    runs = inspections.list_runs(session, actor, {"enterprise_id": enterprise.id}, size=limit).items
    open_hazards = hazards.list_hazards(session, actor, {"enterprise_id": enterprise.id, "open": True},
                                        size=limit).items
    docs = documents.list_documents(session, actor, enterprise_id=enterprise.id, limit=limit)
    return Dossier(enterprise, runs, open_hazards, hazards.enterprise_counts(session, actor, enterprise.id), docs)
