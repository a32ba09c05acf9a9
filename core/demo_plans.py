"""Demo plans (R-E1, R-E2): 翔安区应急管理局's annual plan for this year (approved), this month's 双随机 draw
(published, with a fixed seed so that anyone can recompute it) and a 大排查大整治 campaign.

Made through :mod:`core.services.plans` acting as the demo regulator ``xa_regulator``, so audit entries and the
recorded draw inputs are what a user would produce. Idempotent: looked up by agency and year, draw title and
campaign name; a second run changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Campaign, InspectionDraw, InspectionPlan, User
from core.models.plan import DrawStatus
from core.plugins import plugins
from core.services import plans
from core.services.hazards import today

#: Target checks (家次) of the demo plan; sectors only where the plugin is enabled.
TARGETS = {"total": 240, "classes": {"high_risk": 80, "above_scale": 60, "key_industry": 60, "general": 60},
           "levels": {"county": 100, "township": 140},
           "sectors": {"hazchem": 80, "fire": 60, "roadtransport": 40, "specialequip": 40}}
CAMPAIGN = "岁末年初安全生产大排查大整治"


@dataclass
class PlanSeedResult:
    plan_id: int | None = None
    draw_id: int | None = None
    campaign_id: int | None = None
    created: int = 0


def seed_demo_plans(session: Session, regulator_username: str = "xa_regulator", draw_count: int = 10) -> PlanSeedResult:
    """Create what is missing of the demo plan, draw and campaign; the caller commits."""
    result = PlanSeedResult()
    actor = session.scalar(select(User).where(User.username == regulator_username))
    if actor is None or actor.agency_id is None:
        return result
    on = today()
    enabled = plugins().sectors

    plan = session.scalar(select(InspectionPlan).where(InspectionPlan.agency_id == actor.agency_id,
                                                       InspectionPlan.year == on.year))
    if plan is None:
        targets = {**TARGETS, "sectors": {k: v for k, v in TARGETS["sectors"].items() if k in enabled}}
        plan = plans.create_plan(session, actor, {
            "year": on.year, "title": f"{actor.agency.name}{on.year}年度安全生产监督检查计划", "targets": targets,
            "note": "以“双随机、一公开”抽查为基本方式，高危行业和重大风险企业提高抽查比例；节假日、汛期等关键时段开展专项行动。"})
        plans.approve_plan(session, actor, plan.id, plan.version)
        result.created += 1
    result.plan_id = plan.id

    start = on.replace(day=1)
    title = f"{start.year}年{start.month}月双随机抽查"
    draw = session.scalar(select(InspectionDraw).where(
        InspectionDraw.agency_id == actor.agency_id, InspectionDraw.title == title,
        InspectionDraw.status != DrawStatus.VOID.value))
    if draw is None:
        population = len(plans.candidates(session, actor.agency))
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        draw = plans.create_draw(session, actor, {
            "plan_id": plan.id, "period_start": start, "period_end": end,
            "count": min(draw_count, population), "seed": f"anjian-demo-{start:%Y-%m}"})
        plans.publish_draw(session, actor, draw.id, draw.version)
        result.created += 1
    result.draw_id = draw.id

    name = f"{on.year}年{CAMPAIGN}"
    campaign = session.scalar(select(Campaign).where(Campaign.agency_id == actor.agency_id, Campaign.name == name))
    if campaign is None:
        sectors = [s for s in ("hazchem",) if s in enabled]
        codes = [c.code for c in plugins().catalog.current_checklists() if c.sector in sectors]
        campaign = plans.create_campaign(session, actor, {
            "name": name, "kind": "big_check", "sectors": sectors, "jurisdiction_ids": [],
            "starts_on": date(on.year, 11, 1), "ends_on": date(on.year + 1, 2, 28), "checklist_codes": codes,
            "status": "active", "description": "聚焦危险化学品企业：重大危险源管控、特殊作业、自动化控制系统投用、"
                                                 "人员资质；发现的重大事故隐患一律挂牌督办。"})
        result.created += 1
    result.campaign_id = campaign.id
    return result
