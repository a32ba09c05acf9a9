"""安全生产标准化: annual self-assessment, grading, findings → hidden dangers, comparison, the 达标 lifecycle and
the regulators' coverage (R-S1…R-S4).

Rules:

* One assessment per enterprise and year, created by its staff; the items are copied from the edition chosen by
  :func:`core.standardization.assessable_edition` (the newest edition in force whose text is loaded; a newer
  pending edition is named in ``edition_note``) plus the sector criteria of the enterprise's sectors.
* Per item: a score (0…标准分) or a deduction with a reason; a failed 否决项 (``vetoed``) scores 0 and needs a reason;
  不适用 needs a justification and leaves the denominator. 得分 = 实得分 ÷ 适用项标准分合计 × 100.
* The grade follows ``STANDARDIZATION_GRADES`` (config; legacy defaults): any failed 否决项 → 未达标; otherwise the
  highest grade whose ``min_score``, ``max_deaths`` (deaths in the accident window, entered on the assessment) and
  optional ``min_element_percent`` are met.
* draft/returned (editable by enterprise staff) → submitted (主要负责人 signs; all items evaluated) → accepted or
  returned with comments by a regulator whose scope covers the enterprise. Accepted is final (409 on any edit).
* Regulators never see drafts. Out-of-scope or invisible ids are 404.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, case, exists, func, literal, select
from sqlalchemy.orm import Session, selectinload

from core.models import (
    Assessment,
    AssessmentItem,
    AssessmentStatus,
    Attachment,
    Enterprise,
    ItemResult,
    Jurisdiction,
    LifecycleStatus,
    Role,
    StandardizationEvent,
    StandardizationLifecycle,
)
from core.models.base import utcnow
from core.schemas.base import DATE_MAX, DATE_MIN, parse_date
from core.services import attachments, audit, hazards
from core.services.actors import Actor
from core.services.attachments import Upload
from core.services.base import check_version
from core.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.services.hazards import today
from core.services.permissions import require
from core.services.scope import (
    ensure_enterprise_visible,
    ensure_jurisdiction_visible,
    enterprise_clause,
    scope_of,
)
from core.standardization import assessable_edition

TEXT_MAX = 2000
ATTACHMENT_OWNER = "assessment_item"
VISIBLE_TO_GOVERNMENT = (AssessmentStatus.SUBMITTED.value, AssessmentStatus.RETURNED.value,
                         AssessmentStatus.ACCEPTED.value)
#: Statuses that count as "assessed this year" for coverage and comparison.
COMPLETED = (AssessmentStatus.SUBMITTED.value, AssessmentStatus.ACCEPTED.value)


def _criteria():
    from core.plugins import plugins

    return plugins().criteria


def grade_rules() -> dict[str, Any]:
    return current_app.config["STANDARDIZATION_GRADES"]


def grade_labels(rules: dict[str, Any] | None = None) -> dict[str, str]:
    rules = rules or grade_rules()
    return {**{g["grade"]: g["label"] for g in rules["grades"]}, "none": rules.get("fail_label", "未达标")}


# --- scoring (pure) --------------------------------------------------------------------------------------------------

@dataclass
class ElementScore:
    code: str
    name: str
    items: int = 0
    evaluated: int = 0
    not_applicable: int = 0
    deducted: int = 0
    applicable_total: float = 0
    earned: float = 0

    @property
    def percent(self) -> float | None:
        return round(self.earned / self.applicable_total * 100, 1) if self.applicable_total else None

    @property
    def progress(self) -> int:
        return round(self.evaluated / self.items * 100) if self.items else 100


@dataclass
class Result:
    score: float
    earned: float
    applicable_total: float
    grade: str
    reason: str
    elements: list[ElementScore] = field(default_factory=list)
    vetoed: list[str] = field(default_factory=list)
    pending: int = 0
    items: int = 0

    @property
    def progress(self) -> int:
        return round((self.items - self.pending) / self.items * 100) if self.items else 100


def compute(items: list[Any], deaths: int, rules: dict[str, Any]) -> Result:
    """Score and grade of a list of items (anything with the :class:`AssessmentItem` result attributes).

    Pending items count in the denominator with 0 points (a submitted assessment has none)."""
    elements: dict[str, ElementScore] = {}
    for it in items:
        el = elements.setdefault(it.element_code, ElementScore(it.element_code, it.element_name))
        el.items += 1
        if it.result == ItemResult.NOT_APPLICABLE:
            el.not_applicable += 1
            el.evaluated += 1
            continue
        el.applicable_total += it.standard_score
        if it.result == ItemResult.SCORED:
            el.evaluated += 1
            el.earned += it.score or 0
            if it.deduction > 0 or it.vetoed:
                el.deducted += 1
    earned = round(sum(e.earned for e in elements.values()), 2)
    total = round(sum(e.applicable_total for e in elements.values()), 2)
    score = round(earned / total * 100, 1) if total else 0.0
    vetoed = [f"{it.code} {it.text}" for it in items if it.result == ItemResult.SCORED and it.is_veto and it.vetoed]
    pending = sum(1 for it in items if it.result == ItemResult.PENDING)
    grade, reason = decide_grade(score, deaths, [e.percent for e in elements.values()], vetoed, rules)
    return Result(score, earned, total, grade, reason, list(elements.values()), vetoed, pending, len(items))


def decide_grade(score: float, deaths: int, element_percents: list[float | None], vetoed: list[str],
                 rules: dict[str, Any]) -> tuple[str, str]:
    """(grade code, Chinese reason) by the configured thresholds; ``none`` is 未达标."""
    labels = grade_labels(rules)
    if vetoed:
        return "none", f"否决项不符合（{'；'.join(vetoed)}），判定为{labels['none']}"
    window = rules.get("accident_window_years", 1)
    misses = []
    for g in rules["grades"]:
        why = []
        if score < g["min_score"]:
            why.append(f"得分 {score:g} 低于 {g['min_score']:g}")
        if g.get("max_deaths") is not None and deaths > g["max_deaths"]:
            why.append(f"{window} 年内事故死亡 {deaths} 人，超过 {g['max_deaths']} 人")
        minimum = g.get("min_element_percent")
        if minimum is not None and any(p is not None and p < minimum for p in element_percents):
            why.append(f"有一级要素得分率低于 {minimum:g}%")
        if not why:
            return g["grade"], f"得分 {score:g}，满足{g['label']}条件（得分不低于 {g['min_score']:g}）"
        misses.append(f"{g['label']}：{'，'.join(why)}")
    return "none", "未满足任何等级条件（" + "；".join(misses[-1:]) + "）"


# --- reading ---------------------------------------------------------------------------------------------------------

def _is_enterprise_user(actor: Actor) -> bool:
    return scope_of(actor).enterprise_id is not None


def get_assessment(session: Session, actor: Actor, assessment_id: int) -> Assessment:
    """An assessment the actor may see: their own enterprise's (drafts too) or, for government users, a submitted
    (or returned, accepted) one in scope; anything else is :class:`NotFound`."""
    require(actor, "assessment.view")
    a = session.get(Assessment, assessment_id)
    if a is None:
        raise NotFound()
    scope = scope_of(actor)
    if scope.enterprise_id is not None:
        if a.enterprise_id != scope.enterprise_id:
            raise NotFound()
    elif a.status not in VISIBLE_TO_GOVERNMENT or not scope.covers_path(a.scope_path):
        raise NotFound()
    return a


def list_assessments(session: Session, actor: Actor, *, enterprise_id: int | None = None, year: int | None = None,
                     status: str | None = None, limit: int = 500) -> list[Assessment]:
    """Assessments in the actor's scope, newest year first (government users: not drafts). Capped list: at most one
    per enterprise and year."""
    require(actor, "assessment.view")
    stmt = (select(Assessment).join(Enterprise, Enterprise.id == Assessment.enterprise_id)
            .where(enterprise_clause(actor)).options(selectinload(Assessment.enterprise)))
    if not _is_enterprise_user(actor):
        stmt = stmt.where(Assessment.status.in_(VISIBLE_TO_GOVERNMENT))
    if enterprise_id is not None:
        stmt = stmt.where(Assessment.enterprise_id == enterprise_id)
    if year is not None:
        stmt = stmt.where(Assessment.year == year)
    if status:
        stmt = stmt.where(Assessment.status == status)
    return list(session.scalars(stmt.order_by(Assessment.year.desc(), Assessment.id.desc()).limit(limit)))


def result_of(a: Assessment) -> Result:
    """The current figures of an assessment (frozen rules for a submitted one, the configured ones otherwise)."""
    rules = a.grade_rules if a.grade_rules and not a.is_editable else grade_rules()
    return compute(a.items, a.deaths_in_window, rules)


# --- writing ---------------------------------------------------------------------------------------------------------

def _text(value: Any, name: str, errors: dict[str, list[str]], limit: int = TEXT_MAX) -> str | None:
    text = (value or "").strip() if isinstance(value, str) or value is None else str(value)
    if len(text) > limit:
        errors.setdefault(name, []).append(f"不能超过 {limit} 字")
    return text or None


def _team(data: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "team_leader" in data:
        out["team_leader"] = _text(data.get("team_leader"), "team_leader", errors, 50)
    if "team_members" in data:
        raw = data.get("team_members") or []
        if isinstance(raw, str):
            raw = raw.replace("，", ",").replace("、", ",").replace("\n", ",").split(",")
        members = [m.strip() for m in raw if isinstance(m, str) and m.strip()]
        if len(members) > 50 or any(len(m) > 50 for m in members):
            errors.setdefault("team_members", []).append("成员最多 50 人，每个姓名不超过 50 字")
        out["team_members"] = members
    if "deaths_in_window" in data:
        raw = data.get("deaths_in_window")
        try:
            deaths = int(raw if raw not in (None, "") else 0)
            if deaths < 0 or deaths > 10000:
                raise ValueError
            out["deaths_in_window"] = deaths
        except (TypeError, ValueError):
            errors.setdefault("deaths_in_window", []).append("应为不小于 0 的整数")
    return out


def create_assessment(session: Session, actor: Actor, enterprise_id: int, data: dict[str, Any],
                      on: date | None = None) -> Assessment:
    """Start the self-assessment of ``data['year']`` for a visible enterprise (its staff only); opens the enterprise's
    standardization lifecycle (创建) when it has none or had withdrawn."""
    require(actor, "assessment.edit")
    enterprise = ensure_enterprise_visible(actor, session.get(Enterprise, enterprise_id))
    on = on or today()
    errors: dict[str, list[str]] = {}
    try:
        year = int(data.get("year") or on.year)
        if not 2000 <= year <= on.year:
            raise ValueError
    except (TypeError, ValueError):
        errors["year"] = [f"年度应在 2000 到 {on.year} 之间"]
        year = on.year
    team = _team(data, errors)
    if errors:
        raise ValidationFailed(errors)
    if session.scalar(select(Assessment.id).where(Assessment.enterprise_id == enterprise.id,
                                                  Assessment.year == year)) is not None:
        raise Conflict(f"{year} 年度已有自评，请在原自评上填报")
    criteria = _criteria()
    day = date(year, 12, 31) if year < on.year else on
    choice = assessable_edition(criteria, day)
    edition = choice.criteria
    sector_sets = criteria.for_sectors(edition.code, enterprise.sector_codes)
    # A sector standard in force whose text is not loaded adds no items; the assessment says so rather than
    # pretending the enterprise was assessed against it.
    pending = [s for s in sector_sets if not s.is_loaded]
    sector_sets = [s for s in sector_sets if s.is_loaded]
    notes = [choice.note] + [f"{s.standard}《{s.title}》已于 {s.effective_from.isoformat()} 实施，但平台尚未载入其条文，"
                             f"本次自评未包含其评分项。" for s in pending if s.effective_from <= day]
    notes += [f"行业细则《{s.title}》：{s.source}" for s in sector_sets if s.score_source != "standard"]
    a = Assessment(enterprise_id=enterprise.id, scope_path=enterprise.scope_path, year=year,
                   criteria_code=edition.code, criteria_standard=edition.standard, criteria_title=edition.title,
                   sector_criteria=[s.code for s in sector_sets], edition_note="\n".join(n for n in notes if n) or None,
                   status=AssessmentStatus.DRAFT, created_by_id=actor.id, team_members=[], deaths_in_window=0)
    for key, value in team.items():
        setattr(a, key, value)
    position = 0
    names = {e.code: e.name for e in edition.elements}
    for element in edition.elements:
        sector_items = [i for s in sector_sets for i in s.items if i.element == element.code]
        for item in (*element.items, *sector_items):
            position += 1
            a.items.append(AssessmentItem(
                position=position, element_code=element.code, element_name=names[element.code], code=item.code,
                text=item.text, source=item.source, sector=item.sector, standard_score=item.score,
                is_veto=item.veto, verified=item.verified, evidence_required=item.evidence or None,
                deduction_rules=item.deduction_rules or None, result=ItemResult.PENDING, deduction=0, vetoed=False))
    session.add(a)
    session.flush()
    audit.record(session, actor, "create", "assessment", a.id,
                 summary=f"创建安全生产标准化自评：{enterprise.name} {year} 年度（{edition.standard}）",
                 after=audit.snapshot(a, ["enterprise_id", "year", "criteria_code", "sector_criteria"]))
    lifecycle = _lifecycle_of(session, enterprise.id)
    if lifecycle is None or lifecycle.status == LifecycleStatus.WITHDRAWN:
        _transition(session, actor, enterprise, lifecycle, "create", {})
    return a


def _editable(session: Session, actor: Actor, assessment_id: int, version: int | None) -> Assessment:
    require(actor, "assessment.edit")
    a = get_assessment(session, actor, assessment_id)
    if a.status == AssessmentStatus.ACCEPTED:
        raise Conflict("自评已审核通过并锁定，不能修改")
    if a.status == AssessmentStatus.SUBMITTED:
        raise Conflict("自评已提交待审核，不能修改")
    check_version(a, version, "该自评")
    return a


def _touch(a: Assessment) -> None:
    """Bump the version even when only items changed (items are part of the aggregate)."""
    a.updated_at = utcnow()
    r = compute(a.items, a.deaths_in_window, grade_rules())
    a.score, a.earned_total, a.applicable_total, a.grade, a.grade_reason = (
        r.score, r.earned, r.applicable_total, r.grade, r.reason)


def update_team(session: Session, actor: Actor, assessment_id: int, data: dict[str, Any]) -> Assessment:
    """Save the team (leader, members) and the accident figure of an editable assessment."""
    a = _editable(session, actor, assessment_id, data.get("version"))
    errors: dict[str, list[str]] = {}
    team = _team(data, errors)
    if errors:
        raise ValidationFailed(errors)
    before = audit.snapshot(a, ["team_leader", "team_members", "deaths_in_window"])
    for key, value in team.items():
        setattr(a, key, value)
    _touch(a)
    session.flush()
    b, after = audit.diff(before, audit.snapshot(a, ["team_leader", "team_members", "deaths_in_window"]))
    audit.record(session, actor, "update", "assessment", a.id, summary="修改自评组和事故情况", before=b or None,
                 after=after or None)
    return a


def _number(value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError from None
    if math.isnan(number) or math.isinf(number):
        raise ValueError
    return round(number, 2)


def _apply_result(item: AssessmentItem, raw: dict[str, Any], errors: dict[str, list[str]]) -> None:
    prefix = f"items.{item.id}."
    result = raw.get("result") or ItemResult.PENDING.value
    if result not in {r.value for r in ItemResult}:
        errors[prefix + "result"] = ["评定结果应为：未评、已评或不适用"]
        return
    item_errors: dict[str, list[str]] = {}
    reason = _text(raw.get("reason"), "reason", item_errors)
    comment = _text(raw.get("comment"), "comment", item_errors)
    na_reason = _text(raw.get("na_reason"), "na_reason", item_errors)
    vetoed = str(raw.get("vetoed", "")).lower() in ("1", "true", "on", "yes", "是")
    score = deduction = None
    if result == ItemResult.SCORED:
        try:
            score, deduction = _number(raw.get("score")), _number(raw.get("deduction"))
        except ValueError:
            item_errors["score"] = ["得分和扣分应为数字"]
        if vetoed and not item.is_veto:
            item_errors["vetoed"] = ["该项不是否决项"]
        elif vetoed:
            score, deduction = 0.0, item.standard_score
        elif score is None and deduction is None and "score" not in item_errors:
            item_errors["score"] = ["请填写得分或扣分"]
        elif score is not None:
            deduction = round(item.standard_score - score, 2)
        else:
            score = round(item.standard_score - deduction, 2)
        if score is not None and not 0 <= score <= item.standard_score:
            item_errors["score"] = [f"得分应在 0 到 {item.standard_score:g} 之间（扣分不超过标准分）"]
        elif deduction and deduction > 0 and not reason:
            item_errors["reason"] = ["有扣分时请填写扣分理由"]
    elif result == ItemResult.NOT_APPLICABLE and not na_reason:
        item_errors["na_reason"] = ["选择不适用时请说明理由"]
    if item_errors:
        errors.update({prefix + k: v for k, v in item_errors.items()})
        return
    item.result = result
    item.comment = comment
    if result == ItemResult.SCORED:
        item.score, item.deduction, item.vetoed = score, deduction, vetoed
        item.reason, item.na_reason = reason if deduction else None, None
    elif result == ItemResult.NOT_APPLICABLE:
        item.score, item.deduction, item.vetoed, item.reason, item.na_reason = None, 0, False, None, na_reason
    else:
        item.score, item.deduction, item.vetoed, item.reason, item.na_reason = None, 0, False, None, None


def save_items(session: Session, actor: Actor, assessment_id: int, version: int | None,
               results: list[dict[str, Any]]) -> Assessment:
    """Record item results (``item_id``, ``result``: pending/scored/not_applicable, ``score`` or ``deduction``,
    ``reason``, ``vetoed``, ``na_reason``, ``comment``). All or nothing: errors are keyed ``items.<id>.<field>``."""
    a = _editable(session, actor, assessment_id, version)
    by_id = {it.id: it for it in a.items}
    errors: dict[str, list[str]] = {}
    changed = []
    for raw in results:
        try:
            item = by_id[int(raw.get("item_id"))]
        except (KeyError, TypeError, ValueError):
            errors.setdefault("items", []).append(f"评分项 {raw.get('item_id')} 不属于该自评")
            continue
        before = audit.snapshot(item, ["result", "score", "deduction", "vetoed", "reason", "na_reason", "comment"])
        _apply_result(item, raw, errors)
        after = audit.snapshot(item, ["result", "score", "deduction", "vetoed", "reason", "na_reason", "comment"])
        if before != after:
            item.updated_by_id, item.updated_at = actor.id, utcnow()
            changed.append((item, *audit.diff(before, after)))
    if errors:
        raise ValidationFailed(errors)
    _touch(a)
    session.flush()
    if changed:
        audit.record(session, actor, "update", "assessment", a.id, summary=f"评定 {len(changed)} 个评分项",
                     before={it.code: b for it, b, _ in changed}, after={it.code: af for it, _, af in changed})
    return a


def _item_of(a: Assessment, item_id: int) -> AssessmentItem:
    for it in a.items:
        if it.id == item_id:
            return it
    raise NotFound()


def add_evidence(session: Session, actor: Actor, assessment_id: int, item_id: int, uploads: list[Upload],
                 version: int | None) -> list[Attachment]:
    """Attach evidence files (photos, PDF) to an item of an editable assessment."""
    a = _editable(session, actor, assessment_id, version)
    item = _item_of(a, item_id)
    if not uploads:
        raise ValidationFailed({"files": ["请选择要上传的证据文件"]})
    rows = [attachments.store(session, actor, u, ATTACHMENT_OWNER, item.id) for u in uploads]
    _touch(a)
    session.flush()
    audit.record(session, actor, "attach", "assessment", a.id, summary=f"上传证据 {len(rows)} 个：{item.code}",
                 after={"item": item.code, "files": [r.filename for r in rows]})
    return rows


def evidence_of(session: Session, items: list[AssessmentItem]) -> dict[int, list[Attachment]]:
    """item id → its evidence files, in one query."""
    ids = [it.id for it in items]
    out: dict[int, list[Attachment]] = {}
    if not ids:
        return out
    for row in session.scalars(select(Attachment).where(Attachment.owner_type == ATTACHMENT_OWNER,
                                                        Attachment.owner_id.in_(ids)).order_by(Attachment.id)):
        out.setdefault(row.owner_id, []).append(row)
    return out


def get_evidence(session: Session, actor: Actor, assessment_id: int, item_id: int, attachment_id: int) -> Attachment:
    a = get_assessment(session, actor, assessment_id)
    item = _item_of(a, item_id)
    row = session.get(Attachment, attachment_id)
    if row is None or row.owner_type != ATTACHMENT_OWNER or row.owner_id != item.id:
        raise NotFound()
    return row


def submit(session: Session, actor: Actor, assessment_id: int, data: dict[str, Any]) -> Assessment:
    """Sign and submit (主要负责人 only): every item evaluated; score and grade frozen with the rules used."""
    a = _editable(session, actor, assessment_id, data.get("version"))
    require(actor, "assessment.submit")
    errors: dict[str, list[str]] = {}
    signer = _text(data.get("signer_name", a.signer_name), "signer_name", errors, 50)
    if not signer:
        errors["signer_name"] = ["请填写签字的主要负责人姓名"]
    if not a.team_leader:
        errors["team_leader"] = ["请填写自评组组长"]
    pending = [it.code for it in a.items if it.result == ItemResult.PENDING]
    if pending:
        errors["items"] = [f"尚有 {len(pending)} 个评分项未评定（{'、'.join(pending[:5])}{'…' if len(pending) > 5 else ''}）"]
    if errors:
        raise ValidationFailed(errors)
    rules = grade_rules()
    r = compute(a.items, a.deaths_in_window, rules)
    a.signer_name = signer
    a.score, a.earned_total, a.applicable_total, a.grade, a.grade_reason = (
        r.score, r.earned, r.applicable_total, r.grade, r.reason)
    a.grade_rules = dict(rules)
    a.status = AssessmentStatus.SUBMITTED
    a.submitted_at, a.submitted_by_id = utcnow(), actor.id
    session.flush()
    audit.record(session, actor, "submit", "assessment", a.id,
                 summary=f"提交安全生产标准化自评：{a.year} 年度，得分 {r.score:g}，{grade_labels(rules)[r.grade]}",
                 after=audit.snapshot(a, ["status", "score", "grade", "signer_name", "submitted_at"]))
    return a


def review(session: Session, actor: Actor, assessment_id: int, data: dict[str, Any]) -> Assessment:
    """The supervising regulator accepts (locks) or returns (with comments) a submitted assessment."""
    require(actor, "assessment.review")
    a = get_assessment(session, actor, assessment_id)
    if a.status != AssessmentStatus.SUBMITTED:
        raise Conflict("只有已提交待审核的自评可以审核")
    check_version(a, data.get("version"), "该自评")
    decision = data.get("decision")
    errors: dict[str, list[str]] = {}
    comment = _text(data.get("comment"), "comment", errors)
    if decision not in ("accept", "return"):
        errors["decision"] = ["请选择审核结论：通过或退回"]
    elif decision == "return" and not comment:
        errors["comment"] = ["退回时请填写修改意见"]
    if errors:
        raise ValidationFailed(errors)
    a.status = AssessmentStatus.ACCEPTED if decision == "accept" else AssessmentStatus.RETURNED
    if decision == "return":
        a.returned_count = (a.returned_count or 0) + 1
    a.review_comment, a.reviewed_at, a.reviewed_by_id, a.reviewer_name = (
        comment, utcnow(), actor.id, actor.display_name)
    session.flush()
    audit.record(session, actor, "accept" if decision == "accept" else "return", "assessment", a.id,
                 summary=("审核通过" if decision == "accept" else "退回") + f"安全生产标准化自评：{a.year} 年度",
                 after=audit.snapshot(a, ["status", "review_comment", "reviewed_at"]))
    return a


def _rule_items(a: Assessment) -> dict[tuple[str, str], str]:
    """(criteria set, item code) → the rule item the criteria item checks, for the sector sets ``a`` was built
    from (read from the loaded criteria: the copied assessment items keep no rule reference)."""
    sets = _criteria().sector_sets
    return {(code, it.code): it.rule_item for code in (a.sector_criteria or []) if code in sets
            for it in sets[code].items if it.rule_item}


def create_hazards(session: Session, actor: Actor, assessment_id: int, item_ids: list[int]) -> list[Any]:
    """Register one hidden danger (企业自查, 管理缺陷) per selected deducted item and link it to the item.

    Items must be deducted (or a failed 否决项) and not linked yet; all or nothing."""
    require(actor, "assessment.edit")
    require(actor, "hazard.register")
    a = get_assessment(session, actor, assessment_id)
    by_id = {it.id: it for it in a.items}
    chosen, errors = [], []
    for raw in dict.fromkeys(item_ids):
        item = by_id.get(int(raw)) if str(raw).isdigit() else None
        if item is None:
            errors.append(f"评分项 {raw} 不属于该自评")
        elif not item.is_deducted:
            errors.append(f"{item.code} 没有扣分，不能登记为隐患")
        elif item.hazard_id is not None:
            errors.append(f"{item.code} 已登记为隐患（编号 {item.hazard_id}）")
        else:
            chosen.append(item)
    if not chosen and not errors:
        errors.append("请选择要登记为隐患的扣分项")
    if errors:
        raise ValidationFailed({"item_ids": errors})
    created = []
    rule_items = _rule_items(a)
    for item in chosen:
        what = "否决项不符合" if item.vetoed else f"扣 {item.deduction:g} 分"
        description = f"标准化自评{a.year}年度 {item.element_name}/{item.code} {item.text}：{what}。{item.reason or ''}"
        h = hazards.register_hazard(session, actor, {
            "enterprise_id": a.enterprise_id, "description": description[:1000], "category": "management",
            "sector": item.sector, "checklist_item": f"assessment:{a.id}/{item.code}"[:200],
            "rule_item": rule_items.get((item.source, item.code))})
        item.hazard_id = h.id
        created.append(h)
    session.flush()
    audit.record(session, actor, "hazards", "assessment", a.id, summary=f"自评扣分项登记隐患 {len(created)} 项",
                 after={it.code: it.hazard_id for it in chosen})
    return created


# --- comparison -------------------------------------------------------------------------------------------------------

@dataclass
class Comparison:
    years: list[int]
    #: element name → {year: percent}
    rows: list[tuple[str, dict[int, float | None]]]
    totals: dict[int, float | None]
    #: element name → the latest year's weakest items (lowest score ratio, deducted ones only)
    weakest: list[tuple[str, list[AssessmentItem]]]
    latest: Assessment | None


def comparison(session: Session, actor: Actor, enterprise_id: int, weakest_per_element: int = 3) -> Comparison:
    """Year-on-year percent per 一级要素 over the enterprise's submitted/accepted assessments, and the weakest items
    of the latest one."""
    require(actor, "assessment.view")
    ensure_enterprise_visible(actor, session.get(Enterprise, enterprise_id))
    done = list(session.scalars(select(Assessment).where(
        Assessment.enterprise_id == enterprise_id, Assessment.status.in_(COMPLETED))
        .options(selectinload(Assessment.items)).order_by(Assessment.year)))
    years = [a.year for a in done]
    table: dict[str, dict[int, float | None]] = {}
    totals: dict[int, float | None] = {}
    for a in done:
        r = compute(a.items, a.deaths_in_window, a.grade_rules or grade_rules())
        totals[a.year] = r.score
        for e in r.elements:
            table.setdefault(e.name, {})[a.year] = e.percent
    latest = done[-1] if done else None
    weakest: list[tuple[str, list[AssessmentItem]]] = []
    if latest is not None:
        by_element: dict[str, list[AssessmentItem]] = {}
        for it in latest.items:
            if it.is_deducted:
                by_element.setdefault(it.element_name, []).append(it)
        for name, its in by_element.items():
            its.sort(key=lambda i: ((i.score or 0) / i.standard_score, -i.deduction))
            weakest.append((name, its[:weakest_per_element]))
    return Comparison(years, list(table.items()), totals, weakest, latest)


# --- lifecycle --------------------------------------------------------------------------------------------------------

LIFECYCLE_ACTIONS = {
    "create": ("创建", (None, LifecycleStatus.WITHDRAWN.value), LifecycleStatus.IN_PROGRESS),
    "certify": ("达标", (LifecycleStatus.IN_PROGRESS.value, LifecycleStatus.REVIEW.value), LifecycleStatus.CERTIFIED),
    "review": ("复评", (LifecycleStatus.CERTIFIED.value,), LifecycleStatus.REVIEW),
    "withdraw": ("退出", (LifecycleStatus.IN_PROGRESS.value, LifecycleStatus.CERTIFIED.value,
                        LifecycleStatus.REVIEW.value), LifecycleStatus.WITHDRAWN),
}


def _lifecycle_of(session: Session, enterprise_id: int) -> StandardizationLifecycle | None:
    return session.scalar(select(StandardizationLifecycle).where(
        StandardizationLifecycle.enterprise_id == enterprise_id))


def get_lifecycle(session: Session, actor: Actor, enterprise_id: int) -> StandardizationLifecycle | None:
    require(actor, "assessment.view")
    ensure_enterprise_visible(actor, session.get(Enterprise, enterprise_id))
    return _lifecycle_of(session, enterprise_id)


def add_years(day: date, years: int) -> date:
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


def available_lifecycle_actions(lifecycle: StandardizationLifecycle | None) -> list[tuple[str, str]]:
    status = lifecycle.status if lifecycle is not None else None
    return [(code, label) for code, (label, sources, _) in LIFECYCLE_ACTIONS.items() if status in sources]


def _transition(session: Session, actor: Actor, enterprise: Enterprise, lifecycle: StandardizationLifecycle | None,
                action: str, data: dict[str, Any]) -> StandardizationLifecycle:
    label, sources, target = LIFECYCLE_ACTIONS[action]
    from_status = lifecycle.status if lifecycle is not None else None
    if from_status not in sources:
        now = LifecycleStatus(from_status).label if from_status else "未创建"
        raise Conflict(f"当前状态为“{now}”，不能执行“{label}”")
    if lifecycle is None:
        lifecycle = StandardizationLifecycle(enterprise_id=enterprise.id, scope_path=enterprise.scope_path)
        session.add(lifecycle)
    lifecycle.status = target
    lifecycle.scope_path = enterprise.scope_path
    if action == "certify":
        validity = int(grade_rules().get("validity_years", 3))
        lifecycle.grade, lifecycle.certificate_no = data["grade"], data["certificate_no"]
        lifecycle.certified_on = data["certified_on"]
        lifecycle.valid_until = add_years(data["certified_on"], validity) - timedelta(days=1)
        lifecycle.assessment_id = data.get("assessment_id")
        lifecycle.withdrawn_reason = lifecycle.withdrawn_on = None
    elif action == "withdraw":
        lifecycle.withdrawn_reason, lifecycle.withdrawn_on = data["reason"], data.get("on") or today()
    elif action == "create":
        lifecycle.grade = lifecycle.certificate_no = lifecycle.certified_on = lifecycle.valid_until = None
    enterprise.standardization_status = target.value
    enterprise.standardization_grade = lifecycle.grade if target != LifecycleStatus.WITHDRAWN else None
    session.flush()
    event_data = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in data.items() if v is not None}
    lifecycle.events.append(StandardizationEvent(action=action, from_status=from_status, to_status=target.value,
                                                 data=event_data, actor_id=actor.id, actor_name=actor.display_name))
    session.flush()
    audit.record(session, actor, action, "standardization", lifecycle.id,
                 summary=f"安全生产标准化{label}：{enterprise.name}", after={"status": target.value, **event_data})
    return lifecycle


def lifecycle_action(session: Session, actor: Actor, enterprise_id: int, action: str,
                     data: dict[str, Any]) -> StandardizationLifecycle:
    """创建 / 达标 (grade, certificate number, date; valid ``validity_years``) / 复评 / 退出 (reason), by a regulator
    whose scope covers the enterprise. ``data['version']`` is checked when the lifecycle exists."""
    require(actor, "standardization.manage")
    enterprise = ensure_enterprise_visible(actor, session.get(Enterprise, enterprise_id))
    if action not in LIFECYCLE_ACTIONS:
        raise NotFound()
    lifecycle = _lifecycle_of(session, enterprise.id)
    if lifecycle is not None:
        check_version(lifecycle, data.get("version"), "该企业的标准化状态")
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    if action == "certify":
        labels = grade_labels()
        if data.get("grade") not in labels or data.get("grade") == "none":
            errors["grade"] = ["请选择达标等级"]
        clean["grade"] = data.get("grade")
        clean["certificate_no"] = _text(data.get("certificate_no"), "certificate_no", errors, 60)
        if not clean["certificate_no"]:
            errors["certificate_no"] = ["请填写证书（公告）编号"]
        raw = data.get("certified_on")
        day = raw if isinstance(raw, date) else (parse_date(raw) if raw else today())
        if day is None or not DATE_MIN <= day <= DATE_MAX:
            errors["certified_on"] = [f"应为 {DATE_MIN.isoformat()} 到 {DATE_MAX.isoformat()} 之间的日期（格式 YYYY-MM-DD）"]
        else:
            clean["certified_on"] = day
        latest = session.scalar(select(Assessment.id).where(
            Assessment.enterprise_id == enterprise.id, Assessment.status == AssessmentStatus.ACCEPTED)
            .order_by(Assessment.year.desc()).limit(1))
        clean["assessment_id"] = latest
    elif action == "withdraw":
        clean["reason"] = _text(data.get("reason"), "reason", errors)
        if not clean["reason"]:
            errors["reason"] = ["请填写退出原因"]
    if errors:
        raise ValidationFailed(errors)
    return _transition(session, actor, enterprise, lifecycle, action, clean)


def expiring_certificates(session: Session, first: date, last: date) -> list[tuple[int, str, str | None, date]]:
    """(enterprise id, name, certificate no, valid until) of 达标/复评 lifecycles whose validity ends in
    [first, last], for the reminders command."""
    rows = session.execute(
        select(StandardizationLifecycle.enterprise_id, Enterprise.name, StandardizationLifecycle.certificate_no,
               StandardizationLifecycle.valid_until)
        .join(Enterprise, Enterprise.id == StandardizationLifecycle.enterprise_id)
        .where(StandardizationLifecycle.status.in_([LifecycleStatus.CERTIFIED.value, LifecycleStatus.REVIEW.value]),
               StandardizationLifecycle.valid_until.between(first, last), Enterprise.is_active.is_(True))
        .order_by(StandardizationLifecycle.enterprise_id))
    return [tuple(r) for r in rows]


# --- coverage ---------------------------------------------------------------------------------------------------------

CATEGORIES = {"all": "全部企业", "high_risk": "高危行业", "above_scale": "规模以上", "key_industry": "重点行业领域"}


@dataclass
class CoverageCell:
    total: int = 0
    assessed: int = 0
    graded: int = 0

    @staticmethod
    def _pct(n: int, d: int) -> float | None:
        return round(n / d * 100, 1) if d else None

    @property
    def assessed_pct(self) -> float | None:
        return self._pct(self.assessed, self.total)

    @property
    def graded_pct(self) -> float | None:
        return self._pct(self.graded, self.total)


@dataclass
class CoverageRow:
    key: int
    name: str
    cells: dict[str, CoverageCell]


@dataclass
class Coverage:
    year: int
    on: date
    node: Jurisdiction | None
    rows: list[CoverageRow]
    total: CoverageRow
    targets: dict[str, float]


def coverage(session: Session, actor: Actor, year: int, node_id: int | None = None,
             on: date | None = None) -> Coverage:
    """Per child jurisdiction of ``node_id`` (default: the actor's node): active enterprises, those with a
    submitted or accepted assessment of ``year`` and those holding a valid 达标 grade on ``on``, for all and per
    category (高危 / 规模以上 / 重点行业). One grouped query (enterprise users: :class:`PermissionDenied`)."""
    require(actor, "standardization.coverage")
    if _is_enterprise_user(actor):
        raise PermissionDenied("覆盖情况仅供监管人员查看")
    on = on or today()
    if node_id is not None:
        node = ensure_jurisdiction_visible(actor, session.get(Jurisdiction, node_id))
    else:
        node = actor.jurisdiction if scope_of(actor).path_prefix else None
    if node is None:
        children = list(session.scalars(select(Jurisdiction).where(Jurisdiction.parent_id.is_(None))
                                        .order_by(Jurisdiction.id)))
        prefix = ""
    else:
        children = list(session.scalars(select(Jurisdiction).where(Jurisdiction.parent_id == node.id)
                                        .order_by(Jurisdiction.id)))
        prefix = node.path
    whens = [(Enterprise.scope_path.like(c.path + "%"), c.id) for c in children]
    bucket = case(*whens, else_=0) if whens else literal(0)
    assessed = exists().where(Assessment.enterprise_id == Enterprise.id, Assessment.year == year,
                              Assessment.status.in_(COMPLETED))
    graded = exists().where(StandardizationLifecycle.enterprise_id == Enterprise.id,
                            StandardizationLifecycle.status.in_([LifecycleStatus.CERTIFIED.value,
                                                                 LifecycleStatus.REVIEW.value]),
                            StandardizationLifecycle.valid_until >= on)
    inner = (select(bucket.label("bucket"),
                    case((Enterprise.is_high_risk.is_(True), 1), else_=0).label("high_risk"),
                    case((Enterprise.is_above_scale.is_(True), 1), else_=0).label("above_scale"),
                    case((Enterprise.is_key_industry.is_(True), 1), else_=0).label("key_industry"),
                    case((assessed, 1), else_=0).label("assessed"), case((graded, 1), else_=0).label("graded"))
             .where(enterprise_clause(actor), Enterprise.is_active.is_(True), Enterprise.scope_path.like(prefix + "%"))
             .subquery())
    measures = [func.count()]
    for cat in ("all", "high_risk", "above_scale", "key_industry"):
        flag = literal(1) if cat == "all" else inner.c[cat]
        if cat != "all":
            measures.append(func.sum(flag))
        measures.append(func.sum(case((and_(flag == 1, inner.c.assessed == 1), 1), else_=0)))
        measures.append(func.sum(case((and_(flag == 1, inner.c.graded == 1), 1), else_=0)))
    by_bucket: dict[int, dict[str, CoverageCell]] = {}
    for row in session.execute(select(inner.c.bucket, *measures).group_by(inner.c.bucket)):
        values = [int(v or 0) for v in row[1:]]
        cells = {"all": CoverageCell(values[0], values[1], values[2])}
        for i, cat in enumerate(("high_risk", "above_scale", "key_industry")):
            cells[cat] = CoverageCell(*values[3 + 3 * i: 6 + 3 * i])
        by_bucket[row[0]] = cells

    def empty() -> dict[str, CoverageCell]:
        return {cat: CoverageCell() for cat in CATEGORIES}

    rows = [CoverageRow(c.id, c.name, by_bucket.get(c.id, empty())) for c in children]
    if 0 in by_bucket:
        rows.append(CoverageRow(0, f"{node.name}（直属）" if node else "未归属辖区", by_bucket[0]))
    total = empty()
    for cells in by_bucket.values():
        for cat, cell in cells.items():
            total[cat].total += cell.total
            total[cat].assessed += cell.assessed
            total[cat].graded += cell.graded
    targets = dict(current_app.config["STANDARDIZATION_TARGETS"])
    return Coverage(year, on, node, rows, CoverageRow(-1, "合计", total), targets)


def is_principal(actor: Actor) -> bool:
    return actor.has_role(Role.ENTERPRISE_PRINCIPAL)


# --- report (PDF and Excel share one primitive context) -------------------------------------------------------------

def _china_day(value) -> str:
    if value is None:
        return ""

    from core.services.hazards import CHINA

    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(CHINA).date().isoformat()


def report_context(session: Session, a: Assessment, generated_at: str) -> dict[str, Any]:
    """The primitive context of ``pdf/assessment.html`` and :func:`workbook`: the same numbers as the page."""
    r = result_of(a)
    labels = grade_labels(a.grade_rules or None)
    deducted = [{"element": it.element_name, "code": it.code, "text": it.text, "standard": it.standard_score,
                 "score": it.score, "deduction": it.deduction, "vetoed": it.vetoed, "reason": it.reason or "",
                 "hazard_id": it.hazard_id} for it in a.items if it.is_deducted]
    rules = a.grade_rules or grade_rules()
    return {
        "enterprise": {"name": a.enterprise.name, "uscc": a.enterprise.uscc, "address": a.enterprise.address or ""},
        "assessment": {"id": a.id, "year": a.year, "status": a.status_label, "criteria": f"{a.criteria_standard}《{a.criteria_title}》",
                       "sector_criteria": list(a.sector_criteria or []), "edition_note": a.edition_note or "",
                       "team_leader": a.team_leader or "", "team_members": list(a.team_members or []),
                       "deaths": a.deaths_in_window, "signer_name": a.signer_name or "",
                       "submitted_at": _china_day(a.submitted_at),
                       "reviewer_name": a.reviewer_name or "", "review_comment": a.review_comment or "",
                       "reviewed_at": _china_day(a.reviewed_at)},
        "result": {"score": r.score, "earned": r.earned, "applicable_total": r.applicable_total,
                   "grade": labels.get(r.grade, r.grade), "reason": r.reason, "item_count": r.items, "pending": r.pending,
                   "not_applicable": sum(e.not_applicable for e in r.elements), "vetoed": r.vetoed},
        "elements": [{"code": e.code, "name": e.name, "item_count": e.items, "applicable_total": e.applicable_total,
                      "earned": e.earned, "percent": e.percent, "not_applicable": e.not_applicable,
                      "deducted": e.deducted} for e in r.elements],
        "deducted": deducted,
        "rules_label": rules.get("label", ""),
        "generated_at": generated_at,
    }


def workbook(ctx: dict[str, Any]) -> bytes:
    """The report as .xlsx: 汇总, 要素得分, 扣分项 (same numbers as the PDF)."""
    import io

    from openpyxl import Workbook

    from core.services.xlsx import safe_append

    wb = Workbook()
    a, r = ctx["assessment"], ctx["result"]
    ws = wb.active
    ws.title = "汇总"
    safe_append(ws, [f"{ctx['enterprise']['name']} {a['year']} 年度安全生产标准化自评报告"])
    for label, value in (("企业", ctx["enterprise"]["name"]), ("统一社会信用代码", ctx["enterprise"]["uscc"]),
                         ("自评年度", a["year"]), ("评分标准", a["criteria"]),
                         ("行业评分细则", "、".join(a["sector_criteria"]) or "无"), ("状态", a["status"]),
                         ("适用项标准分合计", r["applicable_total"]), ("实得分合计", r["earned"]),
                         ("最终得分（百分制）", r["score"]), ("等级", r["grade"]), ("判定说明", r["reason"]),
                         ("自评组组长", a["team_leader"]), ("自评组成员", "、".join(a["team_members"])),
                         ("主要负责人", a["signer_name"]), ("定级条件来源", ctx["rules_label"])):
        safe_append(ws, [label, value])
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["B"].width = 60
    es = wb.create_sheet("要素得分")
    safe_append(es, ["一级要素", "评分项数", "不适用项", "扣分项", "适用标准分", "实得分", "得分率%"])
    for e in ctx["elements"]:
        safe_append(es, [e["name"], e["item_count"], e["not_applicable"], e["deducted"], e["applicable_total"],
                         e["earned"], e["percent"]])
    es.column_dimensions["A"].width = 28
    ds = wb.create_sheet("扣分项")
    safe_append(ds, ["一级要素", "代码", "评分项", "标准分", "实得分", "扣分", "否决", "扣分理由", "隐患编号"])
    for d in ctx["deducted"]:
        safe_append(ds, [d["element"], d["code"], d["text"], d["standard"], d["score"], d["deduction"],
                         "是" if d["vetoed"] else "", d["reason"], d["hazard_id"]])
    ds.column_dimensions["C"].width = 30
    ds.column_dimensions["H"].width = 40
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
