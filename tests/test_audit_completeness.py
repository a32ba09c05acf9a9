"""Audit completeness (issue 14 item 6; conventions: "every write is audited via core.services.audit").

Every public function of ``core/services`` that takes an ``actor`` is classified here: performed once below
(COVERED: exactly one audit entry with the actor, the object type and id, and before/after where the change has
them), read-only (READS), or exempt with a reason (EXEMPT). A service function added later that is in none of
the three fails :func:`test_every_actor_service_is_classified`, naming it.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

import core.services as services_pkg
from core.models import AuditEntry, Notification
from core.services import (
    documents,
    enterprises,
    hazard_flow,
    hazards,
    jurisdictions,
    notifications,
    plans,
    risks,
    users,
)
from core.services.actors import SYSTEM
from core.services.attachments import Upload
from tests.images import png_bytes


@pytest.fixture(autouse=True)
def _uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))


@dataclass
class Expect:
    """What the one audit entry of a write must say."""

    actor: Any
    action: str
    object_type: str
    object_id: Any
    before: bool = False  # the entry carries the old values
    after: bool = True  # … and the new ones


def last_id(session) -> int:
    return session.scalar(select(func.coalesce(func.max(AuditEntry.id), 0)))


def one_entry(session, call: Callable[[], Any], expect: Callable[[Any], Expect],
              also: Callable[[Any], list[tuple[str, str, Any]]] | None = None) -> AuditEntry:
    """Run ``call`` and assert it wrote exactly one audit entry matching ``expect(result)``; ``also`` lists the
    (action, object type, id) entries other objects changed by the same call get, each exactly once (a 指令书
    moves its hazards to 整改中: each hazard's own timeline entry)."""
    start = last_id(session)
    result = call()
    session.flush()
    entries = list(session.scalars(select(AuditEntry).where(AuditEntry.id > start).order_by(AuditEntry.id)))
    want = expect(result)
    if also is not None:
        others = sorted((a, t, str(i)) for a, t, i in also(result))
        assert sorted((e.action, e.object_type, e.object_id) for e in entries
                      if (e.object_type, e.object_id) != (want.object_type, str(want.object_id))) == others
        entries = [e for e in entries if (e.object_type, e.object_id) == (want.object_type, str(want.object_id))]
    assert len(entries) == 1, [(e.action, e.object_type, e.object_id) for e in entries]
    (entry,) = entries
    assert (entry.actor_id, entry.actor_name) == (want.actor.id, want.actor.username)
    assert (entry.action, entry.object_type, entry.object_id) == (want.action, want.object_type,
                                                                  None if want.object_id is None else str(want.object_id))
    if want.before:
        assert entry.before, f"{want.action} {want.object_type}: no before values"
    if want.after:
        assert entry.after, f"{want.action} {want.object_type}: no after values"
    return entry


# --- the performed writes ------------------------------------------------------------------------------------------
# Each case: (session, world) → the entry, via one_entry. Set-up writes happen before one_entry's call.

def _hazard(session, world, username="ent1_mgr"):
    return hazards.register_hazard(session, world.user(session, username), {
        "enterprise_id": world.enterprises["E1"], "description": "配电箱未接地", "category": "thing"})


def case_register_hazard(session, world):
    mgr = world.user(session, "ent1_mgr")
    photo = Upload(png_bytes(), "image/png", "现场.png")
    entry = one_entry(session, lambda: hazards.register_hazard(session, mgr, {
        "enterprise_id": world.enterprises["E1"], "description": "配电箱未接地", "category": "thing"},
        uploads=[photo]), lambda h: Expect(mgr, "create", "hazard", h.id))
    # The files attached at registration are part of the registration's entry (a gap found by the sweep).
    assert entry.after["attachments"] == [{"filename": "现场.png", "content_type": "image/png",
                                           "sha256": photo.sha256, "size": len(photo.data)}]


def case_perform(session, world):
    h = _hazard(session, world)
    mgr = world.user(session, "ent1_mgr")
    photo = Upload(png_bytes(color=(1, 2, 3)), "image/png", "整改方案.png")
    entry = one_entry(session, lambda: hazard_flow.perform(session, mgr, h.id, "assign", {
        "version": h.version, "responsible_name": "王五", "days": 10, "deadline_kind": "calendar",
        "measures": "重新接地"}, uploads=[photo]), lambda r: Expect(mgr, "assign", "hazard", h.id, before=True))
    assert entry.after["attachments"][0]["sha256"] == photo.sha256


def case_create_enterprise(session, world):
    reg = world.user(session, "xa_reg")
    one_entry(session, lambda: enterprises.create_enterprise(session, reg, {
        "name": "审计测试有限公司", "uscc": "91350213MA8UXB7Q4N", "jurisdiction_id": world.nodes["新店街道"]}),
        lambda e: Expect(reg, "create", "enterprise", e.id))


def case_update_enterprise(session, world):
    reg = world.user(session, "xa_reg")
    e1 = world.ent(session, "E1")
    one_entry(session, lambda: enterprises.update_enterprise(session, reg, e1.id, {
        "version": e1.version, "address": "审计路1号"}), lambda e: Expect(reg, "update", "enterprise", e1.id,
                                                                      before=True))


def case_create_jurisdiction(session, world):
    admin = world.user(session, "admin")
    one_entry(session, lambda: jurisdictions.create_jurisdiction(session, admin, {
        "parent_id": world.nodes["新店街道"], "level": "grid", "name": "审计网格"}),
        lambda n: Expect(admin, "create", "jurisdiction", n.id))


def case_update_jurisdiction(session, world):
    admin = world.user(session, "admin")
    node = world.node(session, "新店2网格")
    one_entry(session, lambda: jurisdictions.update_jurisdiction(session, admin, node.id, {
        "name": "新店第二网格", "version": node.version}),
        lambda n: Expect(admin, "update", "jurisdiction", node.id, before=True))


def case_delete_jurisdiction(session, world):
    admin = world.user(session, "admin")
    node = jurisdictions.create_jurisdiction(session, admin, {"parent_id": world.nodes["新店街道"], "level": "grid",
                                                              "name": "待删网格"})
    session.flush()
    one_entry(session, lambda: jurisdictions.delete_jurisdiction(session, admin, node.id, node.version),
              lambda _: Expect(admin, "delete", "jurisdiction", node.id, before=True, after=False))


def case_save_agency(session, world):
    admin = world.user(session, "admin")
    agency = world.agency(session, "翔安局")
    one_entry(session, lambda: jurisdictions.save_agency(session, admin, {
        "short_name": "翔安", "version": agency.version}, agency_id=agency.id),
              lambda a: Expect(admin, "update", "agency", agency.id, before=True))


def case_save_user(session, world):
    admin = world.user(session, "admin")
    one_entry(session, lambda: users.save_user(session, admin, {
        "username": "audit_user", "display_name": "审计", "password": "secret-password-1", "roles": ["regulator"],
        "jurisdiction_id": world.nodes["翔安区"], "agency_id": world.agencies["翔安局"]}),
        lambda u: Expect(admin, "create", "user", u.id))


def case_set_boundary(session, world):
    from core.services import boundaries

    admin, node = world.user(session, "admin"), world.node(session, "翔安区")
    square = {"type": "Polygon", "coordinates": [[[118.2, 24.6], [118.3, 24.6], [118.3, 24.7], [118.2, 24.6]]]}
    one_entry(session, lambda: boundaries.set_boundary(session, admin, node, square),
              lambda n: Expect(admin, "update", "jurisdiction", node.id))


def case_create_token(session, world):
    admin = world.user(session, "admin")
    target = world.user(session, "xa_reg")
    one_entry(session, lambda: users.create_token(session, admin, target, "审计"),
              lambda r: Expect(admin, "create", "api_token", r[1].id))


def case_revoke_token(session, world):
    admin = world.user(session, "admin")
    _, token = users.create_token(session, SYSTEM, world.user(session, "xa_reg"), "待吊销")
    session.flush()
    one_entry(session, lambda: users.revoke_token(session, admin, token.id),
              lambda t: Expect(admin, "revoke", "api_token", token.id, before=True))


def case_mark_read(session, world):
    user = world.user(session, "ent1_mgr")
    row = Notification(user_id=user.id, kind="reminder", title="通知", body="正文", link="/notifications/",
                       dedup_key="audit:1", created_at=datetime(2025, 10, 9, 1, tzinfo=UTC))
    session.add(row)
    session.flush()
    one_entry(session, lambda: notifications.mark_read(session, user, row.id),
              lambda n: Expect(user, "read", "notification", row.id, after=False))


def _point(session, world):
    mgr = world.user(session, "ent1_mgr")
    return mgr, risks.create_risk_point(session, mgr, {"name": "储罐区", "category": "equipment", "method": "LS",
                                                       "inputs": {"L": 2, "S": 2}})


def case_create_risk_point(session, world):
    mgr = world.user(session, "ent1_mgr")
    one_entry(session, lambda: risks.create_risk_point(session, mgr, {
        "name": "罐区", "category": "equipment", "method": "LS", "inputs": {"L": 2, "S": 2}}),
        lambda p: Expect(mgr, "create", "risk_point", p.id))


def case_update_risk_point(session, world):
    mgr, point = _point(session, world)
    session.flush()
    one_entry(session, lambda: risks.update_risk_point(session, mgr, point.id, {"version": point.version,
                                                                                "location": "东侧"}),
              lambda p: Expect(mgr, "update", "risk_point", point.id, before=True))


def case_add_measure(session, world):
    mgr, point = _point(session, world)
    session.flush()
    one_entry(session, lambda: risks.add_measure(session, mgr, point.id, {"kind": "engineering",
                                                                          "description": "液位报警"}),
              lambda m: Expect(mgr, "create", "control_measure", m.id))


def case_add_task(session, world):
    mgr, point = _point(session, world)
    measure = risks.add_measure(session, mgr, point.id, {"kind": "engineering", "description": "液位报警"})
    session.flush()
    one_entry(session, lambda: risks.add_task(session, mgr, point.id, {
        "measure_id": measure.id, "content": "检查液位报警", "period": "monthly"}),
        lambda t: Expect(mgr, "create", "inspection_task", t.id))


def case_create_plan(session, world):
    reg = world.user(session, "xa_reg")
    one_entry(session, lambda: plans.create_plan(session, reg, {"year": 2027, "title": "审计计划"}),
              lambda p: Expect(reg, "create", "inspection_plan", p.id))


def case_issue_order(session, world):
    insp = world.user(session, "xa_insp")
    insp2 = users.save_user(session, SYSTEM, {
        "username": "xa_insp2", "display_name": "李执法", "password": "secret-password-1", "roles": ["inspector"],
        "jurisdiction_id": world.nodes["翔安区"], "agency_id": world.agencies["翔安局"],
        "cert_number": "XA-003", "cert_valid_until": date.today() + timedelta(days=365)})
    h = _hazard(session, world, "xa_insp")
    session.flush()
    one_entry(session, lambda: documents.issue_order(session, insp, {
        "enterprise_id": world.enterprises["E1"], "deadline": date.today() + timedelta(days=15),
        "items": [{"hazard_id": h.id, "version": h.version}], "signer_ids": [insp.id, insp2.id]}),
        lambda d: Expect(insp, "issue", "document", d.id), also=lambda d: [("assign", "hazard", h.id)])


CASES = {
    "hazards.register_hazard": case_register_hazard,
    "hazard_flow.perform": case_perform,
    "enterprises.create_enterprise": case_create_enterprise,
    "enterprises.update_enterprise": case_update_enterprise,
    "jurisdictions.create_jurisdiction": case_create_jurisdiction,
    "jurisdictions.update_jurisdiction": case_update_jurisdiction,
    "jurisdictions.delete_jurisdiction": case_delete_jurisdiction,
    "jurisdictions.save_agency": case_save_agency,
    "users.save_user": case_save_user,
    "users.create_token": case_create_token,
    "boundaries.set_boundary": case_set_boundary,
    "users.revoke_token": case_revoke_token,
    "notifications.mark_read": case_mark_read,
    "risks.create_risk_point": case_create_risk_point,
    "risks.update_risk_point": case_update_risk_point,
    "risks.add_measure": case_add_measure,
    "risks.add_task": case_add_task,
    "plans.create_plan": case_create_plan,
    "documents.issue_order": case_issue_order,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_write_service_leaves_exactly_one_audit_entry(session, world, name):
    CASES[name](session, world)


# --- the classification --------------------------------------------------------------------------------------------

#: Writes not performed above, each with why it needs no case here.
EXEMPT: dict[str, str] = {
    # Not writes of their own: parts of a covered write, or refusals.
    "audit.record": "the audit log itself",
    "attachments.store": "adds the file row inside a write that audits it (register_hazard, perform …)",
    "hazards.record_transition": "the timeline step inside register_hazard / hazard_flow.perform, audited there",
    "documents.record_integrity_failure": "writes an audit entry only (tests/test_document_integrity.py)",
    "documents.change_document": "always refused: issued documents are immutable (raises Conflict)",
    "boundaries.import_boundaries": "sets each matched node through set_boundary, audited there "
                                    "(tests/test_one_map.py)",
    "field.record_event": "appends to the run's field log (位置/时间), itself the record of the run",
    "field.record_answer": "appends the answer to the field log; the answer is audited by inspections.save_answer",
    "field.before_complete": "checks and the end position, inside inspections.complete_run (audited there)",
    "field.after_complete": "field-log events inside inspections.complete_run (audited there)",
    "field.complete": "delegates to inspections.complete_run",
    "inspections.start_run": "delegates to the run creation of inspections.create_run",
    "enterprises.create_enterprises": "the bulk form behind create_enterprise (the same _record_created per row)",
    "enterprises.update_enterprises": "the bulk form behind update_enterprise (the same entry per row)",
    "importexport.import_enterprises": "writes through create_enterprises / update_enterprises",
    "documents.issue_review": "shares documents._issue with issue_order (one 'issue' entry)",
    "documents.issue_notice": "shares documents._issue with issue_order",
    "documents.issue_typed": "shares documents._issue with issue_order",
    "inspection_record.issue_record": "shares documents._issue with issue_order",
    # Writes with their own audit.record call of the same shape as a covered neighbour; kept out of this test
    # because their set-up (a signed run, a submitted assessment, a draw) belongs to their own test files.
    "documents.acknowledge": "'receive' entry on the document",
    "documents.decide_legal_review": "'legal_approve' (document) or 'legal_return' (legal_review) entry",
    "notifications.mark_all_read": "one 'read_all' entry for the batch, like mark_read",
    "risks.set_risk_point_active": "'update' risk_point entry with before/after, like update_risk_point",
    "risks.update_measure": "'update' control_measure entry, like update_risk_point",
    "risks.update_task": "'update' inspection_task entry, like update_risk_point",
    "risks.record_check": "'check' inspection_task entry; a failed check registers a hazard (register_hazard)",
    "risks.upload_site_plan": "'create' attachment entry naming the file's SHA-256",
    "plans.update_plan": "'update' inspection_plan entry, like create_plan",
    "plans.approve_plan": "'approve' inspection_plan entry",
    "plans.create_draw": "'draw' inspection_draw entry",
    "plans.publish_draw": "'publish' inspection_draw entry",
    "plans.void_draw": "'void' inspection_draw entry",
    "plans.link_run": "'link_run' inspection_draw_item entry",
    "plans.create_campaign": "'create' campaign entry",
    "plans.update_campaign": "'update' campaign entry",
    "self_reports.create_draft": "'create' self_report entry",
    "self_reports.update_draft": "'update' self_report entry",
    "self_reports.submit": "'submit' self_report entry",
    "inspections.create_run": "'create' inspection_run entry",
    "inspections.save_answer": "'answer' inspection_run entry",
    "inspections.complete_run": "'complete' inspection_run entry",
    "field.start_enforcement": "'start' inspection_run entry",
    "signatures.sign": "'sign' inspection_run entry",
    "signatures.withdraw": "'unsign' inspection_run entry",
    "assessments.create_assessment": "'create' assessment entry",
    "assessments.update_team": "'update' assessment entry",
    "assessments.save_items": "'update' assessment entry",
    "assessments.add_evidence": "'attach' assessment entry",
    "assessments.submit": "'submit' assessment entry",
    "assessments.review": "'accept' / return entry on the assessment",
    "assessments.create_hazards": "'hazards' assessment entry; each hazard through register_hazard",
    "assessments.lifecycle_action": "the 达标 lifecycle transition (assessments._transition)",
    "catalog.sync_catalog": "'create' rule_set / checklist entries per new version",
    "catalog.import_xlsform": "'import' checklist entry",
}

#: Read-only functions that take an actor (for its scope). Checked below to hold no write in their source.
READS = {
    "assessments": "get_assessment list_assessments get_evidence comparison get_lifecycle coverage is_principal",
    "audit": "record_refusal",
    "catalog": "list_rule_sets get_rule_set list_checklists get_checklist",
    "dashboard": "enterprise_summary",
    "documents": "documents_stmt unreceived_stmt notice_listing get_legal_review list_legal_reviews get_document list_documents document_page "
                 "count_for_enterprise batch_documents order_form_data review_form_data typed_form_data",
    "enterprises": "enterprise_query list_enterprises get_enterprise visible_enterprise_ids",
    "field": "events colleague_options is_inspector_of_run open_runs drawn_tasks dossier",
    "hazard_export": "export_hazards",
    "hazard_flow": "listing_level_of refusal available_actions",
    "hazards": "hazard_clause hazard_query list_hazards get_hazard get_attachment enterprise_counts "
               "list_active_supervisions risk_point_choices",
    "importexport": "export_enterprises",
    "inspection_record": "record_data",
    "inspections": "run_clause list_runs get_run can_perform load_run ensure_performer ensure_answerable get_photo "
                   "created_hazards",
    "jurisdictions": "list_jurisdictions get_jurisdiction list_agencies",
    "notifications": "list_notifications unread_count get_notification",
    "permissions": "can require",
    "plans": "managing_agency ensure_manager can_manage sees_drafts list_plans get_plan draw_clause list_draws "
             "get_draw tasks_for list_campaigns get_campaign",
    "risks": "risk_clause risk_query list_risk_points get_risk_point linked_hazards grade_counts supervision_list "
             "get_measure get_task due_tasks recent_checks site_plan enterprise_map enterprise_grades area_map",
    "scope": "scope_of enterprise_clause jurisdiction_clause ensure_enterprise_visible ensure_jurisdiction_visible",
    "self_reports": "get_report list_reports submission_status",
    "signatures": "signable signature_rows",
    "stats": "node_stats enterprise_stats enterprise_figures trend",
    "league": "league",
    "onemap": "map_data",
    "enforcement_report": "enforcement_summary",
    "users": "list_users get_user list_tokens",
    "workqueue": "queues_for",
}
READ_NAMES = {f"{module}.{name}" for module, names in READS.items() for name in names.split()}
_WRITES_IN_SOURCE = re.compile(r"session\.(add|add_all|delete)\(|audit\.record\(|\.flush\(\)")


def actor_services() -> dict[str, Callable]:
    """Every public function defined in a core/services module with an ``actor`` parameter."""
    found = {}
    for info in pkgutil.iter_modules(services_pkg.__path__):
        module = importlib.import_module(f"core.services.{info.name}")
        for name, fn in vars(module).items():
            if (not name.startswith("_") and inspect.isfunction(fn) and fn.__module__ == module.__name__
                    and "actor" in inspect.signature(fn).parameters):
                found[f"{info.name}.{name}"] = fn
    return found


def test_every_actor_service_is_classified():
    """A new service function must be performed above, listed as a read, or exempted with a reason."""
    services = actor_services()
    unclassified = sorted(set(services) - set(CASES) - set(EXEMPT) - READ_NAMES)
    assert not unclassified, f"service functions not covered by the audit test nor exempted: {unclassified}"
    stale = sorted((set(CASES) | set(EXEMPT) | READ_NAMES) - set(services))
    assert not stale, f"listed but no longer in core/services: {stale}"
    assert not set(CASES) & set(EXEMPT) and not (set(CASES) | set(EXEMPT)) & READ_NAMES
    assert all(reason.strip() for reason in EXEMPT.values())


def test_reads_hold_no_write():
    writers = sorted(n for n in READ_NAMES if _WRITES_IN_SOURCE.search(inspect.getsource(actor_services()[n])))
    assert not writers, f"listed as reads but write or audit: {writers}"
