"""Inspection plans, 双随机一公开 draws and 专项行动 in the service layer (R-E1, R-E2).

The 翔安局 population of the test world is E1 (supervised by 翔安局), E2 and E3 (in 翔安区, supervising agency
unset); E4 is in 同安区. ``crowd`` adds twenty more 翔安区 enterprises so that different seeds give different
lists; ``certified`` adds inspectors with a valid 执法证 (the world has one valid and one expired).
"""

from __future__ import annotations

import copy
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from core.models import (
    AuditEntry,
    Campaign,
    Hazard,
    InspectionAnswer,
    InspectionDraw,
    InspectionPlan,
    InspectionRun,
    InspectionRunChecklist,
    RiskPoint,
    StoredChecklist,
    StoredChecklistItem,
    User,
)
from core.models.plan import DrawStatus
from core.services import enterprises, plans, users
from core.services.actors import SYSTEM
from core.services.catalog import sync_catalog
from core.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.services.hazards import today
from tests.factories import uscc

CHINA_NOON = 4  # 12:00 in China is 04:00 UTC


def add_inspectors(session, world, n: int, agency: str = "翔安局", area: str = "翔安区", prefix: str = "xa_c",
                   valid_until: date | None = None) -> list[User]:
    made = []
    for k in range(n):
        made.append(users.save_user(session, SYSTEM, {
            "username": f"{prefix}{k}", "display_name": f"持证{prefix}{k}", "password": "test-pass-123",
            "roles": ["inspector"], "jurisdiction_id": world.nodes[area], "agency_id": world.agencies[agency],
            "cert_number": f"{prefix.upper()}-{k:03d}",
            "cert_valid_until": valid_until or today() + timedelta(days=100)}))
    session.flush()
    return made


@pytest.fixture()
def certified(session, world) -> list[User]:
    """Three more certified 翔安局 inspectors: with xa_insp four valid, xa_insp_expired not."""
    return add_inspectors(session, world, 3)


@pytest.fixture()
def crowd(session, world) -> list[int]:
    ids = []
    for k in range(20):
        e = enterprises.create_enterprise(session, SYSTEM, {
            "name": f"抽查候选{k:02d}有限公司", "uscc": uscc(500 + k), "jurisdiction_id": world.nodes["马巷街道"],
            "grid_id": world.nodes["马巷1网格"], "is_high_risk": k % 4 == 0, "credit_class": "A" if k % 5 == 1 else None})
        ids.append(e.id)
    session.flush()
    return ids


def draw(session, world, username="xa_reg", **data):
    base = {"period_start": date(2026, 11, 1), "period_end": date(2026, 11, 30), "count": 5, "seed": "seed-2026-11"}
    d = plans.create_draw(session, world.user(session, username), {**base, **data})
    session.flush()
    return d


def triples(d) -> list[tuple[int, int, int]]:
    return [(i.enterprise_id, i.inspector1_id, i.inspector2_id) for i in d.items]


# --- the draw: reproducible, weighted, paired ---------------------------------------------------------------------

def test_same_seed_same_items_and_recompute_checks_them(session, world, certified, crowd):
    """R-E1: the seed and inputs recorded with a draw give its list again; tampering is detected."""
    first = draw(session, world)
    assert first.seed == "seed-2026-11" and first.algorithm == plans.ALGORITHM
    assert [i.position for i in first.items] == [1, 2, 3, 4, 5]
    assert plans.recompute(first) is True
    again = draw(session, world)
    assert triples(again) == triples(first)
    assert plans.compute(first.seed, first.inputs) == triples(first)
    other = draw(session, world, seed="another-seed")
    assert triples(other) != triples(first)

    population = first.inputs["population"]
    assert [c["id"] for c in population] == sorted(c["id"] for c in population)  # ordered by id
    assert len(population) == 23 and {c["risk_class"] for c in population} <= set(plans.RISK_CLASSES)
    assert [i["id"] for i in first.inputs["inspectors"]] == sorted(
        [world.users["xa_insp"], *(u.id for u in certified)])

    tampered = copy.deepcopy(first.inputs)
    tampered["population"][0]["weight"] = 1000.0
    first.inputs = tampered
    assert plans.recompute(first) is False
    first.inputs = copy.deepcopy(again.inputs)
    assert plans.recompute(first) is True
    first.seed = "seed-2026-12"
    assert plans.recompute(first) is False
    first.seed = "seed-2026-11"
    first.items[0].inspector1_id, first.items[0].inspector2_id = first.items[0].inspector2_id, first.items[0].inspector1_id
    assert plans.recompute(first) is False


def test_a_random_seed_is_made_when_none_is_given(session, world, certified, crowd):
    a = draw(session, world, seed=None)
    b = draw(session, world, seed=None)
    assert len(a.seed) == 16 and a.seed != b.seed
    assert plans.recompute(a) and plans.recompute(b)


def test_heavier_classes_are_drawn_more_often():
    """R-E1: over 300 fixed seeds, 10 candidates weighted 4 among 90 weighted 1 fill far more than their 10 %
    share of a 10-item draw (expected about 30 %); equal weights give about their share."""
    population = [{"id": n, "risk_class": "high" if n % 10 == 0 else "normal", "weight": 4.0 if n % 10 == 0 else 1.0}
                  for n in range(1, 101)]
    inputs = {"algorithm": plans.ALGORITHM, "count": 10, "population": population,
              "inspectors": [{"id": 1001}, {"id": 1002}, {"id": 1003}]}
    heavy = sum(1 for s in range(300) for eid, _, _ in plans.compute(f"s{s}", inputs) if eid % 10 == 0)
    share = heavy / 3000
    assert 0.25 < share < 0.40, share
    flat = copy.deepcopy(inputs)
    for c in flat["population"]:
        c["weight"] = 1.0
    share_flat = sum(1 for s in range(300) for eid, _, _ in plans.compute(f"s{s}", flat) if eid % 10 == 0) / 3000
    assert 0.07 < share_flat < 0.13, share_flat


def test_pairing_two_distinct_certified_inspectors_load_balanced(session, world, certified, crowd):
    """R-E1/R-E3: each item gets two different inspectors, all with a 执法证 valid on the draw date (never the
    expired one), and loads differ by at most one."""
    d = draw(session, world, count=15)
    valid = {world.users["xa_insp"], *(u.id for u in certified)}
    load: Counter[int] = Counter()
    for item in d.items:
        assert item.inspector1_id != item.inspector2_id
        assert {item.inspector1_id, item.inspector2_id} <= valid
        load.update(item.inspector_ids)
    assert world.users["xa_insp_expired"] not in load
    assert sum(load.values()) == 30 and max(load.values()) - min(load.values()) <= 1
    assert len({frozenset(i.inspector_ids) for i in d.items}) > 1  # pairs vary


def test_refusals_with_clear_messages(session, world, crowd):
    """Fewer than two certified inspectors, an empty population, or more than the population: refused."""
    with pytest.raises(ValidationFailed) as exc:
        draw(session, world)
    assert "执法证有效的执法人员不足两名（现有 1 名）" in exc.value.message
    add_inspectors(session, world, 1)
    with pytest.raises(ValidationFailed) as exc:
        draw(session, world, levels=["province"])
    assert "没有在营的监管企业" in exc.value.message
    with pytest.raises(ValidationFailed) as exc:
        draw(session, world, count=24)
    assert exc.value.errors == {"count": ["抽取数量（24）超过候选企业数（23）"]}
    with pytest.raises(ValidationFailed) as exc:
        draw(session, world, sectors=["nope"])
    assert "nope" in exc.value.errors["sectors"][0]
    other_year = plans.create_plan(session, world.user(session, "xa_reg"), {"year": 2027, "title": "明年计划"})
    with pytest.raises(ValidationFailed) as exc:
        draw(session, world, plan_id=other_year.id)
    assert exc.value.errors == {"plan_id": ["检查期间不在2027年度计划内"]}
    with pytest.raises(ValidationFailed) as exc:
        draw(session, world, period_end=date(2026, 10, 31))
    assert exc.value.errors == {"period_end": ["检查期间止不能早于起"]}
    with pytest.raises(PermissionDenied):
        draw(session, world, username="xa_insp")  # inspectors do not draw
    with pytest.raises(PermissionDenied):
        draw(session, world, username="admin")


def test_population_is_the_agencys_supervised_enterprises(session, world, certified):
    """Supervised by the agency, or unassigned in its jurisdiction; not E4 (同安), not an enterprise of 翔安区
    assigned to the city agency, not a closed one. Filters by sector, class and level."""
    xa = world.agency(session, "翔安局")
    city = enterprises.create_enterprise(session, SYSTEM, {
        "name": "市管企业有限公司", "uscc": uscc(700), "jurisdiction_id": world.nodes["新店街道"],
        "supervising_agency_id": world.agencies["市局"]})
    closed = enterprises.create_enterprise(session, SYSTEM, {
        "name": "已注销企业有限公司", "uscc": uscc(701), "jurisdiction_id": world.nodes["新店街道"], "is_active": False})
    session.flush()
    ids = [c["id"] for c in plans.candidates(session, xa)]
    assert ids == [world.enterprises["E1"], world.enterprises["E2"], world.enterprises["E3"]]
    assert city.id not in ids and closed.id not in ids
    assert [c["id"] for c in plans.candidates(session, xa, {"sectors": ["fake"]})] == [world.enterprises["E1"]]
    assert [c["id"] for c in plans.candidates(session, xa, {"classes": ["key_industry", "general"]})] == [
        world.enterprises["E2"], world.enterprises["E3"]]
    world.ent(session, "E3").supervision_level = "county"
    session.flush()
    assert [c["id"] for c in plans.candidates(session, xa, {"levels": ["county"]})] == [world.enterprises["E3"]]


def test_risk_class_comes_from_flags_risks_hazards_and_credit(session, world, app):
    """The documented rule: open 重大隐患 / red risk / credit D → high; 高危 / orange / credit C → elevated;
    credit A → low; else normal. Weights come from DRAW_WEIGHTS."""
    xa = world.agency(session, "翔安局")
    e1, e2, e3 = (world.ent(session, k) for k in ("E1", "E2", "E3"))

    def classes():
        return {c["id"]: (c["risk_class"], c["weight"]) for c in plans.candidates(session, xa)}

    assert classes() == {e1.id: ("elevated", 2.0), e2.id: ("normal", 1.0), e3.id: ("normal", 1.0)}
    e3.credit_class = "A"
    session.add(RiskPoint(enterprise_id=e2.id, scope_path=e2.scope_path, name="储罐区", category="equipment",
                          method="LS", inputs={}, score=20, grade="major"))
    session.flush()
    assert classes() == {e1.id: ("elevated", 2.0), e2.id: ("high", 4.0), e3.id: ("low", 0.5)}
    hazard = Hazard(enterprise_id=e3.id, scope_path=e3.scope_path, description="重大隐患", category="thing",
                    level="major", source="inspection", found_by_name="测", found_at=datetime.now(UTC))
    session.add(hazard)
    session.flush()
    assert classes()[e3.id] == ("high", 4.0)
    hazard.state = "closed"
    session.flush()
    assert classes()[e3.id] == ("low", 0.5)
    app.config["DRAW_WEIGHTS"] = {**app.config["DRAW_WEIGHTS"], "low": 0}
    try:
        assert e3.id not in classes()  # a class weighted 0 is not drawn at all
    finally:
        app.config["DRAW_WEIGHTS"] = {**app.config["DRAW_WEIGHTS"], "low": 0.5}
    assert plans.risk_class(high_risk=False, red_points=0, orange_points=1, open_major=0, credit_class="A") == "elevated"
    assert plans.risk_class(high_risk=False, red_points=0, orange_points=0, open_major=0, credit_class="D") == "high"


# --- publishing, scope, tasks ---------------------------------------------------------------------------------------

def test_publish_void_versions_and_audit(session, world, certified, crowd):
    reg = world.user(session, "xa_reg")
    d = draw(session, world)
    with pytest.raises(Conflict):
        plans.publish_draw(session, reg, d.id, d.version + 1)
    plans.publish_draw(session, reg, d.id, d.version)
    assert d.status == DrawStatus.PUBLISHED.value and d.public_token and d.published_at is not None
    assert plans.public_draw(session, d.public_token).id == d.id
    with pytest.raises(Conflict, match="已公布"):
        plans.publish_draw(session, reg, d.id, d.version)
    with pytest.raises(Conflict):
        plans.void_draw(session, reg, d.id, d.version)
    other = draw(session, world)
    plans.void_draw(session, reg, other.id, other.version)
    assert other.status == "void"
    with pytest.raises(NotFound):
        plans.public_draw(session, "no-such-token")
    actions = list(session.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "inspection_draw", AuditEntry.object_id.in_([str(d.id), str(other.id)]))
        .order_by(AuditEntry.id)))
    assert actions == ["draw", "publish", "draw", "void"]


def test_scope_and_roles(session, world, certified, crowd):
    """翔安 regulator cannot see 同安 draws (404); the city regulator sees 翔安's but may not publish (403);
    inspectors see published draws only; enterprises see nothing (403)."""
    add_inspectors(session, world, 2, agency="同安局", area="同安区", prefix="ta_c")
    ta = draw(session, world, username="ta_reg", count=1)
    xa = draw(session, world)
    with pytest.raises(NotFound):
        plans.get_draw(session, world.user(session, "xa_reg"), ta.id)
    assert [d.id for d in plans.list_draws(session, world.user(session, "xa_reg")).items] == [xa.id]
    assert {d.id for d in plans.list_draws(session, world.user(session, "city_reg")).items} == {xa.id, ta.id}
    assert plans.get_draw(session, world.user(session, "city_reg"), xa.id) is xa
    with pytest.raises(PermissionDenied):
        plans.publish_draw(session, world.user(session, "city_reg"), xa.id, xa.version)
    with pytest.raises(NotFound):
        plans.get_draw(session, world.user(session, "xa_insp"), xa.id)  # not published yet
    assert plans.list_draws(session, world.user(session, "xa_insp")).items == []
    plans.publish_draw(session, world.user(session, "xa_reg"), xa.id, xa.version)
    assert plans.get_draw(session, world.user(session, "xa_insp"), xa.id) is xa
    for name in ("ent1_mgr", "grid1"):
        with pytest.raises(PermissionDenied):
            plans.list_draws(session, world.user(session, name))


def test_tasks_for_and_link_run(session, world, certified):
    """The inspectors' tasks are the open items of published draws naming them; a check is linked to an item
    only with a 执法检查 of the drawn enterprise, by one of its inspectors."""
    reg = world.user(session, "xa_reg")
    d = draw(session, world, count=3)
    insp = session.get(User, d.items[0].inspector1_id)
    assert plans.tasks_for(session, insp) == []  # drafts are no tasks
    plans.publish_draw(session, reg, d.id, d.version)
    mine = [i for i in d.items if insp.id in i.inspector_ids]
    tasks = plans.tasks_for(session, insp)
    assert [t.id for t in tasks] == [i.id for i in mine] and tasks[0].enterprise.name
    assert plans.tasks_for(session, SYSTEM) == []

    e1_item = next((i for i in d.items if i.enterprise_id == world.enterprises["E1"]), None)
    assert e1_item is not None  # all three candidates are drawn
    runner = session.get(User, e1_item.inspector1_id)
    runner.roles  # noqa: B018 - roles loaded
    wrong = InspectionRun(enterprise_id=world.enterprises["E2"], scope_path=world.ent(session, "E2").scope_path,
                          kind="enforcement", started_by_name="测", status="draft")
    session.add(wrong)
    session.flush()
    with pytest.raises(ValidationFailed) as exc:
        plans.link_run(session, runner, e1_item.id, wrong.id)
    assert exc.value.errors == {"run_id": ["该检查记录不是抽中企业的检查"]}
    run = _run(session, world, "E1", status="draft")
    outsider = next(u for u in [world.user(session, "xa_insp"), *certified] if u.id not in e1_item.inspector_ids)
    with pytest.raises(PermissionDenied):
        plans.link_run(session, outsider, e1_item.id, run.id)
    linked = plans.link_run(session, runner, e1_item.id, run.id)
    assert (linked.status, linked.inspection_run_id) == ("done", run.id)
    assert plans.link_run(session, runner, e1_item.id, run.id) is linked  # idempotent
    assert e1_item.id not in [t.id for t in plans.tasks_for(session, runner)]
    assert plans.item_results(session, [linked])[linked.id].label == "检查中"
    entry = session.scalar(select(AuditEntry).where(AuditEntry.object_type == "inspection_draw_item",
                                                    AuditEntry.object_id == str(linked.id)))
    assert entry.action == "link_run" and entry.after["inspection_run_id"] == run.id
    with pytest.raises(NotFound):
        plans.link_run(session, world.user(session, "ta_reg"), e1_item.id, run.id)


# --- plans and their progress ---------------------------------------------------------------------------------------

def _run(session, world, key: str, *, kind="enforcement", status="completed", on: date = date(2026, 5, 10)):
    ent = world.ent(session, key)
    run = InspectionRun(enterprise_id=ent.id, scope_path=ent.scope_path, kind=kind, started_by_name="测",
                        status=status, started_at=datetime(on.year, on.month, on.day, CHINA_NOON, tzinfo=UTC),
                        completed_at=datetime(on.year, on.month, on.day, CHINA_NOON, tzinfo=UTC)
                        if status == "completed" else None)
    session.add(run)
    session.flush()
    return run


def test_plan_progress_against_targets(session, world):
    """R-E1: completed 执法检查 of the plan year in the agency's jurisdiction, counted per class, level and
    sector. E1 is 高危+规上 (fake sector), E2 一般, E3 重点行业; E4 (同安), self-checks, drafts and other
    years do not count."""
    reg = world.user(session, "xa_reg")
    world.ent(session, "E1").supervision_level = "county"
    world.ent(session, "E2").supervision_level = "township"
    plan = plans.create_plan(session, reg, {"year": 2026, "title": "翔安区2026年度执法计划", "targets": {
        "total": 10, "sectors": {"fake": 4}, "classes": {"high_risk": 4, "general": 2, "key_industry": 0},
        "levels": {"county": 5}}})
    assert plan.targets == {"total": 10, "sectors": {"fake": 4}, "classes": {"high_risk": 4, "general": 2},
                            "levels": {"county": 5}}
    for key in ("E1", "E1", "E2", "E3"):
        _run(session, world, key)
    _run(session, world, "E1", on=date(2026, 12, 31))
    _run(session, world, "E1", on=date(2027, 1, 1))  # next year
    _run(session, world, "E1", on=date(2025, 12, 31))  # last year
    _run(session, world, "E4")  # 同安
    _run(session, world, "E2", kind="self_check")
    _run(session, world, "E3", status="draft")
    p = plans.plan_progress(session, plan)
    assert (p.total.target, p.total.done, p.total.percent) == (10, 5, 50)
    assert {r.key: (r.target, r.done) for r in p.classes} == {
        "high_risk": (4, 3), "above_scale": (None, 3), "key_industry": (None, 1), "general": (2, 1)}
    assert {r.key: (r.target, r.done) for r in p.levels} == {
        "province": (None, 0), "city": (None, 0), "county": (5, 3), "township": (None, 1)}
    assert [(r.key, r.target, r.done, r.percent) for r in p.sectors] == [("fake", 4, 3, 75)]
    with pytest.raises(ValidationFailed) as exc:
        plans.create_plan(session, reg, {"year": 2026, "title": "重复"})
    assert "已有 2026 年度执法计划" in exc.value.errors["year"][0]


def test_plan_edit_approve_and_version(session, world):
    reg = world.user(session, "xa_reg")
    plan = plans.create_plan(session, reg, {"year": 2027, "title": "计划", "targets": {"total": 3}})
    with pytest.raises(Conflict):
        plans.update_plan(session, reg, plan.id, {"title": "新", "version": plan.version + 1})
    with pytest.raises(Conflict):
        plans.update_plan(session, reg, plan.id, {"title": "新"})
    plans.approve_plan(session, reg, plan.id, plan.version)
    assert plan.status == "approved" and plan.approved_by_id == reg.id
    plans.update_plan(session, reg, plan.id, {"targets": {"total": 5}, "version": plan.version})
    assert plan.status == "draft" and plan.targets == {"total": 5}  # an approved plan changed needs approving again
    with pytest.raises(PermissionDenied):
        plans.update_plan(session, world.user(session, "city_reg"), plan.id, {"title": "x", "version": plan.version})
    with pytest.raises(NotFound):
        plans.get_plan(session, world.user(session, "ta_reg"), plan.id)
    with pytest.raises(ValidationFailed):
        plans.update_plan(session, reg, plan.id, {"targets": {"sectors": {"hazchem": 3}}, "version": plan.version})
    actions = list(session.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "inspection_plan", AuditEntry.object_id == str(plan.id)).order_by(AuditEntry.id)))
    assert actions == ["create", "approve", "update"]


# --- campaigns ------------------------------------------------------------------------------------------------------

def test_campaign_progress(session, world):
    """R-E2: enterprises in scope (sector + jurisdiction), checked in the period with the campaign's checklist,
    the hazards those checks found and how many are closed."""
    reg = world.user(session, "xa_reg")
    camp = plans.create_campaign(session, reg, {
        "name": "2026年汛期安全专项检查", "kind": "flood", "sectors": [], "jurisdiction_ids": [world.nodes["新店街道"]],
        "starts_on": date(2026, 6, 1), "ends_on": date(2026, 9, 30), "checklist_codes": ["fake-basic"],
        "status": "active"})
    p = plans.campaign_progress(session, camp)
    assert (p.in_scope, p.checked, p.hazards) == (2, 0, 0)  # E1, E2 in 新店街道; E3 is in 马巷街道

    sync_catalog(session)
    stored = session.scalar(select(StoredChecklist).where(StoredChecklist.code == "fake-basic"))
    other = StoredChecklist(code="fake-other", version="1", sector="fake", title="其他检查表", content={},
                            sha256="0" * 64, items=[StoredChecklistItem(code="1", section="1", position=0, question="？",
                                                                        answer_type="yes_no", basis=[])])
    session.add(other)
    session.flush()

    def run_with_checklist(on: date, kind="enforcement", hazards=(), checklist=stored):
        run = _run(session, world, "E1", kind=kind, on=on)
        session.add(InspectionRunChecklist(run_id=run.id, checklist_id=checklist.id, position=0))
        item_ids = [i.id for i in checklist.items]
        for item_id, state in zip(item_ids, hazards, strict=False):
            h = Hazard(enterprise_id=run.enterprise_id, scope_path=run.scope_path, description="发现", category="thing",
                       level="general", source="inspection", found_by_name="测", found_at=datetime.now(UTC),
                       state=state, deadline=today() - timedelta(days=1))
            session.add(h)
            session.flush()
            session.add(InspectionAnswer(run_id=run.id, item_id=item_id, value="no", passed=False, hazard_id=h.id))
        session.flush()
        return run

    run_with_checklist(date(2026, 6, 1), hazards=("closed", "rectifying", "registered"))
    run_with_checklist(date(2026, 9, 30), hazards=("closed",))
    run_with_checklist(date(2026, 10, 1), hazards=("registered",))  # after the period
    run_with_checklist(date(2026, 7, 1), kind="self_check", hazards=("registered",))
    run_with_checklist(date(2026, 7, 2), hazards=("registered",), checklist=other)  # not the campaign's checklist
    p = plans.campaign_progress(session, camp)
    assert (p.in_scope, p.checked, p.checks, p.self_checked) == (2, 1, 2, 1)
    assert (p.hazards, p.rectified, p.overdue, p.coverage) == (5, 2, 3, 50)

    with pytest.raises(ValidationFailed) as exc:
        plans.update_campaign(session, reg, camp.id, {"jurisdiction_ids": [world.nodes["同安区"]],
                                                      "checklist_codes": ["nope"], "version": camp.version})
    assert set(exc.value.errors) == {"jurisdiction_ids", "checklist_codes"}
    plans.update_campaign(session, reg, camp.id, {"jurisdiction_ids": [], "version": camp.version})
    assert plans.campaign_progress(session, camp).in_scope == 3
    with pytest.raises(NotFound):
        plans.get_campaign(session, world.user(session, "ta_reg"), camp.id)
    with pytest.raises(PermissionDenied):
        plans.list_campaigns(session, world.user(session, "ent1_mgr"))


def test_demo_plans_are_made_once(session, world):
    """The demo: an approved plan of this year, this month's published draw that recomputes, a campaign;
    a second run makes nothing."""
    from core.demo_plans import seed_demo_plans

    add_inspectors(session, world, 1)
    first = seed_demo_plans(session, "xa_reg", draw_count=2)
    assert first.created == 3
    plan = session.get(InspectionPlan, first.plan_id)
    d = session.get(InspectionDraw, first.draw_id)
    assert plan.status == "approved" and plan.year == today().year and d.plan_id == plan.id
    assert d.status == "published" and len(d.items) == 2 and plans.recompute(d)
    assert d.seed == f"anjian-demo-{today():%Y-%m}"
    assert session.get(Campaign, first.campaign_id).kind == "big_check"
    second = seed_demo_plans(session, "xa_reg", draw_count=2)
    assert (second.created, second.plan_id, second.draw_id, second.campaign_id) == (
        0, first.plan_id, first.draw_id, first.campaign_id)
