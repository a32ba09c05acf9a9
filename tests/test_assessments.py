"""安全生产标准化 self-assessment, grading, findings → hazards, comparison, lifecycle and coverage (R-S1…R-S3).

The test world: 测试E1 (翔安区, sector ``fake``: core tree + the fake sector's 3 criteria) and 测试E4 (同安区, core
tree only). The core tree is GB/T 33000-2016 with 28 items whose conventional standard scores sum to 1000; the
fake criteria add F1 (40, element 4), F2 (50, 否决项, element 5) and F3 (10, element 3).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core.config import DEFAULT_STANDARDIZATION_GRADES as RULES
from core.models import AuditEntry, Enterprise, Hazard, Notification
from core.plugins import plugins
from core.services import assessments as svc
from core.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.standardization import CriteriaError, assessable_edition, core_criteria, validate_criteria

GBT2016_ELEMENTS = ["目标职责", "制度化管理", "教育培训", "现场管理", "安全风险管控及隐患排查治理", "应急管理", "事故管理",
                    "持续改进"]
YEAR = date.today().year


def new(session, world, key="E1", user="ent1_mgr", **data):
    return svc.create_assessment(session, world.user(session, user), world.enterprises[key],
                                 {"team_leader": "李组长", "team_members": "王一、赵二", **data})


def fill(session, world, a, user="ent1_mgr", **overrides):
    """Every item at full score except ``overrides`` (item code → result mapping)."""
    results = []
    for it in a.items:
        raw = overrides.get(it.code, {"result": "scored", "score": it.standard_score})
        results.append({"item_id": it.id, **raw})
    return svc.save_items(session, world.user(session, user), a.id, a.version, results)


def item(a, code):
    return next(i for i in a.items if i.code == code)


def submitted(session, world, **overrides):
    a = new(session, world)
    fill(session, world, a, **overrides)
    return svc.submit(session, world.user(session, "ent1_principal"), a.id,
                      {"version": a.version, "signer_name": "张主要"})


# --- criteria data ----------------------------------------------------------------------------------------------------

def test_core_tree_has_the_verified_elements_and_conventional_scores(app):
    """R-S1: the 8 一级要素 of GB/T 33000-2016 exactly (✅), 28 二级 items (◐/○: verified false), scores sum 1000."""
    criteria = validate_criteria(core_criteria(), [])
    gbt = criteria.editions["gbt33000-2016"]
    assert [e.name for e in gbt.elements] == GBT2016_ELEMENTS
    assert all(e.verified for e in gbt.elements)
    assert gbt.item_count == 28 and not any(i.verified for e in gbt.elements for i in e.items)
    assert sum(i.score for e in gbt.elements for i in e.items) == 1000
    assert gbt.score_source == "conventional" and gbt.text_status == "partial"
    new_edition = criteria.editions["gbt33000-2025"]
    assert new_edition.effective_from == date(2025, 10, 31) and new_edition.text_status == "pending"
    assert new_edition.item_count == 0


def test_the_edition_to_assess_with_names_a_pending_newer_one(app):
    """An assessment uses the newest edition whose text is loaded and says so when a newer one is in force."""
    criteria = validate_criteria(core_criteria(), [])
    before = assessable_edition(criteria, date(2025, 10, 30))
    assert before.criteria.code == "gbt33000-2016" and before.note == ""
    after = assessable_edition(criteria, date(2025, 10, 31))
    assert after.criteria.code == "gbt33000-2016"
    assert "GB/T 33000-2025" in after.note and "尚未载入" in after.note


def test_sector_criteria_are_validated(session):
    """register_assessment_criteria mappings are checked by the marshmallow schema and against the core tree."""
    bad = {"code": "x", "title": "t", "standard": "s", "effective_from": "2020-01-01", "text_status": "verified",
           "score_source": "standard", "source": "s", "sector": "fake", "extends": "gbt33000-2016",
           "items": [{"code": "X1", "element": "99", "text": "t", "score": 10, "verified": True},
                     {"code": "X2", "text": "t", "score": -1, "verified": True}]}
    with pytest.raises(CriteriaError) as exc:
        validate_criteria(core_criteria(), [bad])
    assert str(exc.value).splitlines()[1].startswith("x:") and "标准分应大于 0" in str(exc.value)
    bad["items"] = [{"code": "X1", "element": "99", "text": "t", "score": 10, "verified": True}]
    with pytest.raises(CriteriaError, match="一级要素 99"):
        validate_criteria(core_criteria(), [bad])
    assert set(plugins().criteria.sector_sets) >= {"fake-criteria-2020"}


# --- creating and scoring ---------------------------------------------------------------------------------------------

def test_assessment_copies_core_tree_and_sector_criteria(session, world):
    """R-S1/R-S2: E1 gets 28 core + 3 fake items in element order; records the edition; opens the lifecycle."""
    a = new(session, world)
    assert len(a.items) == 31 and a.criteria_code == "gbt33000-2016" and a.criteria_standard == "GB/T 33000-2016"
    assert a.sector_criteria == ["fake-criteria-2020"]
    assert "GB/T 33000-2025" in a.edition_note
    assert [i.code for i in a.items if i.element_code == "4"] == ["4.1", "4.2", "4.3", "4.4", "F1"]
    assert item(a, "F2").is_veto and item(a, "F2").sector == "fake"
    assert a.team_members == ["王一", "赵二"] and a.status == "draft"
    life = svc.get_lifecycle(session, world.user(session, "ent1_mgr"), world.enterprises["E1"])
    assert life.status == "in_progress" and [e.action for e in life.events] == ["create"]
    assert session.get(Enterprise, world.enterprises["E1"]).standardization_status == "in_progress"
    with pytest.raises(Conflict, match="已有自评"):
        new(session, world)
    e4 = new(session, world, key="E4", user="ent4_mgr")
    assert len(e4.items) == 28 and e4.sector_criteria == []


def test_scores_not_applicable_items_leave_the_denominator(session, world):
    """得分 = 实得分 ÷ 适用项标准分 × 100: 1.1 −5, F1 scored 30 of 40, 4.1 (80) 不适用 → 1005 / 1020 × 100 = 98.5."""
    a = new(session, world)
    fill(session, world, a, **{
        "1.1": {"result": "scored", "deduction": 5, "reason": "目标未分解到车间"},
        "F1": {"result": "scored", "score": 30, "reason": "两台报警器失效"},
        "4.1": {"result": "not_applicable", "na_reason": "无在用设备设施（测试）"},
    })
    r = svc.result_of(a)
    assert (r.applicable_total, r.earned, r.score, r.pending) == (1020, 1005, 98.5, 0)
    assert r.grade == "level1"
    assert item(a, "1.1").score == 15 and item(a, "F1").deduction == 10
    site = next(e for e in r.elements if e.name == "现场管理")
    assert (site.applicable_total, site.earned, site.not_applicable, site.percent) == (180, 170, 1, 94.4)
    assert a.score == 98.5 and a.grade == "level1"


def test_item_input_is_checked(session, world):
    """A deduction needs a reason, scores stay within 0…标准分, 不适用 needs a justification, only 否决项 veto."""
    a = new(session, world)
    i11, f1, f3 = item(a, "1.1"), item(a, "F1"), item(a, "F3")
    with pytest.raises(ValidationFailed) as exc:
        svc.save_items(session, world.user(session, "ent1_mgr"), a.id, a.version, [
            {"item_id": i11.id, "result": "scored", "deduction": 5},
            {"item_id": f1.id, "result": "scored", "score": 41},
            {"item_id": f3.id, "result": "not_applicable"},
            {"item_id": item(a, "2.1").id, "result": "scored", "score": 0, "vetoed": "1", "reason": "x"},
        ])
    assert set(exc.value.errors) == {f"items.{i11.id}.reason", f"items.{f1.id}.score", f"items.{f3.id}.na_reason",
                                     f"items.{item(a, '2.1').id}.vetoed"}
    assert i11.result == "pending"


def test_a_failed_veto_item_means_not_graded(session, world):
    """R-S2: a failed 否决项 gives 未达标 whatever the score (here 1050 / 1100 = 95.5)."""
    a = new(session, world)
    fill(session, world, a, F2={"result": "scored", "vetoed": "on", "reason": "存在未整改重大隐患"})
    r = svc.result_of(a)
    assert r.score == 95.5 and r.grade == "none" and "否决项" in r.reason and item(a, "F2").score == 0


@pytest.mark.parametrize("score, deaths, grade", [
    (90, 0, "level1"), (89.9, 0, "level2"), (95, 1, "level2"), (75, 1, "level2"), (74.9, 0, "level3"),
    (99, 2, "level3"), (60, 0, "level3"), (59.9, 0, "none"), (99, 3, "none"),
])
def test_grade_thresholds_follow_the_configuration(score, deaths, grade):
    """The shipped (legacy 2011 工贸) thresholds: 一级 ≥90 & 0 deaths, 二级 ≥75 & ≤1, 三级 ≥60 & ≤2."""
    assert svc.decide_grade(score, deaths, [], [], RULES)[0] == grade


def test_grade_thresholds_are_data(app):
    """A province's rules replace the defaults: e.g. every 一级要素 ≥60 % for 三级 and a 70-point line."""
    rules = {**RULES, "grades": [{"grade": "level3", "label": "三级", "min_score": 70, "max_deaths": None,
                                  "min_element_percent": 60}]}
    assert svc.decide_grade(72, 5, [80, 61], [], rules)[0] == "level3"
    grade, reason = svc.decide_grade(72, 0, [80, 59], [], rules)
    assert grade == "none" and "60%" in reason
    assert svc.decide_grade(69, 0, [80], [], rules)[0] == "none"


# --- workflow ---------------------------------------------------------------------------------------------------------

def test_submit_return_resubmit_accept_and_lock(session, world):
    """R-S2: principal signs; the district regulator returns once with comments, then accepts; accepted is locked."""
    mgr, principal, xa = (world.user(session, n) for n in ("ent1_mgr", "ent1_principal", "xa_reg"))
    a = new(session, world)
    with pytest.raises(NotFound):
        svc.get_assessment(session, xa, a.id)  # drafts are the enterprise's own
    with pytest.raises(ValidationFailed) as exc:
        svc.submit(session, principal, a.id, {"version": a.version, "signer_name": "张主要"})
    assert "31 个评分项未评定" in exc.value.errors["items"][0]
    fill(session, world, a, **{"3.2": {"result": "scored", "deduction": 20, "reason": "三级教育记录不全"}})
    with pytest.raises(PermissionDenied, match="主要负责人"):
        svc.submit(session, mgr, a.id, {"version": a.version, "signer_name": "张主要"})
    svc.submit(session, principal, a.id, {"version": a.version, "signer_name": "张主要"})
    assert (a.status, a.score, a.grade) == ("submitted", 98.2, "level1") and a.grade_rules["grades"][0]["min_score"] == 90
    with pytest.raises(Conflict, match="待审核"):
        svc.update_team(session, mgr, a.id, {"version": a.version, "team_leader": "改"})
    with pytest.raises(NotFound):
        svc.review(session, world.user(session, "ta_reg"), a.id, {"version": a.version, "decision": "accept"})
    with pytest.raises(PermissionDenied):
        svc.review(session, world.user(session, "xa_insp"), a.id, {"version": a.version, "decision": "accept"})
    with pytest.raises(ValidationFailed) as exc:
        svc.review(session, xa, a.id, {"version": a.version, "decision": "return"})
    assert "comment" in exc.value.errors
    with pytest.raises(Conflict, match="已被他人修改"):
        svc.review(session, xa, a.id, {"version": a.version - 1, "decision": "accept"})
    svc.review(session, xa, a.id, {"version": a.version, "decision": "return", "comment": "3.2 扣分理由请附培训档案"})
    assert a.status == "returned" and a.returned_count == 1
    fill(session, world, a, **{"3.2": {"result": "scored", "deduction": 10, "reason": "部分三级教育记录缺签字"}})
    svc.submit(session, principal, a.id, {"version": a.version})
    assert a.score == 99.1
    svc.review(session, xa, a.id, {"version": a.version, "decision": "accept", "comment": "同意"})
    assert a.status == "accepted" and a.reviewer_name
    with pytest.raises(Conflict, match="锁定"):
        fill(session, world, a)
    with pytest.raises(Conflict, match="待审核"):
        svc.review(session, xa, a.id, {"version": a.version, "decision": "return", "comment": "x"})
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "assessment",
                                                              AuditEntry.object_id == str(a.id))).all()
    assert actions.count("submit") == 2 and "return" in actions and "accept" in actions


def test_scope_hides_other_enterprises(session, world):
    """Out of scope is 404; grid workers hold no assessment.view; E4's staff never see E1's assessment."""
    a = submitted(session, world)
    with pytest.raises(NotFound):
        svc.get_assessment(session, world.user(session, "ent4_mgr"), a.id)
    with pytest.raises(NotFound):
        svc.get_assessment(session, world.user(session, "ta_reg"), a.id)
    with pytest.raises(PermissionDenied):
        svc.get_assessment(session, world.user(session, "grid1"), a.id)
    assert svc.get_assessment(session, world.user(session, "city_reg"), a.id) is a
    assert [x.id for x in svc.list_assessments(session, world.user(session, "xa_reg"))] == [a.id]
    assert svc.list_assessments(session, world.user(session, "ta_reg")) == []
    with pytest.raises(PermissionDenied):
        svc.create_assessment(session, world.user(session, "xa_reg"), world.enterprises["E1"], {})


def test_deducted_items_become_hazards_in_one_action(session, world):
    """R-S2: three deducted items → three hidden dangers (企业自查, 管理缺陷) linked back; others are refused."""
    a = submitted(session, world, **{
        "1.1": {"result": "scored", "deduction": 5, "reason": "目标未分解"},
        "4.2": {"result": "scored", "score": 60, "reason": "动火作业票不全"},
        "F2": {"result": "scored", "vetoed": "1", "reason": "重大隐患未整改"},
    })
    svc.review(session, world.user(session, "xa_reg"), a.id, {"version": a.version, "decision": "accept"})
    picked = [item(a, c).id for c in ("1.1", "4.2", "F2")]
    mgr = world.user(session, "ent1_mgr")
    with pytest.raises(ValidationFailed) as exc:
        svc.create_hazards(session, mgr, a.id, [*picked, item(a, "2.1").id])
    assert exc.value.errors["item_ids"] == ["2.1 没有扣分，不能登记为隐患"]
    assert item(a, "1.1").hazard_id is None
    made = svc.create_hazards(session, mgr, a.id, picked)
    assert len(made) == 3 and [item(a, c).hazard_id for c in ("1.1", "4.2", "F2")] == [h.id for h in made]
    h = session.get(Hazard, item(a, "F2").hazard_id)
    assert h.source == "self_check" and h.category == "management" and h.sector == "fake"
    assert h.checklist_item == f"assessment:{a.id}/F2" and "否决项不符合" in h.description
    with pytest.raises(ValidationFailed) as exc:
        svc.create_hazards(session, mgr, a.id, picked[:1])
    assert "已登记为隐患" in exc.value.errors["item_ids"][0]
    with pytest.raises(PermissionDenied):
        svc.create_hazards(session, world.user(session, "xa_reg"), a.id, picked)


def test_year_on_year_comparison_and_weakest_items(session, world):
    """R-S2: last year's and this year's percent per element; the weakest deducted items of the latest year."""
    principal = world.user(session, "ent1_principal")
    last = new(session, world, year=YEAR - 1)
    fill(session, world, last, **{"4.1": {"result": "scored", "score": 40, "reason": "设备台账缺失"}})
    svc.submit(session, principal, last.id, {"version": last.version, "signer_name": "张主要"})
    this = new(session, world)
    fill(session, world, this, **{"4.1": {"result": "scored", "score": 72, "reason": "部分检测过期"},
                                  "4.4": {"result": "scored", "score": 5, "reason": "警示标志缺失"},
                                  "8.1": {"result": "scored", "score": 30, "reason": "未开展绩效评定"}})
    svc.submit(session, principal, this.id, {"version": this.version, "signer_name": "张主要"})
    cmp = svc.comparison(session, world.user(session, "xa_reg"), world.enterprises["E1"])
    assert cmp.years == [YEAR - 1, YEAR]
    rows = dict(cmp.rows)
    # 现场管理 = 4.1–4.4 + F1 = 260 points: last year 220/260, this year 237/260.
    assert rows["现场管理"] == {YEAR - 1: 84.6, YEAR: 91.2}
    assert rows["持续改进"] == {YEAR - 1: 100.0, YEAR: 87.5}
    assert cmp.totals == {YEAR - 1: 96.4, YEAR: 97.0}
    weakest = dict(cmp.weakest)
    assert [i.code for i in weakest["现场管理"]] == ["4.4", "4.1"] and [i.code for i in weakest["持续改进"]] == ["8.1"]


# --- lifecycle, reminders, coverage -----------------------------------------------------------------------------------

def test_lifecycle_certify_review_withdraw(session, world):
    """R-S3: 创建 → 达标 (grade, certificate, valid 3 years) → 复评 → 退出 (reason); regulators in scope only."""
    xa, e1 = world.user(session, "xa_reg"), world.enterprises["E1"]
    with pytest.raises(PermissionDenied):
        svc.lifecycle_action(session, world.user(session, "ent1_mgr"), e1, "create", {})
    with pytest.raises(NotFound):
        svc.lifecycle_action(session, world.user(session, "ta_reg"), e1, "create", {})
    life = svc.lifecycle_action(session, xa, e1, "create", {})
    with pytest.raises(ValidationFailed) as exc:
        svc.lifecycle_action(session, xa, e1, "certify", {"version": life.version, "grade": "none"})
    assert set(exc.value.errors) == {"grade", "certificate_no"}
    svc.lifecycle_action(session, xa, e1, "certify", {"version": life.version, "grade": "level3",
                                                      "certificate_no": "闽AQBWHⅢ202600001", "certified_on": "2024-02-29"})
    assert (life.status, life.valid_until) == ("certified", date(2027, 2, 27))
    ent = session.get(Enterprise, e1)
    assert (ent.standardization_status, ent.standardization_grade) == ("certified", "level3")
    with pytest.raises(Conflict, match="不能执行"):
        svc.lifecycle_action(session, xa, e1, "certify", {"version": life.version, "grade": "level3",
                                                          "certificate_no": "x"})
    svc.lifecycle_action(session, xa, e1, "review", {"version": life.version})
    with pytest.raises(ValidationFailed):
        svc.lifecycle_action(session, xa, e1, "withdraw", {"version": life.version})
    svc.lifecycle_action(session, xa, e1, "withdraw", {"version": life.version, "reason": "企业停产"})
    assert life.status == "withdrawn" and ent.standardization_grade is None
    assert [e.action for e in life.events] == ["create", "certify", "review", "withdraw"]


def test_certificate_expiry_reminders(session, world):
    """R-S3: the reminders command tells the enterprise before its 达标 certificate expires (once)."""
    from core.services.reminders import run_reminders

    xa, e1 = world.user(session, "xa_reg"), world.enterprises["E1"]
    life = svc.lifecycle_action(session, xa, e1, "create", {})
    svc.lifecycle_action(session, xa, e1, "certify", {"version": life.version, "grade": "level2",
                                                      "certificate_no": "TEST-001", "certified_on": "2023-12-27"})
    assert life.valid_until == date(2026, 12, 26)
    on = life.valid_until - timedelta(days=90)
    report = run_reminders(session, on=on)
    assert report.standardization_reminders == 2  # ent1_mgr and ent1_principal
    notes = session.scalars(select(Notification).where(Notification.kind == "standardization_due")).all()
    assert len(notes) == 2 and "TEST-001" in notes[0].body
    assert run_reminders(session, on=on).standardization_reminders == 0


def test_coverage_per_jurisdiction(session, world):
    """R-S3: hand-computed shares. E1 (高危, 规上) assessed and 达标; E3 (重点行业) nothing; E2 nothing; E4 (高危) assessed."""
    xa = world.user(session, "xa_reg")
    submitted(session, world)
    e4 = new(session, world, key="E4", user="ent4_mgr")
    fill(session, world, e4, user="ent4_mgr")
    e4.status = "submitted"  # E4 has no principal user in the world; the state is what coverage reads
    session.flush()
    life = svc.get_lifecycle(session, xa, world.enterprises["E1"])  # 创建 with the first assessment
    svc.lifecycle_action(session, xa, world.enterprises["E1"], "certify",
                         {"version": life.version, "grade": "level2", "certificate_no": "C-1"})
    city = svc.coverage(session, world.user(session, "city_reg"), YEAR)
    rows = {r.name: r.cells for r in city.rows}
    xa_cells, ta_cells = rows["翔安区"], rows["同安区"]
    assert (xa_cells["all"].total, xa_cells["all"].assessed, xa_cells["all"].graded) == (3, 1, 1)
    assert xa_cells["all"].assessed_pct == 33.3
    assert (xa_cells["high_risk"].total, xa_cells["high_risk"].assessed, xa_cells["high_risk"].graded) == (1, 1, 1)
    assert (xa_cells["key_industry"].total, xa_cells["key_industry"].assessed) == (1, 0)
    assert (ta_cells["high_risk"].total, ta_cells["high_risk"].assessed, ta_cells["high_risk"].graded) == (1, 1, 0)
    total = city.total.cells
    assert (total["high_risk"].total, total["high_risk"].assessed_pct, total["high_risk"].graded_pct) == (2, 100.0, 50.0)
    assert (total["above_scale"].total, total["above_scale"].graded_pct) == (1, 100.0)
    assert city.targets == {"high_risk": 100, "above_scale": 100, "key_industry": 100}
    district = svc.coverage(session, xa, YEAR)
    assert [r.name for r in district.rows] == ["新店街道", "马巷街道"]
    assert svc.coverage(session, xa, YEAR - 1).total.cells["all"].assessed == 0
    with pytest.raises(NotFound):
        svc.coverage(session, xa, YEAR, node_id=world.nodes["同安区"])
    with pytest.raises(PermissionDenied):
        svc.coverage(session, world.user(session, "ent1_mgr"), YEAR)
