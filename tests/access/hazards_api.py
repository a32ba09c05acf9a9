"""Access-matrix entries of the hidden-danger JSON API (``/api/v1/hazards``).

Hazards are made in the resolvers through the services, by the enterprise's own manager (测试E1: 翔安区 新店1网格;
测试E4: 同安区). Who may act is the transition table's rule for ``assign`` on a registered 企业自查 hazard: the
enterprise's own staff, regulators, and inspectors with a valid 执法证 (not the expired one, not grid workers,
not the platform admin, who holds no enforcement role).
"""

from __future__ import annotations

from sqlalchemy import func, select

from core.models import Attachment, Hazard
from core.services import hazards
from core.services.attachments import Upload
from tests.test_access_matrix import ADMIN, EVERYONE, SEES_E1, SEES_E4, Case, api

PNG = Upload(data=b"\x89PNG\r\n\x1a\n" + b"m" * 32, content_type="image/png", filename="矩阵.png")
OWNER = {"E1": "ent1_mgr", "E4": "ent4_mgr"}
#: Who may order rectification (assign) of a self-check hazard of E1 / E4.
ASSIGN_E1 = frozenset({"city_reg", "xa_reg", "xa_insp", "ent1_mgr", "ent1_principal"})
ASSIGN_E4 = frozenset({"city_reg", "ta_reg", "ent4_mgr"})


def hazard_of(key: str, photo: bool = False):
    """Resolver: a fresh registered self-check hazard of enterprise ``key`` (with one photo when ``photo``)."""

    def make(session, world, username) -> int:
        h = hazards.register_hazard(session, world.user(session, OWNER[key]), {
            "enterprise_id": world.enterprises[key], "description": "权限矩阵测试隐患", "category": "thing"},
            uploads=[PNG] if photo else None)
        session.flush()
        return h.id

    return make


def newest_attachment(session, world, username) -> int:
    """Resolver: the newest attachment (the photo of the hazard made just before by ``hazard_of(…, photo=True)``)."""
    return session.scalar(select(func.max(Attachment.id)).where(Attachment.owner_type == "hazard"))


def other_hazards_attachment(session, world, username) -> int:
    """Resolver: a photo that belongs to another hazard of E1 than the one in the URL."""
    hazard_of("E1", photo=True)(session, world, username)
    return newest_attachment(session, world, username)


def new_hazard(session, world, username, args) -> dict:
    key = "E4" if username in ("ta_reg", "ent4_mgr") else "E1"
    return {"enterprise_id": world.enterprises[key], "description": "权限矩阵登记的隐患", "category": "management"}


def assign_body(session, world, username, args) -> dict:
    hazard = session.get(Hazard, args["hazard_id"])
    return {"version": hazard.version if hazard else 1, "responsible_name": "矩阵责任人", "days": 5,
            "deadline_kind": "calendar"}


EXPECTED = {
    "api_hazards.list_": api(Case(allowed=EVERYONE)),
    "api_hazards.register": api(Case(allowed=EVERYONE - ADMIN, body=new_hazard)),
    "api_hazards.detail": api(
        Case("E1", {"hazard_id": hazard_of("E1")}, allowed=SEES_E1, not_found=EVERYONE - SEES_E1),
        Case("E4", {"hazard_id": hazard_of("E4")}, allowed=SEES_E4, not_found=EVERYONE - SEES_E4),
        Case("missing", {"hazard_id": 987654}, not_found=EVERYONE),
    ),
    "api_hazards.act": api(
        Case("E1 assign", {"hazard_id": hazard_of("E1"), "code": "assign"}, allowed=ASSIGN_E1,
             not_found=EVERYONE - SEES_E1, body=assign_body),
        Case("E4 assign", {"hazard_id": hazard_of("E4"), "code": "assign"}, allowed=ASSIGN_E4,
             not_found=EVERYONE - SEES_E4, body=assign_body),
        Case("unknown action", {"hazard_id": hazard_of("E1"), "code": "demolish"}, not_found=EVERYONE,
             body=assign_body),
        Case("missing", {"hazard_id": 987654, "code": "assign"}, not_found=EVERYONE, body=assign_body),
    ),
    "api_hazards.attachment": api(
        Case("E1 photo", {"hazard_id": hazard_of("E1", photo=True), "attachment_id": newest_attachment},
             allowed=SEES_E1, not_found=EVERYONE - SEES_E1),
        Case("E4 photo", {"hazard_id": hazard_of("E4", photo=True), "attachment_id": newest_attachment},
             allowed=SEES_E4, not_found=EVERYONE - SEES_E4),
        Case("another hazard's photo", {"hazard_id": hazard_of("E1"), "attachment_id": other_hazards_attachment},
             not_found=EVERYONE),
        Case("missing", {"hazard_id": hazard_of("E1"), "attachment_id": 987654}, not_found=EVERYONE),
    ),
}
