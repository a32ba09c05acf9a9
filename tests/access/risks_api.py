"""Access-matrix entries of the risk-register JSON API (``/api/v1/risk-points``; R-R1, R-R2, R-A4).

Same resolvers and rules as the pages (:mod:`tests.access.risks_web`): the enterprise's own users maintain and
check its register, government users read within their jurisdiction, the red/orange list is theirs.
"""

from __future__ import annotations

from core.models import InspectionTask, RiskPoint
from tests.access.risks_web import MANAGE_E1, MANAGE_E4, newest_measure, point_of, task_of
from tests.test_access_matrix import ENTERPRISE_USERS, EVERYONE, GOVERNMENT, SEES_E1, SEES_E4, Case, api


def point_version(session, world, username, args) -> dict:
    p = session.get(RiskPoint, args["point_id"])
    return {"version": p.version if p else 1}


def measure_body(session, world, username, args) -> dict:
    return {"kind": "training", "description": "矩阵培训措施"}


def measure_patch(session, world, username, args) -> dict:
    return {**point_version(session, world, username, args), "description": "矩阵修改措施"}


def task_body(session, world, username, args) -> dict:
    from sqlalchemy import select

    from core.models import ControlMeasure

    measure_id = session.scalar(select(ControlMeasure.id).where(ControlMeasure.risk_point_id == args["point_id"]))
    return {"measure_id": measure_id or 1, "content": "矩阵排查", "period": "weekly"}


def task_version(session, world, username, args) -> dict:
    t = session.get(InspectionTask, args["task_id"])
    return {"version": t.version if t else 1, "passed": True}


def task_patch(session, world, username, args) -> dict:
    t = session.get(InspectionTask, args["task_id"])
    return {"version": t.version if t else 1, "assignee_name": "矩阵排查人"}


def new_point(session, world, username, args) -> dict:
    return {"name": "权限矩阵新风险点", "category": "environment", "method": "LS", "inputs": {"L": 2, "S": 3}}


def _owned(body, **kw) -> list[Case]:
    return api(
        Case("E1", {"point_id": point_of("E1"), **kw}, allowed=MANAGE_E1, not_found=EVERYONE - SEES_E1, body=body),
        Case("E4", {"point_id": point_of("E4"), **kw}, allowed=MANAGE_E4, not_found=EVERYONE - SEES_E4, body=body),
        Case("missing", {"point_id": 987654, **{k: 987654 for k in kw}}, not_found=EVERYONE, body=body),
    )


def _task_cases(body) -> list[Case]:
    return api(
        Case("E1", {"task_id": task_of("E1")}, allowed=MANAGE_E1, not_found=EVERYONE - SEES_E1, body=body),
        Case("E4", {"task_id": task_of("E4")}, allowed=MANAGE_E4, not_found=EVERYONE - SEES_E4, body=body),
        Case("missing", {"task_id": 987654}, not_found=EVERYONE, body=body),
    )


EXPECTED = {
    "api_risks.list_": api(Case(allowed=EVERYONE)),
    "api_risks.create": api(Case(allowed=ENTERPRISE_USERS, body=new_point)),
    "api_risks.detail": api(
        Case("E1", {"point_id": point_of("E1")}, allowed=SEES_E1, not_found=EVERYONE - SEES_E1),
        Case("E4", {"point_id": point_of("E4")}, allowed=SEES_E4, not_found=EVERYONE - SEES_E4),
        Case("missing", {"point_id": 987654}, not_found=EVERYONE),
    ),
    "api_risks.update": _owned(point_version),
    "api_risks.deactivate": _owned(point_version),
    "api_risks.add_measure": _owned(measure_body),
    "api_risks.update_measure": _owned(measure_patch, measure_id=newest_measure),
    "api_risks.add_task": _owned(task_body),
    "api_risks.update_task": _task_cases(task_patch),
    "api_risks.due_checks": api(Case(allowed=EVERYONE)),
    "api_risks.record_check": _task_cases(task_version),
    "api_risks.supervision": api(Case(allowed=GOVERNMENT)),
    "api_risks.counts": api(Case(allowed=EVERYONE)),
}
