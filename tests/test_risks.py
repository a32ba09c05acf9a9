"""The risk register services (R-R1, R-R2): scope, versions, audit, inspection tasks and their schedule, failed
checks becoming linked hidden dangers, the regulator's red/orange list and the four-colour map data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core.models import AuditEntry, Hazard, InspectionTask, RiskPoint, TaskCheck
from core.services import risks
from core.services.attachments import Upload
from core.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.services.hazards import today

PNG = Upload(data=b"\x89PNG\r\n\x1a\n" + b"p" * 32, content_type="image/png", filename="现场.png")


@pytest.fixture(autouse=True)
def _uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))


def point(session, world, user="ent1_mgr", name="液氨储罐区", inputs=None, method="LEC", **extra) -> RiskPoint:
    p = risks.create_risk_point(session, world.user(session, user), {
        "name": name, "category": "equipment", "method": method,
        "inputs": inputs if inputs is not None else {"L": 3, "E": 6, "C": 15}, "location": "东厂区", **extra})
    session.flush()
    return p


def measure_and_task(session, world, p, user="ent1_mgr", period="monthly", next_due=None):
    actor = world.user(session, user)
    m = risks.add_measure(session, actor, p.id, {"kind": "engineering", "description": "储罐区设置氨气泄漏报警"})
    t = risks.add_task(session, actor, p.id, {"measure_id": m.id, "content": "检查报警仪是否完好", "period": period,
                                              "assignee_name": "班组长", "next_due": next_due})
    return m, t


# --- risk points ------------------------------------------------------------------------------------------------

def test_create_assesses_and_audits(session, world):
    """R-R1: the server computes score and grade; the enterprise's scope path is copied; an audit entry is kept."""
    p = point(session, world)
    assert (p.method, p.score, p.grade, p.grade_label, p.colour) == ("LEC", 270, "large", "较大风险", "orange")
    assert p.enterprise_id == world.enterprises["E1"] and p.scope_path == world.ent(session, "E1").scope_path
    assert p.inputs == {"L": 3.0, "E": 6.0, "C": 15.0} and p.version == 1
    entry = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "risk_point",
                                                     AuditEntry.object_id == str(p.id))).one()
    assert entry.action == "create" and entry.after["grade"] == "large" and "液氨储罐区" in entry.summary


def test_enterprise_users_create_only_on_their_own_enterprise(session, world):
    with pytest.raises(NotFound):
        point(session, world, enterprise_id=world.enterprises["E4"])
    assert point(session, world, "ent4_mgr").enterprise_id == world.enterprises["E4"]


@pytest.mark.parametrize("user", ["xa_reg", "city_reg", "xa_insp", "grid1", "admin"])
def test_government_users_do_not_maintain_registers(session, world, user):
    """风险清单由企业维护: government users read, they do not create or edit."""
    with pytest.raises(PermissionDenied, match="风险清单由企业维护"):
        point(session, world, user, enterprise_id=world.enterprises["E1"])
    p = point(session, world)
    with pytest.raises(PermissionDenied):
        risks.update_risk_point(session, world.user(session, user), p.id, {"version": 1, "name": "改名"})


def test_invalid_assessment_is_a_field_error(session, world):
    with pytest.raises(ValidationFailed) as exc:
        point(session, world, inputs={"L": 4, "E": 6, "C": 7})
    assert list(exc.value.errors["inputs"]) == ["L"]
    with pytest.raises(ValidationFailed) as exc:
        point(session, world, method="HAZOP")
    assert "method" in exc.value.errors


def test_update_reassesses_checks_version_and_audits(session, world):
    """R-R1 + optimistic locking: a stale version is 409 and changes nothing."""
    p = point(session, world)
    mgr = world.user(session, "ent1_mgr")
    risks.update_risk_point(session, mgr, p.id, {"version": 1, "method": "LS", "inputs": {"L": 5, "S": 4}})
    assert (p.method, p.score, p.grade, p.version) == ("LS", 20, "major", 2)
    with pytest.raises(Conflict, match="已被他人修改"):
        risks.update_risk_point(session, mgr, p.id, {"version": 1, "name": "旧版本上的修改"})
    with pytest.raises(Conflict, match="缺少版本号"):
        risks.update_risk_point(session, mgr, p.id, {"name": "没有版本号"})
    assert p.name == "液氨储罐区"
    entry = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "risk_point",
                                                     AuditEntry.action == "update")).one()
    assert entry.before == {"method": "LEC", "inputs": {"L": 3.0, "E": 6.0, "C": 15.0}, "score": 270.0,
                            "grade": "large"}
    assert entry.after["grade"] == "major"


def test_scope_isolation(session, world):
    """R-A4: other enterprises and other districts see nothing: 404, never 403."""
    p1, p4 = point(session, world), point(session, world, "ent4_mgr", name="同安粉尘车间")
    for user, visible, hidden in [("ent1_mgr", p1, p4), ("ent4_mgr", p4, p1), ("xa_reg", p1, p4),
                                  ("grid1", p1, p4), ("ta_reg", p4, p1)]:
        actor = world.user(session, user)
        assert risks.get_risk_point(session, actor, visible.id) is visible
        with pytest.raises(NotFound):
            risks.get_risk_point(session, actor, hidden.id)
        ids = {x.id for x in risks.list_risk_points(session, actor, {}).items}
        assert visible.id in ids and hidden.id not in ids
    city = world.user(session, "city_reg")
    assert {p1.id, p4.id} <= {x.id for x in risks.list_risk_points(session, city, {}).items}
    with pytest.raises(NotFound):  # 404 before 403 for someone who may not edit anyway
        risks.update_risk_point(session, world.user(session, "ta_reg"), p1.id, {"version": 1})


def test_filters_and_counts(session, world):
    """R-R1: register filters by category and grade; counts per grade are of active points only."""
    mgr = world.user(session, "ent1_mgr")
    a = point(session, world, inputs={"L": 10, "E": 6, "C": 40})                 # 2400 重大
    b = point(session, world, name="配电室", inputs={"L": 1, "E": 6, "C": 7}, category="environment")  # 42 低
    c = point(session, world, name="叉车作业", inputs={"L": 3, "E": 6, "C": 7})   # 126 一般
    risks.set_risk_point_active(session, mgr, c.id, 1, False)
    assert [p.id for p in risks.list_risk_points(session, mgr, {"grade": "major"}).items] == [a.id]
    assert [p.id for p in risks.list_risk_points(session, mgr, {"category": "environment"}).items] == [b.id]
    assert [p.id for p in risks.list_risk_points(session, mgr, {"active": False}).items] == [c.id]
    assert risks.grade_counts(session, mgr) == {"major": 1, "large": 0, "general": 0, "low": 1, "total": 2}
    xa = world.user(session, "xa_reg")
    assert risks.grade_counts(session, xa, enterprise_id=world.enterprises["E1"])["total"] == 2
    assert risks.grade_counts(session, world.user(session, "ta_reg"))["total"] == 0


def test_deactivate_needs_version_and_is_audited(session, world):
    p = point(session, world)
    mgr = world.user(session, "ent1_mgr")
    with pytest.raises(Conflict):
        risks.set_risk_point_active(session, mgr, p.id, 7, False)
    risks.set_risk_point_active(session, mgr, p.id, 1, False)
    assert not p.is_active and p.version == 2
    assert session.scalar(select(AuditEntry.summary).where(AuditEntry.object_type == "risk_point",
                                                          AuditEntry.action == "update")) == "停用风险点：液氨储罐区"


def test_measure_update_moves_the_risk_point_version(session, world):
    """A measure is part of its risk point: editing one needs the point's version and moves it on."""
    p = point(session, world)
    m, _ = measure_and_task(session, world, p)
    mgr = world.user(session, "ent1_mgr")
    risks.update_measure(session, mgr, p.id, m.id, {"version": p.version, "description": "加装双探头泄漏报警"})
    session.flush()
    assert p.version == 2 and m.description == "加装双探头泄漏报警"
    with pytest.raises(Conflict):
        risks.update_measure(session, mgr, p.id, m.id, {"version": 1, "description": "过期"})
    other = point(session, world, name="另一个风险点")
    with pytest.raises(NotFound):
        risks.get_measure(session, mgr, other.id, m.id)


def test_task_assignee_must_belong_to_the_enterprise(session, world):
    p = point(session, world)
    m, _ = measure_and_task(session, world, p)
    mgr = world.user(session, "ent1_mgr")
    with pytest.raises(ValidationFailed) as exc:
        risks.add_task(session, mgr, p.id, {"measure_id": m.id, "content": "巡检", "period": "daily",
                                            "assignee_user_id": world.users["ent4_mgr"]})
    assert exc.value.errors == {"assignee_user_id": ["排查人应为本企业的在用账号"]}
    t = risks.add_task(session, mgr, p.id, {"measure_id": m.id, "content": "巡检", "period": "daily",
                                            "assignee_user_id": world.users["ent1_principal"]})
    assert t.next_due == today() and t.enterprise_id == world.enterprises["E1"]


def test_task_checklist_must_apply_to_the_enterprise(session, world, login):
    """R-P2: a scheduled check can name the checklist it is done with; only one that applies to the enterprise
    (E1 is tagged with the fake sector, activity 生产) — in the service and on the task form."""
    p = point(session, world)
    m, task = measure_and_task(session, world, p)
    mgr = world.user(session, "ent1_mgr")
    with pytest.raises(ValidationFailed) as exc:
        risks.add_task(session, mgr, p.id, {"measure_id": m.id, "content": "巡检", "period": "daily",
                                            "checklist_code": "hazchem-basic"})
    assert exc.value.errors == {"checklist_code": ["请选择适用于本企业的检查表"]}
    t = risks.add_task(session, mgr, p.id, {"measure_id": m.id, "content": "按表巡检", "period": "weekly",
                                            "checklist_code": "fake-basic"})
    assert t.checklist_code == "fake-basic"
    session.commit()
    html = login("ent1_mgr").get(f"/risks/tasks/{t.id}/edit").get_data(as_text=True)
    assert '<option value="fake-basic" selected' in html


# --- schedule ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("period", "due", "done", "expected"), [
    ("shift", date(2025, 3, 10), date(2025, 3, 10), date(2025, 3, 11)),
    ("daily", date(2025, 3, 10), date(2025, 3, 10), date(2025, 3, 11)),
    ("daily", date(2025, 3, 10), date(2025, 3, 13), date(2025, 3, 14)),     # late: next after the check day
    ("weekly", date(2025, 3, 10), date(2025, 3, 10), date(2025, 3, 17)),
    ("weekly", date(2025, 3, 10), date(2025, 3, 8), date(2025, 3, 17)),      # early: the schedule stands
    ("weekly", date(2025, 3, 10), date(2025, 3, 24), date(2025, 3, 31)),     # two weeks late: no catch-up pile
    ("monthly", date(2025, 1, 31), date(2025, 1, 31), date(2025, 2, 28)),    # month end clamps
    ("monthly", date(2024, 1, 31), date(2024, 1, 31), date(2024, 2, 29)),    # leap year
    ("monthly", date(2025, 1, 15), date(2025, 3, 20), date(2025, 4, 15)),
    ("quarterly", date(2025, 1, 1), date(2025, 1, 5), date(2025, 4, 1)),
    ("quarterly", date(2025, 11, 30), date(2025, 11, 30), date(2026, 2, 28)),
    ("yearly", date(2024, 2, 29), date(2024, 2, 29), date(2025, 2, 28)),
    ("yearly", date(2025, 6, 1), date(2025, 6, 1), date(2026, 6, 1)),
])
def test_next_due_per_period(period, due, done, expected):
    """R-R1: next_due advances by the task's period along its own schedule."""
    assert risks.next_due_after(due, period, done) == expected


def test_add_period_keeps_the_anchor_day():
    assert [risks.add_period(date(2025, 1, 31), "monthly", n) for n in (1, 2, 3)] == [
        date(2025, 2, 28), date(2025, 3, 31), date(2025, 4, 30)]


# --- due checks and recording -----------------------------------------------------------------------------------

def test_due_tasks_on_a_date_in_scope(session, world):
    """R-R1: tasks due on/before the date, earliest first; inactive tasks and points excluded; scoped."""
    p = point(session, world)
    d0 = today()
    _, t_old = measure_and_task(session, world, p, next_due=d0 - timedelta(days=3))
    _, t_now = measure_and_task(session, world, p, next_due=d0)
    _, t_later = measure_and_task(session, world, p, next_due=d0 + timedelta(days=5))
    mgr = world.user(session, "ent1_mgr")
    assert [t.id for t in risks.due_tasks(session, mgr, d0)] == [t_old.id, t_now.id]
    assert [t.id for t in risks.due_tasks(session, mgr, d0 + timedelta(days=5))] == [t_old.id, t_now.id, t_later.id]
    risks.update_task(session, mgr, t_old.id, {"version": 1, "is_active": False})
    assert [t.id for t in risks.due_tasks(session, mgr, d0)] == [t_now.id]
    assert [t.id for t in risks.due_tasks(session, world.user(session, "xa_reg"), d0)] == [t_now.id]
    assert risks.due_tasks(session, world.user(session, "ent4_mgr"), d0) == []
    assert risks.due_tasks(session, world.user(session, "ta_reg"), d0) == []
    risks.set_risk_point_active(session, mgr, p.id, p.version, False)
    assert risks.due_tasks(session, mgr, d0) == []


def test_passed_check_advances_next_due(session, world):
    p = point(session, world)
    _, t = measure_and_task(session, world, p, period="weekly", next_due=today() - timedelta(days=2))
    due_before = t.next_due
    check = risks.record_check(session, world.user(session, "ent1_principal"), t.id,
                               {"version": 1, "passed": True, "note": "报警仪完好"})
    assert (check.passed, check.hazard_id, check.due_date, check.done_on) == (True, None, due_before, today())
    assert t.next_due == due_before + timedelta(days=7) and t.last_done == today() and t.version == 2
    assert session.scalar(select(AuditEntry.after).where(AuditEntry.action == "check"))["passed"] is True


def test_failed_check_registers_a_linked_hazard(session, world):
    """R-R2: a failed check is a failed control measure: the hidden danger links the risk point and the
    measure, carries the photo, and the check points to it."""
    p = point(session, world)
    m, t = measure_and_task(session, world, p)
    check = risks.record_check(session, world.user(session, "ent1_mgr"), t.id, {
        "version": 1, "passed": False, "description": "氨气泄漏报警仪探头失效", "category": "thing"},
        uploads=[PNG])
    hazard = session.get(Hazard, check.hazard_id)
    assert (hazard.risk_point_id, hazard.control_measure_id, hazard.enterprise_id) == (
        p.id, m.id, world.enterprises["E1"])
    assert (hazard.source, hazard.level, hazard.state, hazard.location) == ("self_check", "general", "registered",
                                                                           "东厂区")
    assert hazard.description == "氨气泄漏报警仪探头失效"
    assert len(hazard.transitions) == 1 and len(hazard.transitions[0].attachments) == 1
    assert t.next_due > today() and not check.passed
    assert [h.id for h in risks.linked_hazards(session, world.user(session, "xa_reg"), p)] == [hazard.id]
    assert risks.linked_hazards(session, world.user(session, "ta_reg"), p) == []


def test_failed_check_needs_a_description_and_concurrent_checks_conflict(session, world):
    from marshmallow import ValidationError

    from core.schemas.risk import CheckIn

    with pytest.raises(ValidationError) as exc:
        CheckIn().load({"version": 1, "passed": False})
    assert exc.value.messages == {"description": ["排查不合格时请描述发现的隐患"]}
    p = point(session, world)
    _, t = measure_and_task(session, world, p)
    risks.record_check(session, world.user(session, "ent1_mgr"), t.id, {"version": 1, "passed": True})
    with pytest.raises(Conflict):  # the second person saw version 1 too
        risks.record_check(session, world.user(session, "ent1_principal"), t.id, {"version": 1, "passed": True})
    assert session.scalar(select(TaskCheck.id).where(TaskCheck.task_id == t.id).offset(1)) is None


def test_checks_are_for_enterprise_users_on_their_own_tasks(session, world):
    p = point(session, world)
    _, t = measure_and_task(session, world, p)
    with pytest.raises(PermissionDenied, match="排查任务由企业人员执行"):
        risks.record_check(session, world.user(session, "xa_reg"), t.id, {"version": 1, "passed": True})
    with pytest.raises(NotFound):
        risks.record_check(session, world.user(session, "ent4_mgr"), t.id, {"version": 1, "passed": True})
    with pytest.raises(ValidationFailed) as exc:
        risks.record_check(session, world.user(session, "ent1_mgr"), t.id,
                           {"version": 1, "passed": True, "done_on": today() + timedelta(days=1)})
    assert exc.value.errors == {"done_on": ["排查日期不能晚于今天"]}
    assert session.get(InspectionTask, t.id).version == 1


# --- regulator's list and maps ----------------------------------------------------------------------------------

def test_regulator_list_is_red_and_orange_in_scope(session, world):
    """R-R2: 重大 and 较大 only, active only, within the regulator's jurisdiction; keyset pages."""
    mgr = world.user(session, "ent1_mgr")
    major = point(session, world, name="重大1", inputs={"L": 10, "E": 6, "C": 40})
    large = point(session, world, name="较大1", inputs={"L": 3, "E": 6, "C": 15})
    point(session, world, name="一般1", inputs={"L": 3, "E": 6, "C": 7})
    point(session, world, name="低1", inputs={"L": 1, "E": 1, "C": 1})
    gone = point(session, world, name="已停用重大", inputs={"L": 10, "E": 10, "C": 40})
    risks.set_risk_point_active(session, mgr, gone.id, 1, False)
    e4_major = point(session, world, "ent4_mgr", name="同安重大", inputs={"L": 10, "E": 10, "C": 100})

    def ids(user, **filters):
        return [p.id for p in risks.supervision_list(session, world.user(session, user), filters).items]

    assert ids("xa_reg") == [large.id, major.id]
    assert ids("ta_reg") == [e4_major.id]
    assert ids("city_reg") == [e4_major.id, large.id, major.id]
    assert ids("xa_reg", grade="major") == [major.id]
    assert ids("city_reg", jurisdiction_id=world.nodes["同安区"]) == [e4_major.id]
    with pytest.raises(NotFound):
        ids("xa_reg", jurisdiction_id=world.nodes["同安区"])
    page = risks.supervision_list(session, world.user(session, "city_reg"), {}, size=2)
    assert [p.id for p in page.items] == [e4_major.id, large.id] and page.total == 3
    rest = risks.supervision_list(session, world.user(session, "city_reg"), {}, after=page.next_after, size=2)
    assert [p.id for p in rest.items] == [major.id] and rest.next_after is None
    with pytest.raises(PermissionDenied):
        ids("ent1_mgr")


def test_enterprise_map_on_coordinates_and_on_a_plan(session, world):
    """R-R2: without a plan, points with coordinates go on a grid; with a plan, by their 0–1 position."""
    mgr = world.user(session, "ent1_mgr")
    a = point(session, world, name="A", longitude=118.25, latitude=24.60)
    b = point(session, world, name="B", longitude=118.26, latitude=24.61, inputs={"L": 10, "E": 6, "C": 40})
    c = point(session, world, name="C")
    view, plan = risks.enterprise_map(session, mgr, world.enterprises["E1"])
    assert plan is None and view.kind == "grid" and [m.label for m in view.markers] == ["A", "B"]
    (ma, mb) = view.markers
    assert ma.x < mb.x and ma.y > mb.y  # east is right, north is up
    assert 0 < ma.x < view.width and 0 < mb.y < view.height and view.unplaced == [c]
    assert {line[0] for line in view.grid} == {"lon", "lat"}

    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (400, 200), "white").save(buf, "PNG")
    risks.upload_site_plan(session, mgr, world.enterprises["E1"], Upload(buf.getvalue(), "image/png", "平面图.png"))
    risks.update_risk_point(session, mgr, a.id, {"version": a.version, "plan_x": 0.25, "plan_y": 0.5})
    view, plan = risks.enterprise_map(session, mgr, world.enterprises["E1"], plan_url="/plan.png")
    assert plan is not None and view.kind == "plan" and (view.width, view.height) == (1000, 500)
    assert [(m.label, m.x, m.y, m.grade) for m in view.markers] == [("A", 250, 250, "large")]
    assert {p.name for p in view.unplaced} == {"B", "C"}
    with pytest.raises(ValidationFailed):
        risks.upload_site_plan(session, mgr, world.enterprises["E1"], Upload(b"\x89PNG\r\n\x1a\nbroken", "image/png",
                                                                             "坏.png"))
    with pytest.raises(NotFound):
        risks.site_plan(session, world.user(session, "ta_reg"), world.enterprises["E1"])


def test_area_map_colours_enterprises_by_their_highest_grade(session, world):
    """R-R2: each enterprise takes its highest active grade; enterprises without coordinates are listed."""
    from core.services import enterprises
    from core.services.actors import SYSTEM

    for key, lon, lat in (("E1", 118.24, 24.62), ("E4", 118.12, 24.73)):
        ent = world.ent(session, key)
        enterprises.update_enterprise(session, SYSTEM, ent.id, {"version": ent.version, "longitude": lon,
                                                                "latitude": lat})
    point(session, world, name="低", inputs={"L": 1, "E": 1, "C": 1})
    point(session, world, name="较大", inputs={"L": 3, "E": 6, "C": 15})
    point(session, world, "ent4_mgr", name="一般", inputs={"L": 3, "E": 6, "C": 7})
    view, rows = risks.area_map(session, world.user(session, "city_reg"))
    assert [(r.enterprise.name, r.grade, r.counts) for r in rows] == [
        ("测试E1有限公司", "large", {"major": 0, "large": 1, "general": 0, "low": 1}),
        ("测试E4有限公司", "general", {"major": 0, "large": 0, "general": 1, "low": 0})]
    assert view.kind == "grid" and [m.label for m in view.markers] == ["测试E4有限公司", "测试E1有限公司"]
    view, rows = risks.area_map(session, world.user(session, "xa_reg"))
    assert [r.enterprise.name for r in rows] == ["测试E1有限公司"] and len(view.markers) == 1
    with pytest.raises(PermissionDenied):
        risks.area_map(session, world.user(session, "ent1_mgr"))
