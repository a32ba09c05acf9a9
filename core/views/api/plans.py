"""执法计划、双随机抽查、专项行动 (R-E1, R-E2) in the JSON API: ``/api/v1/plans``, ``/api/v1/draws``,
``/api/v1/campaigns``.

Government staff see those of their scope; only regulators of the owning agency create and change them (403
otherwise, 404 out of scope); a draw not yet published is seen by regulators and the admin only. Every change of
an existing object needs its ``version`` (409 when stale); bad fields answer 422 with ``errors.json.<field>``.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_smorest import Blueprint

from core.extensions import db
from core.models.plan import Campaign, InspectionDraw, InspectionPlan
from core.schemas.plan import (
    CampaignDetailOut,
    CampaignIn,
    CampaignOut,
    CampaignPatchIn,
    DrawDetailOut,
    DrawFilterIn,
    DrawIn,
    DrawPageOut,
    InspectionPlanDetailOut,
    InspectionPlanIn,
    InspectionPlanOut,
    InspectionPlanPatchIn,
    PlanVersionIn,
)
from core.services import plans
from core.views.api import authenticate, current_actor

blp_plans = Blueprint("api_plans", __name__, description="年度执法计划：目标与完成进度")
blp_draws = Blueprint("api_draws", __name__, description="双随机抽查：加权随机抽取企业、随机匹配两名持证执法人员、复算校验、公布")
blp_campaigns = Blueprint("api_campaigns", __name__, description="专项行动：范围、期间、检查表与进度")
for _blp in (blp_plans, blp_draws, blp_campaigns):
    _blp.before_request(authenticate)
#: (blueprint, URL prefix under /api/v1), registered by core.views.api.init_app.
BLUEPRINTS = [(blp_plans, "/plans"), (blp_draws, "/draws"), (blp_campaigns, "/campaigns")]


# --- plans --------------------------------------------------------------------------------------------------------

def _plan(p: InspectionPlan) -> dict[str, Any]:
    return {"id": p.id, "agency_id": p.agency_id, "agency_name": p.agency.name, "year": p.year, "title": p.title,
            "targets": p.targets, "note": p.note, "status": p.status, "status_label": p.status_label,
            "approved_at": p.approved_at, "version": p.version}


def _rows(rows: list[plans.ProgressRow]) -> list[dict[str, Any]]:
    return [{"key": r.key, "label": r.label, "target": r.target, "done": r.done, "percent": r.percent} for r in rows]


def _plan_detail(p: InspectionPlan) -> dict[str, Any]:
    pr = plans.plan_progress(db.session, p)
    return {**_plan(p), "progress": {
        "total": _rows([pr.total])[0], "classes": _rows(pr.classes), "levels": _rows(pr.levels),
        "sectors": _rows(pr.sectors), "draw_items": pr.draw_items, "draw_items_done": pr.draw_items_done}}


@blp_plans.route("")
@blp_plans.response(200, InspectionPlanOut(many=True))
def list_plans():
    """The annual plans in the caller's scope, newest year first."""
    return [_plan(p) for p in plans.list_plans(db.session, current_actor())]


@blp_plans.route("", methods=["POST"])
@blp_plans.arguments(InspectionPlanIn, as_kwargs=False)
@blp_plans.response(201, InspectionPlanDetailOut)
def create_plan(data):
    """A draft plan of the caller's agency for ``year`` (one per agency and year): ``targets`` holds ``total`` and
    per-``sectors`` / ``classes`` (high_risk, above_scale, key_industry, general) / ``levels`` check counts."""
    plan = plans.create_plan(db.session, current_actor(), data)
    db.session.commit()
    return _plan_detail(plan)


@blp_plans.route("/<int:plan_id>")
@blp_plans.response(200, InspectionPlanDetailOut)
def plan_detail(plan_id: int):
    """The plan with its progress: completed 执法检查 of the year in the agency's jurisdiction per target."""
    return _plan_detail(plans.get_plan(db.session, current_actor(), plan_id))


@blp_plans.route("/<int:plan_id>", methods=["PATCH"])
@blp_plans.arguments(InspectionPlanPatchIn, as_kwargs=False)
@blp_plans.response(200, InspectionPlanDetailOut)
def update_plan(data, plan_id: int):
    """Change title, targets or note; an approved plan goes back to draft."""
    plan = plans.update_plan(db.session, current_actor(), plan_id, data)
    db.session.commit()
    return _plan_detail(plan)


@blp_plans.route("/<int:plan_id>/approve", methods=["POST"])
@blp_plans.arguments(PlanVersionIn, as_kwargs=False)
@blp_plans.response(200, InspectionPlanDetailOut)
def approve_plan(data, plan_id: int):
    """批准 the plan (409 when already approved or stale)."""
    plan = plans.approve_plan(db.session, current_actor(), plan_id, data["version"])
    db.session.commit()
    return _plan_detail(plan)


# --- draws --------------------------------------------------------------------------------------------------------

def _draw(d: InspectionDraw, counts: tuple[int, int]) -> dict[str, Any]:
    return {
        "id": d.id, "agency_id": d.agency_id, "agency_name": d.agency.name, "plan_id": d.plan_id, "title": d.title,
        "period_start": d.period_start, "period_end": d.period_end, "requested_count": d.requested_count,
        "filters": d.filters, "seed": d.seed, "algorithm": d.algorithm, "drawn_by_name": d.drawn_by_name,
        "drawn_at": d.drawn_at, "status": d.status, "status_label": d.status_label, "published_at": d.published_at,
        "public_url": url_for("plans.public_draw", token=d.public_token, _external=True) if d.public_token else None,
        "items_total": counts[0], "items_done": counts[1], "version": d.version}


def _draw_detail(d: InspectionDraw) -> dict[str, Any]:
    people = plans.people(db.session, [d])
    results = plans.item_results(db.session, d.items)
    done = sum(1 for i in d.items if i.status == "done")
    return {
        **_draw(d, (len(d.items), done)), "population": len(d.inputs.get("population", [])),
        "class_counts": plans.class_counts(d), "weights": d.inputs.get("weights", {}),
        "inspectors": d.inputs.get("inspectors", []), "reproducible": plans.recompute(d),
        "items": [{
            "id": i.id, "position": i.position, "enterprise_id": i.enterprise_id, "enterprise_name": i.enterprise.name,
            "inspectors": [{"id": uid, "name": people[uid].display_name if uid in people else None,
                            "cert_number": people[uid].cert_number if uid in people else None}
                           for uid in i.inspector_ids],
            "status": i.status, "status_label": i.status_label, "inspection_run_id": i.inspection_run_id,
            "result": results[i.id].label if i.id in results else None} for i in d.items]}


@blp_draws.route("")
@blp_draws.arguments(DrawFilterIn, location="query", as_kwargs=False)
@blp_draws.response(200, DrawPageOut)
def list_draws(filters):
    """The draws in the caller's scope, newest first (``status``, ``plan_id``; keyset ``after``/``size``)."""
    page = plans.list_draws(db.session, current_actor(), filters, after=filters.get("after"),
                            size=filters.get("size") or 20)
    counts = plans.item_counts(db.session, [d.id for d in page.items])
    return {"items": [_draw(d, counts.get(d.id, (0, 0))) for d in page.items], "next_after": page.next_after,
            "total": page.total, "total_capped": page.total_capped}


@blp_draws.route("", methods=["POST"])
@blp_draws.arguments(DrawIn, as_kwargs=False)
@blp_draws.response(201, DrawDetailOut)
def create_draw(data):
    """抽取: ``count`` enterprises of the agency's supervised population, weighted by risk class, each with two
    inspectors holding a valid 执法证; ``month`` (YYYY-MM) or ``period_start``/``period_end``; optional
    ``seed`` (else random), ``plan_id``, ``sectors``/``classes``/``levels`` filters. 422 when fewer than two
    inspectors are certified, the population is empty or smaller than ``count``."""
    draw = plans.create_draw(db.session, current_actor(), data)
    db.session.commit()
    return _draw_detail(draw)


@blp_draws.route("/<int:draw_id>")
@blp_draws.response(200, DrawDetailOut)
def draw_detail(draw_id: int):
    """The draw with its items, the recorded inputs' summary and ``reproducible`` (复算校验)."""
    return _draw_detail(plans.get_draw(db.session, current_actor(), draw_id))


@blp_draws.route("/<int:draw_id>/publish", methods=["POST"])
@blp_draws.arguments(PlanVersionIn, as_kwargs=False)
@blp_draws.response(200, DrawDetailOut)
def publish_draw(data, draw_id: int):
    """公布: the list becomes public (``public_url``) and its items the inspectors' tasks."""
    draw = plans.publish_draw(db.session, current_actor(), draw_id, data["version"])
    db.session.commit()
    return _draw_detail(draw)


# --- campaigns ----------------------------------------------------------------------------------------------------

def _campaign(c: Campaign) -> dict[str, Any]:
    return {"id": c.id, "agency_id": c.agency_id, "agency_name": c.agency.name, "name": c.name, "kind": c.kind,
            "kind_label": c.kind_label, "sectors": c.sectors, "jurisdiction_ids": c.jurisdiction_ids,
            "starts_on": c.starts_on, "ends_on": c.ends_on, "checklist_codes": c.checklist_codes,
            "description": c.description, "status": c.status, "status_label": c.status_label, "version": c.version}


def _campaign_detail(c: Campaign) -> dict[str, Any]:
    p = plans.campaign_progress(db.session, c)
    return {**_campaign(c), "progress": {
        "in_scope": p.in_scope, "checked": p.checked, "checks": p.checks, "self_checked": p.self_checked,
        "coverage_percent": p.coverage, "hazards": p.hazards, "rectified": p.rectified, "overdue": p.overdue}}


@blp_campaigns.route("")
@blp_campaigns.response(200, CampaignOut(many=True))
def list_campaigns():
    """The campaigns in the caller's scope, latest start first."""
    return [_campaign(c) for c in plans.list_campaigns(db.session, current_actor())]


@blp_campaigns.route("", methods=["POST"])
@blp_campaigns.arguments(CampaignIn, as_kwargs=False)
@blp_campaigns.response(201, CampaignDetailOut)
def create_campaign(data):
    """组织专项行动: kind (holiday 节假日, flood 汛期, big_check 大排查大整治, three_year 三年行动, other), sectors and
    jurisdictions (empty: all of the agency's), period, checklist codes of the catalog."""
    campaign = plans.create_campaign(db.session, current_actor(), data)
    db.session.commit()
    return _campaign_detail(campaign)


@blp_campaigns.route("/<int:campaign_id>")
@blp_campaigns.response(200, CampaignDetailOut)
def campaign_detail(campaign_id: int):
    """The campaign with its progress: enterprises in scope and checked in the period with its checklists,
    hazards those checks found, closed and overdue."""
    return _campaign_detail(plans.get_campaign(db.session, current_actor(), campaign_id))


@blp_campaigns.route("/<int:campaign_id>", methods=["PATCH"])
@blp_campaigns.arguments(CampaignPatchIn, as_kwargs=False)
@blp_campaigns.response(200, CampaignDetailOut)
def update_campaign(data, campaign_id: int):
    campaign = plans.update_campaign(db.session, current_actor(), campaign_id, data)
    db.session.commit()
    return _campaign_detail(campaign)
