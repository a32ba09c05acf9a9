"""Access-matrix entries of the plan pages (``/plans``), the public draw page and the JSON API (``/api/v1/plans``,
``/api/v1/draws``, ``/api/v1/campaigns``), R-E1/R-E2.

Plans, draws and campaigns are made directly in the resolvers, one of 翔安局 (in 翔安区) and one of 同安局.
Inspectors, regulators and the admin see those of their scope (others: 403; out of scope: 404); a draw not yet
published is seen by regulators and the admin only (inspectors: 404). Only regulators of the owning agency change
them (the city regulator sees the district's but gets 403); creating needs a regulator with an agency. The public
page of a published draw is open to everyone, without login.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import date, timedelta

from core.models import Campaign, DrawItem, InspectionDraw, InspectionPlan
from core.models.base import utcnow
from core.services import plans, users
from core.services.actors import SYSTEM
from tests.test_access_matrix import EVERYONE, Case, api

VIEWERS = frozenset({"admin", "city_reg", "xa_reg", "ta_reg", "xa_insp", "xa_insp_expired"})
CREATORS = frozenset({"city_reg", "xa_reg", "ta_reg"})
SEES = {"翔安局": frozenset({"admin", "city_reg", "xa_reg", "xa_insp", "xa_insp_expired"}),
        "同安局": frozenset({"admin", "city_reg", "ta_reg"})}
MANAGER = {"翔安局": frozenset({"xa_reg"}), "同安局": frozenset({"ta_reg"})}
ENTERPRISE = {"翔安局": "E1", "同安局": "E4"}
PAIR = {"翔安局": ("xa_insp", "xa_reg"), "同安局": ("ta_reg", "city_reg")}
_years = itertools.cycle(range(2030, 2100))  # unique per agency within one test


def _scope(session, world, agency: str) -> str:
    return world.agency(session, agency).jurisdiction.path


def plan_of(agency: str):
    def make(session, world, username) -> int:
        plan = InspectionPlan(agency_id=world.agencies[agency], scope_path=_scope(session, world, agency),
                              year=next(_years), title="矩阵计划", targets={"total": 1})
        session.add(plan)
        session.flush()
        return plan.id

    return make


def draw_of(agency: str, published: bool = True, token: bool = False):
    """Resolver: a draw of one item (the agency's enterprise and two users), computed from real inputs."""

    def make(session, world, username):
        a, b = (world.users[u] for u in PAIR[agency])
        inputs = {"algorithm": plans.ALGORITHM, "count": 1, "weights": {"normal": 1.0},
                  "population": [{"id": world.enterprises[ENTERPRISE[agency]], "risk_class": "normal", "weight": 1.0}],
                  "inspectors": [{"id": a, "name": "甲", "cert_number": "M-1"}, {"id": b, "name": "乙", "cert_number": "M-2"}]}
        ((eid, i1, i2),) = plans.compute("matrix", inputs)
        draw = InspectionDraw(
            agency_id=world.agencies[agency], scope_path=_scope(session, world, agency), title="矩阵抽查",
            period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), requested_count=1, filters={},
            seed="matrix", algorithm=plans.ALGORITHM, inputs=inputs, drawn_by_name="矩阵", drawn_at=utcnow(),
            status="published" if published else "draft", public_token=uuid.uuid4().hex[:22] if published else None,
            items=[DrawItem(position=1, enterprise_id=eid, inspector1_id=i1, inspector2_id=i2, status="open")])
        session.add(draw)
        session.flush()
        return draw.public_token if token else draw.id

    return make


def campaign_of(agency: str):
    def make(session, world, username) -> int:
        c = Campaign(agency_id=world.agencies[agency], scope_path=_scope(session, world, agency), name="矩阵行动",
                     kind="other", sectors=[], jurisdiction_ids=[], starts_on=date(2026, 1, 1),
                     ends_on=date(2026, 12, 31), checklist_codes=[], status="active")
        session.add(c)
        session.flush()
        return c.id

    return make


def one(arg: str, resolver, allowed_key=SEES, **kw):
    """Cases 翔安 / 同安 / missing for a read of one object."""
    return [
        Case("翔安", {arg: resolver("翔安局", **kw)}, allowed=allowed_key["翔安局"], not_found=VIEWERS - SEES["翔安局"]),
        Case("同安", {arg: resolver("同安局", **kw)}, allowed=allowed_key["同安局"], not_found=VIEWERS - SEES["同安局"]),
        Case("missing", {arg: 987654}, not_found=VIEWERS),
    ]


def change(arg: str, resolver, body=None, method=None, **kw):
    """Cases 翔安 / 同安 for a change: the agency's own regulator only; out of scope 404."""
    return [Case(agency, {arg: resolver(agency, **kw)}, allowed=MANAGER[agency],
                 not_found=VIEWERS - SEES[agency] | (_inspectors(agency) if kw.get("published") is False else frozenset()),
                 body=body, method=method)
            for agency in ("翔安局", "同安局")]


def _inspectors(agency: str) -> frozenset[str]:
    """Inspectors of the agency's scope: they do not see its unpublished draws (404)."""
    return frozenset({"xa_insp", "xa_insp_expired"}) if agency == "翔安局" else frozenset()


def version_of(model, key: str):
    return lambda session, world, username, args: {"version": (session.get(model, args[key]).version
                                                               if session.get(model, args[key]) else 1)}


def patch_of(model, key: str, **fields):
    return lambda session, world, username, args: {**fields, **version_of(model, key)(session, world, username, args)}


def new_plan(session, world, username, args) -> dict:
    return {"year": next(_years), "title": "矩阵新计划", "targets": {"total": 3}}


def new_draw(session, world, username, args) -> dict:
    """Two certified inspectors in the acting user's agency, so that a regulator with an agency can draw."""
    user = world.user(session, username)
    for _ in range(2 if user.agency_id else 0):
        users.save_user(session, SYSTEM, {
            "username": "m" + uuid.uuid4().hex[:10], "display_name": "矩阵持证", "password": "test-pass-123",
            "roles": ["inspector"], "jurisdiction_id": user.jurisdiction_id, "agency_id": user.agency_id,
            "cert_number": "M-" + uuid.uuid4().hex[:6], "cert_valid_until": date.today() + timedelta(days=30)})
    session.flush()
    return {"month": "2026-11", "count": 1, "seed": "matrix"}


def new_campaign(session, world, username, args) -> dict:
    return {"name": "矩阵专项行动", "kind": "holiday", "starts_on": "2026-09-20", "ends_on": "2026-10-08"}


EXPECTED = {
    # --- pages ---
    "plans.index": [Case(allowed=VIEWERS)],
    "plans.plan_new": [Case(allowed=CREATORS)],
    "plans.plan_detail": one("plan_id", plan_of),
    "plans.plan_edit": change("plan_id", plan_of),
    "plans.plan_approve": change("plan_id", plan_of, body=version_of(InspectionPlan, "plan_id")),
    "plans.draws": [Case(allowed=VIEWERS)],
    "plans.draw_new": [Case(allowed=CREATORS)],
    "plans.draw_detail": [
        *one("draw_id", draw_of),
        Case("翔安 draft", {"draw_id": draw_of("翔安局", published=False)}, allowed=frozenset({"admin", "city_reg", "xa_reg"}),
             not_found=VIEWERS - frozenset({"admin", "city_reg", "xa_reg"})),
    ],
    "plans.draw_inputs": one("draw_id", draw_of),
    "plans.draw_publish": change("draw_id", draw_of, body=version_of(InspectionDraw, "draw_id"), published=False),
    "plans.draw_void": change("draw_id", draw_of, body=version_of(InspectionDraw, "draw_id"), published=False),
    "plans.public_draw": [
        Case("published", {"token": draw_of("翔安局", token=True)}, allowed=EVERYONE, anonymous="allowed"),
    ],
    "plans.campaigns": [Case(allowed=VIEWERS)],
    "plans.campaign_new": [Case(allowed=CREATORS)],
    "plans.campaign_detail": one("campaign_id", campaign_of),
    "plans.campaign_edit": change("campaign_id", campaign_of),
    # --- JSON API ---
    "api_plans.list_plans": api(Case(allowed=VIEWERS)),
    "api_plans.create_plan": api(Case(allowed=CREATORS, body=new_plan)),
    "api_plans.plan_detail": api(*one("plan_id", plan_of)),
    "api_plans.update_plan": api(*change("plan_id", plan_of, body=patch_of(InspectionPlan, "plan_id", title="矩阵改"))),
    "api_plans.approve_plan": api(*change("plan_id", plan_of, body=version_of(InspectionPlan, "plan_id"))),
    "api_draws.list_draws": api(Case(allowed=VIEWERS)),
    "api_draws.create_draw": api(Case(allowed=CREATORS, body=new_draw)),
    "api_draws.draw_detail": api(*one("draw_id", draw_of)),
    "api_draws.publish_draw": api(*change("draw_id", draw_of, body=version_of(InspectionDraw, "draw_id"),
                                          published=False)),
    "api_campaigns.list_campaigns": api(Case(allowed=VIEWERS)),
    "api_campaigns.create_campaign": api(Case(allowed=CREATORS, body=new_campaign)),
    "api_campaigns.campaign_detail": api(*one("campaign_id", campaign_of)),
    "api_campaigns.update_campaign": api(*change("campaign_id", campaign_of,
                                                 body=patch_of(Campaign, "campaign_id", name="矩阵行动（改）"))),
}
