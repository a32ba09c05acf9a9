"""Access-matrix entries of the risk-register pages (``/risks``; R-R1, R-R2, R-A4).

Risk points are made in the resolvers through the services by the enterprise's own manager (测试E1: 翔安区
新店1网格; 测试E4: 同安区), each with one control measure and one inspection task. Enterprise users maintain and
check their own register; government users read what lies in their jurisdiction and see the red/orange list
and the jurisdiction map; out of scope is 404.
"""

from __future__ import annotations

import io

from sqlalchemy import func, select

from core.models import ControlMeasure, InspectionTask
from core.services import risks
from core.services.attachments import Upload
from tests.test_access_matrix import ENTERPRISE_USERS, EVERYONE, GOVERNMENT, SEES_E1, SEES_E4, Case, ent

OWNER = {"E1": "ent1_mgr", "E4": "ent4_mgr"}
#: Who maintains (and checks) the register of E1 / E4: that enterprise's own users.
MANAGE_E1 = frozenset({"ent1_mgr", "ent1_principal"})
MANAGE_E4 = frozenset({"ent4_mgr"})


def png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 20), "white").save(buf, "PNG")
    return buf.getvalue()


def point_of(key: str):
    """Resolver: a fresh risk point of enterprise ``key`` with one measure and one task due today."""

    def make(session, world, username) -> int:
        owner = world.user(session, OWNER[key])
        p = risks.create_risk_point(session, owner, {"name": "权限矩阵风险点", "category": "process", "method": "LEC",
                                                     "inputs": {"L": 3, "E": 6, "C": 15}})
        m = risks.add_measure(session, owner, p.id, {"kind": "management", "description": "矩阵管控措施"})
        risks.add_task(session, owner, p.id, {"measure_id": m.id, "content": "矩阵排查内容", "period": "daily"})
        session.flush()
        return p.id

    return make


def newest_measure(session, world, username) -> int:
    return session.scalar(select(func.max(ControlMeasure.id)))


def task_of(key: str):
    def make(session, world, username) -> int:
        point_of(key)(session, world, username)
        return session.scalar(select(func.max(InspectionTask.id)))

    return make


def plan_of(key: str):
    """Resolver: enterprise ``key`` with an uploaded site plan."""

    def make(session, world, username) -> int:
        risks.upload_site_plan(session, world.user(session, OWNER[key]), world.enterprises[key],
                               Upload(png(), "image/png", "平面图.png"))
        session.flush()
        return world.enterprises[key]

    return make


def version_form(session, world, username, args) -> dict:
    from core.models import RiskPoint

    p = session.get(RiskPoint, args["point_id"])
    return {"version": str(p.version if p else 1), "active": "0"}


def place_form(key: str):
    """Body: place a fresh risk point of enterprise ``key``, as the map page's form sends it."""

    def body(session, world, username, args) -> dict:
        point_id = point_of(key)(session, world, username)
        version = version_form(session, world, username, {"point_id": point_id})["version"]
        return {"point_id": str(point_id), f"version_{point_id}": version, "plan_x": "0.5", "plan_y": "0.5"}

    return body


def plan_upload(session, world, username, args) -> dict:
    return {"file": (io.BytesIO(png()), "平面图.png")}


def check_form(session, world, username, args) -> dict:
    task = session.get(InspectionTask, args["task_id"])
    return {"version": str(task.version if task else 1), "passed": "1"}


def _by_owner(allowed_e1=MANAGE_E1, **kw) -> list[Case]:
    return [Case("E1", {"point_id": point_of("E1"), **kw}, allowed=allowed_e1, not_found=EVERYONE - SEES_E1),
            Case("E4", {"point_id": point_of("E4"), **kw}, allowed=MANAGE_E4, not_found=EVERYONE - SEES_E4)]


EXPECTED = {
    "risks.index": [Case(allowed=EVERYONE)],
    "risks.detail": [
        Case("E1", {"point_id": point_of("E1")}, allowed=SEES_E1, not_found=EVERYONE - SEES_E1),
        Case("E4", {"point_id": point_of("E4")}, allowed=SEES_E4, not_found=EVERYONE - SEES_E4),
        Case("missing", {"point_id": 987654}, not_found=EVERYONE),
    ],
    "risks.create": [Case(allowed=ENTERPRISE_USERS)],
    "risks.edit": _by_owner() + [Case("missing", {"point_id": 987654}, not_found=EVERYONE)],
    "risks.set_active": [
        Case("E1", {"point_id": point_of("E1")}, allowed=MANAGE_E1, not_found=EVERYONE - SEES_E1, body=version_form),
        Case("E4", {"point_id": point_of("E4")}, allowed=MANAGE_E4, not_found=EVERYONE - SEES_E4, body=version_form),
    ],
    "risks.place": [
        Case("E1", {"enterprise_id": ent("E1")}, allowed=MANAGE_E1, not_found=EVERYONE - SEES_E1,
             body=place_form("E1")),
        Case("E4", {"enterprise_id": ent("E4")}, allowed=MANAGE_E4, not_found=EVERYONE - SEES_E4,
             body=place_form("E4")),
    ],
    "risks.measure_new": _by_owner(),
    "risks.measure_edit": _by_owner(measure_id=newest_measure) + [
        Case("another point's measure", {"point_id": point_of("E1"), "measure_id": 987654}, not_found=EVERYONE)],
    "risks.task_new": _by_owner(),
    "risks.task_edit": [
        Case("E1", {"task_id": task_of("E1")}, allowed=MANAGE_E1, not_found=EVERYONE - SEES_E1),
        Case("E4", {"task_id": task_of("E4")}, allowed=MANAGE_E4, not_found=EVERYONE - SEES_E4),
        Case("missing", {"task_id": 987654}, not_found=EVERYONE),
    ],
    "risks.due": [Case(allowed=ENTERPRISE_USERS)],
    "risks.check": [
        Case("E1", {"task_id": task_of("E1")}, allowed=MANAGE_E1, not_found=EVERYONE - SEES_E1),
        Case("E4 post", {"task_id": task_of("E4")}, allowed=MANAGE_E4, not_found=EVERYONE - SEES_E4,
             method="POST", body=check_form),
    ],
    "risks.supervision": [Case(allowed=GOVERNMENT)],
    "risks.my_map": [Case(allowed=EVERYONE)],
    "risks.enterprise_map": [
        Case("E1", {"enterprise_id": ent("E1")}, allowed=SEES_E1, not_found=EVERYONE - SEES_E1),
        Case("E4 with plan", {"enterprise_id": plan_of("E4")}, allowed=SEES_E4, not_found=EVERYONE - SEES_E4),
        Case("missing", {"enterprise_id": 987654}, not_found=EVERYONE),
    ],
    "risks.enterprise_map_svg": [
        Case("E1", {"enterprise_id": ent("E1")}, allowed=SEES_E1, not_found=EVERYONE - SEES_E1),
        Case("E4", {"enterprise_id": ent("E4")}, allowed=SEES_E4, not_found=EVERYONE - SEES_E4),
    ],
    "risks.site_plan": [
        Case("E1", {"enterprise_id": plan_of("E1")}, allowed=SEES_E1, not_found=EVERYONE - SEES_E1),
        Case("E4 without plan", {"enterprise_id": ent("E4")}, not_found=EVERYONE),
    ],
    "risks.site_plan_upload": [
        Case("E1", {"enterprise_id": ent("E1")}, allowed=MANAGE_E1, not_found=EVERYONE - SEES_E1, body=plan_upload),
        Case("E4", {"enterprise_id": ent("E4")}, allowed=MANAGE_E4, not_found=EVERYONE - SEES_E4, body=plan_upload),
    ],
    "risks.area_map": [Case(allowed=GOVERNMENT)],
    "risks.area_map_svg": [Case(allowed=GOVERNMENT)],
    # 一张图 (issue 17 item 4): government users, each their own jurisdiction (the ?node= scope, 404 outside it,
    # is tested in tests/test_one_map.py: the matrix takes URL-rule arguments only).
    "risks.one_map": [Case(allowed=GOVERNMENT)],
    "risks.map_data": [Case(allowed=GOVERNMENT)],
}
