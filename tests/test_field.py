"""执法检查 on site (R-E3, R-E5): two certified inspectors, GPS or its fallback, signatures, completion only when
all three signed, and the full-process record of every step."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core.models import Attachment, AuditEntry, InspectionEvent, InspectionSignature
from core.services import field, inspections, signatures
from core.services.attachments import storage_path
from core.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests.test_field_helpers import GPS, answer, answer_all, make_insp2, sign_all, signature_png, start


@pytest.fixture(autouse=True)
def _uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))


@pytest.fixture()
def insp2(session, world):
    return make_insp2(session, world)


def _events(session, run) -> list[InspectionEvent]:
    return list(session.scalars(select(InspectionEvent).where(InspectionEvent.run_id == run.id)
                                .order_by(InspectionEvent.id)))


# --- start ------------------------------------------------------------------------------------------------------------

def test_start_records_both_inspectors_gps_place_and_the_start_event(session, world, insp2):
    """R-E3/R-E5: an enforcement run keeps the second inspector, start GPS, place and on-site person; the start
    is the first step of the full-process record with who, when and where."""
    run = start(session, world, insp2)
    assert (run.kind, run.co_inspector_id, run.place, run.onsite_name, run.onsite_title) == (
        "enforcement", insp2.id, "储罐区及中控室", "王现场", "安全主任")
    assert (run.start_lat, run.start_lng, run.start_accuracy_m, run.start_gps_missing) == (
        24.61234, 118.24567, 12.0, None)
    (event,) = _events(session, run)
    assert (event.action, event.actor_id, event.actor_name, event.lat, event.lng, event.accuracy_m) == (
        "start", world.users["xa_insp"], "xa_insp", 24.61234, 118.24567, 12.0)
    assert [i["cert_number"] for i in event.detail["inspectors"]] == ["XA-001", "XA-003"]
    assert event.detail["checklists"] == ["fake-basic@1.0"]
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "start",
                                                   AuditEntry.object_id == str(run.id))) is not None


def test_start_without_gps_needs_a_reason_and_keeps_it(session, world, insp2):
    """R-E3: no position → one of the fallback reasons is required and stored with its label on the event."""
    no_gps = {"lat": None, "lng": None, "accuracy_m": None}
    with pytest.raises(ValidationFailed) as exc:
        start(session, world, insp2, **no_gps)
    assert exc.value.errors["gps_missing"] == ["未获取定位时须说明原因（未授权定位、设备或浏览器不支持定位、定位超时、无法获取位置）"]
    with pytest.raises(ValidationFailed) as exc:
        start(session, world, insp2, **no_gps, gps_missing="lost")
    assert "gps_missing" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        start(session, world, insp2, lat=95, lng=118.2)
    assert exc.value.errors["lat"] == ["应在 -90 到 90 之间"]
    run = start(session, world, insp2, **no_gps, gps_missing="timeout")
    assert (run.start_lat, run.start_gps_missing) == (None, "timeout")
    (event,) = _events(session, run)
    assert (event.lat, event.gps_missing, event.gps_missing_label) == (None, "timeout", "定位超时")
    assert field.position_label(None, None, None, "denied") == "未获取定位：未授权定位"


def test_enforcement_needs_a_second_certified_inspector_of_the_same_agency(session, world, insp2):
    """R-E3: two inspectors of one agency, each with a 执法证 valid that day; the refusal names the person and
    the expiry date."""
    expired = world.user(session, "xa_insp_expired")
    with pytest.raises(ValidationFailed) as exc:
        start(session, world, expired)
    assert exc.value.errors["co_inspector_id"] == [
        f"xa_insp_expired的执法证（XA-002）已于 {date.today() - timedelta(days=1)} 过期，不能参加执法检查"]
    with pytest.raises(ValidationFailed) as exc:
        start(session, world, world.user(session, "ta_reg"))
    assert exc.value.errors["co_inspector_id"] == ["第二名执法人员须是本机关在岗的执法人员"]
    with pytest.raises(ValidationFailed) as exc:
        start(session, world, world.user(session, "xa_insp"))
    assert exc.value.errors["co_inspector_id"] == ["第二名执法人员不能是您本人"]
    with pytest.raises(ValidationFailed) as exc:
        inspections.start_run(session, world.user(session, "xa_insp"), {
            "kind": "enforcement", "enterprise_id": world.enterprises["E1"], "checklists": ["fake-basic"], **GPS})
    assert exc.value.errors["co_inspector_id"][0].startswith("请选择第二名执法人员")
    # The one starting needs a valid certificate himself.
    with pytest.raises(ValidationFailed) as exc:
        start(session, world, insp2, username="xa_insp_expired")
    assert exc.value.errors["inspectors"][0].startswith("xa_insp_expired的执法证（XA-002）已于")
    # Colleagues offered on the start page: certified only, not oneself.
    assert [u.username for u in field.colleague_options(session, world.user(session, "xa_insp"))] == ["xa_insp2"]


def test_start_permission_and_scope(session, world, insp2):
    with pytest.raises(PermissionDenied):
        start(session, world, insp2, username="ent1_mgr")
    with pytest.raises(PermissionDenied):
        start(session, world, insp2, username="grid1")
    with pytest.raises(NotFound):
        start(session, world, insp2, enterprise_id=world.enterprises["E4"])
    with pytest.raises(PermissionDenied) as exc:  # a regulator without agency cannot run an enforcement check
        start(session, world, insp2, username="admin")
    assert exc.value.status == 403


# --- answers and signatures -------------------------------------------------------------------------------------------

def test_answers_and_photos_are_steps_with_position_and_evidence(session, world, insp2):
    run = start(session, world, insp2)
    answer_all(session, world, run)
    steps = _events(session, run)
    assert [e.action for e in steps] == ["start", "photo", "answer", "answer", "photo"]
    photo = steps[1]
    assert (photo.detail["item"], photo.detail["value"], photo.detail["passed"], photo.lat) == ("1.1", "no", False,
                                                                                                24.61234)
    assert photo.attachment_shas and len(photo.attachment_shas[0]) == 64
    assert steps[2].lat is None and steps[2].gps_missing is None  # an answer sent without a position


def test_signature_png_checks():
    """R-N3: magic bytes, at most 200 KB, readable, not blank."""
    assert signatures.check_png(signature_png()).content_type == "image/png"
    assert signatures.check_png(signature_png(white=True)).sha256
    cases = [
        (b"", "没有收到签名图片"),
        (b"\xff\xd8\xff" + b"j" * 100, "签名图片须为 PNG 格式"),
        (b"\x89PNG\r\n\x1a\n" + b"x" * (200 * 1024), "签名图片不能超过 200 KB"),
        (b"\x89PNG\r\n\x1a\n" + b"x" * 100, "签名图片已损坏，无法读取"),
        (signature_png(blank=True), "签名是空白的，请在签名框内签名"),
        (signature_png(blank=True, white=True), "签名是空白的，请在签名框内签名"),
        (signature_png(blank=True, size=(3200, 10)), "签名图片的边长不能超过 3000 像素"),
    ]
    for data, message in cases:
        with pytest.raises(ValidationFailed) as exc:
            signatures.check_png(data)
        assert exc.value.errors == {"image": [message]}, message


def test_each_inspector_signs_for_himself_with_a_valid_certificate(session, world, insp2):
    """R-E3: an inspector signs only his own signature; an expired certificate is refused and nothing changes;
    the on-site person signs on the inspector's device with a name; every signature is a step."""
    run = start(session, world, insp2)
    with pytest.raises(ValidationFailed) as exc:  # not everything answered yet
        signatures.sign(session, world.user(session, "xa_insp"), run.id, {"role": "inspector"}, signature_png())
    assert exc.value.errors["_schema"][0].startswith("请先完成全部检查条目再签名：尚有 3 条未作答：1.1、1.2、2.1")
    answer_all(session, world, run)
    # The expired colleague is not one of the run's inspectors; make him one to test the certificate rule.
    expired = world.user(session, "xa_insp_expired")
    run.co_inspector_id = expired.id
    session.flush()
    before = session.scalar(select(InspectionEvent.id).order_by(InspectionEvent.id.desc()).limit(1))
    with pytest.raises(ValidationFailed) as exc:
        signatures.sign(session, expired, run.id, {"role": "inspector"}, signature_png())
    assert exc.value.errors["role"] == [
        f"xa_insp_expired的执法证（XA-002）已于 {date.today() - timedelta(days=1)} 过期，不能签名"]
    assert session.scalar(select(InspectionSignature.id).where(InspectionSignature.run_id == run.id)) is None
    assert session.scalar(select(InspectionEvent.id).order_by(InspectionEvent.id.desc()).limit(1)) == before
    run.co_inspector_id = insp2.id
    session.flush()
    # Someone outside the run may not sign, even a certified colleague.
    other = make_insp2(session, world, "xa_insp3", cert_number="XA-009")
    with pytest.raises(PermissionDenied):
        signatures.sign(session, other, run.id, {"role": "inspector"}, signature_png())
    with pytest.raises(ValidationFailed) as exc:
        signatures.sign(session, world.user(session, "xa_insp"), run.id, {"role": "enterprise", "name": ""},
                        signature_png())
    assert exc.value.errors == {"name": ["请填写被检查单位现场负责人的姓名"]}
    with pytest.raises(ValidationFailed) as exc:
        signatures.sign(session, world.user(session, "xa_insp"), run.id, {"role": "inspector"},
                        signature_png(blank=True))
    assert exc.value.errors == {"image": ["签名是空白的，请在签名框内签名"]}
    sign_all(session, world, run, insp2)
    rows = signatures.run_signatures(session, run.id)
    assert [(s.role, s.name, s.cert_number) for s in rows] == [
        ("inspector", "xa_insp", "XA-001"), ("inspector", "李执法", "XA-003"), ("enterprise", "王现场", None)]
    assert all(s.data_uri.startswith("data:image/png;base64,iVBOR") for s in rows)
    assert storage_path(rows[0].sha256).exists()
    assert session.scalar(select(Attachment.id).where(Attachment.owner_type == "inspection_signature")) is not None
    signs = [e for e in _events(session, run) if e.action == "sign"]
    assert [(e.actor_name, e.detail["role"], e.lat, e.gps_missing) for e in signs] == [
        ("xa_insp", "inspector", 24.61234, None), ("李执法", "inspector", None, "denied"),
        ("xa_insp", "enterprise", 24.61234, None)]
    assert all(len(e.attachment_shas) == 1 for e in signs)
    # Signing again replaces one's earlier signature.
    signatures.sign(session, insp2, run.id, {"role": "inspector"}, signature_png(100))
    assert len(signatures.run_signatures(session, run.id)) == 3
    # Signed: the answers are locked until the signatures are withdrawn.
    with pytest.raises(Conflict) as exc:
        answer(session, world, run, "1.2", "1.1")
    assert exc.value.message.startswith("检查情况已签名确认")
    assert signatures.withdraw(session, world.user(session, "xa_insp"), run.id) == 3
    assert answer(session, world, run, "1.2", "1.1").value == "1.1"
    assert _events(session, run)[-2].action == "signatures_withdrawn"


def test_complete_needs_the_three_signatures_and_records_findings(session, world, insp2):
    """R-E3/R-E5: an enforcement run completes only with both inspectors' and the on-site person's signatures
    and an end position; findings become hazards (source 执法检查) and steps; completion is the last step."""
    run = start(session, world, insp2)
    answer_all(session, world, run)
    lead = world.user(session, "xa_insp")
    with pytest.raises(ValidationFailed) as exc:
        inspections.complete_run(session, lead, run.id, run.version, GPS)
    assert exc.value.errors["_schema"] == ["尚缺签名：检查人员 xa_insp、检查人员 李执法、被检查单位现场负责人"]
    signatures.sign(session, lead, run.id, {"role": "inspector"}, signature_png())
    signatures.sign(session, lead, run.id, {"role": "enterprise", "name": "王现场"}, signature_png())
    with pytest.raises(ValidationFailed) as exc:
        inspections.complete_run(session, lead, run.id, run.version, GPS)
    assert exc.value.errors["_schema"] == ["尚缺签名：检查人员 李执法"]
    signatures.sign(session, insp2, run.id, {"role": "inspector"}, signature_png())
    with pytest.raises(ValidationFailed) as exc:  # the end position (or why there is none) is required
        inspections.complete_run(session, lead, run.id, run.version, {})
    assert "gps_missing" in exc.value.errors
    assert run.status == "draft"
    done = field.complete(session, lead, run.id, run.version, {"gps_missing": "unavailable"})
    session.flush()
    assert (done.status, done.end_lat, done.end_gps_missing) == ("completed", None, "unavailable")
    made = inspections.created_hazards(session, lead, done)
    assert [(h.source, h.level, h.checklist_item) for h in made] == [
        ("inspection", "major", "fake-basic/1.1"), ("inspection", "general", "fake-basic/2.1")]
    steps = _events(session, run)
    assert [e.action for e in steps][-3:] == ["finding", "finding", "complete"]
    finding = steps[-3]
    assert (finding.detail["hazard_id"], finding.detail["rule_item"], finding.gps_missing) == (
        made[0].id, "fake-2020-r1#1", "unavailable")
    assert finding.attachment_shas  # the finding's photo
    assert steps[-1].detail["hazards"] == 2
    assert {e.actor_name for e in steps} == {"xa_insp", "李执法"}
    # Completed: signatures can no longer change.
    with pytest.raises(Conflict):
        signatures.sign(session, lead, run.id, {"role": "inspector"}, signature_png())


def test_self_check_runs_are_unchanged(session, world):
    """Self-checks need no co-inspector, GPS or signatures and leave no full-process record."""
    mgr = world.user(session, "ent1_mgr")
    run = inspections.start_run(session, mgr, {"checklists": ["fake-basic"]})
    session.flush()
    for code, value in (("1.1", "yes"), ("1.2", "1.0"), ("2.1", "yes")):
        answer(session, world, run, code, value, "ent1_mgr")
    done = inspections.complete_run(session, mgr, run.id, run.version)
    assert done.status == "completed" and _events(session, run) == []
    with pytest.raises(Conflict):
        signatures.sign(session, world.user(session, "xa_insp"), run.id, {"role": "inspector"}, signature_png())


def test_record_event_interface_and_timeline_scope(session, world, insp2):
    """The interface D calls for documents issued from a run; the timeline is visible only in scope."""
    run = start(session, world, insp2)
    field.record_event(session, run.id, world.user(session, "xa_reg"), "document_issued",
                       detail={"number": "（翔）应急责改〔2026〕1号", "doc_type": "rectification_order", "document_id": 7})
    assert [e.action for e in field.events(session, world.user(session, "xa_reg"), run.id)] == [
        "start", "document_issued"]
    with pytest.raises(NotFound):
        field.events(session, world.user(session, "ta_reg"), run.id)
    with pytest.raises(ValueError):
        field.record_event(session, run.id, world.user(session, "xa_reg"), "made_up")
    assert set(field.EVENT_LABELS) >= {"start", "answer", "photo", "finding", "sign", "complete",
                                       "document_issued"}


def test_open_runs_of_both_inspectors(session, world, insp2):
    run = start(session, world, insp2)
    assert [r.id for r in field.open_runs(session, world.user(session, "xa_insp"))] == [run.id]
    assert [r.id for r in field.open_runs(session, insp2)] == [run.id]
    assert field.open_runs(session, world.user(session, "xa_reg")) == []
