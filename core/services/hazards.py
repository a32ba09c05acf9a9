"""Hidden dangers: registration, the scoped ledger (隐患台账) and its filters, the overdue rule (R-H1, R-H4, R-H6).

State changes after registration are in :mod:`core.services.hazard_flow`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Select, and_, case, exists, func, select
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.util import identity_key

from core.models import (
    Attachment,
    ControlMeasure,
    Enterprise,
    Hazard,
    HazardState,
    HazardSupervision,
    HazardTransition,
    Jurisdiction,
    RiskPoint,
    Role,
)
from core.models.base import utcnow
from core.models.hazard import HAZARD_CATEGORIES, OPEN_STATES
from core.plugin_types import Finding, HazardTransitionEvent
from core.plugins import plugins
from core.services import audit
from core.services.actors import Actor
from core.services.attachments import Upload, described, store
from core.services.base import Page, keyset_page
from core.services.errors import NotFound, PermissionDenied, ValidationFailed
from core.services.permissions import require
from core.services.scope import ensure_enterprise_visible, path_clause, scope_of

MAJOR = "major"
GENERAL = "general"
CHINA = timezone(timedelta(hours=8))

#: Which sources each role may register hidden dangers under (the first is the default).
SOURCES_BY_ROLE: dict[Role, tuple[str, ...]] = {
    Role.ENTERPRISE_MANAGER: ("self_check",),
    Role.ENTERPRISE_PRINCIPAL: ("self_check",),
    Role.GRID_WORKER: ("grid_patrol", "report"),
    Role.INSPECTOR: ("inspection", "campaign"),
    Role.REGULATOR: ("inspection", "report", "campaign"),
}


def today() -> date:
    """Today in China: deadlines are calendar dates in Asia/Shanghai whatever the server's zone."""
    return datetime.now(CHINA).date()


def china_midnight_utc(day: date) -> datetime:
    """The start of ``day`` in China, in UTC, for comparisons with stored timestamps. Timestamps are stored
    and compared in UTC: SQLite keeps no zone, so an aware China time would be stored (or bound) as its
    wall-clock time and compared as if it were UTC."""
    return datetime.combine(day, time.min, CHINA).astimezone(UTC)


def china_noon_utc(day: date) -> datetime:
    """Noon of ``day`` in China, in UTC (a found date without a time; see :func:`china_midnight_utc`)."""
    return datetime.combine(day, time(12), CHINA).astimezone(UTC)


def level_labels() -> dict[str, str]:
    """Configured hidden-danger levels (code → label), lowest first; always contains general and major."""
    return dict(current_app.config["HAZARD_LEVELS"])


def overdue_clause(on: date) -> ColumnElement[bool]:
    """SQL for "overdue on ``on``": still open (登记/整改中) and past its deadline. Twin of
    :meth:`Hazard.is_overdue`; a test checks both agree on every state/deadline combination."""
    return and_(Hazard.state.in_([s.value for s in OPEN_STATES]), Hazard.deadline.is_not(None), Hazard.deadline < on)


def hazard_clause(actor: Actor) -> ColumnElement[bool]:
    """Filter for the hidden dangers the actor may see (same rule as for enterprises)."""
    scope = scope_of(actor)
    if scope.enterprise_id is not None:
        return Hazard.enterprise_id == scope.enterprise_id
    return path_clause(Hazard.scope_path, scope)


def hazard_query(session: Session, actor: Actor, filters: dict[str, Any]) -> Select:
    """The scoped, filtered SELECT behind the ledger, the API and the exports."""
    require(actor, "hazard.view")
    stmt = select(Hazard).where(hazard_clause(actor))
    if filters.get("jurisdiction_id"):
        node = session.get(Jurisdiction, filters["jurisdiction_id"])
        stmt = stmt.where(Hazard.scope_path.like((node.path if node else "/none/") + "%"))
        if filters.get("direct") and node is not None:
            # 直属: placed at the node itself, under none of its children (the statistics' "direct" row).
            children = session.scalars(select(Jurisdiction.path).where(Jurisdiction.parent_id == node.id))
            stmt = stmt.where(*[~Hazard.scope_path.like(path + "%") for path in children])
    if filters.get("figure"):
        # A number of a statistics table (core/services/stats.py): exactly the hidden dangers it counts.
        from core.services import stats  # stats builds on this module

        period = stats.parse_period(filters.get("period") or "")
        stmt = stmt.where(stats.figure_clause(Hazard, period, filters["figure"]))
    for key in ("enterprise_id", "sector", "level", "state", "source", "risk_point_id"):
        if filters.get(key) is not None:
            stmt = stmt.where(getattr(Hazard, key) == filters[key])
    if filters.get("open") is not None:  # 未销号 (any state but closed); the web ledger's "open" state choice
        closed = Hazard.state == HazardState.CLOSED.value
        stmt = stmt.where(~closed if filters["open"] else closed)
    if filters.get("overdue") is not None:
        clause = overdue_clause(today())
        stmt = stmt.where(clause if filters["overdue"] else ~clause)
    if filters.get("supervised") is not None:
        active = exists().where(HazardSupervision.hazard_id == Hazard.id, HazardSupervision.lifted_at.is_(None))
        stmt = stmt.where(active if filters["supervised"] else ~active)
    if filters.get("supervision_overdue") is not None:
        # 督办逾期: an active 挂牌督办 whose deadline has passed — not 整改逾期 (``overdue``), which is the
        # rectification deadline of a hazard still 登记/整改中 (issue 17: two notions, each named).
        late = exists().where(HazardSupervision.hazard_id == Hazard.id, HazardSupervision.lifted_at.is_(None),
                              HazardSupervision.due_date < today())
        stmt = stmt.where(late if filters["supervision_overdue"] else ~late)
    if filters.get("found_from"):
        stmt = stmt.where(Hazard.found_at >= china_midnight_utc(filters["found_from"]))
    if filters.get("found_to"):
        stmt = stmt.where(Hazard.found_at < china_midnight_utc(filters["found_to"] + timedelta(days=1)))
    q = (filters.get("q") or "").strip()
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(Hazard.description.like(pattern, escape="\\"))
    return stmt


def list_hazards(session: Session, actor: Actor, filters: dict[str, Any], *, after: int | None = None,
                 size: int = 20) -> Page[Hazard]:
    """One keyset page of the ledger, newest first, with enterprises and listings loaded in bulk."""
    stmt = hazard_query(session, actor, filters).options(
        selectinload(Hazard.enterprise), selectinload(Hazard.supervisions)
    )
    return keyset_page(session, stmt, Hazard.id, after=after, size=size, total_cap=10_000)


def get_hazard(session: Session, actor: Actor, hazard_id: int, *, lock: bool = False) -> Hazard:
    """The hidden danger, or :class:`NotFound` when missing or outside the actor's scope.

    ``lock``: read it ``FOR UPDATE`` (and refresh a copy already loaded), so that a state check made on it holds
    until commit — a concurrent transaction doing the same waits, then sees the new state. SQLite has no row
    locks; there the writing request's ``BEGIN IMMEDIATE`` (core/extensions.py) serialises the two instead."""
    require(actor, "hazard.view")
    hazard = _locked(session, hazard_id) if lock else session.get(Hazard, hazard_id)
    if hazard is None:
        raise NotFound()
    scope = scope_of(actor)
    if scope.enterprise_id is not None:
        if hazard.enterprise_id != scope.enterprise_id:
            raise NotFound()
    elif not scope.covers_path(hazard.scope_path):
        raise NotFound()
    return hazard


def _locked(session: Session, hazard_id: int) -> Hazard | None:
    # A copy already loaded is refreshed, not re-got: a FOR UPDATE get compares versions and would raise
    # StaleDataError where the caller's version check gives the user a clear 409.
    loaded = session.identity_map.get(identity_key(Hazard, hazard_id))
    if loaded is None:
        return session.get(Hazard, hazard_id, with_for_update=True)
    session.flush()
    session.refresh(loaded, with_for_update=True)
    return loaded


def _source_for(actor: Actor, wanted: str | None) -> str:
    allowed = [s for role in sorted(actor.roles) for s in SOURCES_BY_ROLE.get(role, ())]
    if not allowed:
        raise PermissionDenied("您的角色不能登记隐患")
    if wanted is None:
        return allowed[0]
    if wanted not in allowed:
        raise ValidationFailed({"source": ["您的角色不能以该来源登记隐患"]})
    return wanted


def record_transition(session: Session, actor: Actor, hazard: Hazard, action: str, from_state: str | None,
                      comment: str | None = None, data: dict[str, Any] | None = None,
                      uploads: list[Upload] | None = None) -> HazardTransition:
    """Append a timeline step (with its evidence files) and fire ``on_hazard_transition`` after the flush."""
    step = HazardTransition(hazard_id=hazard.id, action=action, from_state=from_state, to_state=hazard.state,
                            actor_id=actor.id, actor_name=actor.display_name, comment=comment,
                            data=audit._jsonable(data or {}))
    session.add(step)
    session.flush()
    for upload in uploads or []:
        store(session, actor, upload, "hazard", hazard.id, step.id)
    session.flush()
    plugins().notify("on_hazard_transition", event=HazardTransitionEvent(
        hazard_id=hazard.id, sector=hazard.sector, from_state=from_state, to_state=hazard.state, action=action,
        actor_id=actor.id, comment=comment or ""))
    return step


def register_hazard(session: Session, actor: Actor, data: dict[str, Any], uploads: list[Upload] | None = None) -> Hazard:
    """登记: create a hidden danger from loaded :class:`~core.schemas.hazard.HazardIn` data.

    The enterprise must be in the actor's scope (enterprise users: their own). The level is decided by the
    ``classify_hazard`` hook from the suggested level and the rule item; the deciding plugin is recorded.
    """
    require(actor, "hazard.register")
    enterprise = ensure_enterprise_visible(actor, session.get(Enterprise, data["enterprise_id"]))
    source = _source_for(actor, data.get("source"))
    errors: dict[str, list[str]] = {}
    levels = level_labels()
    if data.get("level", GENERAL) not in levels:
        errors["level"] = ["隐患等级应为：" + "、".join(levels.values())]
    if data.get("category") not in HAZARD_CATEGORIES:
        errors["category"] = ["隐患类别应为：" + "、".join(HAZARD_CATEGORIES.values())]
    if data.get("sector") and data["sector"] not in plugins().sectors:
        errors["sector"] = [f"领域 {data['sector']} 未启用"]
    if data.get("risk_point_id"):
        point = session.get(RiskPoint, data["risk_point_id"])
        if point is None or point.enterprise_id != enterprise.id:
            errors["risk_point_id"] = ["风险点不属于该企业"]
        elif data.get("control_measure_id"):
            measure = session.get(ControlMeasure, data["control_measure_id"])
            if measure is None or measure.risk_point_id != point.id:
                errors["control_measure_id"] = ["管控措施不属于该风险点"]
    elif data.get("control_measure_id"):
        errors["control_measure_id"] = ["请先选择风险点"]
    if errors:
        raise ValidationFailed(errors)

    found = data.get("found_on")
    decision = plugins().classify(Finding(
        sector=data.get("sector"), description=data["description"], checklist_item=data.get("checklist_item"),
        rule_item=data.get("rule_item"), suggested_level=data.get("level", GENERAL),
        # found_on: plugins judge with the rule edition in force on that day (editions overlap in time).
        facts={"enterprise_id": enterprise.id, "is_high_risk": enterprise.is_high_risk, "source": source,
               "found_on": found or today()},
    ))
    hazard = Hazard(
        enterprise_id=enterprise.id, scope_path=enterprise.scope_path, object_type=data.get("object_type"),
        object_ref=data.get("object_ref"), location=data.get("location"), description=data["description"],
        category=data["category"], level=decision.level, rule_item=decision.rule_item,
        classified_by=decision.decided_by, sector=data.get("sector"), checklist_item=data.get("checklist_item"),
        source=source, risk_point_id=data.get("risk_point_id"), control_measure_id=data.get("control_measure_id"),
        found_by_id=actor.id, found_by_name=actor.display_name,
        found_at=china_noon_utc(found) if found else utcnow(), state=HazardState.REGISTERED,
    )
    session.add(hazard)
    session.flush()
    record_transition(session, actor, hazard, "register", None, data={
        "level": decision.level, "rule_item": decision.rule_item, "decided_by": decision.decided_by,
        "reason": decision.reason}, uploads=uploads)
    after = audit.snapshot(hazard, ["enterprise_id", "level", "category", "source", "sector", "rule_item"])
    if uploads:  # the evidence is part of what was registered: the audit log names each file and its hash
        after["attachments"] = described(uploads)
    audit.record(session, actor, "create", "hazard", hazard.id, summary=f"登记隐患：{hazard.description[:60]}",
                 after=after)
    return hazard


def get_attachment(session: Session, actor: Actor, hazard_id: int, attachment_id: int) -> Attachment:
    """An evidence file of a hidden danger the actor may see; :class:`NotFound` when the hazard is out of scope
    or the file belongs to something else (so an attachment id never leaks another district's photo)."""
    get_hazard(session, actor, hazard_id)
    row = session.get(Attachment, attachment_id)
    if row is None or row.owner_type != "hazard" or row.owner_id != hazard_id:
        raise NotFound()
    return row


def enterprise_counts(session: Session, actor: Actor, enterprise_id: int) -> dict[str, int]:
    """Open, overdue and major-open hidden dangers of one visible enterprise, in one aggregate query.

    "Open" is everything not yet struck off (已销号); "overdue" follows :func:`overdue_clause`.
    """
    require(actor, "hazard.view")
    ensure_enterprise_visible(actor, session.get(Enterprise, enterprise_id))
    not_closed = Hazard.state != HazardState.CLOSED.value

    def count_if(clause: ColumnElement[bool]) -> Any:
        # SUM(CASE …) rather than COUNT(*) FILTER: the same SQL on SQLite and PostgreSQL.
        return func.coalesce(func.sum(case((clause, 1), else_=0)), 0)

    row = session.execute(select(
        count_if(not_closed), count_if(overdue_clause(today())), count_if(and_(not_closed, Hazard.level == MAJOR)),
    ).where(Hazard.enterprise_id == enterprise_id, hazard_clause(actor))).one()
    return {"open": int(row[0]), "overdue": int(row[1]), "major_open": int(row[2])}


def list_active_supervisions(session: Session, actor: Actor, limit: int = 500) -> list[HazardSupervision]:
    """Active 挂牌督办 listings of hidden dangers in the actor's scope, earliest 督办期限 first.

    Listings are few (a district lists dozens in five years), so a plain capped list replaces paging; the
    hazard, its enterprise and the listing agency come in the same query.
    """
    require(actor, "hazard.view")
    stmt = (select(HazardSupervision).join(Hazard, Hazard.id == HazardSupervision.hazard_id)
            .where(HazardSupervision.lifted_at.is_(None), hazard_clause(actor))
            .options(joinedload(HazardSupervision.hazard).joinedload(Hazard.enterprise),
                     joinedload(HazardSupervision.agency))
            .order_by(HazardSupervision.due_date, HazardSupervision.id).limit(limit))
    return list(session.scalars(stmt))


def risk_point_choices(session: Session, actor: Actor, enterprise_id: int) -> list[RiskPoint]:
    """The active risk points of a visible enterprise, for the registration form and the ledger filter."""
    require(actor, "hazard.view")
    ensure_enterprise_visible(actor, session.get(Enterprise, enterprise_id))
    return list(session.scalars(select(RiskPoint).where(RiskPoint.enterprise_id == enterprise_id,
                                                        RiskPoint.is_active.is_(True)).order_by(RiskPoint.name)))
