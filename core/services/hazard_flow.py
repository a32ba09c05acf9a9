"""The closed loop of a hidden danger as one explicit transition table (R-H2, R-H3).

Each :class:`Action` names the states it starts from, the state it leads to (None: unchanged), the levels it
applies to, who may do it (role and relation to the hazard, checked here, in the service), the schema of its
data, and what it needs (evidence, a complete 治理方案). :func:`perform` is the only way a hazard's state
changes: it checks the version (409 on a stale one), applies the action, records the timeline step with its
evidence and fires ``on_hazard_transition``. A refusal says why in Chinese and changes nothing.

    登记 ──下达整改──▶ 整改中 ──申请复查──▶ 待复查 ──复查合格──▶ 已销号            (一般)
      │                 ▲  │延期申请/审批          │ 复查不合格(新期限)
      │                 └──┼──────────────────────┘
      └──立即整改（一般，凭证据）──▶ 已销号
    重大: 报告与治理方案 → 下达整改 → … → 复查合格 → 已复查待销号 ──销号（挂牌机关）──▶ 已销号
          挂牌督办 at 企业/县区/市/省 level by a regulator of that level, at any open state
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from marshmallow import Schema
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core.models import (
    Hazard,
    HazardExtension,
    HazardPlan,
    HazardState,
    HazardSupervision,
    JurisdictionLevel,
    Role,
)
from core.models.base import utcnow
from core.schemas.hazard import (
    ActionIn,
    AssignIn,
    CommentRequiredIn,
    DecideExtensionIn,
    ExtensionIn,
    ListIn,
    PlanIn,
    ReviewFailIn,
)
from core.services import audit
from core.services.actors import Actor
from core.services.attachments import Upload, described
from core.services.base import check_version
from core.services.deadlines import add_days, default_deadline
from core.services.errors import Conflict, PermissionDenied, ValidationFailed
from core.services.hazards import MAJOR, get_hazard, record_transition, today

S = HazardState
ENTERPRISE_ROLES = (Role.ENTERPRISE_MANAGER, Role.ENTERPRISE_PRINCIPAL)
GOV_ROLES = (Role.INSPECTOR, Role.REGULATOR)

#: The report and plan fields a 重大事故隐患 needs before rectification starts (16号令 第十四条、第十五条).
PLAN_FIELDS = {
    "status_and_cause": "隐患的现状及其产生原因",
    "harm_analysis": "隐患的危害程度和整改难易程度分析",
    "goals_tasks": "治理的目标和任务",
    "methods_measures": "采取的方法和措施",
    "funds_materials": "经费和物资的落实",
    "organization_personnel": "负责治理的机构和人员",
    "time_requirements": "治理的时限和要求",
    "safety_emergency": "安全措施和应急预案",
}
#: Which jurisdiction level a regulator lists at (a 功能区 lists like a 县区).
_LISTING_LEVEL = {JurisdictionLevel.PROVINCE: "province", JurisdictionLevel.CITY: "city",
                  JurisdictionLevel.COUNTY: "county", JurisdictionLevel.ZONE: "county"}
_LISTING_RANK = {"enterprise": 0, "county": 1, "city": 2, "province": 3}


def listing_level_of(actor: Actor) -> str | None:
    """The 挂牌督办 level a government user lists at (their jurisdiction's level), None below county."""
    node = actor.jurisdiction
    return _LISTING_LEVEL.get(JurisdictionLevel(node.level)) if node is not None else None


# --- who ---------------------------------------------------------------------------------------------------------

def _own_enterprise(actor: Actor, hazard: Hazard) -> bool:
    return actor.has_role(*ENTERPRISE_ROLES) and actor.enterprise_id == hazard.enterprise_id


def _government(actor: Actor, hazard: Hazard) -> bool:
    # Scope was already checked by get_hazard. An inspector acts only with a valid 执法证 (R-A4 持证上岗: what a
    # government user does here is an enforcement act — 责令整改, 复查, 延期审批); regulators act as supervisors.
    return actor.has_role(Role.REGULATOR) or (actor.has_role(Role.INSPECTOR) and _certified(actor))


def _certified(actor: Actor) -> bool:
    return actor.has_role(Role.INSPECTOR) and actor.cert_valid_on(today())


def _reviewer(actor: Actor, hazard: Hazard) -> bool:
    """Who reviews a reported rectification: the regulator side for major hazards and for hazards found by
    inspection; grid workers too for what they found on patrol; the enterprise itself for its own findings."""
    if hazard.level == MAJOR or hazard.source in ("inspection", "campaign"):
        return _government(actor, hazard)
    if hazard.source in ("grid_patrol", "report"):
        return _government(actor, hazard) or actor.has_role(Role.GRID_WORKER)
    return _own_enterprise(actor, hazard) or _government(actor, hazard)


def _extension_decider(actor: Actor, hazard: Hazard) -> bool:
    if hazard.level == MAJOR:
        return actor.has_role(Role.REGULATOR) and _listing_agency_ok(actor, hazard)
    if hazard.source == "self_check":
        return actor.has_role(Role.ENTERPRISE_PRINCIPAL) and actor.enterprise_id == hazard.enterprise_id
    return _government(actor, hazard)


def _listing_agency_ok(actor: Actor, hazard: Hazard) -> bool:
    """While a hazard is listed by an agency, only that agency's regulators close it or decide on it."""
    listing = _top_listing(hazard)
    if listing is None or listing.agency_id is None:
        return True
    return actor.agency_id == listing.agency_id


def _closer(actor: Actor, hazard: Hazard) -> bool:
    return actor.has_role(Role.REGULATOR) and _listing_agency_ok(actor, hazard)


def _lister(actor: Actor, hazard: Hazard) -> bool:
    return actor.has_role(Role.REGULATOR) or (actor.has_role(Role.ENTERPRISE_PRINCIPAL)
                                               and actor.enterprise_id == hazard.enterprise_id)


def top_listing(hazard: Hazard) -> HazardSupervision | None:
    """The highest active 挂牌督办 listing of the hazard (province > city > county > enterprise), or None."""
    active = [s for s in hazard.supervisions if s.lifted_at is None]
    return max(active, key=lambda s: _LISTING_RANK[s.level], default=None)


_top_listing = top_listing


# --- the table ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Action:
    code: str
    label: str
    sources: tuple[HazardState, ...]
    target: HazardState | None
    who: Callable[[Actor, Hazard], bool]
    who_label: str
    schema: type[Schema] = ActionIn
    levels: frozenset[str] | None = None  # None: any level
    not_levels: frozenset[str] = field(default_factory=frozenset)
    needs_evidence: bool = False

    def applies_to(self, hazard: Hazard) -> bool:
        if self.levels is not None and hazard.level not in self.levels:
            return False
        return hazard.level not in self.not_levels


_MAJOR = frozenset({MAJOR})
ACTIONS: dict[str, Action] = {a.code: a for a in [
    Action("plan", "报告与治理方案", (S.REGISTERED, S.RECTIFYING), None, _own_enterprise, "本企业人员",
           PlanIn, levels=_MAJOR),
    Action("assign", "下达整改", (S.REGISTERED,), S.RECTIFYING,
           lambda a, h: _own_enterprise(a, h) or _government(a, h), "本企业人员或执法、监管人员", AssignIn),
    Action("rectify_on_spot", "立即整改销号", (S.REGISTERED,), S.CLOSED,
           lambda a, h: _own_enterprise(a, h) or _government(a, h) or a.has_role(Role.GRID_WORKER),
           "本企业人员、网格员或执法、监管人员", CommentRequiredIn, not_levels=_MAJOR, needs_evidence=True),
    Action("request_review", "整改完成，申请复查", (S.RECTIFYING,), S.PENDING_REVIEW, _own_enterprise, "本企业人员",
           CommentRequiredIn),
    Action("review_pass", "复查合格", (S.PENDING_REVIEW,), None, _reviewer, "复查人员", CommentRequiredIn),
    Action("review_fail", "复查不合格，重新整改", (S.PENDING_REVIEW,), S.RECTIFYING, _reviewer, "复查人员",
           ReviewFailIn),
    Action("close", "销号", (S.REVIEWED,), S.CLOSED, _closer, "监管人员（挂牌督办的，由挂牌机关）", CommentRequiredIn,
           levels=_MAJOR),
    Action("list", "挂牌督办", (S.REGISTERED, S.RECTIFYING, S.PENDING_REVIEW, S.REVIEWED), None, _lister,
           "监管人员（企业挂牌：主要负责人）", ListIn, levels=_MAJOR),
    Action("request_extension", "延期申请", (S.RECTIFYING,), None, _own_enterprise, "本企业人员", ExtensionIn),
    Action("decide_extension", "延期审批", (S.RECTIFYING,), None, _extension_decider,
           "重大隐患：监管人员；企业自查一般隐患：主要负责人；其他：执法、监管人员", DecideExtensionIn),
]}
ACTION_LABELS = {"register": "登记", **{code: a.label for code, a in ACTIONS.items()}}


def refusal(actor: Actor, hazard: Hazard, action: Action, *, ordered: bool = False) -> Conflict | PermissionDenied | None:
    """Why ``actor`` may not do ``action`` on ``hazard`` now, as the exception to raise (Chinese message), or
    None when allowed: :class:`PermissionDenied` when it is about who asks, :class:`Conflict` when the hazard's
    present state or level does not allow it.

    ``ordered``: the 下达整改 is a 责令限期整改指令书 (core.services.documents). An inspector orders a 重大事故隐患
    rectified on the spot, before the enterprise has written its 治理方案; the plan is then required before the
    enterprise may report the rectification done (``request_review``), so no 重大隐患 reaches 复查 without one."""
    if not action.applies_to(hazard):
        return Conflict(f"“{action.label}”不适用于{'重大' if hazard.level == MAJOR else '该等级'}隐患")
    if hazard.state not in action.sources:
        return Conflict(f"隐患当前状态为“{hazard.state_label}”，不能{action.label}")
    if not action.who(actor, hazard):
        if actor.has_role(Role.INSPECTOR) and not actor.has_role(Role.REGULATOR) and not _certified(actor):
            return PermissionDenied(f"您的执法证未登记或已过期（持证上岗），不能{action.label}")
        return PermissionDenied(f"只有{action.who_label}可以{action.label}")
    if action.code == "assign" and hazard.level == MAJOR and not ordered:
        missing = _missing_plan_fields(hazard)
        if missing:
            return Conflict("重大事故隐患须先报告并制定治理方案，尚缺：" + "、".join(missing))
    if action.code == "request_review" and hazard.level == MAJOR:
        missing = _missing_plan_fields(hazard)
        if missing:
            return Conflict("重大事故隐患须先报告治理方案，才能申请复查，尚缺：" + "、".join(missing))
    if action.code == "request_extension" and any(e.status == "pending" for e in hazard.extensions):
        return Conflict("已有待审批的延期申请")
    if action.code == "decide_extension" and not any(e.status == "pending" for e in hazard.extensions):
        return Conflict("没有待审批的延期申请")
    return None


def available_actions(actor: Actor, hazard: Hazard) -> list[Action]:
    """The actions the actor may take on the hazard now (for buttons); the service re-checks on submit."""
    return [a for a in ACTIONS.values() if refusal(actor, hazard, a) is None]


def missing_plan_fields(hazard: Hazard) -> list[str]:
    """Labels of the report and plan items (:data:`PLAN_FIELDS`) a 重大事故隐患 still lacks (empty: complete)."""
    plan = hazard.plan
    return [label for key, label in PLAN_FIELDS.items() if plan is None or not (getattr(plan, key) or "").strip()]


_missing_plan_fields = missing_plan_fields


# --- applying ----------------------------------------------------------------------------------------------------

def perform(session: Session, actor: Actor, hazard_id: int, code: str, data: dict[str, Any],
            uploads: list[Upload] | None = None, on: date | None = None, *, ordered: bool = False) -> Hazard:
    """Do action ``code`` on a hidden danger with loaded data (``data['version']`` = the version the actor saw).

    Raises :class:`NotFound` (missing or out of scope), :class:`PermissionDenied` (not this actor), 
    :class:`Conflict` (wrong state, stale version, or someone acted at the same moment) or
    :class:`ValidationFailed` (bad data, missing evidence). Nothing is changed when it raises: refusals come
    before any change, and after a lost race (the flush finds another version) the caller rolls the session back,
    as the API's and the web UI's error handlers do. Every step bumps the hazard's version.
    ``ordered`` is for the documents service only (see :func:`refusal`); no HTTP route passes it.
    """
    action = ACTIONS.get(code)
    if action is None:
        raise ValidationFailed({"action": [f"未知操作 {code}"]})
    hazard = get_hazard(session, actor, hazard_id, lock=True)  # two tabs, one transition: the second waits, then 409
    check_version(hazard, data.get("version"), "该隐患")
    refused = refusal(actor, hazard, action, ordered=ordered)
    if refused is not None:
        raise refused
    if action.needs_evidence and not uploads:
        raise ValidationFailed({"photos": ["请上传整改前后的照片作为证据"]})
    on = on or today()
    before = audit.snapshot(hazard, ["state", "deadline", "responsible_name", "level"])
    from_state = hazard.state
    step_data = _APPLY[code](session, actor, hazard, data, on)
    if action.target is not None:
        hazard.state = action.target
    # Every step changes the hazard (its timeline at least), so every step bumps its version: a client holding the
    # old one gets 409, and two requests racing on one version cannot both pass — the second UPDATE … WHERE
    # version = … matches no row (StaleDataError) even for steps that touch only child rows (挂牌, 延期申请 …).
    hazard.updated_at = utcnow()
    try:
        session.flush()
    except StaleDataError:
        raise Conflict("该隐患刚被他人处理，请刷新后重试") from None
    record_transition(session, actor, hazard, code, from_state, comment=data.get("comment"), data=step_data,
                      uploads=uploads)
    b, a = audit.diff(before, audit.snapshot(hazard, ["state", "deadline", "responsible_name", "level"]))
    files = {"attachments": described(uploads)} if uploads else {}  # the evidence, named with its hash
    audit.record(session, actor, code, "hazard", hazard.id, summary=f"{action.label}：隐患 {hazard.id}",
                 before=b or None, after={**a, **step_data, **files} or None)
    return hazard


def _assign(session: Session, actor: Actor, hazard: Hazard, data: dict[str, Any], on: date) -> dict[str, Any]:
    if data.get("deadline"):
        deadline, kind = data["deadline"], data.get("deadline_kind") or "calendar"
    elif data.get("days"):
        kind = data.get("deadline_kind") or "calendar"
        deadline = add_days(on, data["days"], kind)
    else:
        deadline, kind = default_deadline(current_app.config["HAZARD_DEADLINE_POLICIES"], hazard.sector,
                                          hazard.level, on)
    if deadline < on:
        raise ValidationFailed({"deadline": ["整改期限不能早于今天"]})
    hazard.responsible_name = data["responsible_name"]
    hazard.measures = data.get("measures")
    hazard.deadline, hazard.deadline_kind = deadline, kind
    return {"responsible_name": hazard.responsible_name, "deadline": deadline, "deadline_kind": kind,
            "measures": hazard.measures}


def _plan(session: Session, actor: Actor, hazard: Hazard, data: dict[str, Any], on: date) -> dict[str, Any]:
    plan = hazard.plan or HazardPlan(hazard_id=hazard.id)
    fields = [k for k in PlanIn._declared_fields if k not in ("version", "comment")]
    for key in fields:
        if key in data:
            setattr(plan, key, data[key])
    hazard.plan = plan
    complete = not _missing_plan_fields(hazard)
    if complete and hazard.reported_at is None:
        hazard.reported_at = utcnow()  # the report (三项内容) is complete: it counts as reported to the regulator
    return {k: data[k] for k in fields if k in data} | {"complete": complete}


def _rectify_on_spot(session: Session, actor: Actor, hazard: Hazard, data: dict[str, Any], on: date) -> dict[str, Any]:
    hazard.closed_on_spot = True
    hazard.rectified_at = hazard.closed_at = utcnow()
    hazard.closed_by_id = actor.id
    return {}


def _request_review(session: Session, actor: Actor, hazard: Hazard, data: dict[str, Any], on: date) -> dict[str, Any]:
    hazard.rectified_at = utcnow()
    return {}


def _review_pass(session: Session, actor: Actor, hazard: Hazard, data: dict[str, Any], on: date) -> dict[str, Any]:
    if hazard.level == MAJOR:
        hazard.state = S.REVIEWED  # a major hazard is struck off separately by the (listing) regulator
    else:
        hazard.state = S.CLOSED
        hazard.closed_at, hazard.closed_by_id = utcnow(), actor.id
    return {}


def _review_fail(session: Session, actor: Actor, hazard: Hazard, data: dict[str, Any], on: date) -> dict[str, Any]:
    if data["deadline"] < on:
        raise ValidationFailed({"deadline": ["新的整改期限不能早于今天"]})
    old, hazard.deadline, hazard.deadline_kind = hazard.deadline, data["deadline"], "calendar"
    return {"old_deadline": old, "deadline": hazard.deadline}


def _close(session: Session, actor: Actor, hazard: Hazard, data: dict[str, Any], on: date) -> dict[str, Any]:
    hazard.closed_at, hazard.closed_by_id = utcnow(), actor.id
    lifted = []
    for listing in hazard.supervisions:
        if listing.lifted_at is None:
            listing.lifted_at = hazard.closed_at
            lifted.append(listing.id)
    return {"lifted_supervisions": lifted}


def _list(session: Session, actor: Actor, hazard: Hazard, data: dict[str, Any], on: date) -> dict[str, Any]:
    level = data["level"]
    if level == "enterprise":
        if not (actor.has_role(Role.ENTERPRISE_PRINCIPAL) and actor.enterprise_id == hazard.enterprise_id):
            raise PermissionDenied("企业挂牌由本企业主要负责人进行")
        agency_id = None
    else:
        if not actor.has_role(Role.REGULATOR) or listing_level_of(actor) != level:
            shown = {"county": "县（区）", "city": "市", "province": "省"}[level]
            raise PermissionDenied(f"{shown}级挂牌督办须由{shown}级监管部门进行")
        agency_id = actor.agency_id
    if any(s.lifted_at is None and s.level == level for s in hazard.supervisions):
        raise Conflict("该隐患已在此层级挂牌督办")
    if data["due_date"] < on:
        raise ValidationFailed({"due_date": ["督办期限不能早于今天"]})
    listing = HazardSupervision(level=level, agency_id=agency_id, listed_by_id=actor.id, due_date=data["due_date"],
                                leader_name=data["leader_name"], requirements=data.get("requirements"))
    hazard.supervisions.append(listing)
    return {"level": level, "due_date": data["due_date"], "leader_name": data["leader_name"],
            "requirements": data.get("requirements"), "agency_id": agency_id}


def _request_extension(session: Session, actor: Actor, hazard: Hazard, data: dict[str, Any], on: date) -> dict[str, Any]:
    if hazard.deadline is not None and data["new_deadline"] <= hazard.deadline:
        raise ValidationFailed({"new_deadline": ["申请的期限应晚于现有期限"]})
    hazard.extensions.append(HazardExtension(requested_by_id=actor.id, old_deadline=hazard.deadline,
                                             new_deadline=data["new_deadline"], reason=data["reason"]))
    return {"old_deadline": hazard.deadline, "new_deadline": data["new_deadline"], "reason": data["reason"]}


def _decide_extension(session: Session, actor: Actor, hazard: Hazard, data: dict[str, Any], on: date) -> dict[str, Any]:
    request = next(e for e in hazard.extensions if e.status == "pending")
    request.status = "approved" if data["approve"] else "rejected"
    request.decided_by_id, request.decided_at = actor.id, utcnow()
    request.decision_comment = data.get("comment")
    if data["approve"]:
        hazard.deadline = request.new_deadline
    return {"approved": data["approve"], "new_deadline": request.new_deadline}


_APPLY: dict[str, Callable[..., dict[str, Any]]] = {
    "plan": _plan, "assign": _assign, "rectify_on_spot": _rectify_on_spot, "request_review": _request_review,
    "review_pass": _review_pass, "review_fail": _review_fail, "close": _close, "list": _list,
    "request_extension": _request_extension, "decide_extension": _decide_extension,
}
