"""Demo 安全生产标准化 data (R-S1…R-S3), made through the services like a user would.

* The demo enterprise (a 化工 company, so the core tree plus the hazchem 否决项): last year's self-assessment,
  returned once and accepted, with its 达标 certificate (二级); this year's self-assessment in progress (the first
  four elements filled) for the demo login to continue.
* Every sixth other enterprise of the city: this year's assessment accepted, so the regulator's coverage page
  has shares to show. Their 主要负责人 are accounts without a usable password, like the staff accounts of
  :mod:`core.demo_hazards`.
"""

from __future__ import annotations

import random
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.demo_hazards import _staff_account
from core.models import Assessment, Enterprise, Role, User, UserRole
from core.services import assessments
from core.services.hazards import today

REASONS = ["制度未按年度评审修订", "培训记录缺少考核成绩", "现场警示标志不全", "应急演练未做评估", "风险辨识未覆盖检维修作业",
           "隐患排查记录不完整", "安全投入台账不清", "事故调查报告未归档"]


def _principal_account(session: Session, ent: Enterprise) -> User:
    username = f"fz{ent.id:05d}"
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username, display_name=ent.principal_name or "主要负责人", password_hash="!",
                    enterprise_id=ent.id, is_active=False)
        user.role_rows.append(UserRole(role=Role.ENTERPRISE_PRINCIPAL.value))
        session.add(user)
        session.flush()
    return user


def _regulator_of(session: Session, ent: Enterprise) -> User | None:
    return session.scalar(select(User).join(UserRole).where(
        User.agency_id == ent.supervising_agency_id, UserRole.role == Role.REGULATOR.value).order_by(User.id).limit(1))


def _fill(session: Session, manager: User, a: Assessment, rng: random.Random, upto_element: str | None = None) -> None:
    """Full marks except a few deductions with reasons; ``upto_element``: leave later elements pending."""
    results = []
    for it in a.items:
        if upto_element is not None and int(it.element_code) > int(upto_element):
            continue
        if not it.is_veto and rng.random() < 0.15:
            deduction = round(it.standard_score * rng.choice([0.25, 0.5]), 1)
            results.append({"item_id": it.id, "result": "scored", "deduction": deduction,
                            "reason": rng.choice(REASONS)})
        else:
            results.append({"item_id": it.id, "result": "scored", "score": it.standard_score})
    assessments.save_items(session, manager, a.id, a.version, results)


def _accept(session: Session, a: Assessment, principal: User, regulator: User, returned: bool = False) -> None:
    assessments.submit(session, principal, a.id, {"version": a.version, "signer_name": principal.display_name})
    if returned:
        assessments.review(session, regulator, a.id, {"version": a.version, "decision": "return",
                                                      "comment": "5.1 请补充检维修作业的风险辨识记录"})
        assessments.submit(session, principal, a.id, {"version": a.version, "signer_name": principal.display_name})
    assessments.review(session, regulator, a.id, {"version": a.version, "decision": "accept"})


def seed_demo_assessments(session: Session, demo_ent: Enterprise, manager: User, principal: User,
                          regulator: User) -> int:
    """Idempotent: does nothing when any assessment exists. Returns the number of assessments made."""
    if session.scalar(select(Assessment.id).limit(1)) is not None:
        return 0
    rng = random.Random(33000)
    year = today().year
    team = {"team_leader": manager.display_name, "team_members": "生产部、设备部、安全管理部负责人"}
    last = assessments.create_assessment(session, manager, demo_ent.id, {"year": year - 1, **team})
    _fill(session, manager, last, rng)
    _accept(session, last, principal, regulator, returned=True)
    life = assessments.get_lifecycle(session, regulator, demo_ent.id)
    assessments.lifecycle_action(session, regulator, demo_ent.id, "certify", {
        "version": life.version, "grade": "level2", "certificate_no": f"闽AQBWHⅡ{year - 1}0017",
        "certified_on": date(year - 1, 12, 20).isoformat()})
    current = assessments.create_assessment(session, manager, demo_ent.id, {"year": year, **team})
    _fill(session, manager, current, rng, upto_element="4")
    made = 2
    others = session.scalars(select(Enterprise).where(Enterprise.id != demo_ent.id, Enterprise.is_active.is_(True))
                             .order_by(Enterprise.id))
    for i, ent in enumerate(others):
        reviewer = _regulator_of(session, ent) if i % 6 == 0 else None
        if reviewer is None:
            continue
        staff = _staff_account(session, ent)
        a = assessments.create_assessment(session, staff, ent.id, {"year": year, "team_leader": staff.display_name})
        _fill(session, staff, a, rng)
        _accept(session, a, _principal_account(session, ent), reviewer)
        made += 1
    return made
