"""Self-report (自查自报) of the quarterly/annual 统计分析表 (R-H5; 16号令 第十四条).

Uses the hand-placed hidden dangers of :mod:`tests.test_stats` (测试E1: 4 found in 2025 Q1, 2 of them closed).
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from core.models import AuditEntry, HazardSelfReport
from core.services import self_reports as sr
from core.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.services.stats import Counts, Period
from tests.test_stats import E1_Q1, Q1, cn, figures, placed, put  # noqa: F401 - placed is a fixture

ANALYSIS = "本季度共排查隐患4项，重大隐患1项已制定治理方案并挂牌督办；逾期1项，已约谈责任人。"


def draft(session, world, user="ent1_mgr", period=Q1, now=None, **data):
    return sr.create_draft(session, world.user(session, user), world.enterprises["E1"], period,
                           {"analysis": ANALYSIS, "signer_name": "张主要", **data}, now=now or cn(2025, 4, 10))


def frozen(report) -> dict:
    return figures(Counts.from_dict(report.figures))


def test_manager_drafts_principal_signs_and_submits_on_time(session, placed):
    """The figures are the enterprise's statistics; submission freezes them, records who, when, and on time."""
    report = draft(session, placed)
    assert report.status == "draft" and report.due_date == date(2025, 4, 15) and report.period == "2025Q1"
    assert frozen(report) == E1_Q1 and report.figures["rate"] == 50.0
    with pytest.raises(PermissionDenied, match="主要负责人"):
        sr.submit(session, placed.user(session, "ent1_mgr"), report.id, {"version": report.version},
                  now=cn(2025, 4, 12))
    principal = placed.user(session, "ent1_principal")
    done = sr.submit(session, principal, report.id, {"version": report.version}, now=cn(2025, 4, 15, 23, 30))
    assert done.status == "submitted" and done.is_late is False and done.submitted_by_id == principal.id
    assert done.signer_name == "张主要" and done.supersedes_id is None
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "self_report",
                                                              AuditEntry.object_id == str(report.id))).all()
    assert sorted(actions) == ["create", "submit"]


def test_submission_is_immutable_and_corrections_supersede(session, placed):
    """A submission never changes (service: 409; ORM guard); a correction keeps the old one and names it."""
    principal = placed.user(session, "ent1_principal")
    first = draft(session, placed, user="ent1_principal")
    sr.submit(session, principal, first.id, {"version": first.version}, now=cn(2025, 4, 12))
    session.commit()
    with pytest.raises(Conflict, match="已报送"):
        sr.update_draft(session, principal, first.id, {"version": first.version, "analysis": "改"})
    with pytest.raises(Conflict, match="已报送"):
        sr.submit(session, principal, first.id, {"version": first.version})
    first.analysis = "绕过服务直接修改"
    with pytest.raises(ValueError, match="不可修改"):
        session.flush()
    session.rollback()

    # A hazard of Q1 registered late: the frozen submission keeps 4, the correction reports 5.
    put(session, placed, "E1", "general", cn(2025, 3, 28), date(2025, 4, 5), cn(2025, 4, 3, 10))
    session.commit()
    assert frozen(session.get(HazardSelfReport, first.id))["found"] == 4
    correction = draft(session, placed, now=cn(2025, 4, 18), analysis="更正：补报3月28日发现的隐患1项。")
    assert frozen(correction)["found"] == 5
    second = sr.submit(session, principal, correction.id, {"version": correction.version}, now=cn(2025, 4, 20))
    assert second.supersedes_id == first.id and second.is_late is True
    assert sr.current_submission(session, placed.enterprises["E1"], Q1).id == second.id
    history = sr.list_reports(session, principal, placed.enterprises["E1"])
    assert [r.id for r in history] == [second.id, first.id]


def test_drafting_rules(session, placed):
    """Only ended periods; one draft per period; stale versions 409; analysis and signer required to submit."""
    with pytest.raises(ValidationFailed) as exc:
        draft(session, placed, period=Period(2025, 2), now=cn(2025, 6, 30, 12))
    assert "尚未结束" in exc.value.errors["period"][0]
    report = draft(session, placed, analysis="", signer_name="")
    with pytest.raises(Conflict, match="已有草稿"):
        draft(session, placed)
    saved = sr.update_draft(session, placed.user(session, "ent1_mgr"), report.id,
                            {"version": report.version, "analysis": "草稿", "signer_name": ""}, now=cn(2025, 4, 11))
    assert saved.analysis == "草稿" and saved.version == 2
    with pytest.raises(Conflict, match="已被他人修改"):
        sr.update_draft(session, placed.user(session, "ent1_mgr"), report.id, {"version": 1, "analysis": "x"})
    with pytest.raises(ValidationFailed) as exc:
        sr.submit(session, placed.user(session, "ent1_principal"), report.id, {"version": saved.version})
    assert set(exc.value.errors) == {"signer_name"}
    with pytest.raises(ValidationFailed) as exc:
        sr.update_draft(session, placed.user(session, "ent1_mgr"), report.id,
                        {"version": saved.version, "analysis": "长" * 5001})
    assert "5000" in exc.value.errors["analysis"][0]


def test_due_dates_of_the_fourth_quarter_and_the_year(session, placed):
    """16号令 第十四条: 下一季度15日前 / 下一年1月31日前; a submission after that day is late."""
    principal = placed.user(session, "ent1_principal")
    q4 = draft(session, placed, period=Period(2025, 4), now=cn(2026, 1, 5))
    year = draft(session, placed, period=Period(2025), now=cn(2026, 1, 5))
    assert (q4.due_date, year.due_date) == (date(2026, 1, 15), date(2026, 1, 31))
    assert sr.submit(session, principal, q4.id, {"version": q4.version}, now=cn(2026, 1, 16, 0, 5)).is_late
    assert not sr.submit(session, principal, year.id, {"version": year.version}, now=cn(2026, 1, 31, 23)).is_late


def test_who_may_draft_and_see(session, placed):
    """Enterprise staff of their own enterprise draft; regulators see submissions in scope, never drafts."""
    for user, error in (("xa_reg", PermissionDenied), ("city_reg", PermissionDenied), ("ent4_mgr", NotFound)):
        with pytest.raises(error):
            draft(session, placed, user=user)
    report = draft(session, placed)
    with pytest.raises(NotFound):
        sr.get_report(session, placed.user(session, "xa_reg"), report.id)
    with pytest.raises(NotFound):
        sr.get_report(session, placed.user(session, "ent4_mgr"), report.id)
    sr.submit(session, placed.user(session, "ent1_principal"), report.id, {"version": report.version},
              now=cn(2025, 4, 12))
    assert sr.get_report(session, placed.user(session, "xa_reg"), report.id).id == report.id
    assert sr.get_report(session, placed.user(session, "city_reg"), report.id).id == report.id
    with pytest.raises(NotFound):
        sr.get_report(session, placed.user(session, "ta_reg"), report.id)
    with pytest.raises(PermissionDenied):
        sr.update_draft(session, placed.user(session, "xa_reg"), report.id, {"version": 1})


def test_regulators_see_who_submitted_late_or_not(session, placed):
    """Per period: on time, late, missing after the due date, pending before it; scoped (ta_reg: 同安区 only)."""
    e1 = draft(session, placed)
    sr.submit(session, placed.user(session, "ent1_principal"), e1.id, {"version": e1.version}, now=cn(2025, 4, 12))
    city = placed.user(session, "city_reg")
    before_due = sr.submission_status(session, city, Q1, on=date(2025, 4, 15))
    assert {r.enterprise_name: r.status for r in before_due.rows} == {
        "测试E1有限公司": "on_time", "测试E2有限公司": "pending", "测试E3有限公司": "pending",
        "测试E4有限公司": "pending"}
    after = sr.submission_status(session, city, Q1, on=date(2025, 4, 16))
    assert after.counts == {"on_time": 1, "late": 0, "missing": 3, "pending": 0}
    assert [r.enterprise_name for r in sr.submission_status(session, city, Q1, status="missing",
                                                            on=date(2025, 4, 16)).rows] == [
        "测试E2有限公司", "测试E3有限公司", "测试E4有限公司"]
    xa_only = sr.submission_status(session, city, Q1, node_id=placed.nodes["翔安区"], on=date(2025, 4, 16))
    assert xa_only.counts == {"on_time": 1, "late": 0, "missing": 2, "pending": 0}

    # 测试E4 has no principal account in the test world: a principal is added for it to submit late.
    from core.services import users
    from core.services.actors import SYSTEM

    p4 = users.save_user(session, SYSTEM, {"username": "ent4_principal", "display_name": "E4负责人",
                                           "password": "test-pass-123", "roles": ["enterprise_principal"],
                                           "enterprise_id": placed.enterprises["E4"]})
    e4 = sr.create_draft(session, placed.user(session, "ent4_mgr"), placed.enterprises["E4"], Q1,
                         {"analysis": "本季度发现重大隐患1项。", "signer_name": "李负责"}, now=cn(2025, 4, 16))
    sr.submit(session, p4, e4.id, {"version": e4.version}, now=cn(2025, 4, 16, 9))
    ta = sr.submission_status(session, placed.user(session, "ta_reg"), Q1, on=date(2025, 4, 20))
    assert [(r.enterprise_name, r.status, r.submissions) for r in ta.rows] == [("测试E4有限公司", "late", 1)]
    with pytest.raises(NotFound):
        sr.submission_status(session, placed.user(session, "ta_reg"), Q1, node_id=placed.nodes["翔安区"])
    with pytest.raises(PermissionDenied):
        sr.submission_status(session, placed.user(session, "ent1_mgr"), Q1)
