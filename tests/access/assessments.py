"""Access-matrix entries of the 安全生产标准化 pages (``/assessments``) and API (``/api/v1/assessments``).

Everyone but grid workers may view (scope decides which); enterprise staff fill their own enterprise's assessment;
its 主要负责人 signs; regulators whose scope covers the enterprise review it and keep the 达标 lifecycle; government
users (not grid workers) see coverage. Drafts are the enterprise's own (404 for government users). Assessments are
made in the resolvers through the services: a draft of this year, a filled draft three years back, and a submitted
one last year (E1 through its principal; E4, which has no principal user in the world, by setting the state).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from core.models import Assessment
from core.services import assessments as svc
from core.services.attachments import Upload
from tests.test_access_matrix import ENTERPRISE_USERS, EVERYONE, SEES_E1, SEES_E4, Case, api, ent

YEAR = date.today().year
PNG = Upload(data=b"\x89PNG\r\n\x1a\n" + b"e" * 32, content_type="image/png", filename="证据.png")
VIEW = EVERYONE - {"grid1"}
E1_STAFF = frozenset({"ent1_mgr", "ent1_principal"})
REVIEWERS_E1 = frozenset({"city_reg", "xa_reg"})
COVERAGE = frozenset({"admin", "city_reg", "xa_reg", "ta_reg", "xa_insp", "xa_insp_expired"})
STAFF = {"E1": "ent1_mgr", "E4": "ent4_mgr"}


def _assessment(session, world, key: str, year: int, filled: bool = False) -> Assessment:
    a = session.scalar(select(Assessment).where(Assessment.enterprise_id == world.enterprises[key],
                                                Assessment.year == year))
    if a is None:
        a = svc.create_assessment(session, world.user(session, STAFF[key]), world.enterprises[key],
                                  {"year": year, "team_leader": "矩阵组长"})
    if filled and any(it.result == "pending" for it in a.items):
        svc.save_items(session, world.user(session, STAFF[key]), a.id, a.version, [
            {"item_id": it.id, "result": "scored", "deduction": 5 if it.code == "1.1" else 0,
             "reason": "矩阵扣分" if it.code == "1.1" else None} for it in a.items])
    session.flush()
    return a


def draft_of(key: str):
    return lambda session, world, username: _assessment(session, world, key, YEAR).id


def filled_draft_e1(session, world, username) -> int:
    return _assessment(session, world, "E1", YEAR - 3, filled=True).id


def submitted_of(key: str):
    def make(session, world, username) -> int:
        a = _assessment(session, world, key, YEAR - 1, filled=True)
        if a.status == "draft":
            if key == "E1":
                svc.submit(session, world.user(session, "ent1_principal"), a.id,
                           {"version": a.version, "signer_name": "矩阵负责人"})
            else:
                a.status = "submitted"
            session.flush()
        return a.id

    return make


def first_item(session, world, username) -> int:
    return _assessment(session, world, "E1", YEAR).items[0].id


def evidence_e1(session, world, username) -> int:
    a = _assessment(session, world, "E1", YEAR)
    (row,) = svc.add_evidence(session, world.user(session, "ent1_mgr"), a.id, a.items[0].id, [PNG], a.version)
    session.flush()
    return row.id


def _version(session, args) -> int:
    a = session.get(Assessment, args["assessment_id"])
    return a.version if a else 1


def version_form(session, world, username, args) -> dict:
    return {"version": str(_version(session, args))}


def submit_form(session, world, username, args) -> dict:
    return {"version": str(_version(session, args)), "signer_name": "矩阵负责人"}


def accept_form(session, world, username, args) -> dict:
    return {"version": str(_version(session, args)), "decision": "accept", "comment": "矩阵通过"}


def hazards_form(session, world, username, args) -> dict:
    a = session.get(Assessment, args["assessment_id"])
    return {"item_ids": [str(it.id) for it in a.items if it.is_deducted and it.hazard_id is None][:1]}


def new_form(session, world, username, args) -> dict:
    return {"year": str(YEAR), "team_leader": "矩阵组长"}


def api_items(session, world, username, args) -> dict:
    return {"version": _version(session, args), "items": []}


def api_submit(session, world, username, args) -> dict:
    return {"version": _version(session, args), "signer_name": "矩阵负责人"}


def api_accept(session, world, username, args) -> dict:
    return {"version": _version(session, args), "decision": "accept"}


def api_hazards(session, world, username, args) -> dict:
    return {"item_ids": [int(i) for i in hazards_form(session, world, username, args)["item_ids"]]}


E1_SUBMITTED = Case("E1 submitted", {"assessment_id": submitted_of("E1")}, allowed=SEES_E1 & VIEW,
                    not_found=VIEW - SEES_E1)
E4_SUBMITTED = Case("E4 submitted", {"assessment_id": submitted_of("E4")}, allowed=SEES_E4, not_found=VIEW - SEES_E4)
E1_DRAFT = Case("E1 draft", {"assessment_id": draft_of("E1")}, allowed=E1_STAFF, not_found=VIEW - E1_STAFF)
MISSING = Case("missing", {"assessment_id": 987654}, not_found=VIEW)

EXPECTED = {
    "assessments.index": [Case(allowed=VIEW)],
    "assessments.create": [Case(allowed=ENTERPRISE_USERS, body=new_form)],
    "assessments.detail": [E1_DRAFT, E1_SUBMITTED, E4_SUBMITTED, MISSING],
    "assessments.element": [
        Case("E1 submitted", {"assessment_id": submitted_of("E1"), "code": "1"}, allowed=SEES_E1 & VIEW,
             not_found=VIEW - SEES_E1),
        Case("E1 draft", {"assessment_id": draft_of("E1"), "code": "4"}, allowed=E1_STAFF, not_found=VIEW - E1_STAFF),
        Case("unknown element", {"assessment_id": draft_of("E1"), "code": "99"}, not_found=VIEW),
    ],
    "assessments.element_save": [
        Case("E1 draft", {"assessment_id": draft_of("E1"), "code": "1"}, allowed=E1_STAFF,
             not_found=VIEW - E1_STAFF, body=version_form),
    ],
    "assessments.team": [
        Case("E1 draft", {"assessment_id": draft_of("E1")}, allowed=E1_STAFF, not_found={"ent4_mgr"},
             body=lambda session, world, username, args: {**version_form(session, world, username, args),
                                                          "team_leader": "矩阵组长"}),
    ],
    "assessments.submit": [
        Case("E1 filled draft", {"assessment_id": filled_draft_e1}, allowed={"ent1_principal"},
             not_found={"ent4_mgr"}, body=submit_form),
    ],
    "assessments.review": [
        Case("E1 submitted", {"assessment_id": submitted_of("E1")}, allowed=REVIEWERS_E1, not_found={"ta_reg"},
             body=accept_form),
    ],
    "assessments.hazards": [
        Case("E1 submitted", {"assessment_id": submitted_of("E1")}, allowed=E1_STAFF, not_found={"ent4_mgr"},
             body=hazards_form),
    ],
    "assessments.evidence_upload": [
        Case("E1 draft", {"assessment_id": draft_of("E1"), "item_id": first_item}, allowed=E1_STAFF,
             not_found=VIEW - E1_STAFF, body=version_form),
    ],
    "assessments.evidence_file": [
        Case("E1 draft", {"assessment_id": draft_of("E1"), "item_id": first_item, "attachment_id": evidence_e1},
             allowed=E1_STAFF, not_found=VIEW - E1_STAFF),
        Case("missing file", {"assessment_id": draft_of("E1"), "item_id": first_item, "attachment_id": 987654},
             not_found=VIEW),
    ],
    "assessments.report_pdf": [E1_SUBMITTED, MISSING],
    "assessments.report_xlsx": [E1_SUBMITTED, E4_SUBMITTED],
    "assessments.enterprise": [
        Case("E1", {"enterprise_id": ent("E1")}, allowed=SEES_E1 & VIEW, not_found=VIEW - SEES_E1),
        Case("E4", {"enterprise_id": ent("E4")}, allowed=SEES_E4, not_found=VIEW - SEES_E4),
        Case("missing", {"enterprise_id": 987654}, not_found=VIEW),
    ],
    "assessments.lifecycle": [
        Case("E1 create", {"enterprise_id": ent("E1"), "action": "create"}, allowed=REVIEWERS_E1,
             not_found={"ta_reg"}, body=lambda session, world, username, args: {"version": ""}),
        Case("unknown action", {"enterprise_id": ent("E1"), "action": "demolish"},
             not_found=REVIEWERS_E1 | {"ta_reg"}, body=lambda session, world, username, args: {"version": ""}),
    ],
    "assessments.coverage": [Case(allowed=COVERAGE)],
    # --- API ---
    "api_assessments.list_": api(Case(allowed=VIEW)),
    "api_assessments.create": api(Case(allowed=ENTERPRISE_USERS, body=new_form)),
    "api_assessments.detail": api(E1_DRAFT, E1_SUBMITTED, E4_SUBMITTED, MISSING),
    "api_assessments.items": api(
        Case("E1 draft", {"assessment_id": draft_of("E1")}, allowed=E1_STAFF, not_found={"ent4_mgr"},
             body=api_items),
    ),
    "api_assessments.submit": api(
        Case("E1 filled draft", {"assessment_id": filled_draft_e1}, allowed={"ent1_principal"},
             not_found={"ent4_mgr"}, body=api_submit),
    ),
    "api_assessments.review": api(
        Case("E1 submitted", {"assessment_id": submitted_of("E1")}, allowed=REVIEWERS_E1, not_found={"ta_reg"},
             body=api_accept),
    ),
    "api_assessments.hazards": api(
        Case("E1 submitted", {"assessment_id": submitted_of("E1")}, allowed=E1_STAFF, not_found={"ent4_mgr"},
             body=api_hazards),
    ),
}
