"""Hidden-danger pages (事故隐患), the web twin of :mod:`core.views.api.hazards`: the ledger (隐患台账) with filters
and streamed exports, registration with photos, the detail with its timeline, one form per closed-loop action,
evidence downloads and the regulator's 挂牌督办 list (R-H1…R-H4, R-H6, R-N3, R-N5)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required
from marshmallow import ValidationError
from sqlalchemy import select

from core.extensions import db
from core.models import Attachment, Hazard, HazardTransition
from core.models.hazard import HAZARD_CATEGORIES, HAZARD_SOURCES
from core.plugins import plugins
from core.schemas.hazard import STATES, SUPERVISION_LEVELS, HazardFilterIn, HazardIn
from core.services import enterprises, hazard_export, hazard_flow, hazards, jurisdictions, stats
from core.services.attachments import IMAGE_TYPES, load_with_uploads
from core.services.deadlines import DEADLINE_KINDS
from core.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.services.permissions import can, require
from core.views.files import send_stored
from core.views.web import nav
from core.views.web.forms import flat_errors, form_data
from core.views.web.hazard_forms import ACTION_FIELDS, EVIDENCE, PHOTOS

bp = Blueprint("hazards", __name__, url_prefix="/hazards")
nav.add("hazards.index", "隐患台账", "hazard.view", 20, group="hazards")
nav.add("hazards.supervised", "挂牌督办", "hazard.view", 22, audience="government", group="hazards")

#: Ledger filters behind the "更多筛选" fold (open when one of them is set).
MORE_FILTERS = ("jurisdiction_id", "sector", "level", "source", "overdue", "supervised", "found_from", "found_to",
                "risk_point_id")
#: Labels of the values a timeline step records (see the ``_…`` functions of hazard_flow).
STEP_LABELS = {
    "rule_item": "判定依据", "decided_by": "判定者", "responsible_name": "整改责任人", "measures": "整改措施",
    "old_deadline": "原期限", "deadline": "整改期限", "deadline_kind": "期限计法", "new_deadline": "新期限",
    "reason": "理由", "due_date": "督办期限", "leader_name": "督办责任领导", "requirements": "督办要求",
    "approved": "审批结果", "lifted_supervisions": "摘牌", "funds_amount": "治理资金（万元）",
    "approved_by_name": "主要负责人", "complete": "方案齐全",
}
#: Labels of the registration fields for the error summary (the form shows them beside the fields too).
REGISTER_LABELS = {
    "enterprise_id": "企业", "description": "隐患描述", "location": "隐患部位", "category": "类别", "level": "建议等级",
    "source": "来源", "sector": "专项领域", "checklist_item": "检查表条目", "rule_item": "判定依据条款",
    "risk_point_id": "所属风险点", "control_measure_id": "失效的管控措施", "object_type": "检查对象类型",
    "object_ref": "对象标识", "found_on": "发现日期", PHOTOS: "现场照片", "_schema": "表单",
}


# --- ledger --------------------------------------------------------------------------------------------------------

def _filters() -> dict[str, Any]:
    args = request.args.to_dict()
    open_only = args.get("state") == "open"  # 未销号: not a state of its own, a filter of the ledger
    if open_only:
        args.pop("state")
    try:
        filters = HazardFilterIn().load(args)
    except ValidationError as exc:
        flash("筛选条件有误：" + "；".join(f"{k} {v[0]}" for k, v in flat_errors(exc.messages).items()), "error")
        filters = {}
    if open_only:
        filters["open"] = True
    if filters.get("figure"):
        try:  # checked here as the other filters are: a message and the unfiltered ledger, not an error page
            stats.figure_clause(Hazard, stats.parse_period(filters.get("period") or ""), filters["figure"])
        except ValidationFailed as exc:
            flash("筛选条件有误：" + "；".join(m for ms in exc.errors.values() for m in ms), "error")
            filters.pop("figure")
    return filters


def _visible_enterprise(enterprise_id: int | None):
    if enterprise_id is None:
        return None
    try:
        return enterprises.get_enterprise(db.session, current_user, enterprise_id)
    except NotFound:
        return None


def _drill_labels(filters: dict[str, Any]) -> dict[str, str]:
    """The filters the ledger's form does not show (they come from a number on another page), in words."""
    labels: dict[str, str] = {}
    if filters.get("figure"):
        period = stats.parse_period(filters.get("period") or "")
        labels["figure"] = f"统计口径：{period.label} · {stats.figure_label(filters['figure'])}"
    if filters.get("direct"):
        labels["direct"] = "只含直属企业"
    if filters.get("supervision_overdue"):
        labels["supervision_overdue"] = "督办逾期（挂牌督办期限已过）"
    return labels


@bp.get("/")
@login_required
def index():
    filters = _filters()
    page = hazards.list_hazards(db.session, current_user, filters, after=filters.get("after"),
                                size=filters.get("size") or 20)
    gov = can(current_user, "jurisdiction.view")
    enterprise = _visible_enterprise(filters.get("enterprise_id") or current_user.enterprise_id)
    points = hazards.risk_point_choices(db.session, current_user, enterprise.id) if enterprise else []
    args = {k: v for k, v in request.args.items() if k != "after" and v}
    drill = _drill_labels(filters)
    return render_template(
        "hazards/list.html", page=page, filters=filters, args=args, enterprise=enterprise, points=points,
        drill=drill, drill_cleared={k: v for k, v in args.items() if k not in drill and k != "period"},
        nodes=jurisdictions.list_jurisdictions(db.session, current_user) if gov else [],
        more_open=any(filters.get(k) is not None for k in MORE_FILTERS), states=STATES, sources=HAZARD_SOURCES,
        levels=hazards.level_labels(), on=hazards.today(), top_listing=hazard_flow.top_listing,
        supervision_levels=SUPERVISION_LEVELS)


@bp.get("/export.<fmt>")
@login_required
def export(fmt: str):
    require(current_user, "hazard.export")
    if fmt not in ("xlsx", "csv"):
        abort(404)
    stream, mimetype = hazard_export.export_hazards(db.session, current_user, _filters(), fmt)
    return Response(stream_with_context(stream), mimetype=mimetype,
                    headers={"Content-Disposition": _download_name(f"隐患台账.{fmt}")})


def _download_name(filename: str) -> str:
    ascii_name = "anjian-hazards." + filename.rsplit(".", 1)[-1]
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


@bp.get("/supervised")
@login_required
def supervised():
    rows = hazards.list_active_supervisions(db.session, current_user)
    return render_template("hazards/supervised.html", rows=rows, on=hazards.today(), levels=SUPERVISION_LEVELS,
                           hazard_levels=hazards.level_labels())


# --- registration --------------------------------------------------------------------------------------------------

def _sources_for_user() -> list[tuple[str, str]]:
    codes = [s for role in sorted(current_user.roles) for s in hazards.SOURCES_BY_ROLE.get(role, ())]
    return [(c, HAZARD_SOURCES[c]) for c in dict.fromkeys(codes)]


def _register_context(ent, values: dict[str, Any], errors: dict[str, Any] | None = None) -> dict[str, Any]:
    registry = plugins()
    own = [s.sector for s in ent.sectors if s.sector in registry.sectors]
    sectors = [(c, registry.sector_name(c)) for c in own + [c for c in registry.sectors if c not in own]]
    return {
        "ent": ent, "values": values, "errors": flat_errors(errors or {}), "labels": REGISTER_LABELS,
        "categories": list(HAZARD_CATEGORIES.items()), "levels": list(hazards.level_labels().items()),
        "sources": _sources_for_user(), "sectors": sectors,
        "object_types": [(o.code, o.name) for o in registry.object_types.values()],
        "points": hazards.risk_point_choices(db.session, current_user, ent.id),
    }


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    require(current_user, "hazard.register")
    enterprise_id = current_user.enterprise_id or request.values.get("enterprise_id", type=int)
    if enterprise_id is None:
        # Government users first pick the enterprise (a city has tens of thousands: a search, not a <select>).
        q = (request.args.get("q") or "").strip()[:100]
        page = enterprises.list_enterprises(db.session, current_user, {"q": q} if q else {}, size=20)
        return render_template("hazards/pick_enterprise.html", page=page, q=q)
    ent = enterprises.get_enterprise(db.session, current_user, enterprise_id)
    if request.method == "POST":
        raw = form_data()
        raw["enterprise_id"] = str(ent.id)
        try:
            data, uploads = load_with_uploads(HazardIn(), raw, request.files.getlist(PHOTOS))
            hazard = hazards.register_hazard(db.session, current_user, data, uploads=uploads)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            ent = enterprises.get_enterprise(db.session, current_user, enterprise_id)
            return render_template("hazards/form.html", **_register_context(ent, raw, exc.errors)), 422
        level = hazards.level_labels().get(hazard.level, hazard.level)
        basis = f"（依据 {hazard.rule_item}）" if hazard.rule_item else ""
        flash(f"已登记隐患 {hazard.id}，等级：{level}{basis}", "success")
        return redirect(url_for(".detail", hazard_id=hazard.id))
    values = {"level": "general"}
    return render_template("hazards/form.html", **_register_context(ent, values))


# --- detail --------------------------------------------------------------------------------------------------------

def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def step_facts(step: HazardTransition) -> list[tuple[str, str]]:
    """The data a timeline step recorded, as (label, text) pairs in Chinese."""
    data = step.data or {}
    facts: list[tuple[str, str]] = []
    if step.action == "register" and data.get("level"):
        facts.append(("等级", hazards.level_labels().get(data["level"], data["level"])))
    if step.action == "list" and data.get("level"):
        facts.append(("督办层级", SUPERVISION_LEVELS.get(data["level"], data["level"])))
    if step.action == "plan":
        items = [label for key, label in hazard_flow.PLAN_FIELDS.items() if data.get(key)]
        if items:
            facts.append(("填写项目", "、".join(items)))
    for key, label in STEP_LABELS.items():
        value = data.get(key)
        if value is None or value == "" or value == []:
            continue
        if key == "deadline_kind":
            value = DEADLINE_KINDS.get(value, value)
        elif key == "approved":
            value = "批准" if value else "驳回"
        elif key == "lifted_supervisions":
            value = f"{len(value)} 项挂牌督办随销号摘牌"
        elif key == "decided_by" and value == "core":
            value = "平台默认规则"
        elif key == "funds_amount":
            value = f"{value:g}"
        if key == "reason":
            label = "判定理由" if step.action == "register" else "延期理由"
        facts.append((label, _fmt(value)))
    return facts


def _detail_context(h: Hazard) -> dict[str, Any]:
    files = list(db.session.scalars(select(Attachment).where(
        Attachment.owner_type == "hazard", Attachment.owner_id == h.id).order_by(Attachment.id)))
    by_step: dict[int | None, list[Attachment]] = {}
    for row in files:
        by_step.setdefault(row.transition_id, []).append(row)
    registry = plugins()
    return {
        "h": h, "on": hazards.today(), "levels": hazards.level_labels(), "categories": HAZARD_CATEGORIES,
        "sources": HAZARD_SOURCES, "deadline_kinds": DEADLINE_KINDS, "supervision_levels": SUPERVISION_LEVELS,
        "plan_fields": hazard_flow.PLAN_FIELDS, "missing_plan": hazard_flow.missing_plan_fields(h),
        "action_labels": hazard_flow.ACTION_LABELS, "states": STATES, "files_by_step": by_step,
        "step_facts": step_facts, "image_types": IMAGE_TYPES,
        "actions": hazard_flow.available_actions(current_user, h), "action_fields": ACTION_FIELDS,
        "evidence": EVIDENCE, "action_values": _action_values,
        "sector_name": registry.sector_name(h.sector) if h.sector else None,
        "object_type": registry.object_types.get(h.object_type) if h.object_type else None,
    }


@bp.get("/<int:hazard_id>")
@login_required
def detail(hazard_id: int):
    h = hazards.get_hazard(db.session, current_user, hazard_id)
    return render_template("hazards/detail.html", **_detail_context(h))


# --- actions -------------------------------------------------------------------------------------------------------

def _action_values(h: Hazard, code: str) -> dict[str, Any]:
    """What an action's form starts with: the version, and what is already known (plan, proposed dates)."""
    values: dict[str, Any] = {"version": h.version}
    if code == "plan" and h.plan is not None:
        for f in ACTION_FIELDS["plan"]:
            value = getattr(h.plan, f.name, None)
            if value is not None:
                values[f.name] = value
    elif code == "list":
        mine = hazard_flow.listing_level_of(current_user)
        values["level"] = mine or ("enterprise" if current_user.enterprise_id else "")
    elif code == "decide_extension":
        values["approve"] = "true"
    return values


def _act_page(h: Hazard, action, values: dict[str, Any], status: int = 200, **extra: Any):
    pending = next((e for e in h.extensions if e.status == "pending"), None)
    labels = {f.name: f.label for f in ACTION_FIELDS[action.code]} | {PHOTOS: "证据照片", "version": "版本", "_schema": "表单"}
    return render_template("hazards/act.html", h=h, action=action, fields=ACTION_FIELDS[action.code], labels=labels,
                           evidence=EVIDENCE.get(action.code), values=values, pending=pending,
                           levels=hazards.level_labels(), **{"errors": {}, **extra}), status


@bp.route("/<int:hazard_id>/act/<code>", methods=["GET", "POST"])
@login_required
def act(hazard_id: int, code: str):
    action = hazard_flow.ACTIONS.get(code)
    if action is None:
        abort(404)
    h = hazards.get_hazard(db.session, current_user, hazard_id)
    refused = hazard_flow.refusal(current_user, h, action)
    if isinstance(refused, PermissionDenied):
        raise refused  # before reading the post: a user who may not act learns nothing from validation messages
    if request.method == "GET":
        if refused is not None:
            return _act_page(h, action, {}, refused.status, refused=refused.message)
        return _act_page(h, action, _action_values(h, code))

    values = form_data()
    try:
        data, uploads = load_with_uploads(action.schema(), values, request.files.getlist(PHOTOS))
        hazard_flow.perform(db.session, current_user, hazard_id, code, data, uploads=uploads)
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        h = hazards.get_hazard(db.session, current_user, hazard_id)
        return _act_page(h, action, values, 422, errors=flat_errors(exc.errors))
    except (Conflict, PermissionDenied) as exc:
        db.session.rollback()
        h = hazards.get_hazard(db.session, current_user, hazard_id)
        refused = hazard_flow.refusal(current_user, h, action)
        if isinstance(refused, PermissionDenied):
            raise refused from None
        if refused is not None:
            return _act_page(h, action, values, refused.status, conflict=exc.message, refused=refused.message)
        # Still possible: keep what was typed, against the current version, so a second submit is deliberate.
        stale = isinstance(exc, Conflict) and h.version != _int(values.get("version"))
        values["version"] = h.version
        return _act_page(h, action, values, exc.status, conflict=exc.message, stale=stale)
    flash(f"已完成：{action.label}", "success")
    return redirect(url_for(".detail", hazard_id=hazard_id))


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- evidence files --------------------------------------------------------------------------------------------------

@bp.get("/<int:hazard_id>/attachments/<int:attachment_id>")
@login_required
def attachment(hazard_id: int, attachment_id: int):
    # Photos open in the page (thumbnails, full view); anything else downloads (core.views.files).
    return send_stored(hazards.get_attachment(db.session, current_user, hazard_id, attachment_id))
