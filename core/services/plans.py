"""Inspection planning (R-E1, R-E2): annual plans (年度执法计划) with their progress, 双随机一公开 draws and special
campaigns (专项行动) with theirs.

Who and which
    Plans, draws and campaigns belong to an agency and carry its jurisdiction's path (``scope_path``). Government
    staff with ``plan.view`` (inspectors, regulators, admin) see those in their scope, others get 404; a draw
    that is not yet published is seen only by regulators and the admin (the list must not leak before it is
    public). Changing anything needs ``plan.manage`` *and* being of the owning agency (a city regulator sees a
    district's plan but does not edit it: 403). Enterprises see none of this except the public page of a
    published draw (一公开).

The supervised population of a draw
    Active enterprises whose supervising agency (一企一监管主体, ``supervising_agency_id``) is the drawing agency,
    plus the active enterprises in the agency's jurisdiction whose supervising agency is not set yet, so that a
    district whose 分级分类 data is incomplete still draws over its territory. Enterprises in the jurisdiction
    assigned to another agency (e.g. supervised by the city) are not in the district's population. Optional
    filters narrow it: sectors (any of), enterprise classes (any of 高危/规模以上/重点行业/一般) and supervision levels.

Weighting (:func:`risk_class`)
    Each candidate gets one risk class from data the platform holds, decided in this order:
    ``high`` 高风险 — an open 重大事故隐患, a red (重大风险) risk point, or credit class D;
    ``elevated`` 较高风险 — 高危行业, an orange (较大风险) risk point, or credit class C;
    ``low`` 较低风险 — credit class A and none of the above;
    ``normal`` 一般 — everything else.
    The class's weight comes from the ``DRAW_WEIGHTS`` setting; a class weighted 0 is left out of the draw.

The algorithm (``weighted-es/1``, :func:`compute`)
    ``random.Random(seed)`` (Python's Mersenne Twister seeded with the seed *text*) walks the candidates in
    ascending enterprise id and gives each the key ``log(1 - U) / weight`` (U uniform in [0, 1)): the
    Efraimidis–Spirakis weighted sampling without replacement. The ``count`` largest keys are drawn, in key
    order. The same generator then pairs inspectors: for each drawn enterprise in turn, the certified inspectors
    are shuffled and stably sorted by how many checks they already have, and the first two are taken — so an
    inspector is never paired with himself, pairs vary at random and loads differ by at most one. The recorded
    inputs hold everything this needs, so :func:`recompute` reproduces the list from the seed alone.
"""

from __future__ import annotations

import math
import random
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, case, exists, func, not_, or_, select
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from core.models import (
    Agency,
    Enterprise,
    EnterpriseSector,
    Hazard,
    HazardState,
    InspectionAnswer,
    InspectionRun,
    InspectionRunChecklist,
    Jurisdiction,
    RiskPoint,
    Role,
    RunStatus,
    StoredChecklist,
    SupervisionLevel,
    User,
    UserRole,
)
from core.models.base import utcnow
from core.models.plan import (
    CAMPAIGN_KINDS,
    ENTERPRISE_CLASSES,
    Campaign,
    CampaignStatus,
    DrawItem,
    DrawStatus,
    InspectionDraw,
    InspectionPlan,
    ItemStatus,
    PlanStatus,
)
from core.plugins import plugins
from core.services import audit
from core.services.actors import Actor
from core.services.base import Page, check_version, keyset_page
from core.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.services.hazards import MAJOR, china_midnight_utc, overdue_clause, today
from core.services.permissions import can, require
from core.services.scope import path_clause, scope_of

ALGORITHM = "weighted-es/1"
ALGORITHM_DESCRIPTION = ("Efraimidis–Spirakis 加权不放回抽样：以种子文本初始化 Python random.Random，按企业编号升序为每家"
                         "候选企业生成键值 ln(1−U)/权重，取键值最大的前 N 家；再以同一随机序列为每家企业从持证执法人员中"
                         "随机选取当前任务最少的两人（负载均衡、不重复）")
RISK_CLASSES = {"high": "高风险", "elevated": "较高风险", "normal": "一般", "low": "较低风险"}
_CLASS_FLAGS = {"high_risk": Enterprise.is_high_risk, "above_scale": Enterprise.is_above_scale,
                "key_industry": Enterprise.is_key_industry}
MAX_DRAW = 500


# --- access -------------------------------------------------------------------------------------------------------

def managing_agency(session: Session, actor: Actor) -> Agency:
    """The agency the actor manages plans for (``plan.manage`` and membership of an agency)."""
    require(actor, "plan.manage")
    agency = session.get(Agency, actor.agency_id) if getattr(actor, "agency_id", None) else None
    if agency is None:
        raise PermissionDenied("您不属于任何执法机关，不能制定计划或抽取双随机名单")
    return agency


def _visible(actor: Actor, obj: Any) -> Any:
    require(actor, "plan.view")
    if obj is None or not scope_of(actor).covers_path(obj.scope_path):
        raise NotFound()
    return obj


def ensure_manager(actor: Actor, obj: Any) -> None:
    require(actor, "plan.manage")
    if obj.agency_id != getattr(actor, "agency_id", None):
        raise PermissionDenied(f"只有{obj.agency.name}的监管人员可以修改")


def can_manage(actor: Actor, obj: Any) -> bool:
    """For templates: may the actor change this plan, draw or campaign."""
    return can(actor, "plan.manage") and obj.agency_id == getattr(actor, "agency_id", None)


def sees_drafts(actor: Actor) -> bool:
    """Draws not yet published are seen by regulators and the admin only."""
    return actor.has_role(Role.REGULATOR, Role.ADMIN)


# --- plans --------------------------------------------------------------------------------------------------------

def _clean_targets(raw: dict[str, Any] | None) -> dict[str, Any]:
    """Targets as stored: positive numbers only; sector codes must be enabled sectors."""
    raw = raw or {}
    errors: dict[str, list[str]] = {}
    sectors = {k: int(v) for k, v in (raw.get("sectors") or {}).items() if v}
    unknown = sorted(set(sectors) - set(plugins().sectors))
    if unknown:
        errors["targets.sectors"] = [f"领域 {'、'.join(unknown)} 未启用"]
    if errors:
        raise ValidationFailed(errors)
    out: dict[str, Any] = {}
    if raw.get("total"):
        out["total"] = int(raw["total"])
    for key, values in (("sectors", sectors), ("classes", raw.get("classes") or {}),
                        ("levels", raw.get("levels") or {})):
        kept = {k: int(v) for k, v in values.items() if v}
        if kept:
            out[key] = kept
    return out


def list_plans(session: Session, actor: Actor) -> list[InspectionPlan]:
    """The plans in the actor's scope, newest year first (a handful per agency: no paging)."""
    require(actor, "plan.view")
    return list(session.scalars(
        select(InspectionPlan).where(path_clause(InspectionPlan.scope_path, scope_of(actor)))
        .options(joinedload(InspectionPlan.agency)).order_by(InspectionPlan.year.desc(), InspectionPlan.id)))


def get_plan(session: Session, actor: Actor, plan_id: int) -> InspectionPlan:
    return _visible(actor, session.get(InspectionPlan, plan_id))


def create_plan(session: Session, actor: Actor, data: dict[str, Any]) -> InspectionPlan:
    """A draft plan of the actor's agency for ``data["year"]`` (one per agency and year)."""
    agency = managing_agency(session, actor)
    year = data["year"]
    if session.scalar(select(InspectionPlan.id).where(InspectionPlan.agency_id == agency.id,
                                                      InspectionPlan.year == year)):
        raise ValidationFailed({"year": [f"{agency.name}已有 {year} 年度执法计划"]})
    plan = InspectionPlan(agency_id=agency.id, scope_path=agency.jurisdiction.path, year=year, title=data["title"],
                          targets=_clean_targets(data.get("targets")), note=data.get("note"),
                          status=PlanStatus.DRAFT.value, created_by_id=actor.id)
    session.add(plan)
    session.flush()
    audit.record(session, actor, "create", "inspection_plan", plan.id, summary=f"制定年度执法计划：{plan.title}",
                 after=audit.snapshot(plan, ("agency_id", "year", "title", "targets", "note", "status")))
    return plan


def update_plan(session: Session, actor: Actor, plan_id: int, data: dict[str, Any]) -> InspectionPlan:
    """Change title, targets or note (``version`` required, 409 when stale). Changing an approved plan sends it
    back to draft: the changed plan needs approving again."""
    plan = get_plan(session, actor, plan_id)
    ensure_manager(actor, plan)
    check_version(plan, data.get("version"), "该执法计划")
    fields = ("title", "targets", "note", "status")
    before = audit.snapshot(plan, fields)
    if "title" in data:
        plan.title = data["title"]
    if "targets" in data:
        plan.targets = _clean_targets(data["targets"])
    if "note" in data:
        plan.note = data["note"]
    after = audit.snapshot(plan, fields)
    if after == before:
        return plan
    if plan.status == PlanStatus.APPROVED.value:
        plan.status = PlanStatus.DRAFT.value
        plan.approved_at = plan.approved_by_id = None
    session.flush()
    old, new = audit.diff(before, audit.snapshot(plan, fields))
    audit.record(session, actor, "update", "inspection_plan", plan.id, summary=f"修改年度执法计划：{plan.title}",
                 before=old, after=new)
    return plan


def approve_plan(session: Session, actor: Actor, plan_id: int, version: int | None) -> InspectionPlan:
    plan = get_plan(session, actor, plan_id)
    ensure_manager(actor, plan)
    check_version(plan, version, "该执法计划")
    if plan.status == PlanStatus.APPROVED.value:
        raise Conflict("该执法计划已批准")
    plan.status = PlanStatus.APPROVED.value
    plan.approved_by_id = actor.id
    plan.approved_at = utcnow()
    session.flush()
    audit.record(session, actor, "approve", "inspection_plan", plan.id, summary=f"批准年度执法计划：{plan.title}",
                 before={"status": PlanStatus.DRAFT.value}, after={"status": plan.status})
    return plan


@dataclass
class ProgressRow:
    key: str
    label: str
    target: int | None
    done: int

    @property
    def percent(self) -> int | None:
        return round(self.done * 100 / self.target) if self.target else None


@dataclass
class PlanProgress:
    """Completed 执法检查 (家次) of the plan year in the agency's jurisdiction against the targets.

    A check of an enterprise that is both 高危 and 规模以上 counts in both classes, and in every sector it is
    tagged with; ``total`` counts each check once."""

    total: ProgressRow
    classes: list[ProgressRow]
    levels: list[ProgressRow]
    sectors: list[ProgressRow]
    draw_items: int = 0
    draw_items_done: int = 0


def _year_runs(plan: InspectionPlan) -> list[Any]:
    """Conditions: completed 执法检查 runs of the plan year (China calendar) in the plan's jurisdiction."""
    return [InspectionRun.kind == "enforcement", InspectionRun.status == RunStatus.COMPLETED.value,
            InspectionRun.completed_at >= china_midnight_utc(date(plan.year, 1, 1)),
            InspectionRun.completed_at < china_midnight_utc(date(plan.year + 1, 1, 1)),
            InspectionRun.scope_path.like(plan.scope_path + "%")]


def _general_clause():
    return and_(*[not_(flag) for flag in _CLASS_FLAGS.values()])


def plan_progress(session: Session, plan: InspectionPlan) -> PlanProgress:
    """Progress against the targets in four grouped queries (totals and classes, levels, sectors, draws)."""
    conds = _year_runs(plan)
    base = select().select_from(InspectionRun).join(Enterprise, Enterprise.id == InspectionRun.enterprise_id)
    sums = [func.count(InspectionRun.id)] + [func.coalesce(func.sum(case((flag, 1), else_=0)), 0)
                                             for flag in _CLASS_FLAGS.values()]
    sums.append(func.coalesce(func.sum(case((_general_clause(), 1), else_=0)), 0))
    row = session.execute(base.add_columns(*sums).where(*conds)).one()
    total, by_class = row[0], dict(zip(ENTERPRISE_CLASSES, row[1:], strict=True))
    by_level = dict(session.execute(base.add_columns(Enterprise.supervision_level, func.count(InspectionRun.id))
                                    .where(*conds).group_by(Enterprise.supervision_level)).all())
    by_sector = dict(session.execute(
        base.join(EnterpriseSector, EnterpriseSector.enterprise_id == Enterprise.id)
        .add_columns(EnterpriseSector.sector, func.count(InspectionRun.id.distinct()))
        .where(*conds).group_by(EnterpriseSector.sector)).all())
    targets = plan.targets or {}
    registry = plugins()
    t_sectors = targets.get("sectors", {})
    sector_codes = list(dict.fromkeys([*t_sectors, *sorted(by_sector)]))
    draws = session.execute(
        select(func.count(DrawItem.id), func.coalesce(func.sum(case((DrawItem.status == ItemStatus.DONE.value, 1),
                                                                    else_=0)), 0))
        .join(InspectionDraw, InspectionDraw.id == DrawItem.draw_id)
        .where(InspectionDraw.plan_id == plan.id, InspectionDraw.status == DrawStatus.PUBLISHED.value)).one()
    return PlanProgress(
        total=ProgressRow("total", "合计", targets.get("total"), total),
        classes=[ProgressRow(k, label, targets.get("classes", {}).get(k), int(by_class[k]))
                 for k, label in ENTERPRISE_CLASSES.items()],
        levels=[ProgressRow(lvl.value, lvl.label, targets.get("levels", {}).get(lvl.value), by_level.get(lvl.value, 0))
                for lvl in SupervisionLevel],
        sectors=[ProgressRow(code, registry.sector_name(code), t_sectors.get(code), by_sector.get(code, 0))
                 for code in sector_codes],
        draw_items=draws[0], draw_items_done=int(draws[1]))


# --- 双随机 draws: population, weights, the algorithm ---------------------------------------------------------------

def risk_class(*, high_risk: bool, red_points: int, orange_points: int, open_major: int,
               credit_class: str | None) -> str:
    """The risk class of a draw candidate (see the module doc for the rule and its order)."""
    if open_major or red_points or credit_class == "D":
        return "high"
    if high_risk or orange_points or credit_class == "C":
        return "elevated"
    if credit_class == "A":
        return "low"
    return "normal"


def _weights() -> dict[str, float]:
    weights = {k: float(v) for k, v in current_app.config["DRAW_WEIGHTS"].items()}
    missing = set(RISK_CLASSES) - set(weights)
    if missing or any(w < 0 or math.isinf(w) or math.isnan(w) for w in weights.values()):
        raise ValueError(f"DRAW_WEIGHTS must give a finite weight ≥ 0 to each of {sorted(RISK_CLASSES)}")
    return weights


def population_clause(agency: Agency, filters: dict[str, Any] | None = None) -> list[Any]:
    """SQL conditions on :class:`Enterprise` for the agency's supervised population (module doc), filtered."""
    filters = filters or {}
    conds: list[Any] = [Enterprise.is_active.is_(True), or_(
        Enterprise.supervising_agency_id == agency.id,
        and_(Enterprise.supervising_agency_id.is_(None), Enterprise.scope_path.like(agency.jurisdiction.path + "%")))]
    if filters.get("sectors"):
        conds.append(exists().where(EnterpriseSector.enterprise_id == Enterprise.id,
                                    EnterpriseSector.sector.in_(filters["sectors"])))
    if filters.get("classes"):
        conds.append(or_(*[_CLASS_FLAGS[c].is_(True) if c in _CLASS_FLAGS else _general_clause()
                           for c in filters["classes"]]))
    if filters.get("levels"):
        conds.append(Enterprise.supervision_level.in_(filters["levels"]))
    return conds


def candidates(session: Session, agency: Agency, filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The ordered candidate population with risk class and weight, in three set-based queries."""
    conds = population_clause(agency, filters)
    ids = select(Enterprise.id).where(*conds)
    rows = session.execute(select(Enterprise.id, Enterprise.is_high_risk, Enterprise.credit_class)
                           .where(*conds).order_by(Enterprise.id)).all()
    points: dict[tuple[int, str], int] = {
        (eid, grade): n for eid, grade, n in session.execute(
            select(RiskPoint.enterprise_id, RiskPoint.grade, func.count())
            .where(RiskPoint.enterprise_id.in_(ids), RiskPoint.is_active.is_(True),
                   RiskPoint.grade.in_(("major", "large")))
            .group_by(RiskPoint.enterprise_id, RiskPoint.grade))}
    majors = dict(session.execute(
        select(Hazard.enterprise_id, func.count())
        .where(Hazard.enterprise_id.in_(ids), Hazard.level == MAJOR, Hazard.state != HazardState.CLOSED.value)
        .group_by(Hazard.enterprise_id)).all())
    weights = _weights()
    out = []
    for eid, high_risk, credit in rows:
        cls = risk_class(high_risk=bool(high_risk), red_points=points.get((eid, "major"), 0),
                         orange_points=points.get((eid, "large"), 0), open_major=majors.get(eid, 0),
                         credit_class=credit)
        if weights[cls] > 0:
            out.append({"id": eid, "risk_class": cls, "weight": weights[cls]})
    return out


def certified_inspectors(session: Session, agency: Agency, on: date) -> list[User]:
    """Active inspectors and regulators of the agency whose 执法证 is valid on ``on``, by id."""
    return list(session.scalars(
        select(User).where(User.agency_id == agency.id, User.is_active.is_(True), User.cert_number.is_not(None),
                           User.cert_number != "", User.cert_valid_until >= on,
                           exists().where(UserRole.user_id == User.id,
                                          UserRole.role.in_((Role.INSPECTOR.value, Role.REGULATOR.value))))
        .order_by(User.id)))


def compute(seed: str, inputs: dict[str, Any]) -> list[tuple[int, int, int]]:
    """The draw as (enterprise id, inspector, inspector) in drawn order, from the seed and the recorded inputs.

    Pure: the same (seed, inputs) always gives the same list (module doc: the algorithm)."""
    if inputs.get("algorithm") != ALGORITHM:
        raise ValueError(f"unknown draw algorithm {inputs.get('algorithm')!r}")
    population = inputs["population"]
    inspectors = [int(i["id"]) for i in inputs["inspectors"]]
    count = int(inputs["count"])
    if len(set(inspectors)) < 2 or not 0 < count <= len(population):
        raise ValueError("inputs cannot give a draw")
    rng = random.Random(seed)
    keys = [(math.log(1.0 - rng.random()) / float(c["weight"]), -pos) for pos, c in enumerate(population)]
    chosen = sorted(range(len(population)), key=keys.__getitem__, reverse=True)[:count]
    load = dict.fromkeys(inspectors, 0)
    result = []
    for index in chosen:
        order = rng.sample(inspectors, len(inspectors))
        order.sort(key=load.__getitem__)  # stable: equal loads stay in their random order
        first, second = order[0], order[1]
        load[first] += 1
        load[second] += 1
        result.append((int(population[index]["id"]), first, second))
    return result


def recompute(draw: InspectionDraw) -> bool:
    """复算校验: does the recorded seed with the recorded inputs give exactly the stored list?"""
    try:
        expected = compute(draw.seed, draw.inputs)
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return False
    stored = [(i.enterprise_id, i.inspector1_id, i.inspector2_id) for i in sorted(draw.items, key=lambda i: i.position)]
    return expected == stored and [i.position for i in sorted(draw.items, key=lambda i: i.position)] == list(
        range(1, len(stored) + 1))


def _month_title(start: date, end: date) -> str:
    nxt = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    if start.day == 1 and end == nxt - timedelta(days=1):
        return f"{start.year}年{start.month}月双随机抽查"
    return f"{start.isoformat()}至{end.isoformat()}双随机抽查"


def create_draw(session: Session, actor: Actor, data: dict[str, Any]) -> InspectionDraw:
    """抽取: draw ``count`` enterprises of the agency's population and pair two certified inspectors with each.

    ``data``: period_start, period_end, count, optional plan_id, title, seed (else 16 random hex digits from
    :mod:`secrets`), filters (sectors, classes, levels). Refused with a Chinese message when fewer than two
    inspectors hold a valid 执法证 today, when the population is empty or smaller than ``count``."""
    agency = managing_agency(session, actor)
    plan = None
    if data.get("plan_id"):
        plan = session.get(InspectionPlan, data["plan_id"])
        if plan is None or plan.agency_id != agency.id:
            raise ValidationFailed({"plan_id": ["年度执法计划不存在或不属于本机关"]})
    start, end = data["period_start"], data["period_end"]
    if end < start:
        raise ValidationFailed({"period_end": ["检查期间止不能早于起"]})
    if plan is not None and start.year != plan.year:
        raise ValidationFailed({"plan_id": [f"检查期间不在{plan.year}年度计划内"]})
    filters = {k: sorted(set(data.get(k) or [])) for k in ("sectors", "classes", "levels") if data.get(k)}
    unknown = sorted(set(filters.get("sectors", [])) - set(plugins().sectors))
    if unknown:
        raise ValidationFailed({"sectors": [f"领域 {'、'.join(unknown)} 未启用"]})
    on = today()
    inspectors = certified_inspectors(session, agency, on)
    if len(inspectors) < 2:
        msg = (f"{agency.name}执法证有效的执法人员不足两名（现有 {len(inspectors)} 名），无法随机匹配检查人员；"
               "请先为执法人员登记有效的执法证")
        raise ValidationFailed({"_schema": [msg]}, msg)
    population = candidates(session, agency, filters)
    if not population:
        msg = "抽取范围内没有在营的监管企业，请调整抽取条件"
        raise ValidationFailed({"_schema": [msg]}, msg)
    count = data["count"]
    if count > len(population):
        raise ValidationFailed({"count": [f"抽取数量（{count}）超过候选企业数（{len(population)}）"]})
    seed = data.get("seed") or secrets.token_hex(8)
    inputs = {
        "algorithm": ALGORITHM, "description": ALGORITHM_DESCRIPTION, "rng": "python random.Random(seed: str)",
        "draw_date": on.isoformat(), "agency_id": agency.id, "count": count, "filters": filters,
        "weights": _weights(), "population": population,
        "inspectors": [{"id": u.id, "name": u.display_name, "cert_number": u.cert_number,
                        "cert_valid_until": u.cert_valid_until.isoformat()} for u in inspectors],
    }
    drawn = compute(seed, inputs)
    draw = InspectionDraw(
        agency_id=agency.id, plan_id=plan.id if plan else None, scope_path=agency.jurisdiction.path,
        title=data.get("title") or _month_title(start, end), period_start=start, period_end=end,
        requested_count=count, filters=filters, seed=seed, algorithm=ALGORITHM, inputs=inputs,
        drawn_by_id=actor.id, drawn_by_name=actor.display_name, drawn_at=utcnow(), status=DrawStatus.DRAFT.value)
    draw.items = [DrawItem(position=n, enterprise_id=eid, inspector1_id=a, inspector2_id=b,
                           status=ItemStatus.OPEN.value) for n, (eid, a, b) in enumerate(drawn, start=1)]
    session.add(draw)
    session.flush()
    audit.record(session, actor, "draw", "inspection_draw", draw.id,
                 summary=f"双随机抽取：{draw.title}，候选 {len(population)} 家，抽取 {count} 家，种子 {seed}",
                 after={"seed": seed, "algorithm": ALGORITHM, "count": count, "filters": filters,
                        "population": len(population), "inspectors": [u.id for u in inspectors],
                        "items": [list(t) for t in drawn]})
    return draw


def draw_clause(actor: Actor):
    clause = path_clause(InspectionDraw.scope_path, scope_of(actor))
    if not sees_drafts(actor):
        clause = and_(clause, InspectionDraw.status == DrawStatus.PUBLISHED.value)
    return clause


def list_draws(session: Session, actor: Actor, filters: dict[str, Any] | None = None, *, after: int | None = None,
               size: int = 20) -> Page[InspectionDraw]:
    """One keyset page of the visible draws, newest first (drafts only for regulators and the admin)."""
    require(actor, "plan.view")
    filters = filters or {}
    stmt = select(InspectionDraw).where(draw_clause(actor)).options(joinedload(InspectionDraw.agency))
    for key in ("status", "plan_id"):
        if filters.get(key):
            stmt = stmt.where(getattr(InspectionDraw, key) == filters[key])
    return keyset_page(session, stmt, InspectionDraw.id, after=after, size=size)


def item_counts(session: Session, draw_ids: list[int]) -> dict[int, tuple[int, int]]:
    """draw id → (items, items done), one grouped query."""
    if not draw_ids:
        return {}
    rows = session.execute(
        select(DrawItem.draw_id, func.count(DrawItem.id),
               func.coalesce(func.sum(case((DrawItem.status == ItemStatus.DONE.value, 1), else_=0)), 0))
        .where(DrawItem.draw_id.in_(draw_ids)).group_by(DrawItem.draw_id))
    return {d: (n, int(done)) for d, n, done in rows}


def get_draw(session: Session, actor: Actor, draw_id: int) -> InspectionDraw:
    """The draw with its items and their enterprises loaded, or 404 (drafts: regulators and admin only)."""
    draw = _visible(actor, session.get(InspectionDraw, draw_id, options=[
        selectinload(InspectionDraw.items).joinedload(DrawItem.enterprise)]))
    if not draw.is_published and not sees_drafts(actor):
        raise NotFound()
    return draw


def people(session: Session, draws: list[InspectionDraw]) -> dict[int, User]:
    """The inspectors of these draws' items by id, one query."""
    ids = {uid for d in draws for i in d.items for uid in i.inspector_ids}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}


@dataclass
class ItemResult:
    run_id: int
    completed: bool
    hazards: int = 0
    major: int = 0

    @property
    def label(self) -> str:
        if not self.completed:
            return "检查中"
        if not self.hazards:
            return "已检查，未发现隐患"
        return f"已检查，发现隐患 {self.hazards} 项" + (f"（重大 {self.major} 项）" if self.major else "")


def item_results(session: Session, items: list[DrawItem]) -> dict[int, ItemResult]:
    """item id → the result of its linked inspection run (one query)."""
    run_ids = {i.inspection_run_id: i.id for i in items if i.inspection_run_id}
    if not run_ids:
        return {}
    out = {}
    for run in session.scalars(select(InspectionRun).where(InspectionRun.id.in_(run_ids))):
        found = (run.summary or {}).get("hazards") or {}
        out[run_ids[run.id]] = ItemResult(run.id, run.is_completed, len(found.get("ids") or []),
                                          int(found.get("major") or 0))
    return out


def publish_draw(session: Session, actor: Actor, draw_id: int, version: int | None) -> InspectionDraw:
    """公布: the list becomes public (``/public/draws/<token>``) and its items become the inspectors' tasks."""
    draw = get_draw(session, actor, draw_id)
    ensure_manager(actor, draw)
    check_version(draw, version, "该抽查")
    if draw.status != DrawStatus.DRAFT.value:
        raise Conflict(f"该抽查{draw.status_label}，不能公布")
    draw.status = DrawStatus.PUBLISHED.value
    draw.published_at = utcnow()
    draw.published_by_id = actor.id
    draw.public_token = secrets.token_urlsafe(16)[:22]
    session.flush()
    audit.record(session, actor, "publish", "inspection_draw", draw.id, summary=f"公布双随机抽查名单：{draw.title}",
                 before={"status": DrawStatus.DRAFT.value}, after={"status": draw.status,
                                                                   "public_token": draw.public_token})
    return draw


def void_draw(session: Session, actor: Actor, draw_id: int, version: int | None) -> InspectionDraw:
    """作废 a draw that was not published (e.g. drawn with wrong conditions); it stays on record."""
    draw = get_draw(session, actor, draw_id)
    ensure_manager(actor, draw)
    check_version(draw, version, "该抽查")
    if draw.status != DrawStatus.DRAFT.value:
        raise Conflict("已公布的抽查不能作废")
    draw.status = DrawStatus.VOID.value
    session.flush()
    audit.record(session, actor, "void", "inspection_draw", draw.id, summary=f"作废双随机抽查：{draw.title}",
                 before={"status": DrawStatus.DRAFT.value}, after={"status": draw.status})
    return draw


def public_draw(session: Session, token: str) -> InspectionDraw:
    """The published draw behind a public token (no login), else 404."""
    draw = session.scalar(select(InspectionDraw).where(
        InspectionDraw.public_token == token, InspectionDraw.status == DrawStatus.PUBLISHED.value).options(
        selectinload(InspectionDraw.items).joinedload(DrawItem.enterprise), joinedload(InspectionDraw.agency)))
    if draw is None:
        raise NotFound("该抽查名单不存在或尚未公布")
    return draw


def describe_filters(filters: dict[str, Any] | None) -> str:
    """The draw's conditions in words, e.g. "领域：危险化学品；类别：高危行业"."""
    filters = filters or {}
    registry = plugins()
    levels = {lvl.value: lvl.label for lvl in SupervisionLevel}
    parts = []
    if filters.get("sectors"):
        parts.append("领域：" + "、".join(registry.sector_name(s) for s in filters["sectors"]))
    if filters.get("classes"):
        parts.append("类别：" + "、".join(ENTERPRISE_CLASSES.get(c, c) for c in filters["classes"]))
    if filters.get("levels"):
        parts.append("监管层级：" + "、".join(levels.get(v, v) for v in filters["levels"]))
    return "；".join(parts) or "本机关全部监管企业"


def class_counts(draw: InspectionDraw) -> dict[str, int]:
    """Candidates per risk class, from the recorded inputs (for the summary and the public page)."""
    counts = dict.fromkeys(RISK_CLASSES, 0)
    for c in draw.inputs.get("population", []):
        counts[c["risk_class"]] = counts.get(c["risk_class"], 0) + 1
    return counts


# --- the inspectors' side (used by the field-inspection pages) ----------------------------------------------------

def tasks_for(session: Session, actor: Actor) -> list[DrawItem]:
    """Open items of published draws where the actor is one of the two drawn inspectors, enterprise and draw
    loaded, oldest period first."""
    if getattr(actor, "id", None) is None:
        return []
    return list(session.scalars(
        select(DrawItem).join(DrawItem.draw)
        .where(InspectionDraw.status == DrawStatus.PUBLISHED.value, DrawItem.status == ItemStatus.OPEN.value,
               or_(DrawItem.inspector1_id == actor.id, DrawItem.inspector2_id == actor.id))
        .options(contains_eager(DrawItem.draw), joinedload(DrawItem.enterprise))
        .order_by(InspectionDraw.period_start, InspectionDraw.id, DrawItem.position)))


def link_run(session: Session, actor: Actor, item_id: int, run_id: int) -> DrawItem:
    """Record that the check of a drawn item is made by inspection run ``run_id`` (item becomes 已检查).

    The actor is one of the item's two inspectors or a regulator of the agency; the draw is published; the run
    is a 执法检查 of the drawn enterprise. Linking the same run again changes nothing."""
    require(actor, "plan.view")
    item = session.get(DrawItem, item_id)
    if item is None:
        raise NotFound()
    draw = _visible(actor, item.draw)
    if actor.id not in item.inspector_ids and not can_manage(actor, draw):
        raise PermissionDenied("只有抽中的执法人员可以检查该企业")
    if not draw.is_published:
        raise Conflict("该抽查名单尚未公布")
    from core.services.inspections import get_run

    run = get_run(session, actor, run_id)
    if run.enterprise_id != item.enterprise_id:
        raise ValidationFailed({"run_id": ["该检查记录不是抽中企业的检查"]})
    if run.kind != "enforcement":
        raise ValidationFailed({"run_id": ["双随机抽查须以执法检查完成"]})
    if item.inspection_run_id == run.id:
        return item
    if item.inspection_run_id is not None:
        raise Conflict(f"该企业已关联检查记录 {item.inspection_run_id}")
    item.inspection_run_id = run.id
    item.status = ItemStatus.DONE.value
    item.done_at = utcnow()
    session.flush()
    audit.record(session, actor, "link_run", "inspection_draw_item", item.id,
                 summary=f"双随机抽查（{draw.title}）第 {item.position} 项由检查记录 {run.id} 完成",
                 after={"draw_id": draw.id, "enterprise_id": item.enterprise_id, "inspection_run_id": run.id})
    return item


# --- 专项行动 campaigns ---------------------------------------------------------------------------------------------

def checklist_choices() -> dict[str, str]:
    """Checklist code → title of the enabled plugins' current checklists."""
    return {c.code: f"{c.title}（{c.code}）" for c in plugins().catalog.current_checklists()}


def _clean_campaign(session: Session, actor: Actor, agency: Agency, data: dict[str, Any],
                    campaign: Campaign | None = None) -> dict[str, Any]:
    merged = {k: getattr(campaign, k) for k in ("name", "kind", "sectors", "jurisdiction_ids", "starts_on",
                                                 "ends_on", "checklist_codes", "description", "status")} \
        if campaign is not None else {}
    merged.update({k: v for k, v in data.items() if k != "version"})
    errors: dict[str, list[str]] = {}
    if merged.get("kind") not in CAMPAIGN_KINDS:
        errors["kind"] = ["行动类型应为：" + "、".join(CAMPAIGN_KINDS.values())]
    if merged.get("status") is not None and merged["status"] not in {s.value for s in CampaignStatus}:
        errors["status"] = ["状态应为：筹备中、进行中、已结束"]
    if merged.get("starts_on") and merged.get("ends_on") and merged["ends_on"] < merged["starts_on"]:
        errors["ends_on"] = ["结束日期不能早于开始日期"]
    merged["sectors"] = list(dict.fromkeys(merged.get("sectors") or []))
    unknown = [s for s in merged["sectors"] if s not in plugins().sectors]
    if unknown:
        errors["sectors"] = [f"领域 {'、'.join(unknown)} 未启用"]
    merged["checklist_codes"] = list(dict.fromkeys(merged.get("checklist_codes") or []))
    choices = checklist_choices()
    stored = set(session.scalars(select(StoredChecklist.code).where(
        StoredChecklist.code.in_(merged["checklist_codes"])))) if merged["checklist_codes"] else set()
    missing = [c for c in merged["checklist_codes"] if c not in choices and c not in stored]
    if missing:
        errors["checklist_codes"] = [f"检查表 {'、'.join(missing)} 不存在"]
    merged["jurisdiction_ids"] = list(dict.fromkeys(int(i) for i in merged.get("jurisdiction_ids") or []))
    if merged["jurisdiction_ids"]:
        nodes = {n.id: n for n in session.scalars(select(Jurisdiction).where(
            Jurisdiction.id.in_(merged["jurisdiction_ids"])))}
        outside = [i for i in merged["jurisdiction_ids"]
                   if i not in nodes or not nodes[i].path.startswith(agency.jurisdiction.path)]
        if outside:
            errors["jurisdiction_ids"] = [f"辖区（编号 {'、'.join(map(str, outside))}）不在{agency.name}的管辖范围内"]
    if errors:
        raise ValidationFailed(errors)
    return merged


_CAMPAIGN_FIELDS = ("name", "kind", "sectors", "jurisdiction_ids", "starts_on", "ends_on", "checklist_codes",
                    "description", "status")


def list_campaigns(session: Session, actor: Actor, status: str | None = None) -> list[Campaign]:
    require(actor, "plan.view")
    stmt = (select(Campaign).where(path_clause(Campaign.scope_path, scope_of(actor)))
            .options(joinedload(Campaign.agency)).order_by(Campaign.starts_on.desc(), Campaign.id.desc()).limit(500))
    if status:
        stmt = stmt.where(Campaign.status == status)
    return list(session.scalars(stmt))


def get_campaign(session: Session, actor: Actor, campaign_id: int) -> Campaign:
    return _visible(actor, session.get(Campaign, campaign_id))


def create_campaign(session: Session, actor: Actor, data: dict[str, Any]) -> Campaign:
    agency = managing_agency(session, actor)
    clean = _clean_campaign(session, actor, agency, data)
    campaign = Campaign(agency_id=agency.id, scope_path=agency.jurisdiction.path, created_by_id=actor.id,
                        **{k: clean.get(k) for k in _CAMPAIGN_FIELDS if k != "status"},
                        status=clean.get("status") or CampaignStatus.DRAFT.value)
    session.add(campaign)
    session.flush()
    audit.record(session, actor, "create", "campaign", campaign.id, summary=f"组织专项行动：{campaign.name}",
                 after=audit.snapshot(campaign, _CAMPAIGN_FIELDS))
    return campaign


def update_campaign(session: Session, actor: Actor, campaign_id: int, data: dict[str, Any]) -> Campaign:
    campaign = get_campaign(session, actor, campaign_id)
    ensure_manager(actor, campaign)
    check_version(campaign, data.get("version"), "该专项行动")
    clean = _clean_campaign(session, actor, campaign.agency, data, campaign)
    before = audit.snapshot(campaign, _CAMPAIGN_FIELDS)
    for key in _CAMPAIGN_FIELDS:
        if key in data:
            setattr(campaign, key, clean[key])
    old, new = audit.diff(before, audit.snapshot(campaign, _CAMPAIGN_FIELDS))
    if new:
        session.flush()
        audit.record(session, actor, "update", "campaign", campaign.id, summary=f"修改专项行动：{campaign.name}",
                     before=old, after=new)
    return campaign


@dataclass
class CampaignProgress:
    in_scope: int
    checked: int
    checks: int
    self_checked: int
    hazards: int
    rectified: int
    overdue: int
    by_kind: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def coverage(self) -> int | None:
        return round(self.checked * 100 / self.in_scope) if self.in_scope else None

    @property
    def rectified_percent(self) -> int | None:
        return round(self.rectified * 100 / self.hazards) if self.hazards else None


def campaign_enterprise_clause(session: Session, campaign: Campaign) -> list[Any]:
    """SQL conditions on :class:`Enterprise` for the campaign's scope: active, in one of its jurisdictions (or
    the agency's whole jurisdiction) and, when sectors are named, tagged with one of them."""
    paths = [campaign.scope_path]
    if campaign.jurisdiction_ids:
        paths = list(session.scalars(select(Jurisdiction.path).where(Jurisdiction.id.in_(campaign.jurisdiction_ids))))
    conds: list[Any] = [Enterprise.is_active.is_(True), or_(*[Enterprise.scope_path.like(p + "%") for p in paths])]
    if campaign.sectors:
        conds.append(exists().where(EnterpriseSector.enterprise_id == Enterprise.id,
                                    EnterpriseSector.sector.in_(campaign.sectors)))
    return conds


def campaign_progress(session: Session, campaign: Campaign) -> CampaignProgress:
    """Enterprises in scope; those checked in the period with one of the campaign's checklists (government
    checks: 执法检查 and 网格巡查; 企业自查 counted apart); the hidden dangers those runs found and how many are
    closed (已销号) or overdue. Without checklists, any completed run in scope and period counts. Four queries."""
    ent_conds = campaign_enterprise_clause(session, campaign)
    in_scope = session.scalar(select(func.count(Enterprise.id)).where(*ent_conds)) or 0
    run_conds = [InspectionRun.status == RunStatus.COMPLETED.value,
                 InspectionRun.completed_at >= china_midnight_utc(campaign.starts_on),
                 InspectionRun.completed_at < china_midnight_utc(campaign.ends_on + timedelta(days=1)), *ent_conds]
    if campaign.checklist_codes:
        run_conds.append(exists().where(
            InspectionRunChecklist.run_id == InspectionRun.id,
            InspectionRunChecklist.checklist_id == StoredChecklist.id,
            StoredChecklist.code.in_(campaign.checklist_codes)))
    runs = select(InspectionRun.id).join(Enterprise, Enterprise.id == InspectionRun.enterprise_id).where(*run_conds)
    by_kind = {kind: (ents, n) for kind, ents, n in session.execute(
        select(InspectionRun.kind, func.count(InspectionRun.enterprise_id.distinct()), func.count(InspectionRun.id))
        .join(Enterprise, Enterprise.id == InspectionRun.enterprise_id).where(*run_conds)
        .group_by(InspectionRun.kind))}
    government = session.execute(
        select(func.count(InspectionRun.enterprise_id.distinct()), func.count(InspectionRun.id))
        .join(Enterprise, Enterprise.id == InspectionRun.enterprise_id)
        .where(*run_conds, InspectionRun.kind.in_(("enforcement", "grid_patrol")))).one()
    found = session.execute(
        select(func.count(Hazard.id),
               func.coalesce(func.sum(case((Hazard.state == HazardState.CLOSED.value, 1), else_=0)), 0),
               func.coalesce(func.sum(case((overdue_clause(today()), 1), else_=0)), 0))
        .where(Hazard.id.in_(select(InspectionAnswer.hazard_id).where(
            InspectionAnswer.run_id.in_(runs), InspectionAnswer.hazard_id.is_not(None))))).one()
    return CampaignProgress(in_scope=in_scope, checked=government[0], checks=government[1],
                            self_checked=by_kind.get("self_check", (0, 0))[0], hazards=found[0],
                            rectified=int(found[1]), overdue=int(found[2]), by_kind=by_kind)
