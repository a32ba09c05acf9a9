"""Access-matrix entries of the 执法检查 pages and API (task list, dossier, start, signatures, full-process record,
现场检查记录; R-E3…R-E5).

Runs are made in the resolvers: an enforcement run of 测试E1 led by ``xa_insp`` with a fresh certified colleague
of 翔安局 (every item answered, so it can be signed), or the same run signed by all three and completed; for 测试E4
a run of two fresh 同安局 inspectors (no world user is one of its inspectors). Only the run's own inspectors sign
or withdraw signatures; whoever sees a run sees its record; the 现场检查记录 is issued by the inspecting agency's
执法人员 (市局 is refused, 403).
"""

from __future__ import annotations

import io
import uuid
from datetime import date, timedelta

from core.models import EnterpriseSector
from core.services import inspections, users
from core.services.actors import SYSTEM
from tests.test_access_matrix import EVERYONE, SEES_E1, SEES_E4, Case, api
from tests.test_field_helpers import GPS, answer_all, sign_all, signature_png

#: Holders of inspection.enforce (inspectors and regulators).
ENFORCERS = frozenset({"city_reg", "xa_reg", "ta_reg", "xa_insp", "xa_insp_expired"})
AGENCY = {"E1": ("翔安局", "翔安区"), "E4": ("同安局", "同安区")}


def _colleague(session, world, key: str):
    agency, area = AGENCY[key]
    name = "m" + uuid.uuid4().hex[:10]
    user = users.save_user(session, SYSTEM, {
        "username": name, "display_name": "矩阵执法", "password": "secret-password-1", "roles": ["inspector"],
        "jurisdiction_id": world.nodes[area], "agency_id": world.agencies[agency], "cert_number": name[:12],
        "cert_valid_until": date.today() + timedelta(days=30)})
    session.flush()
    return user


def _run(session, world, key: str, *, signed: bool = False, completed: bool = False) -> int:
    if key == "E4" and session.get(EnterpriseSector, (world.enterprises["E4"], "fake")) is None:
        session.add(EnterpriseSector(enterprise_id=world.enterprises["E4"], sector="fake", activities=["生产"],
                                     data={}))
        session.flush()
        session.expire(world.ent(session, "E4"))
    lead = world.user(session, "xa_insp") if key == "E1" else _colleague(session, world, key)
    co = _colleague(session, world, key)
    run = inspections.start_run(session, lead, {
        "kind": "enforcement", "enterprise_id": world.enterprises[key], "checklists": ["fake-basic"],
        "co_inspector_id": co.id, **GPS})
    session.flush()
    answer_all(session, world, run, lead)
    if signed or completed:
        sign_all(session, world, run, co, lead)
    if completed:
        inspections.complete_run(session, lead, run.id, run.version, GPS)
        session.flush()
    return run.id


def run_of(key: str, **kw):
    return lambda session, world, username: _run(session, world, key, **kw)


def runs(allowed_e1=SEES_E1, allowed_e4=SEES_E4, not_found_e1=EVERYONE - SEES_E1, not_found_e4=EVERYONE - SEES_E4,
         missing=EVERYONE, **kw) -> list[Case]:
    completed = kw.pop("completed", False)
    return [
        Case("E1", {"run_id": run_of("E1", completed=completed)}, allowed=allowed_e1, not_found=not_found_e1, **kw),
        Case("E4", {"run_id": run_of("E4", completed=completed)}, allowed=allowed_e4, not_found=not_found_e4, **kw),
        Case("missing", {"run_id": 987654}, not_found=missing, **kw),
    ]


def sign_form(session, world, username, args) -> dict:
    return {"role": "enterprise", "name": "矩阵现场", "image": (io.BytesIO(signature_png()), "sig.png")}


#: The run's own inspectors: xa_insp leads every E1 run; no world user is an inspector of the E4 runs.
OWN = frozenset({"xa_insp"})
NONE: frozenset[str] = frozenset()

EXPECTED = {
    "inspections.tasks": [Case(allowed=ENFORCERS)],
    "inspections.dossier": [
        Case("E1", {"enterprise_id": lambda s, w, u: w.enterprises["E1"]}, allowed=ENFORCERS & SEES_E1,
             not_found=ENFORCERS - SEES_E1),
        Case("E4", {"enterprise_id": lambda s, w, u: w.enterprises["E4"]}, allowed=ENFORCERS & SEES_E4,
             not_found=ENFORCERS - SEES_E4),
        Case("missing", {"enterprise_id": 987654}, not_found=ENFORCERS),
    ],
    "inspections.enforce_start": [
        Case("E1", {"enterprise_id": lambda s, w, u: w.enterprises["E1"]}, allowed=ENFORCERS & SEES_E1,
             not_found=ENFORCERS - SEES_E1),
        Case("E4", {"enterprise_id": lambda s, w, u: w.enterprises["E4"]}, allowed=ENFORCERS & SEES_E4,
             not_found=ENFORCERS - SEES_E4),
    ],
    "inspections.record": runs(),
    "inspections.sign": runs(OWN, NONE, body=sign_form),
    "inspections.withdraw_signatures": runs(OWN, NONE),
    "inspections.issue_record": runs(frozenset({"xa_reg", "xa_insp", "xa_insp_expired"}), frozenset({"ta_reg"}),
                                     not_found_e1=frozenset({"ta_reg"}),
                                     not_found_e4=frozenset({"xa_reg", "xa_insp", "xa_insp_expired"}),
                                     missing=ENFORCERS, completed=True),
    "api_inspections.signature_list": api(*runs()),
    # The API matrix sends JSON bodies: nobody is one of the runs' inspectors here (E1 too is led by others), so
    # every caller is refused before the body matters; signing itself is covered by tests/test_field_api.py.
    "api_inspections.sign": api(
        Case("E1 others' run", {"run_id": lambda s, w, u: _others_run(s, w)}, not_found=EVERYONE - SEES_E1),
        Case("E4", {"run_id": run_of("E4")}, not_found=EVERYONE - SEES_E4),
        Case("missing", {"run_id": 987654}, not_found=EVERYONE),
    ),
    "api_inspections.withdraw_signatures": api(*runs(OWN, NONE)),
    "api_inspections.record": api(*runs()),
    "api_inspections.issue_record": api(*runs(frozenset({"xa_reg", "xa_insp", "xa_insp_expired"}),
                                              frozenset({"ta_reg"}), not_found_e1=frozenset({"ta_reg"}),
                                              not_found_e4=frozenset({"xa_reg", "xa_insp", "xa_insp_expired"}),
                                              missing=ENFORCERS, completed=True)),
}


def _others_run(session, world) -> int:
    """An E1 run led by a fresh 翔安局 inspector with another one (xa_insp is not on it)."""
    lead, co = _colleague(session, world, "E1"), _colleague(session, world, "E1")
    run = inspections.start_run(session, lead, {
        "kind": "enforcement", "enterprise_id": world.enterprises["E1"], "checklists": ["fake-basic"],
        "co_inspector_id": co.id, **GPS})
    session.flush()
    return run.id
