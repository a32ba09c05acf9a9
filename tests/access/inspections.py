"""Access-matrix entries of the inspection pages (``/inspections``) and API (``/api/v1/inspections``).

Runs are self-inspections (企业自查) started in the resolvers by the enterprise's own manager: 测试E1 carries the
fake sector; 测试E4 gets the fake sector tag in its resolver so that a checklist applies. Everyone sees the runs in
their scope; only the enterprise's own staff answer and complete them (government users may look, not answer).
"""

from __future__ import annotations

from sqlalchemy import select

from core.models import EnterpriseSector, InspectionRun, StoredChecklistItem
from core.services import inspections
from core.services.attachments import Upload
from tests.test_access_matrix import EVERYONE, SEES_E1, SEES_E4, Case, api

PNG = Upload(data=b"\x89PNG\r\n\x1a\n" + b"q" * 32, content_type="image/png", filename="检查.png")
OWNER = {"E1": "ent1_mgr", "E4": "ent4_mgr"}
ENTERPRISE_USERS = frozenset({"ent1_mgr", "ent1_principal", "ent4_mgr"})
PERFORM_E1 = frozenset({"ent1_mgr", "ent1_principal"})
PERFORM_E4 = frozenset({"ent4_mgr"})


def run_of(key: str, photo: bool = False):
    """Resolver: a fresh draft self-inspection of enterprise ``key`` (with one answer photo when ``photo``)."""

    def make(session, world, username) -> int:
        if key == "E4" and session.get(EnterpriseSector, (world.enterprises["E4"], "fake")) is None:
            session.add(EnterpriseSector(enterprise_id=world.enterprises["E4"], sector="fake", activities=["生产"],
                                         data={}))
            session.flush()
            session.expire(world.ent(session, "E4"))
        actor = world.user(session, OWNER[key])
        run = inspections.start_run(session, actor, {"checklists": ["fake-basic"]})
        session.flush()
        if photo:
            item = _item(session, run.id, "2.2")
            inspections.save_answer(session, actor, run.id, {"item_id": item}, uploads=[PNG])
            session.flush()
        return run.id

    return make


def ready_run(key: str):
    """Resolver: a draft run of ``key`` with every item that needs an answer answered (passing): completable."""

    def make(session, world, username) -> int:
        run_id = run_of(key)(session, world, username)
        actor = world.user(session, OWNER[key])
        for code, value in (("1.1", "yes"), ("1.2", "1.0"), ("2.1", "yes")):
            inspections.save_answer(session, actor, run_id, {"item_id": _item(session, run_id, code), "value": value})
        session.flush()
        return run_id

    return make


def _item(session, run_id: int, code: str = "1.1") -> int:
    run = session.get(InspectionRun, run_id)
    return session.scalar(select(StoredChecklistItem.id).where(
        StoredChecklistItem.checklist_id == run.checklists[0].checklist_id, StoredChecklistItem.code == code))


def newest_photo(session, world, username) -> int:
    from sqlalchemy import func

    from core.models import Attachment

    return session.scalar(select(func.max(Attachment.id)).where(Attachment.owner_type == "inspection_answer"))


def answer_body(session, world, username, args) -> dict:
    return {"item_id": _item(session, args["run_id"]) if args["run_id"] != 987654 else 1, "value": "yes"}


def complete_body(session, world, username, args) -> dict:
    run = session.get(InspectionRun, args["run_id"])
    return {"version": run.version if run else 1}


def start_body(session, world, username, args) -> dict:
    run_of("E4")(session, world, username)  # tags E4 with the fake sector (and starts one run) so that a checklist applies to it too
    return {"checklists": ["fake-basic"]}


def _runs(allowed_e1=SEES_E1, allowed_e4=SEES_E4, photo=False, **kw):
    return [
        Case("E1", {"run_id": run_of("E1", photo)}, allowed=allowed_e1, not_found=EVERYONE - SEES_E1, **kw),
        Case("E4", {"run_id": run_of("E4", photo)}, allowed=allowed_e4, not_found=EVERYONE - SEES_E4, **kw),
        Case("missing", {"run_id": 987654}, not_found=EVERYONE, **kw),
    ]


EXPECTED = {
    "inspections.index": [Case(allowed=EVERYONE)],
    "inspections.start": [
        Case("page", allowed=frozenset({"ent1_mgr", "ent1_principal", "ent4_mgr"})),
        Case("start", allowed=ENTERPRISE_USERS, method="POST", body=start_body),
    ],
    "inspections.detail": _runs(),
    "inspections.answer": _runs(PERFORM_E1, PERFORM_E4, body=answer_body),
    "inspections.save": _runs(PERFORM_E1, PERFORM_E4, body=answer_body),
    "inspections.complete": _runs(PERFORM_E1, PERFORM_E4, body=complete_body),
    "inspections.photo": [
        Case("E1", {"run_id": run_of("E1", True), "attachment_id": newest_photo}, allowed=SEES_E1,
             not_found=EVERYONE - SEES_E1),
        Case("E4", {"run_id": run_of("E4", True), "attachment_id": newest_photo}, allowed=SEES_E4,
             not_found=EVERYONE - SEES_E4),
        Case("another run's photo", {"run_id": run_of("E1"), "attachment_id": newest_photo}, not_found=EVERYONE),
        Case("missing", {"run_id": run_of("E1"), "attachment_id": 987654}, not_found=EVERYONE),
    ],
}


def api_answer_body(session, world, username, args) -> dict:
    return {"item_id": _item(session, args["run_id"]) if args["run_id"] != 987654 else 1, "value": "yes"}


EXPECTED.update({
    "api_inspections.list_": api(Case(allowed=EVERYONE)),
    "api_inspections.start": api(Case(allowed=ENTERPRISE_USERS, body=start_body)),
    "api_inspections.detail": api(*_runs()),
    "api_inspections.save_answer": api(*_runs(PERFORM_E1, PERFORM_E4, body=api_answer_body)),
    "api_inspections.complete": api(
        Case("E1", {"run_id": ready_run("E1")}, allowed=PERFORM_E1, not_found=EVERYONE - SEES_E1, body=complete_body),
        Case("E4", {"run_id": ready_run("E4")}, allowed=PERFORM_E4, not_found=EVERYONE - SEES_E4, body=complete_body),
        Case("missing", {"run_id": 987654}, not_found=EVERYONE, body=complete_body),
    ),
})
