"""The reminders job (R-H4): reminders before the deadline, the overdue notice and escalation up the jurisdiction
tree to the right regulators only, 挂牌督办 due dates, due inspection tasks, idempotency, the audit entry and the
``anjian reminders`` command.

World (tests/factories.py): 测试E1 in 翔安区 (xa_reg), 测试E4 in 同安区 (ta_reg), both in 厦门市 (city_reg), in 福建省
(no province regulator in the world: tests that need one add ``fj_reg``). The job reads the tables only, so the
hazards here are made directly in the states and with the deadlines each test needs.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from core.models import (
    AuditEntry,
    ControlMeasure,
    Hazard,
    HazardSupervision,
    InspectionTask,
    Notification,
    RiskPoint,
    User,
)
from core.services import jurisdictions, users
from core.services.actors import SYSTEM
from core.services.reminders import run_reminders
from tests.factories import PASSWORD

ON = date(2025, 10, 9)  # a Thursday; the job works on calendar dates, holidays do not matter here


def make_hazard(session, world, key: str, deadline: date | None, state: str = "rectifying",
                description: str = "配电箱未接地") -> Hazard:
    ent = world.ent(session, key)
    h = Hazard(enterprise_id=ent.id, scope_path=ent.scope_path, description=description, category="thing",
               level="general", source="self_check", found_by_name="测试", state=state,
               found_at=datetime(2025, 9, 1, 2, tzinfo=UTC), deadline=deadline, deadline_kind="calendar")
    session.add(h)
    session.flush()
    return h


def inbox(session) -> dict[str, list[tuple[str, str]]]:
    """username → [(kind, title)] of every notification in the database."""
    rows = session.execute(select(User.username, Notification.kind, Notification.title)
                           .join(User, User.id == Notification.user_id).order_by(Notification.id)).all()
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for username, kind, title in rows:
        out[username].append((kind, title))
    return dict(out)


def kinds(session) -> dict[str, list[str]]:
    return {user: sorted(k for k, _ in items) for user, items in inbox(session).items()}


@pytest.fixture()
def fj_reg(session, world) -> User:
    """A regulator of the province (福建省应急管理厅)."""
    agency = jurisdictions.save_agency(session, SYSTEM, {
        "name": "福建省应急管理厅", "short_name": "闽", "jurisdiction_id": world.nodes["福建省"], "parent_id": None,
        "people_government": "福建省人民政府", "court": "福州市鼓楼区人民法院"})
    user = users.save_user(session, SYSTEM, {"username": "fj_reg", "display_name": "fj_reg", "password": PASSWORD,
                                             "roles": ["regulator"], "jurisdiction_id": world.nodes["福建省"],
                                             "agency_id": agency.id})
    session.flush()
    return user


def test_reminder_before_the_deadline_goes_to_the_enterprise_staff(session, world):
    """R-H4: 3 and 1 days before the deadline the enterprise's staff are reminded; nobody else, nothing for other
    days, closed hazards or hazards without a deadline."""
    h3 = make_hazard(session, world, "E1", ON + timedelta(days=3))
    make_hazard(session, world, "E1", ON + timedelta(days=1), state="registered")
    make_hazard(session, world, "E1", ON + timedelta(days=2))
    make_hazard(session, world, "E1", ON + timedelta(days=3), state="pending_review")
    make_hazard(session, world, "E1", ON + timedelta(days=3), state="closed")
    make_hazard(session, world, "E1", None)

    report = run_reminders(session, ON)

    assert report.reminders == 4 and report.created == 4
    assert kinds(session) == {"ent1_mgr": ["reminder", "reminder"], "ent1_principal": ["reminder", "reminder"]}
    titles = sorted(t for _, t in inbox(session)["ent1_mgr"])
    assert titles == ["隐患整改期限将至：还有 1 天", "隐患整改期限将至：还有 3 天"]
    row = session.scalar(select(Notification).where(Notification.dedup_key.like(f"hz-due:{h3.id}:%"),
                                                    Notification.user_id == world.users["ent1_mgr"]))
    assert row.link == f"/hazards/{h3.id}"
    assert "测试E1有限公司：配电箱未接地。整改期限 2025年10月12日" in row.body
    assert row.read_at is None


def test_overdue_notice_and_escalation_to_the_supervising_county(session, world):
    """R-H4: the day after the deadline the enterprise is told and the 县区 regulator of *its* district is asked to
    follow up: 翔安区 for E1, 同安区 for E4; the city and the other district hear nothing yet."""
    make_hazard(session, world, "E1", ON - timedelta(days=1))
    make_hazard(session, world, "E4", ON - timedelta(days=1), state="registered")

    report = run_reminders(session, ON)

    assert (report.overdue, report.escalations) == (3, 2)
    assert kinds(session) == {"ent1_mgr": ["overdue"], "ent1_principal": ["overdue"], "ent4_mgr": ["overdue"],
                              "xa_reg": ["escalation"], "ta_reg": ["escalation"]}
    assert inbox(session)["xa_reg"] == [("escalation", "辖区隐患逾期未整改（逾期 1 天）")]
    assert report.by_tier == {"county": 2}


def test_escalation_climbs_one_level_at_each_threshold(session, world, fj_reg):
    """R-H4: overdue 7 days → the city (not the district again), 30 days → the province; each time the enterprise
    hears again. Days between thresholds send nothing."""
    make_hazard(session, world, "E1", ON - timedelta(days=7), description="七天逾期")
    make_hazard(session, world, "E4", ON - timedelta(days=30), description="三十天逾期")
    make_hazard(session, world, "E1", ON - timedelta(days=5), description="五天逾期")  # between thresholds
    make_hazard(session, world, "E1", ON - timedelta(days=12), state="pending_review")  # not open: no notice

    report = run_reminders(session, ON)

    assert kinds(session) == {"ent1_mgr": ["overdue"], "ent1_principal": ["overdue"], "ent4_mgr": ["overdue"],
                              "city_reg": ["escalation"], "fj_reg": ["escalation"]}
    assert inbox(session)["city_reg"] == [("escalation", "逾期隐患升级督促（逾期 7 天）")]
    assert inbox(session)["fj_reg"] == [("escalation", "逾期隐患升级督促（逾期 30 天）")]
    assert report.by_tier == {"city": 1, "province": 1}
    body = session.scalar(select(Notification.body).where(Notification.user_id == world.users["ent1_mgr"]))
    assert "已逾期 7 天，已通报市级监管部门" in body


def test_escalation_starts_at_the_enterprise_supervision_level(session, world):
    """R-H4 (分级分类): an enterprise supervised at city level is followed up by the city from the first day."""
    ent = world.ent(session, "E1")
    ent.supervision_level = "city"
    make_hazard(session, world, "E1", ON - timedelta(days=1))

    run_reminders(session, ON)

    assert kinds(session) == {"ent1_mgr": ["overdue"], "ent1_principal": ["overdue"], "city_reg": ["escalation"]}


def test_missed_runs_are_caught_up_within_the_window(session, world, app):
    """R-H4: a run missed by cron is caught up for REMINDER_CATCH_UP_DAYS (3): overdue 3 days still sends the
    first notice, overdue 4 days does not (that is the job of the 7-day threshold)."""
    assert app.config["REMINDER_CATCH_UP_DAYS"] == 3
    make_hazard(session, world, "E4", ON - timedelta(days=3))
    run_reminders(session, ON)
    assert kinds(session) == {"ent4_mgr": ["overdue"], "ta_reg": ["escalation"]}

    make_hazard(session, world, "E1", ON - timedelta(days=4))
    second = run_reminders(session, ON)
    assert second.created == 0 and second.already_sent == 2


def test_thresholds_are_configuration(session, world, app, monkeypatch):
    """R-H4: escalation thresholds and reminder days are data, not code."""
    monkeypatch.setitem(app.config, "OVERDUE_ESCALATION_DAYS", [2, 4])
    monkeypatch.setitem(app.config, "REMINDER_DAYS_BEFORE", 5)
    make_hazard(session, world, "E1", ON - timedelta(days=1))  # below the first threshold now
    make_hazard(session, world, "E1", ON - timedelta(days=4))
    make_hazard(session, world, "E4", ON + timedelta(days=5))

    report = run_reminders(session, ON)

    assert (report.reminders, report.overdue, report.escalations) == (1, 2, 1)
    assert kinds(session) == {"ent1_mgr": ["overdue"], "ent1_principal": ["overdue"], "ent4_mgr": ["reminder"],
                              "city_reg": ["escalation"]}


def test_supervision_due_dates(session, world):
    """R-H4/R-H3: 挂牌督办 due dates are reminded to the listing agency's regulators and the enterprise, before the due
    date and after it; a lifted listing is not."""
    due_soon = make_hazard(session, world, "E1", ON + timedelta(days=20), description="罐区报警器失效")
    session.add(HazardSupervision(hazard_id=due_soon.id, level="county", agency_id=world.agencies["翔安局"],
                                  due_date=ON + timedelta(days=3), leader_name="张局长"))
    late = make_hazard(session, world, "E4", ON + timedelta(days=20), state="pending_review")
    session.add(HazardSupervision(hazard_id=late.id, level="city", agency_id=world.agencies["市局"],
                                  due_date=ON - timedelta(days=1), leader_name="李副市长"))
    lifted = make_hazard(session, world, "E4", ON + timedelta(days=20))
    session.add(HazardSupervision(hazard_id=lifted.id, level="county", agency_id=world.agencies["同安局"],
                                  due_date=ON + timedelta(days=1), leader_name="王局长",
                                  lifted_at=datetime(2025, 10, 1, tzinfo=UTC)))
    session.flush()

    report = run_reminders(session, ON)

    assert (report.supervision_reminders, report.supervision_overdue) == (3, 2)
    assert kinds(session) == {"ent1_mgr": ["supervision_due"], "ent1_principal": ["supervision_due"],
                              "xa_reg": ["supervision_due"], "city_reg": ["supervision_overdue"],
                              "ent4_mgr": ["supervision_overdue"]}
    assert inbox(session)["xa_reg"] == [("supervision_due", "挂牌督办期限将至：还有 3 天")]
    body = session.scalar(select(Notification.body).where(Notification.user_id == world.users["city_reg"]))
    assert "市级挂牌督办，督办期限 2025年10月8日，督办责任领导 李副市长" in body


def test_due_inspection_tasks(session, world):
    """R-R1/R-H4: inspection tasks due today or earlier give one notice a day per enterprise user, with counts."""
    def task(key: str, due: date, active: bool = True) -> None:
        ent = world.ent(session, key)
        point = RiskPoint(enterprise_id=ent.id, scope_path=ent.scope_path, name="罐区", category="equipment",
                          method="LEC", score=90, grade="general")
        measure = ControlMeasure(kind="engineering", description="可燃气体报警器完好")
        point.measures.append(measure)
        session.add(point)
        session.flush()
        session.add(InspectionTask(measure_id=measure.id, enterprise_id=ent.id, content="检查报警器", period="daily",
                                   next_due=due, is_active=active))
        session.flush()

    task("E1", ON)
    task("E1", ON - timedelta(days=2))
    task("E1", ON - timedelta(days=2), active=False)
    task("E4", ON + timedelta(days=1))

    report = run_reminders(session, ON)

    assert report.task_reminders == 2
    assert inbox(session) == {"ent1_mgr": [("task_due", "今日有 2 项隐患排查任务待完成")],
                              "ent1_principal": [("task_due", "今日有 2 项隐患排查任务待完成")]}
    body = session.scalar(select(Notification.body).where(Notification.user_id == world.users["ent1_mgr"]))
    assert body == "共 2 项排查任务应在今天或之前完成，其中 1 项已超过应排查日期。"
    assert run_reminders(session, ON).task_reminders == 0
    # The next day: E1's staff again (their tasks are still due) and E4's manager (E4's task falls due).
    assert run_reminders(session, ON + timedelta(days=1)).task_reminders == 3
    assert kinds(session)["ent4_mgr"] == ["task_due"]


def test_second_run_the_same_day_creates_nothing_and_each_run_is_audited(session, world):
    """R-H4, R-A5: the job is idempotent (dedup_key) and records one audit entry per run with its counts."""
    make_hazard(session, world, "E1", ON + timedelta(days=3))
    make_hazard(session, world, "E4", ON - timedelta(days=1))
    first = run_reminders(session, ON)
    count = session.scalar(select(Notification.id).order_by(Notification.id.desc()).limit(1))
    second = run_reminders(session, ON)

    assert first.created == 4 and first.already_sent == 0
    assert second.created == 0 and second.already_sent == 4
    assert session.scalar(select(Notification.id).order_by(Notification.id.desc()).limit(1)) == count
    runs = list(session.scalars(select(AuditEntry).where(AuditEntry.object_type == "reminders")
                                .order_by(AuditEntry.id)))
    assert [(r.action, r.object_id, r.actor_name) for r in runs] == [("run", "2025-10-09", "system")] * 2
    assert runs[0].after["created"] == 4 and runs[0].after["reminders"] == 2
    assert runs[1].after["created"] == 0 and runs[1].after["already_sent"] == 4


def test_a_new_deadline_gets_its_own_reminders(session, world):
    """R-H4: after an extension (new deadline) the reminders start again for the new date."""
    h = make_hazard(session, world, "E1", ON + timedelta(days=3))
    run_reminders(session, ON)
    h.deadline = ON + timedelta(days=4)
    session.flush()
    assert run_reminders(session, ON + timedelta(days=1)).reminders == 2


def test_nobody_to_tell_is_reported(session, world):
    """R-H4: an overdue hazard whose enterprise has no users still reaches the regulator; the missing enterprise
    recipients are counted as unrouted."""
    make_hazard(session, world, "E3", ON - timedelta(days=1))  # E3: 马巷街道, 翔安区, no enterprise users
    report = run_reminders(session, ON)
    assert kinds(session) == {"xa_reg": ["escalation"]}
    assert report.unrouted == 1


def test_cli_prints_counts_in_chinese(session, world, runner):
    """R-H4: ``anjian reminders --date`` runs the job, prints Chinese counts and exits 0 (cron)."""
    make_hazard(session, world, "E1", ON + timedelta(days=1))
    make_hazard(session, world, "E1", ON - timedelta(days=7))

    result = runner.invoke(args=["reminders", "--date", ON.isoformat()])

    assert result.exit_code == 0, result.output
    assert "提醒任务（2025-10-09）：新建通知 5 条" in result.output
    assert "整改期限提醒 2 条，逾期通知（企业）2 条，逾期督促（监管部门）1 条" in result.output
    assert "逾期隐患督促层级：市级 1 项" in result.output
    again = runner.invoke(args=["reminders", "--date", ON.isoformat()])
    assert again.exit_code == 0
    assert "新建通知 0 条" in again.output and "此前已发送（跳过）5 条" in again.output
    bad = runner.invoke(args=["reminders", "--date", "2025-13-01"])
    assert bad.exit_code != 0


def test_batches_cover_every_row(session, world, monkeypatch):
    """R-N1: the job streams in keyset batches; with tiny batches every hazard and task is still covered once."""
    from core.services import reminders

    monkeypatch.setattr(reminders, "BATCH", 2)
    for _ in range(5):
        make_hazard(session, world, "E1", ON - timedelta(days=1))
    for _ in range(3):
        make_hazard(session, world, "E4", ON + timedelta(days=1))
    report = run_reminders(session, ON)
    assert (report.overdue, report.escalations, report.reminders) == (10, 5, 3)
    assert report.items == 8
