"""执法计划 pages (R-E1, R-E2): annual plans with progress against their targets, 双随机 draws (draw, 复算校验,
publish) and 专项行动 with their progress; plus the public page of a published draw (一公开, no login)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from marshmallow import ValidationError
from sqlalchemy import func, select

from core.extensions import db
from core.models import Enterprise, InspectionPlan, Jurisdiction
from core.models.org import SupervisionLevel
from core.models.plan import CAMPAIGN_KINDS, CAMPAIGN_STATUS_LABELS, DRAW_STATUS_LABELS, ENTERPRISE_CLASSES
from core.plugins import plugins
from core.schemas.plan import CampaignIn, DrawFilterIn, DrawIn, InspectionPlanIn
from core.services import plans
from core.services.errors import Conflict, ValidationFailed
from core.services.permissions import can
from core.services.scope import path_clause, scope_of
from core.views.web import nav
from core.views.web.forms import flat_errors, load, posted

bp = Blueprint("plans", __name__)
nav.add("plans.index", "执法计划", "plan.view", 12, group="inspections")
nav.add("plans.draws", "双随机抽查", "plan.view", 13, group="inspections")
nav.add("plans.campaigns", "专项行动", "plan.view", 14, group="inspections")

LEVELS = {lvl.value: lvl.label for lvl in SupervisionLevel}


def _sector_options() -> list[tuple[str, str]]:
    return [(code, info.name) for code, info in plugins().sectors.items()]


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _conflict(exc: Conflict, endpoint: str, **args: Any):
    db.session.rollback()
    flash(exc.message, "error")
    return redirect(url_for(endpoint, **args))


def _step(service: Callable[..., Any], done: str, endpoint: str, object_id: int, **args: Any):
    """A button that changes one versioned object (approve, publish, void): the service with the version the page
    showed, then back to the object's page with ``done`` or the conflict's message."""
    try:
        service(db.session, current_user, object_id, _int(posted().get("version")))
        db.session.commit()
    except Conflict as exc:
        return _conflict(exc, endpoint, **args)
    flash(done, "success")
    return redirect(url_for(endpoint, **args))


# --- plans --------------------------------------------------------------------------------------------------------

@bp.get("/plans/")
@login_required
def index():
    rows = plans.list_plans(db.session, current_user)
    return render_template("plans/index.html", plans=rows, can_create=can(current_user, "plan.manage")
                           and current_user.agency_id is not None)


def _plan_raw(form) -> dict[str, Any]:
    """Plan form → :class:`InspectionPlanIn` input: ``target_<group>_<key>`` fields become the targets mapping."""
    targets: dict[str, Any] = {"sectors": {}, "classes": {}, "levels": {}}
    for name, value in form.items():
        if not name.startswith("target_") or value.strip() == "":
            continue
        if name == "target_total":
            targets["total"] = value.strip()
            continue
        _, group, key = name.split("_", 2)
        if group in ("sectors", "classes", "levels"):
            targets[group][key] = value.strip()
    return {"year": form.get("year"), "title": form.get("title"), "note": form.get("note"), "targets": targets,
            **({"version": form.get("version")} if form.get("version") else {})}


def _plan_values(plan: InspectionPlan | None) -> dict[str, Any]:
    if plan is None:
        from core.services.hazards import today

        return {"year": today().year, "targets": {}}
    return {"year": plan.year, "title": plan.title, "note": plan.note or "", "targets": plan.targets or {},
            "version": plan.version}


def _plan_form(plan: InspectionPlan | None, values: dict[str, Any], errors: dict | None = None, status: int = 200):
    # "targets.classes.x" → "target_classes_x": the names of the inputs, and no dotted names in the summary.
    flat = {k.replace("targets.", "target_").replace(".", "_"): v for k, v in flat_errors(errors or {}).items()}
    return render_template("plans/plan_form.html", plan=plan, values=values, errors=flat,
                           sectors=plugins().sectors, classes=ENTERPRISE_CLASSES, levels=LEVELS), status


@bp.route("/plans/new", methods=["GET", "POST"])
@login_required
def plan_new():
    plans.managing_agency(db.session, current_user)
    if request.method == "POST":
        try:
            plan = plans.create_plan(db.session, current_user, load(InspectionPlanIn(), _plan_raw(posted())))
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            return _plan_form(None, _plan_raw(posted()), exc.errors, 422)
        flash(f"已制定{plan.title}（草稿）", "success")
        return redirect(url_for(".plan_detail", plan_id=plan.id))
    return _plan_form(None, _plan_values(None))


@bp.get("/plans/<int:plan_id>")
@login_required
def plan_detail(plan_id: int):
    plan = plans.get_plan(db.session, current_user, plan_id)
    progress = plans.plan_progress(db.session, plan)
    draws = plans.list_draws(db.session, current_user, {"plan_id": plan.id}, size=24).items
    return render_template("plans/plan_detail.html", plan=plan, progress=progress, draws=draws,
                           manage=plans.can_manage(current_user, plan))


@bp.route("/plans/<int:plan_id>/edit", methods=["GET", "POST"])
@login_required
def plan_edit(plan_id: int):
    plan = plans.get_plan(db.session, current_user, plan_id)
    plans.ensure_manager(current_user, plan)
    if request.method == "POST":
        raw = _plan_raw(posted())
        raw.pop("year", None)
        try:
            data = load(InspectionPlanIn(partial=("year",)), raw)
            plans.update_plan(db.session, current_user, plan.id, data)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            plan = plans.get_plan(db.session, current_user, plan_id)
            return _plan_form(plan, {**_plan_raw(posted()), "year": plan.year}, exc.errors, 422)
        except Conflict as exc:
            return _conflict(exc, ".plan_edit", plan_id=plan_id)
        flash("已保存", "success")
        return redirect(url_for(".plan_detail", plan_id=plan.id))
    return _plan_form(plan, _plan_values(plan))


@bp.post("/plans/<int:plan_id>/approve")
@login_required
def plan_approve(plan_id: int):
    return _step(plans.approve_plan, "计划已批准", ".plan_detail", plan_id, plan_id=plan_id)


# --- draws --------------------------------------------------------------------------------------------------------

@bp.get("/plans/draws/")
@login_required
def draws():
    try:
        filters = DrawFilterIn().load(request.args.to_dict())
    except ValidationError:
        flash("筛选条件有误", "error")
        filters = {}
    page = plans.list_draws(db.session, current_user, filters, after=filters.get("after"),
                            size=filters.get("size") or 20)
    counts = plans.item_counts(db.session, [d.id for d in page.items])
    args = {k: v for k, v in request.args.items() if k != "after" and v}
    return render_template("plans/draws.html", page=page, counts=counts, filters=filters, args=args,
                           statuses=DRAW_STATUS_LABELS, can_draw=can(current_user, "plan.manage")
                           and current_user.agency_id is not None, sees_drafts=plans.sees_drafts(current_user))


def _draw_form(values: dict[str, Any], errors: dict | None = None, status: int = 200):
    agency = plans.managing_agency(db.session, current_user)
    from core.services.hazards import today

    population = db.session.scalar(select(func.count(Enterprise.id)).where(*plans.population_clause(agency)))
    inspectors = plans.certified_inspectors(db.session, agency, today())
    agency_plans = list(db.session.scalars(select(InspectionPlan).where(InspectionPlan.agency_id == agency.id)
                                           .order_by(InspectionPlan.year.desc())))
    return render_template("plans/draw_form.html", agency=agency, values=values, errors=flat_errors(errors or {}),
                           population=population, inspectors=inspectors, agency_plans=agency_plans,
                           sector_options=_sector_options(), classes=ENTERPRISE_CLASSES, levels=LEVELS), status


@bp.route("/plans/draws/new", methods=["GET", "POST"])
@login_required
def draw_new():
    if request.method == "POST":
        form = posted()
        raw = {"title": form.get("title"), "plan_id": form.get("plan_id"), "month": form.get("month"),
               "count": form.get("count"), "seed": form.get("seed"), "sectors": form.getlist("sectors"),
               "classes": form.getlist("classes"), "levels": form.getlist("levels")}
        try:
            draw = plans.create_draw(db.session, current_user, load(DrawIn(), raw))
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            return _draw_form(raw, exc.errors, 422)
        flash(f"已抽取 {len(draw.items)} 家企业，请核对后公布", "success")
        return redirect(url_for(".draw_detail", draw_id=draw.id))
    from core.services.hazards import today

    nxt = today().replace(day=28)
    nxt = nxt.replace(day=1, month=nxt.month % 12 + 1, year=nxt.year + (nxt.month == 12))
    return _draw_form({"month": nxt.strftime("%Y-%m"), "count": 10})


@bp.get("/plans/draws/<int:draw_id>")
@login_required
def draw_detail(draw_id: int):
    draw = plans.get_draw(db.session, current_user, draw_id)
    return render_template("plans/draw_detail.html", draw=draw, people=plans.people(db.session, [draw]),
                           results=plans.item_results(db.session, draw.items),
                           reproducible=plans.recompute(draw), class_counts=plans.class_counts(draw),
                           risk_classes=plans.RISK_CLASSES, filters_text=plans.describe_filters(draw.filters),
                           manage=plans.can_manage(current_user, draw))


@bp.get("/plans/draws/<int:draw_id>/inputs.json")
@login_required
def draw_inputs(draw_id: int):
    """The recorded seed and inputs, for anyone in scope to recompute the draw independently."""
    draw = plans.get_draw(db.session, current_user, draw_id)
    body = json.dumps({"seed": draw.seed, "inputs": draw.inputs,
                       "items": [[i.enterprise_id, i.inspector1_id, i.inspector2_id] for i in draw.items]},
                      ensure_ascii=False, indent=1)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f"attachment; filename=draw-{draw.id}-inputs.json"})


@bp.post("/plans/draws/<int:draw_id>/publish")
@login_required
def draw_publish(draw_id: int):
    return _step(plans.publish_draw, "名单已公布", ".draw_detail", draw_id, draw_id=draw_id)


@bp.post("/plans/draws/<int:draw_id>/void")
@login_required
def draw_void(draw_id: int):
    return _step(plans.void_draw, "该抽查已作废", ".draw_detail", draw_id, draw_id=draw_id)


@bp.get("/public/draws/<token>")
def public_draw(token: str):
    """一公开: the published list, open to anyone holding the link (no login)."""
    draw = plans.public_draw(db.session, token)
    return render_template("plans/public_draw.html", draw=draw, people=plans.people(db.session, [draw]),
                           results=plans.item_results(db.session, draw.items), class_counts=plans.class_counts(draw),
                           risk_classes=plans.RISK_CLASSES, reproducible=plans.recompute(draw),
                           description=plans.ALGORITHM_DESCRIPTION)


# --- campaigns ----------------------------------------------------------------------------------------------------

@bp.get("/plans/campaigns/")
@login_required
def campaigns():
    status = request.args.get("status") or None
    rows = plans.list_campaigns(db.session, current_user, status if status in CAMPAIGN_STATUS_LABELS else None)
    return render_template("plans/campaigns.html", campaigns=rows, status=status, statuses=CAMPAIGN_STATUS_LABELS,
                           can_create=can(current_user, "plan.manage") and current_user.agency_id is not None)


def _campaign_form(campaign, values: dict[str, Any], errors: dict | None = None, status: int = 200):
    agency = campaign.agency if campaign is not None else plans.managing_agency(db.session, current_user)
    nodes = list(db.session.scalars(select(Jurisdiction).where(
        path_clause(Jurisdiction.path, scope_of(current_user)),
        Jurisdiction.path.like(agency.jurisdiction.path + "_%"), Jurisdiction.level != "grid")
        .order_by(Jurisdiction.path)))
    nodes = [(n.id, n.name) for n in nodes]  # below the agency's own node: none ticked means all of it
    return render_template("plans/campaign_form.html", campaign=campaign, values=values,
                           errors=flat_errors(errors or {}), kinds=CAMPAIGN_KINDS, statuses=CAMPAIGN_STATUS_LABELS,
                           sector_options=_sector_options(), nodes=nodes, checklists=plans.checklist_choices()), status


def _campaign_raw(form) -> dict[str, Any]:
    raw = {k: form.get(k) for k in ("name", "kind", "starts_on", "ends_on", "description", "status", "version")}
    raw.update(sectors=form.getlist("sectors"), jurisdiction_ids=form.getlist("jurisdiction_ids"),
               checklist_codes=form.getlist("checklist_codes"))
    return raw


def _campaign_values(c) -> dict[str, Any]:
    return {"name": c.name, "kind": c.kind, "starts_on": c.starts_on.isoformat(), "ends_on": c.ends_on.isoformat(),
            "description": c.description or "", "status": c.status, "version": c.version, "sectors": c.sectors,
            "jurisdiction_ids": [str(i) for i in c.jurisdiction_ids], "checklist_codes": c.checklist_codes}


@bp.route("/plans/campaigns/new", methods=["GET", "POST"])
@login_required
def campaign_new():
    plans.managing_agency(db.session, current_user)
    if request.method == "POST":
        raw = _campaign_raw(posted())
        try:
            campaign = plans.create_campaign(db.session, current_user, load(CampaignIn(), raw))
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            return _campaign_form(None, raw, exc.errors, 422)
        flash(f"已创建专项行动：{campaign.name}", "success")
        return redirect(url_for(".campaign_detail", campaign_id=campaign.id))
    return _campaign_form(None, {"kind": "big_check", "status": "draft", "sectors": [], "jurisdiction_ids": [],
                                 "checklist_codes": []})


@bp.get("/plans/campaigns/<int:campaign_id>")
@login_required
def campaign_detail(campaign_id: int):
    campaign = plans.get_campaign(db.session, current_user, campaign_id)
    nodes = list(db.session.scalars(select(Jurisdiction).where(Jurisdiction.id.in_(campaign.jurisdiction_ids)))) \
        if campaign.jurisdiction_ids else []
    return render_template("plans/campaign_detail.html", campaign=campaign, nodes=nodes,
                           progress=plans.campaign_progress(db.session, campaign),
                           checklists=plans.checklist_choices(), manage=plans.can_manage(current_user, campaign))


@bp.route("/plans/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@login_required
def campaign_edit(campaign_id: int):
    campaign = plans.get_campaign(db.session, current_user, campaign_id)
    plans.ensure_manager(current_user, campaign)
    if request.method == "POST":
        raw = _campaign_raw(posted())
        try:
            plans.update_campaign(db.session, current_user, campaign.id, load(CampaignIn(), raw))
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            campaign = plans.get_campaign(db.session, current_user, campaign_id)
            return _campaign_form(campaign, raw, exc.errors, 422)
        except Conflict as exc:
            return _conflict(exc, ".campaign_edit", campaign_id=campaign_id)
        flash("已保存", "success")
        return redirect(url_for(".campaign_detail", campaign_id=campaign_id))
    return _campaign_form(campaign, _campaign_values(campaign))
