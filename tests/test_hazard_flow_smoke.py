"""End-to-end walk of the closed loop through the services (R-H2, R-H3); the per-role matrix is elsewhere."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.models import HazardState
from core.services import hazard_flow, hazards
from core.services.attachments import Upload
from core.services.errors import Conflict, PermissionDenied

PNG = Upload(data=b"\x89PNG\r\n\x1a\n" + b"0" * 64, content_type="image/png", filename="photo.png")
TODAY = date(2026, 11, 23)


def register(session, world, actor="ent1_mgr", **extra):
    data = {"enterprise_id": world.enterprises["E1"], "description": "储罐区可燃气体报警器失效", "category": "thing",
            "level": "general", **extra}
    return hazards.register_hazard(session, world.user(session, actor), data)


def test_general_hazard_loop_with_a_failed_review(session, world):
    mgr, principal = world.user(session, "ent1_mgr"), world.user(session, "ent1_principal")
    h = register(session, world)
    assert h.state == HazardState.REGISTERED and h.source == "self_check" and h.classified_by == "core"
    h = hazard_flow.perform(session, mgr, h.id, "assign", {"version": h.version, "responsible_name": "王五",
                                                           "days": 10, "deadline_kind": "working"}, on=TODAY)
    assert h.state == HazardState.RECTIFYING and h.deadline == date(2026, 12, 7)
    h = hazard_flow.perform(session, mgr, h.id, "request_review", {"version": h.version, "comment": "已更换报警器"},
                            uploads=[PNG], on=TODAY)
    assert h.state == HazardState.PENDING_REVIEW
    h = hazard_flow.perform(session, principal, h.id, "review_fail",
                            {"version": h.version, "comment": "未校验", "deadline": TODAY + timedelta(days=5)}, on=TODAY)
    assert h.state == HazardState.RECTIFYING and h.deadline == TODAY + timedelta(days=5)
    h = hazard_flow.perform(session, mgr, h.id, "request_review", {"version": h.version, "comment": "已校验"}, on=TODAY)
    h = hazard_flow.perform(session, principal, h.id, "review_pass", {"version": h.version, "comment": "合格"}, on=TODAY)
    assert h.state == HazardState.CLOSED and h.closed_at is not None
    assert [t.action for t in h.transitions] == ["register", "assign", "request_review", "review_fail",
                                                 "request_review", "review_pass"]
    assert h.transitions[2].attachments[0].content_type == "image/png"


def test_major_hazard_needs_plan_listing_and_closing_by_the_listing_regulator(session, world):
    principal = world.user(session, "ent1_principal")
    xa_reg, city_reg = world.user(session, "xa_reg"), world.user(session, "city_reg")
    h = register(session, world, actor="ent1_principal", level="major", sector="fake", rule_item="fake/R1#1")
    assert h.level == "major" and h.rule_item == "fake/R1#1"
    with pytest.raises(Conflict, match="须先报告并制定治理方案"):
        hazard_flow.perform(session, principal, h.id, "assign", {"version": h.version, "responsible_name": "张三"})
    plan = {k: f"{label}内容" for k, label in hazard_flow.PLAN_FIELDS.items()}
    h = hazard_flow.perform(session, principal, h.id, "plan", {"version": h.version, **plan}, on=TODAY)
    assert h.reported_at is not None
    with pytest.raises(PermissionDenied, match="市级挂牌督办须由市级监管部门进行"):
        hazard_flow.perform(session, xa_reg, h.id, "list", {"version": h.version, "level": "city",
                                                             "due_date": TODAY + timedelta(days=60), "leader_name": "李局"},
                            on=TODAY)
    h = hazard_flow.perform(session, xa_reg, h.id, "list", {"version": h.version, "level": "county",
                                                             "due_date": TODAY + timedelta(days=60), "leader_name": "李局"},
                            on=TODAY)
    assert h.active_supervision.agency_id == world.agencies["翔安局"]
    h = hazard_flow.perform(session, principal, h.id, "assign", {"version": h.version, "responsible_name": "张三"},
                            on=TODAY)
    assert h.deadline == TODAY + timedelta(days=90)
    h = hazard_flow.perform(session, principal, h.id, "request_extension",
                            {"version": h.version, "new_deadline": TODAY + timedelta(days=120), "reason": "设备到货延迟"},
                            on=TODAY)
    with pytest.raises(PermissionDenied):
        hazard_flow.perform(session, principal, h.id, "decide_extension", {"version": h.version, "approve": True})
    h = hazard_flow.perform(session, xa_reg, h.id, "decide_extension", {"version": h.version, "approve": True}, on=TODAY)
    assert h.deadline == TODAY + timedelta(days=120)
    h = hazard_flow.perform(session, principal, h.id, "request_review", {"version": h.version, "comment": "治理完成"})
    h = hazard_flow.perform(session, xa_reg, h.id, "review_pass", {"version": h.version, "comment": "现场复查合格"})
    assert h.state == HazardState.REVIEWED
    with pytest.raises(PermissionDenied):  # listed by 翔安局: the city regulator may not strike it off
        hazard_flow.perform(session, city_reg, h.id, "close", {"version": h.version, "comment": "销号"})
    h = hazard_flow.perform(session, xa_reg, h.id, "close", {"version": h.version, "comment": "准予销号"})
    assert h.state == HazardState.CLOSED and h.active_supervision is None


def test_stale_version_and_wrong_state_are_conflicts(session, world):
    mgr = world.user(session, "ent1_mgr")
    h = register(session, world)
    with pytest.raises(Conflict, match="已被他人修改"):
        hazard_flow.perform(session, mgr, h.id, "assign", {"version": h.version + 1, "responsible_name": "x"})
    with pytest.raises(Conflict, match="不能整改完成"):
        hazard_flow.perform(session, mgr, h.id, "request_review", {"version": h.version, "comment": "好了"})
