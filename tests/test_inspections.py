"""The inspection engine (R-P2, R-H1): checklist choice, answers per type, versions, completion into hazards."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from core.app import create_app
from core.extensions import db
from core.models import (
    Attachment,
    AuditEntry,
    EnterpriseSector,
    Hazard,
    InspectionAnswer,
    StoredChecklistItem,
)
from core.services import enterprises, inspections, users
from core.services.actors import SYSTEM
from core.services.attachments import Upload
from core.services.catalog import sync_catalog
from core.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests import factories
from tests.conftest import base_config
from tests.forms import get_form, page_form
from tests.images import png_bytes

PNG = Upload(data=png_bytes(), content_type="image/png", filename="现场.png")


def _start(session, world, username="ent1_mgr", **extra):
    run = inspections.start_run(session, world.user(session, username), {"checklists": ["fake-basic"], **extra})
    session.flush()
    return run


def _item(session, run, code: str) -> StoredChecklistItem:
    return session.scalar(select(StoredChecklistItem).where(
        StoredChecklistItem.checklist_id == run.checklists[0].checklist_id, StoredChecklistItem.code == code))


def _answer(session, world, run, code, value=None, username="ent1_mgr", **extra):
    item = _item(session, run, code)
    existing = session.scalar(select(InspectionAnswer).where(InspectionAnswer.run_id == run.id,
                                                             InspectionAnswer.item_id == item.id))
    data = {"item_id": item.id, "value": value, "version": existing.version if existing else None, **extra}
    uploads = data.pop("uploads", None)
    answer = inspections.save_answer(session, world.user(session, username), run.id, data, uploads=uploads)
    session.flush()
    return answer


# --- which checklists apply -----------------------------------------------------------------------------------------

def test_checklists_by_sector_tag_and_activities(session, world):
    """R-P2: E1 carries the fake sector with 生产, which fake-basic names; other activities or no tag: none."""
    e1, e4 = world.ent(session, "E1"), world.ent(session, "E4")
    assert [(c.code, c.version) for c in inspections.applicable_checklists(e1)] == [("fake-basic", "1.0")]
    assert inspections.applicable_checklists(e4) == []
    e1.sectors[0].activities = ["经营"]
    assert inspections.applicable_checklists(e1) == []
    session.add(EnterpriseSector(enterprise_id=e4.id, sector="fake", activities=["生产", "经营"], data={}))
    session.flush()
    session.refresh(e4)
    assert [c.code for c in inspections.applicable_checklists(e4)] == ["fake-basic"]
    # A tag of a plugin that is not enabled brings no checklist.
    session.add(EnterpriseSector(enterprise_id=e1.id, sector="hazchem", activities=[], data={}))
    session.flush()
    session.refresh(e1)
    assert inspections.applicable_checklists(e1) == []


def test_start_run_keeps_the_stored_version_and_audits(session, world):
    run = _start(session, world)
    (link,) = run.checklists
    assert (link.checklist.code, link.checklist.version) == ("fake-basic", "1.0")
    assert (run.kind, run.status, run.enterprise_id) == ("self_check", "draft", world.enterprises["E1"])
    assert run.scope_path == world.ent(session, "E1").scope_path
    entry = session.scalar(select(AuditEntry).where(AuditEntry.object_type == "inspection_run",
                                                    AuditEntry.object_id == str(run.id)))
    assert entry.action == "create" and "测试领域基础检查表" in entry.summary
    # A second run reuses the stored version row instead of storing it again.
    again = _start(session, world, "ent1_principal")
    assert again.checklists[0].checklist_id == link.checklist_id


def test_start_run_permission_scope_and_choice(session, world):
    with pytest.raises(PermissionDenied):
        _start(session, world, "xa_reg")
    with pytest.raises(NotFound):
        _start(session, world, "ent1_mgr", enterprise_id=world.enterprises["E4"])
    with pytest.raises(ValidationFailed) as exc:
        inspections.start_run(session, world.user(session, "ent1_mgr"), {"checklists": ["nope-x"]})
    assert "不适用" in exc.value.errors["checklists"][0]
    with pytest.raises(ValidationFailed) as exc:
        inspections.start_run(session, world.user(session, "ent1_mgr"), {"checklists": []})
    assert exc.value.errors["checklists"] == ["请至少选择一张适用的检查表"]
    with pytest.raises(ValidationFailed):
        inspections.start_run(session, world.user(session, "ent1_mgr"), {"checklists": ["fake-basic"], "kind": "x"})


# --- answers ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("code", "value", "message"), [
    ("1.1", "maybe", "请选择“是”、“否”"),
    ("1.1", "na", "请选择“是”、“否”"),
    ("2.1", "perhaps", "请选择“是”、“否”、“不适用”"),
    ("1.2", "abc", "应为数值"),
    ("1.2", "nan", "应为数值"),
    ("2.3", "字" * 2001, "不能超过 2000 个字"),
])
def test_answer_validation_per_type(session, world, code, value, message):
    """R-P2: the value is checked against the item's answer type."""
    run = _start(session, world)
    with pytest.raises(ValidationFailed) as exc:
        _answer(session, world, run, code, value)
    assert exc.value.errors["value"] == [message]


@pytest.mark.parametrize(("code", "value", "passed"), [
    ("1.1", "yes", True), ("1.1", "no", False), ("2.1", "na", None), ("2.1", "no", False),
    ("1.2", "1.6", True), ("1.2", "0", True), ("1.2", "1.61", False), ("1.2", "-1", False),
    ("2.3", "一切正常", None),
])
def test_passed_is_computed_from_pass_when(session, world, code, value, passed):
    run = _start(session, world)
    answer = _answer(session, world, run, code, value)
    assert (answer.value, answer.passed) == (value, passed)


def test_photo_item_is_answered_by_its_photos(session, world):
    run = _start(session, world)
    assert _answer(session, world, run, "2.2").value is None
    answer = _answer(session, world, run, "2.2", uploads=[PNG])
    assert answer.value == "photo"
    photos = session.scalars(select(Attachment).where(Attachment.owner_type == "inspection_answer",
                                                      Attachment.owner_id == answer.id)).all()
    assert [p.filename for p in photos] == ["现场.png"]
    assert _answer(session, world, run, "2.2", comment="补充说明").value == "photo"  # photos kept


def test_stale_or_missing_answer_version_is_409(session, world):
    run = _start(session, world)
    first = _answer(session, world, run, "1.1", "yes")
    assert first.version == 1
    item = _item(session, run, "1.1")
    actor = world.user(session, "ent1_principal")
    with pytest.raises(Conflict):  # the other tab did not know the answer exists
        inspections.save_answer(session, actor, run.id, {"item_id": item.id, "value": "no"})
    second = inspections.save_answer(session, actor, run.id, {"item_id": item.id, "value": "no", "version": 1})
    session.flush()
    assert (second.value, second.version) == ("no", 2)
    with pytest.raises(Conflict):
        inspections.save_answer(session, world.user(session, "ent1_mgr"), run.id,
                                {"item_id": item.id, "value": "yes", "version": 1})


def test_item_of_another_checklist_is_not_found(session, world):
    run = _start(session, world)
    with pytest.raises(NotFound):
        inspections.save_answer(session, world.user(session, "ent1_mgr"), run.id, {"item_id": 987654, "value": "yes"})


# --- completing -------------------------------------------------------------------------------------------------------

def _answer_all(session, world, run, **values):
    defaults = {"1.1": "yes", "1.2": "1.0", "2.1": "yes"}
    for code, value in {**defaults, **values}.items():
        if isinstance(value, dict):
            _answer(session, world, run, code, **value)
        else:
            _answer(session, world, run, code, value)


def test_complete_needs_every_item_with_a_pass_condition(session, world):
    run = _start(session, world)
    _answer(session, world, run, "1.1", "yes")
    with pytest.raises(ValidationFailed) as exc:
        inspections.complete_run(session, world.user(session, "ent1_mgr"), run.id, run.version)
    assert exc.value.errors["_schema"] == ["尚有 2 条未作答：1.2、2.1"]


def test_required_comment_and_photo_on_failure_are_named(session, world):
    run = _start(session, world)
    _answer_all(session, world, run, **{"1.1": "no", "2.1": "no"})
    with pytest.raises(ValidationFailed) as exc:
        inspections.complete_run(session, world.user(session, "ent1_mgr"), run.id, run.version)
    assert exc.value.errors["_schema"] == ["以下不合格条目须填写说明：2.1", "以下不合格条目须拍照上传：1.1"]
    assert run.status == "draft"


def test_failing_answers_become_classified_hazards(session, world):
    """R-H1: each failing item with on_fail.hazard is registered with its sector, checklist item and rule item;
    classify_hazard makes the fake rule item 重大. The run becomes read-only and the summary is stored."""
    run = _start(session, world)
    _answer_all(session, world, run, **{
        "1.1": {"value": "no", "uploads": [PNG], "comment": "报警器未安装"},
        "1.2": "2.5",
        "2.1": {"value": "no", "comment": "台账缺失"}})
    _answer(session, world, run, "2.3", "其他正常")
    done = inspections.complete_run(session, world.user(session, "ent1_mgr"), run.id, run.version)
    session.flush()
    assert done.status == "completed" and done.completed_at is not None
    made = inspections.created_hazards(session, world.user(session, "ent1_mgr"), done)
    assert [(h.checklist_item, h.level, h.rule_item, h.sector, h.source, h.category) for h in made] == [
        ("fake-basic/1.1", "major", "fake-2020-r1#1", "fake", "self_check", "thing"),
        ("fake-basic/1.2", "general", None, "fake", "self_check", "thing"),
        ("fake-basic/2.1", "general", None, "fake", "self_check", "management"),
    ]
    # A statement fit for a 执法文书: the cited rule item's text, where it comes from, what was seen; without a rule
    # item, the checklist item that was not met.
    assert made[0].description == "储罐区未设置泄漏检测报警装置（《测试领域基础检查表》检查项 1.1）。现场情况：报警器未安装"
    assert made[1].description.startswith("《测试领域基础检查表》检查项 1.2不合格：")
    assert inspections.run_date(done) == made[0].found_at.date() or \
        (made[0].found_at + timedelta(hours=8)).date() == inspections.run_date(done)
    # The failing answer's photo is the hazard's evidence; the answers point at their hazards.
    evidence = session.scalars(select(Attachment).where(Attachment.owner_type == "hazard",
                                                        Attachment.owner_id == made[0].id)).all()
    assert [(e.filename, e.sha256) for e in evidence] == [("现场.png", PNG.sha256)]
    assert evidence[0].transition_id is not None
    answers = session.scalars(select(InspectionAnswer).where(InspectionAnswer.run_id == run.id,
                                                             InspectionAnswer.hazard_id.is_not(None))).all()
    assert sorted(a.hazard_id for a in answers) == sorted(h.id for h in made)
    s = done.summary
    assert (s["total"], s["answered"], s["passed"], s["failed"], s["na"], s["unanswered"]) == (5, 4, 0, 3, 0, 1)
    assert (s["hazards"]["general"], s["hazards"]["major"]) == (2, 1)
    assert s["score"] == 0.0
    with pytest.raises(Conflict):  # completed: read-only
        _answer(session, world, run, "2.3", "改一下")
    with pytest.raises(Conflict):
        inspections.complete_run(session, world.user(session, "ent1_mgr"), run.id, done.version)


def test_score_of_scored_checklist_skips_not_applicable(session, world):
    run = _start(session, world)
    _answer_all(session, world, run, **{"2.1": "na"})
    done = inspections.complete_run(session, world.user(session, "ent1_mgr"), run.id, run.version)
    assert (done.summary["score"], done.summary["passed"], done.summary["na"]) == (100.0, 2, 1)
    assert done.summary["hazards"] == {"general": 0, "major": 0, "ids": []}

    run2 = _start(session, world)
    _answer_all(session, world, run2, **{"1.2": "9", "2.1": "na"})
    done2 = inspections.complete_run(session, world.user(session, "ent1_mgr"), run2.id, run2.version)
    assert done2.summary["score"] == round(10 * 100 / 15, 1)
    assert done2.summary["checklists"][0]["score"] == 66.7


def test_stale_run_version_is_409(session, world):
    run = _start(session, world)
    _answer_all(session, world, run)
    with pytest.raises(Conflict):
        inspections.complete_run(session, world.user(session, "ent1_mgr"), run.id, run.version + 1)


def test_task_run_records_the_task_check(session, world):
    """A run made for a risk-register task records that task's check and moves its due date on."""
    from core.services import risks

    mgr = world.user(session, "ent1_mgr")
    point = risks.create_risk_point(session, mgr, {"name": "储罐区", "category": "equipment", "method": "LS",
                                                   "inputs": {"L": 2, "S": 2}})
    measure = risks.add_measure(session, mgr, point.id, {"kind": "engineering", "description": "液位报警"})
    task = risks.add_task(session, mgr, point.id, {"measure_id": measure.id, "content": "检查液位报警",
                                                   "period": "monthly"})
    task.checklist_code = "fake-basic"
    session.flush()
    due = task.next_due
    run = _start(session, world, task_id=task.id)
    _answer_all(session, world, run)
    inspections.complete_run(session, mgr, run.id, run.version)
    session.flush()
    assert task.next_due > due and task.last_done == inspections.run_date(run)
    with pytest.raises(NotFound):  # another enterprise's task is out of scope
        _start(session, world, "ent4_mgr", task_id=task.id)


# --- scope ------------------------------------------------------------------------------------------------------------

def test_scope_isolation(session, world):
    run = _start(session, world)
    for username in ("ent4_mgr", "ta_reg"):
        with pytest.raises(NotFound):
            inspections.get_run(session, world.user(session, username), run.id)
        assert inspections.list_runs(session, world.user(session, username), {}).items == []
    for username in ("xa_reg", "grid1", "city_reg", "admin", "ent1_principal"):
        assert inspections.get_run(session, world.user(session, username), run.id).id == run.id
    # Government users see the self-check but do not answer it.
    item = _item(session, run, "1.1")
    with pytest.raises(PermissionDenied):
        inspections.save_answer(session, world.user(session, "xa_reg"), run.id, {"item_id": item.id, "value": "no"})
    with pytest.raises(NotFound):
        inspections.save_answer(session, world.user(session, "ent4_mgr"), run.id, {"item_id": item.id, "value": "no"})


# --- the real hazchem plugin ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hazchem_app(tmp_path_factory):
    """An app with the real hazchem plugin (and the fake sector, so that the test world builds)."""
    tmp = tmp_path_factory.mktemp("hzinsp")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("ANJIAN_ENABLED_PLUGINS", raising=False)
        mp.setenv("ANJIAN_INSTANCE_PATH", str(tmp / "instance"))
        app = create_app(base_config(f"sqlite:///{tmp / 'hz.db'}", ENABLED_PLUGINS=["hazchem"],
                                     UPLOAD_FOLDER=str(tmp / "uploads")))
    with app.app_context():
        upgrade()
        world = factories.build_world(db.session)
        sync_catalog(db.session)
        ent = enterprises.create_enterprise(db.session, SYSTEM, {
            "name": "测试化工有限公司", "uscc": factories.uscc(77), "jurisdiction_id": world.nodes["新店街道"],
            "grid_id": world.nodes["新店1网格"], "sectors": [{"sector": "hazchem", "activities": ["生产"], "data": {}}]})
        user = users.save_user(db.session, SYSTEM, {"username": "hz_mgr", "display_name": "化工安全员",
                                                    "password": factories.PASSWORD, "roles": ["enterprise_manager"],
                                                    "enterprise_id": ent.id})
        db.session.commit()
        app.config["HZ"] = (ent.id, user.id)
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


def test_hazchem_121_item_becomes_major_with_its_rule_item(hazchem_app):
    """Done-when of issue 5: a failing 121号 question becomes a 重大 hazard naming the 121号 item; a failing basic
    duty stays 一般."""
    from core.models import Enterprise, User

    with hazchem_app.app_context():
        ent_id, user_id = hazchem_app.config["HZ"]
        actor = db.session.get(User, user_id)
        (checklist,) = inspections.applicable_checklists(db.session.get(Enterprise, ent_id))
        assert checklist.code == "hazchem-basic" and len(checklist.items) >= 25
        run = inspections.start_run(db.session, actor, {"checklists": ["hazchem-basic"]})
        view = inspections.load_run(db.session, actor, run.id)
        by_code = {iv.item.code: iv for iv in view.items}
        # Rule texts come from the stored catalog.
        assert by_code["1.1"].basis[0][0] == "hazchem-2017-121#1" and by_code["1.1"].basis[0][1]
        basic = next(code for code, iv in by_code.items() if not code.startswith("1.") and iv.item.pass_when
                     and iv.item.answer_type in ("yes_no", "yes_no_na") and (iv.item.on_fail or {}).get("hazard")
                     and not (iv.item.on_fail or {}).get("photo_required"))
        for iv in view.items:
            if iv.item.pass_when is None:
                continue
            value = iv.item.pass_when if iv.item.answer_type != "number" else str(iv.item.pass_when.get("min", 0))
            if iv.item.code in ("1.5", basic):
                value = "no"
            data = {"item_id": iv.item.id, "value": value, "comment": "现场发现问题"}
            uploads = [PNG] if value == "no" and (iv.item.on_fail or {}).get("photo_required") else None
            inspections.save_answer(db.session, actor, run.id, data, uploads=uploads)
        db.session.flush()
        done = inspections.complete_run(db.session, actor, run.id, run.version)
        made = inspections.created_hazards(db.session, actor, done)
        got = {h.checklist_item: (h.level, h.rule_item, h.classified_by) for h in made}
        assert got["hazchem-basic/1.5"] == ("major", "hazchem-2017-121#5", "hazchem")
        assert got[f"hazchem-basic/{basic}"][0] == "general"
        assert done.summary["hazards"]["major"] == 1 and done.summary["failed"] == 2
        assert db.session.scalar(select(Hazard).where(Hazard.id == made[0].id)).sector == "hazchem"
        db.session.rollback()


# --- pages ------------------------------------------------------------------------------------------------------------

def _web_run(session, world):
    run = _start(session, world)
    session.commit()
    return run


def test_run_page_autosave_endpoint_and_fallback_form(session, world, login):
    """R-P2: the run page lists the items with their basis; the JSON endpoint saves one answer (409 when stale);
    the whole-form fallback saves changed answers and completes; the summary lists the hazards made."""
    c = login("ent1_mgr")
    page = c.get("/inspections/new")
    assert page.status_code == 200 and "测试领域基础检查表" in page.get_data(as_text=True)
    resp = page_form(page, page_url="/inspections/new").fill(checklists=["fake-basic"]).submit(c)
    assert resp.status_code == 302
    run_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    run = session.get(__import__("core.models", fromlist=["InspectionRun"]).InspectionRun, run_id)
    html = c.get(f"/inspections/{run_id}").get_data(as_text=True)
    assert "储罐区是否设置泄漏检测报警装置？" in html and "fake-2020-r1#1" in html and "现场查看报警装置并试验" in html
    assert f'data-answer-url="/inspections/{run_id}/answers"' in html
    item = _item(session, run, "1.1")
    saved = c.post(f"/inspections/{run_id}/answers", json={"item_id": item.id, "value": "no"})
    assert saved.status_code == 200
    body = saved.get_json()
    assert (body["value"], body["passed"], body["version"]) == ("no", False, 1)
    assert body["missing_on_failure"] == ["照片"] and body["progress"]["answered"] == 1
    stale = c.post(f"/inspections/{run_id}/answers", json={"item_id": item.id, "value": "yes"})
    assert stale.status_code == 409 and "版本" in stale.get_json()["message"]
    bad = c.post(f"/inspections/{run_id}/answers", json={"item_id": _item(session, run, "1.2").id, "value": "x"})
    assert bad.status_code == 422 and bad.get_json()["message"] == "应为数值"
    # The fallback form: photo for 1.1 plus the other answers, then complete.
    ids = {code: _item(session, run, code).id for code in ("1.1", "1.2", "2.1")}
    form = get_form(c, f"/inspections/{run_id}", action="/save").fill({
        f"value-{ids['1.1']}": "no", f"comment-{ids['1.1']}": "未装报警器", f"photos-{ids['1.1']}": (PNG.data, "a.png"),
        f"value-{ids['1.2']}": "1.2", f"value-{ids['2.1']}": "yes"})
    done = form.submit(c, "complete=1")
    assert done.status_code == 302
    summary = c.get(f"/inspections/{run_id}").get_data(as_text=True)
    assert "检查结果" in summary and "fake-2020-r1#1" in summary and "fake-basic/1.1" in summary
    assert "重大" in summary
    # Completed: read-only.
    again = c.post(f"/inspections/{run_id}/answers", json={"item_id": ids["1.2"], "value": "1", "version": 1})
    assert again.status_code == 409


def test_complete_refusal_names_the_items(session, world, login):
    run = _web_run(session, world)
    c = login("ent1_mgr")
    form = get_form(c, f"/inspections/{run.id}", action="/save")
    resp = form.submit(c, "complete=1", follow_redirects=True)
    assert "未能完成检查：尚有 3 条未作答：1.1、1.2、2.1" in resp.get_data(as_text=True)


def test_list_is_scoped(session, world, login):
    run = _web_run(session, world)
    assert f"#{run.id}" in login("xa_reg").get("/inspections/").get_data(as_text=True)
    assert f"#{run.id}" not in login("ent4_mgr").get("/inspections/").get_data(as_text=True)


def _big_run(session, world, n: int):
    """A run against a synthetic stored checklist of ``n`` answered items (with photos on some)."""
    from core.catalog.registry import validate_catalog
    from core.models import InspectionRun, InspectionRunChecklist
    from core.services.catalog import store_checklist

    items = [{"code": f"1.{i}", "question": f"第{i}项是否合格？", "answer": "yes_no", "pass_when": "yes",
              "basis": [{"rule": "fake-2020-r1#1"}, {"law": "《测试安全法》第十条"}],
              "on_fail": {"hazard": True, "category": "thing"}} for i in range(1, n + 1)]
    raw_rules = __import__("tests.plugins.fake_sector", fromlist=["x"]).register_rule_sets()
    catalog = validate_catalog(raw_rules, [{"code": f"fake-big{n}", "version": "1", "sector": "fake",
                                            "title": f"大检查表{n}", "sections": [{"code": "1", "title": "全部",
                                                                                 "items": items}]}])
    row = store_checklist(session, catalog.checklists[(f"fake-big{n}", "1")])
    e1 = world.ent(session, "E1")
    run = InspectionRun(enterprise_id=e1.id, scope_path=e1.scope_path, kind="self_check",
                        started_by_name="ent1_mgr", status="draft")
    run.checklists = [InspectionRunChecklist(checklist=row)]
    session.add(run)
    session.flush()
    actor = world.user(session, "ent1_mgr")
    for n_item, item in enumerate(row.items):
        inspections.save_answer(session, actor, run.id, {"item_id": item.id, "value": "no" if n_item % 2 else "yes"},
                                uploads=[PNG] if n_item % 3 == 0 else None)
    session.commit()
    return run


def test_run_page_queries_stay_flat(session, world, login, queries):
    """R-N1: the run page costs the same number of queries for 3 and 30 answered items."""
    c = login("ent1_mgr")
    small, big = _big_run(session, world, 3).id, _big_run(session, world, 30).id
    n_small = queries.of(lambda: c.get(f"/inspections/{small}"))
    n_big = queries.of(lambda: c.get(f"/inspections/{big}"))
    assert n_small == n_big, (n_small, n_big)
    assert c.get(f"/inspections/{big}").get_data(as_text=True).count('class="insp-item') == 30
    n_list = queries.of(lambda: c.get("/inspections/"))
    _big_run(session, world, 4)
    assert queries.of(lambda: c.get("/inspections/")) == n_list


def test_start_from_a_risk_register_task(session, world, login):
    """R-P2: a scheduled task (排查任务) with a checklist code opens the start page with that checklist chosen; the
    run keeps the task."""
    from core.models import InspectionRun
    from core.services import risks

    mgr = world.user(session, "ent1_mgr")
    point = risks.create_risk_point(session, mgr, {"name": "罐区", "category": "equipment", "method": "LS",
                                                   "inputs": {"L": 2, "S": 2}})
    measure = risks.add_measure(session, mgr, point.id, {"kind": "engineering", "description": "泄漏报警"})
    task = risks.add_task(session, mgr, point.id, {"measure_id": measure.id, "content": "按检查表检查罐区",
                                                   "period": "weekly", "checklist_code": "fake-basic"})
    session.commit()
    c = login("ent1_mgr")
    assert "按检查表排查" in c.get(f"/risks/{point.id}").get_data(as_text=True)
    html = c.get(f"/inspections/new?task_id={task.id}").get_data(as_text=True)
    assert "按检查表检查罐区" in html and 'value="fake-basic" checked' in html
    resp = get_form(c, f"/inspections/new?task_id={task.id}").submit(c)  # the task's checklist is ticked
    run_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    assert session.get(InspectionRun, run_id).task_id == task.id
    assert login("ent4_mgr").get(f"/inspections/new?task_id={task.id}").status_code == 404
