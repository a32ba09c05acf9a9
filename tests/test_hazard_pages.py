"""The hidden-danger web pages end to end through the Flask test client (R-H1…R-H4, R-H6, R-N3, R-N5).

Clients come from the ``login(username)`` fixture. CSRF is off in the test app except in the test that checks it;
photos are posted as ``multipart/form-data`` like a browser does.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from core.models import Attachment, ControlMeasure, Hazard, HazardSupervision, RiskPoint
from core.schemas.hazard import SUPERVISION_LEVELS
from core.services import hazard_flow, hazards
from core.services.attachments import Upload
from core.services.hazards import today
from core.views.web.hazard_forms import ACTION_FIELDS, EVIDENCE
from tests.forms import get_form, submit, tamper
from tests.images import jpeg_bytes, png_bytes

PNG = png_bytes()  # real bytes: uploads are decoded (tests/images.py)
JPEG = jpeg_bytes()
PLAN = {k: f"{label}：按方案落实" for k, label in hazard_flow.PLAN_FIELDS.items()}


@pytest.fixture(autouse=True)
def _uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))


def make(session, world, username="ent1_mgr", ent="E1", photo=False, **extra) -> Hazard:
    """A hazard registered through the service (setup only; registration through the page is tested below)."""
    data = {"enterprise_id": world.enterprises[ent], "description": "配电箱未接地", "category": "thing", **extra}
    uploads = [Upload(PNG, "image/png", "现场.png")] if photo else None
    h = hazards.register_hazard(session, world.user(session, username), data, uploads=uploads)
    session.commit()
    return h


def perform(session, world, username, h, code, **data) -> Hazard:
    h = hazard_flow.perform(session, world.user(session, username), h.id, code, {"version": h.version, **data})
    session.commit()
    return h


def text(resp) -> str:
    return resp.get_data(as_text=True)


def ok(resp, status: int = 200) -> str:
    assert resp.status_code == status, text(resp)[:3000]
    return text(resp)


def post_action(client, h, code, photos=(), **fields):
    """Open the action's page, fill its form as the user would and submit it."""
    form = get_form(client, f"/hazards/{h.id}/act/{code}")
    form.fill({k: str(v) for k, v in fields.items()})
    if photos:
        form.attach_all("photos", [(content, name) for name, content in photos])
    return form.submit(client)


def row_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<td data-label="编号"><a href="/hazards/(\d+)"', html)]


# --- the ledger ----------------------------------------------------------------------------------------------------

@pytest.fixture()
def ledger(session, world):
    """Hazards of E1 in several states (one overdue, one major and listed, one closed), one of E4."""
    made = {
        "a": make(session, world, description="储罐区报警器失效"),
        "b": make(session, world, "xa_insp", description="配电柜无防护"),
        "c": make(session, world, description="消防通道堵塞", category="environment"),
        "major": make(session, world, "ent1_principal", level="major", sector="fake", rule_item="fake/R1#1",
                      description="重大：反应釜安全阀失效"),
        "d": make(session, world, description="未按规定培训", category="management", found_on=date(2026, 1, 5)),
        "e": make(session, world, description="安全标志缺失"),
        "e4": make(session, world, "ent4_mgr", ent="E4", description="同安区的隐患"),
    }
    made["c"] = perform(session, world, "ent1_mgr", made["c"], "assign", responsible_name="王五", days=5)
    made["c"].deadline = today() - timedelta(days=3)  # overdue by three days
    made["e"] = hazard_flow.perform(session, world.user(session, "ent1_mgr"), made["e"].id, "rectify_on_spot",
                                    {"version": made["e"].version, "comment": "已补"},
                                    uploads=[Upload(PNG, "image/png", "e.png")])
    made["major"] = perform(session, world, "ent1_principal", made["major"], "plan", **PLAN)
    made["major"] = perform(session, world, "xa_reg", made["major"], "list", level="county",
                            due_date=today() + timedelta(days=30), leader_name="李局长")
    session.commit()
    return made


def test_ledger_is_scoped_newest_first_with_count_and_overdue_marked(login, ledger):
    """R-H6: the ledger lists the hidden dangers in scope, newest first, with a count; overdue is shown clearly."""
    html = ok(login("xa_reg").get("/hazards/"))
    e1 = sorted((h.id for k, h in ledger.items() if k != "e4"), reverse=True)
    assert row_ids(html) == e1
    assert "共 6 条" in html and "同安区的隐患" not in html
    assert html.count("hz-overdue-tag") == 1 and "已逾期 3 天" in html
    assert "县（区）督办" in html  # the listed major hazard carries its listing level
    assert 'href="/hazards/export.csv"' in html and 'href="/hazards/export.xlsx"' in html
    assert row_ids(ok(login("ta_reg").get("/hazards/"))) == [ledger["e4"].id]
    assert row_ids(ok(login("ent1_mgr").get("/hazards/"))) == e1


@pytest.mark.parametrize(("query", "keys"), [
    ({"level": "major"}, ["major"]),
    ({"state": "rectifying"}, ["c"]),
    ({"state": "closed"}, ["e"]),
    ({"state": "open"}, ["d", "major", "c", "b", "a"]),
    ({"source": "inspection"}, ["b"]),
    ({"q": "消防"}, ["c"]),
    ({"overdue": "true"}, ["c"]),
    ({"supervised": "true"}, ["major"]),
    ({"sector": "fake"}, ["major"]),
    ({"found_from": "2026-01-01", "found_to": "2026-01-31"}, ["d"]),
])
def test_ledger_filters(login, ledger, query, keys):
    """R-H6: every filter of the ledger form narrows the list as the API does."""
    expected = sorted((ledger[k].id for k in keys), reverse=True)
    assert row_ids(ok(login("xa_reg").get("/hazards/", query_string=query))) == expected


def test_ledger_filter_by_enterprise_and_jurisdiction(login, world, ledger):
    city = login("city_reg")
    html = ok(city.get("/hazards/", query_string={"enterprise_id": world.enterprises["E4"]}))
    assert row_ids(html) == [ledger["e4"].id] and "测试E4有限公司" in html and "全部企业" in html
    assert row_ids(ok(city.get("/hazards/", query_string={"jurisdiction_id": world.nodes["同安区"]}))) == [
        ledger["e4"].id]
    # a filter never widens the scope, and the other district's enterprise is not even named
    html = ok(login("xa_reg").get("/hazards/", query_string={"enterprise_id": world.enterprises["E4"]}))
    assert row_ids(html) == [] and "测试E4有限公司" not in html


def test_ledger_filter_by_risk_point(login, session, world):
    point, measure = risk_point(session, world)
    on_point = make(session, world, risk_point_id=point.id, control_measure_id=measure.id)
    make(session, world)
    html = ok(login("ent1_mgr").get("/hazards/"))
    assert "储罐区" in html  # the risk point is offered as a filter
    assert row_ids(ok(login("ent1_mgr").get("/hazards/", query_string={"risk_point_id": point.id}))) == [on_point.id]


def test_ledger_keyset_pages(login, ledger):
    client = login("xa_reg")
    first = ok(client.get("/hazards/", query_string={"size": 4}))
    ids = row_ids(first)
    assert len(ids) == 4 and "共 6 条" in first
    nxt = re.search(r'href="(/hazards/\?after=\d+[^"]*)"', first).group(1).replace("&amp;", "&")
    second = ok(client.get(nxt))
    assert len(row_ids(second)) == 2 and min(ids) > max(row_ids(second))
    assert sorted(ids + row_ids(second), reverse=True) == sorted((h.id for k, h in ledger.items() if k != "e4"),
                                                                 reverse=True)
    assert not set(ids) & set(row_ids(second))


def test_ledger_bad_filter_is_a_chinese_message_not_a_crash(login, ledger):
    html = ok(login("xa_reg").get("/hazards/", query_string={"state": "done", "found_from": "昨天"}))
    assert "筛选条件有误" in html and len(row_ids(html)) == 6


def test_export_csv_has_the_filtered_rows(login, ledger):
    """R-H6: the CSV export holds exactly the ledger rows for the same filters, with Chinese labels."""
    resp = login("xa_reg").get("/hazards/export.csv", query_string={"state": "open", "level": "major"})
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "filename*=UTF-8''%E9%9A%90%E6%82%A3" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "发现日期", "企业"]
    assert [r[0] for r in rows[1:]] == [str(ledger["major"].id)]
    row = dict(zip(rows[0], rows[1]))
    assert (row["等级"], row["判定依据"], row["挂牌督办"], row["状态"]) == ("重大", "fake/R1#1", "是", "登记")
    resp = login("xa_reg").get("/hazards/export.csv", query_string={"overdue": "true"})
    rows = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
    assert [(r[0], r[14]) for r in rows[1:]] == [(str(ledger["c"].id), "是")]


def test_export_xlsx_and_permissions(login, ledger):
    resp = login("ent1_mgr").get("/hazards/export.xlsx")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.get_data()), read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "编号" and len(rows) == 1 + 6
    assert {r[2] for r in rows[1:]} == {"测试E1有限公司"}
    assert login("grid1").get("/hazards/export.csv").status_code == 403
    assert login("xa_reg").get("/hazards/export.pdf").status_code == 404


# --- registration ----------------------------------------------------------------------------------------------------

def risk_point(session, world):
    point = RiskPoint(enterprise_id=world.enterprises["E1"], scope_path=world.ent(session, "E1").scope_path,
                      name="储罐区", category="equipment", method="LEC", inputs={}, score=160, grade="large")
    session.add(point)
    session.flush()
    measure = ControlMeasure(risk_point_id=point.id, kind="工程技术", description="可燃气体报警器每日检查")
    session.add(measure)
    session.commit()
    return point, measure


def test_register_form_for_an_enterprise_user(login, session, world):
    """R-H1: every field the service takes, photos from the phone camera, level suggestion and rule item."""
    risk_point(session, world)
    html = ok(login("ent1_mgr").get("/hazards/new"))
    for name in ("description", "location", "category", "found_on", "level", "sector", "rule_item", "checklist_item",
                 "object_type", "object_ref", "risk_point_id", "control_measure_id"):
        assert f'name="{name}"' in html, name
    assert re.search(r'<input type="file" name="photos" accept="image/\*" capture="environment" multiple', html)
    assert 'enctype="multipart/form-data"' in html and "储罐区（较大风险）" in html and "可燃气体报警器每日检查" in html
    assert "测试领域" in html and "测试储罐" in html and "企业自查" in html
    assert 'name="source"' not in html  # an enterprise registers as 企业自查 only


def test_government_user_picks_the_enterprise_first(login, world):
    client = login("xa_reg")
    html = ok(client.get("/hazards/new", query_string={"q": "E2"}))
    assert f'href="/hazards/new?enterprise_id={world.enterprises["E2"]}"' in html and "测试E1有限公司" not in html
    html = ok(client.get("/hazards/new", query_string={"enterprise_id": world.enterprises["E2"]}))
    assert "测试E2有限公司" in html and 'name="source"' in html  # a regulator chooses among its sources
    assert client.get("/hazards/new", query_string={"enterprise_id": world.enterprises["E4"]}).status_code == 404
    assert login("admin").get("/hazards/new").status_code == 403


def test_register_with_photos_creates_the_hazard(login, session, world):
    client = login("ent1_mgr")
    resp = submit(client, "/hazards/new", {
        "description": "二号车间配电箱未接地", "location": "二号车间", "category": "thing", "level": "general",
        "found_on": today().isoformat(), "photos": [(PNG, "现场.png"), (JPEG, "近景.jpg")]})
    assert resp.status_code == 302, text(resp)
    hazard_id = int(resp.headers["Location"].rsplit("/", 1)[-1])
    h = session.get(Hazard, hazard_id)
    assert (h.description, h.location, h.source, h.level, h.found_by_name) == (
        "二号车间配电箱未接地", "二号车间", "self_check", "general", "ent1_mgr")
    files = session.scalars(select(Attachment).where(Attachment.owner_id == hazard_id)).all()
    assert [(f.filename, f.content_type) for f in files] == [("现场.png", "image/png"), ("近景.jpg", "image/jpeg")]
    html = ok(client.get(f"/hazards/{hazard_id}"))
    assert f"已登记隐患 {hazard_id}，等级：一般" in html
    assert f'<img src="/hazards/{hazard_id}/attachments/{files[0].id}"' in html


def test_register_major_by_the_sector_plugin_and_on_a_risk_point(login, session, world):
    """R-H1: the fake sector plugin decides 重大 from the rule item; the risk point and failed measure are kept."""
    point, measure = risk_point(session, world)
    client = login("ent1_principal")
    resp = submit(client, "/hazards/new", {
        "description": "反应釜安全阀失效", "category": "thing", "level": "general", "sector": "fake",
        "rule_item": "fake/R1#1", "risk_point_id": str(point.id), "control_measure_id": str(measure.id)})
    assert resp.status_code == 302, text(resp)
    h = session.scalar(select(Hazard).order_by(Hazard.id.desc()))
    assert (h.level, h.rule_item, h.classified_by, h.risk_point_id, h.control_measure_id) == (
        "major", "fake/R1#1", "fake", point.id, measure.id)
    detail = ok(client.get(resp.headers["Location"]))
    assert "等级：重大（依据 fake/R1#1）" in detail
    # R-R2: the detail links back to the risk point and names the failed control measure.
    assert f'href="/risks/{point.id}"' in detail and "储罐区</a>（较大风险）" in detail
    assert "失效的管控措施：可燃气体报警器每日检查" in detail


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"description": "短", "category": "thing"}, "description", "长度应在"),
    ({"description": "配电箱未接地", "category": ""}, "category", "不能为空"),
    ({"description": "配电箱未接地", "category": "thing", "found_on": "2026-13-01"}, "found_on", "应为日期"),
    ({"description": "配电箱未接地", "category": "thing", "level": "catastrophic"}, "level",
     "取值应为以下之一：general、major"),
    ({"description": "配电箱未接地", "category": "thing", "control_measure_id": "1"}, "control_measure_id",
     "请先选择风险点"),
])
def test_register_errors_are_chinese_and_save_nothing(login, session, world, fields, field, message):
    """R-N3: bad input gets a form message beside the field, keeps what was typed and changes nothing."""
    before = session.scalar(select(func.count(Hazard.id)))
    client = login("ent1_mgr")
    form = get_form(client, "/hazards/new")
    forged = {"level": "a level the select does not offer",
              "control_measure_id": "no risk points here, so the page shows no control-measure field"}
    if field in forged:
        with pytest.raises(KeyError):
            form.fill(fields)  # the page cannot send it …
        resp = tamper(client, "/hazards/new", fields, why=forged[field])  # … but the server must refuse it too
    else:
        resp = form.fill(fields).submit(client)
    html = ok(resp, 422)
    assert "提交的数据有误" in html
    assert re.search(rf"<li>[^<：]+：[^<]*{message}", html), html  # in the summary at the top …
    if field != "control_measure_id":  # … and beside the field (no risk points here: that field is not shown)
        assert re.search(rf'name="{field}".*?<span class="field-error">[^<]*{message}', html, re.DOTALL), html
    assert fields["description"] in html
    assert session.scalar(select(func.count(Hazard.id))) == before


@pytest.mark.parametrize(("name", "content", "message"), [
    ("现场.png", b"MZ\x90\x00 an executable renamed", "只接受 JPEG、PNG、WebP 图片"),
    ("报告.pdf", b"%PDF-1.7\n%...", "只接受 JPEG、PNG、WebP 图片"),
    ("空.jpg", b"", "文件是空的"),
])
def test_a_bad_photo_is_rejected_and_nothing_is_saved(login, session, world, name, content, message):
    """R-N3: photos are checked by content; a bad one refuses the whole registration with a clear message."""
    before = (session.scalar(select(func.count(Hazard.id))), session.scalar(select(func.count(Attachment.id))))
    resp = submit(login("ent1_mgr"), "/hazards/new", {
        "description": "配电箱未接地", "category": "thing", "photos": [(PNG, "好的.png"), (content, name)]})
    html = ok(resp, 422)
    assert f"{name}：{message}" in html and "请重新选择照片" in html
    after = (session.scalar(select(func.count(Hazard.id))), session.scalar(select(func.count(Attachment.id))))
    assert after == before


# --- detail --------------------------------------------------------------------------------------------------------

def test_detail_shows_fields_timeline_evidence_and_the_actions(login, session, world):
    """R-H2: the detail has every field, the timeline (actor, time, comment, data, evidence) and the user's actions."""
    h = make(session, world, photo=True, location="二号车间")
    h = perform(session, world, "ent1_mgr", h, "assign", responsible_name="王五", days=10, measures="重新接地",
                comment="尽快整改")
    html = ok(login("ent1_principal").get(f"/hazards/{h.id}"))
    for expected in ("配电箱未接地", "二号车间", "物的不安全状态", "企业自查", "整改中", "王五", "重新接地",
                     (today() + timedelta(days=10)).strftime("%Y年%-m月%-d日"), "剩 10 天", "登记", "下达整改",
                     "尽快整改", "整改责任人", "ent1_mgr", "处置记录"):
        assert expected in html, expected
    photo = session.scalar(select(Attachment).where(Attachment.owner_id == h.id))
    assert f'src="/hazards/{h.id}/attachments/{photo.id}"' in html
    # the principal may ask for an extension (rectifying) but not review before a report of rectification
    codes = re.findall(rf'action="/hazards/{h.id}/act/(\w+)"', html)
    assert codes == [a.code for a in hazard_flow.available_actions(world.user(session, "ent1_principal"), h)]
    assert "request_review" in codes and "review_pass" not in codes
    assert f'name="version" value="{h.version}"' in html
    assert login("ta_reg").get(f"/hazards/{h.id}").status_code == 404
    assert login("ent4_mgr").get(f"/hazards/{h.id}").status_code == 404
    assert login("xa_reg").get("/hazards/987654").status_code == 404


def test_detail_of_an_overdue_hazard_says_so(login, session, world):
    h = perform(session, world, "ent1_mgr", make(session, world), "assign", responsible_name="王五", days=5)
    h.deadline = today() - timedelta(days=2)
    session.commit()
    html = ok(login("xa_reg").get(f"/hazards/{h.id}"))
    assert "已逾期 2 天" in html and "hz-overdue-banner" in html


def test_every_action_form_posts_exactly_its_schema_fields():
    """The web form of each action carries every field of the action's schema (and nothing else)."""
    assert set(ACTION_FIELDS) == set(hazard_flow.ACTIONS)
    for code, action in hazard_flow.ACTIONS.items():
        schema_fields = set(action.schema._declared_fields) - {"version"}
        assert {f.name for f in ACTION_FIELDS[code]} == schema_fields, code
    assert EVIDENCE["rectify_on_spot"] is True and hazard_flow.ACTIONS["rectify_on_spot"].needs_evidence


# --- actions through the web forms -----------------------------------------------------------------------------------

def test_general_loop_through_the_web_forms(login, session, world):
    """R-H2: assign → request_review with a photo → review_fail → request_review → review_pass, each by its form."""
    mgr, principal = login("ent1_mgr"), login("ent1_principal")
    h = make(session, world)
    html = ok(mgr.get(f"/hazards/{h.id}/act/assign"))
    assert 'name="responsible_name"' in html and f'name="version" value="{h.version}"' in html
    resp = post_action(mgr, h, "assign", responsible_name="王五", days="10", deadline_kind="calendar",
                       measures="重新接地", deadline="", comment="")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/hazards/{h.id}")
    session.refresh(h)
    assert (h.state, h.responsible_name, h.deadline) == ("rectifying", "王五", today() + timedelta(days=10))
    assert "已完成：下达整改" in ok(mgr.get(f"/hazards/{h.id}"))

    html = ok(mgr.get(f"/hazards/{h.id}/act/request_review"))
    assert 'accept="image/*" capture="environment" multiple' in html
    resp = post_action(mgr, h, "request_review", photos=[("整改后.png", PNG)], comment="已重新接地")
    assert resp.status_code == 302, text(resp)
    session.refresh(h)
    assert h.state == "pending_review"
    new_deadline = today() + timedelta(days=3)
    assert post_action(principal, h, "review_fail", comment="接地电阻不合格",
                       deadline=new_deadline.isoformat()).status_code == 302
    session.refresh(h)
    assert (h.state, h.deadline) == ("rectifying", new_deadline)
    assert post_action(mgr, h, "request_review", comment="已复测").status_code == 302
    session.refresh(h)
    assert post_action(principal, h, "review_pass", comment="复查合格").status_code == 302
    session.refresh(h)
    assert h.state == "closed" and h.closed_at is not None
    html = ok(mgr.get(f"/hazards/{h.id}"))
    steps = re.findall(r'<div class="hz-step-head"><b>([^<]+)</b>', html)
    assert steps == ["登记", "下达整改", "整改完成，申请复查", "复查不合格，重新整改", "整改完成，申请复查", "复查合格"]
    assert [t.action for t in h.transitions] == ["register", "assign", "request_review", "review_fail",
                                                 "request_review", "review_pass"]
    assert "已销号，闭环完成" in html and "已重新接地" in html and "接地电阻不合格" in html


def test_rectify_on_spot_needs_a_photo(login, session, world):
    """R-H2: 立即整改 closes an 一般 hazard in one step with evidence; without a photo the form says so."""
    insp = login("xa_insp")
    h = make(session, world)
    html = ok(post_action(insp, h, "rectify_on_spot", comment="当场整改"), 422)
    assert "请上传整改前后的照片作为证据" in html and "当场整改" in html
    session.refresh(h)
    assert h.state == "registered"
    assert post_action(insp, h, "rectify_on_spot", photos=[("后.jpg", JPEG)], comment="当场整改").status_code == 302
    session.refresh(h)
    assert h.state == "closed" and h.closed_on_spot


def test_major_loop_through_the_web_forms(login, session, world):
    """R-H3: plan → 挂牌督办 (county) → assign → 延期申请 → 审批 → 复查 → 销号 by the listing agency."""
    principal, xa_reg, city_reg = login("ent1_principal"), login("xa_reg"), login("city_reg")
    h = make(session, world, "ent1_principal", level="major", sector="fake", rule_item="fake/R1#1")
    html = ok(principal.get(f"/hazards/{h.id}"))
    assert "尚缺：" in html and 'action="/hazards/%d/act/assign"' % h.id not in html
    html = ok(principal.get(f"/hazards/{h.id}/act/assign"), 409)
    assert "重大事故隐患须先报告并制定治理方案" in html
    assert post_action(principal, h, "plan", funds_amount="30", approved_by_name="陈总", comment="",
                       **PLAN).status_code == 302
    session.refresh(h)
    html = ok(principal.get(f"/hazards/{h.id}"))
    assert "齐全" in html and "30 万元" in html and "五落实：责任（✓）" in html

    html = ok(xa_reg.get(f"/hazards/{h.id}/act/list"))
    assert '<option value="county" selected>' in html  # the regulator's own level is proposed
    due = today() + timedelta(days=60)
    assert post_action(xa_reg, h, "list", level="county", due_date=due.isoformat(), leader_name="李局长",
                       requirements="限期治理", comment="").status_code == 302
    session.refresh(h)
    assert [(s.level, s.leader_name, s.due_date) for s in h.supervisions] == [("county", "李局长", due)]
    assert post_action(principal, h, "assign", responsible_name="张三").status_code == 302
    session.refresh(h)
    later = today() + timedelta(days=120)
    assert post_action(principal, h, "request_extension", new_deadline=later.isoformat(),
                       reason="设备到货延迟").status_code == 302
    session.refresh(h)
    html = ok(xa_reg.get(f"/hazards/{h.id}/act/decide_extension"))
    assert "设备到货延迟" in html and 'value="true" checked' in html
    assert city_reg.get(f"/hazards/{h.id}/act/decide_extension").status_code == 403  # not the listing agency
    assert post_action(xa_reg, h, "decide_extension", approve="true", comment="同意延期").status_code == 302
    session.refresh(h)
    assert h.deadline == later and h.extensions[0].status == "approved"
    assert post_action(principal, h, "request_review", photos=[("治理完成.jpg", JPEG)],
                       comment="治理完成，申请复查").status_code == 302
    session.refresh(h)
    assert post_action(login("xa_insp"), h, "review_pass", comment="现场复查合格").status_code == 302
    session.refresh(h)
    assert h.state == "reviewed"
    html = ok(city_reg.get(f"/hazards/{h.id}/act/close"), 403)
    assert "挂牌机关" in html
    assert post_action(xa_reg, h, "close", comment="准予销号").status_code == 302
    session.refresh(h)
    assert h.state == "closed" and h.supervisions[0].lifted_at is not None
    html = ok(principal.get(f"/hazards/{h.id}"))
    for label in ("报告与治理方案", "挂牌督办", "下达整改", "延期申请", "延期审批", "整改完成，申请复查", "复查合格",
                  "销号", "已摘牌", "已批准", "1 项挂牌督办随销号摘牌"):
        assert label in html, label


def test_validation_errors_on_an_action_keep_the_input(login, session, world):
    mgr = login("ent1_mgr")
    h = make(session, world)
    html = ok(post_action(mgr, h, "assign", responsible_name="", measures="重新接地", days="5"), 422)
    assert "整改责任人：不能为空" in html and "重新接地" in html and 'name="days" value="5"' in html
    html = ok(post_action(mgr, h, "assign", responsible_name="王五", days="5", deadline="2099-01-01"), 422)
    assert "只能填一项" in html
    html = ok(post_action(mgr, h, "assign", responsible_name="王五", deadline="2000-01-01"), 422)
    assert "整改期限不能早于今天" in html
    session.refresh(h)
    assert h.state == "registered" and h.version == 1


def test_a_stale_version_is_a_conflict_that_keeps_the_typed_input(login, session, world):
    """R-N3, decision 3: a form from an older version is refused with a Chinese message; the input is kept and the
    form now carries the current version, so a second submit is deliberate."""
    h = make(session, world)
    old_assign = get_form(login("ent1_mgr"), f"/hazards/{h.id}/act/assign")  # a tab opened before the changes
    h = perform(session, world, "ent1_principal", h, "assign", responsible_name="李四", days=5)
    perform(session, world, "ent1_principal", h, "request_extension",
            new_deadline=today() + timedelta(days=30), reason="等待备件")
    session.refresh(h)
    mgr = login("ent1_principal")
    # an extension decision typed on a page loaded before the request was made
    url = f"/hazards/{h.id}/act/decide_extension"
    typed = get_form(mgr, url).fill(approve="false", comment="理由不充分，驳回").fields()
    stale = [(n, str(h.version - 1) if n == "version" else v) for n, v in typed]
    html = ok(tamper(mgr, url, MultiDict(stale), why="the decision page only exists at the current version: an "
                                                      "older one stands for a change made while it was open"), 409)
    assert "已被他人修改" in html and "理由不充分，驳回" in html and 'value="false" checked' in html
    assert f'name="version" value="{h.version}"' in html
    session.refresh(h)
    assert h.extensions[0].status == "pending"
    # a form whose action is no longer possible: the reason is shown instead of the form
    html = ok(old_assign.fill(responsible_name="王五").submit(login("ent1_mgr")), 409)
    assert "已被他人修改" in html and "不能下达整改" in html and "隐患当前状态为“整改中”" in html
    assert 'name="responsible_name"' not in html


def test_refused_actions_show_the_reason(login, session, world):
    """R-H2: a refused action says why in Chinese (state: 409 on the page; who: 403) and changes nothing."""
    h = make(session, world)
    html = ok(login("ent1_mgr").get(f"/hazards/{h.id}/act/request_review"), 409)
    assert "不能整改完成，申请复查" in html and "隐患当前状态为“登记”" in html and 'name="comment"' not in html
    html = ok(login("grid1").get(f"/hazards/{h.id}/act/assign"), 403)
    assert "只有本企业人员或执法、监管人员可以下达整改" in html
    expired = login("xa_insp_expired")
    assert 'name="responsible_name"' not in ok(expired.get(f"/hazards/{h.id}/act/assign"), 403)
    html = ok(tamper(expired, f"/hazards/{h.id}/act/assign", {"version": str(h.version), "responsible_name": "王五"},
                     why="the page refuses an inspector whose 执法证 expired and shows no form"), 403)
    assert "执法证" in html
    html = ok(login("ent1_mgr").get(f"/hazards/{h.id}/act/plan"), 409)
    assert "不适用于" in html
    assert login("ent1_mgr").get(f"/hazards/{h.id}/act/demolish").status_code == 404
    assert login("ta_reg").get(f"/hazards/{h.id}/act/assign").status_code == 404
    session.refresh(h)
    assert (h.state, h.version) == ("registered", 1)


def test_wrong_listing_level_is_explained_on_the_form(login, session, world):
    h = make(session, world, "ent1_principal", level="major", sector="fake", rule_item="fake/R1#1")
    h = perform(session, world, "ent1_principal", h, "plan", **PLAN)
    html = ok(post_action(login("xa_reg"), h, "list", level="city", leader_name="李局长",
                          due_date=(today() + timedelta(days=9)).isoformat()), 403)
    assert "市级挂牌督办须由市级监管部门进行" in html and "李局长" in html
    session.refresh(h)
    assert h.supervisions == []


def test_csrf_is_enforced_on_the_forms(app, login, session, world, monkeypatch):
    """R-A5: a form post without the page's CSRF token is refused and changes nothing."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    client = login("ent1_mgr")
    h = make(session, world)
    resp = tamper(client, f"/hazards/{h.id}/act/assign", {"version": str(h.version), "responsible_name": "王五"},
                  why="a post without the page's CSRF token")
    assert resp.status_code == 400 and "页面已过期" in text(resp)
    resp = tamper(client, "/hazards/new", {"description": "配电箱未接地", "category": "thing"},
                  why="a post without the page's CSRF token")
    assert resp.status_code == 400
    session.refresh(h)
    assert h.state == "registered"
    resp = post_action(client, h, "assign", responsible_name="王五")  # the page's form carries its token
    assert resp.status_code == 302
    session.refresh(h)
    assert h.state == "rectifying"


# --- attachments ---------------------------------------------------------------------------------------------------

def test_attachment_download_is_scoped_inline_and_nosniff(login, session, world):
    h = make(session, world, photo=True)
    other = make(session, world, photo=True)
    photo = session.scalar(select(Attachment).where(Attachment.owner_id == h.id))
    foreign = session.scalar(select(Attachment).where(Attachment.owner_id == other.id))
    resp = login("xa_reg").get(f"/hazards/{h.id}/attachments/{photo.id}")
    assert resp.status_code == 200 and resp.data == PNG and resp.mimetype == "image/png"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Disposition"].startswith("inline")
    assert login("ta_reg").get(f"/hazards/{h.id}/attachments/{photo.id}").status_code == 404
    assert login("xa_reg").get(f"/hazards/{h.id}/attachments/{foreign.id}").status_code == 404
    assert login("xa_reg").get(f"/hazards/{h.id}/attachments/987654").status_code == 404


# --- 挂牌督办 list, enterprise box, menu ----------------------------------------------------------------------------

def test_supervised_list_sorted_by_due_date_with_overdue(login, session, world):
    """R-H3: the regulator's list of 挂牌督办 hazards with level, agency, deadline, leader and overdue."""
    listed = []
    for days, leader in ((40, "甲领导"), (10, "乙领导")):
        h = make(session, world, "ent1_principal", level="major", sector="fake", rule_item="fake/R1#1",
                 description=f"重大隐患{leader}")
        h = perform(session, world, "ent1_principal", h, "plan", **PLAN)
        listed.append(perform(session, world, "xa_reg", h, "list", level="county",
                              due_date=today() + timedelta(days=days), leader_name=leader))
    late = session.scalar(select(HazardSupervision).where(HazardSupervision.hazard_id == listed[0].id))
    late.due_date = today() - timedelta(days=4)
    session.commit()
    html = ok(login("xa_reg").get("/hazards/supervised"))
    order = [int(i) for i in re.findall(r'<a href="/hazards/(\d+)">#', html)]
    assert order == [listed[0].id, listed[1].id]
    assert "督办逾期 4 天" in html and "剩 10 天" in html and "厦门市翔安区应急管理局" in html
    assert "甲领导" in html and SUPERVISION_LEVELS["county"] in html
    assert "没有正在挂牌督办" in ok(login("ta_reg").get("/hazards/supervised"))


def test_enterprise_detail_has_the_hazard_box(login, session, world, ledger):
    """Counts of open, overdue and major open hazards link to the filtered ledger; registering is offered."""
    e1 = world.enterprises["E1"]
    html = ok(login("ent1_mgr").get(f"/enterprises/{e1}"))
    assert re.search(r"<b>5</b><span>未销号</span>", html)
    assert re.search(r"<b>1</b><span>已逾期</span>", html) and re.search(r"<b>1</b><span>重大未销号</span>", html)
    assert f'href="/hazards/?enterprise_id={e1}&amp;state=open"' in html
    assert f'href="/hazards/new?enterprise_id={e1}"' in html
    html = ok(login("admin").get(f"/enterprises/{e1}"))
    assert "未销号" in html and "登记隐患" not in html  # the platform admin registers nothing
    ids = row_ids(ok(login("xa_reg").get("/hazards/", query_string={"enterprise_id": e1, "overdue": "true"})))
    assert ids == [ledger["c"].id]


def test_menu_entries(login):
    html = ok(login("ent1_mgr").get("/hazards/"))
    assert '<a href="/hazards/">隐患台账</a>' in html and '<a href="/hazards/supervised">' not in html
    html = ok(login("xa_reg").get("/hazards/"))
    assert '<a href="/hazards/supervised">挂牌督办</a>' in html


def test_ledger_and_supervised_pages_cost_the_same_queries_for_more_rows(login, session, world, queries):
    """R-N1: no query per row on the ledger and the 挂牌督办 list (enterprises and listings are loaded in bulk)."""
    client = login("xa_reg")

    def listed_major(n: int) -> None:
        for i in range(n):
            h = make(session, world, "ent1_principal", level="major", sector="fake", rule_item="fake/R1#1",
                     description=f"重大隐患 {i}")
            h = perform(session, world, "ent1_principal", h, "plan", **PLAN)
            perform(session, world, "xa_reg", h, "list", level="county", due_date=today() + timedelta(days=9 + i),
                    leader_name="李局长")
        make(session, world, "ent4_mgr", ent="E4")

    counts = []
    for n in (2, 6):
        listed_major(n)
        counts.append((queries.of(lambda: ok(client.get("/hazards/"))),
                       queries.of(lambda: ok(client.get("/hazards/supervised")))))
    assert counts[0] == counts[1], counts


def test_detail_costs_the_same_queries_for_a_longer_timeline(login, session, world, queries):
    """R-N1: the timeline's evidence files come in one query, not one per step."""
    client = login("ent1_mgr")
    short = perform(session, world, "ent1_mgr", make(session, world, photo=True), "assign", responsible_name="王五",
                    days=5)
    long = make(session, world, photo=True)  # the same state as ``short`` at the end, with nine more steps
    long = perform(session, world, "ent1_mgr", long, "assign", responsible_name="王五", days=5)
    for i in range(3):
        long = hazard_flow.perform(session, world.user(session, "ent1_mgr"), long.id, "request_review",
                                   {"version": long.version, "comment": f"第{i + 1}次整改"},
                                   uploads=[Upload(PNG + bytes([i]), "image/png", f"{i}.png")])
        long = perform(session, world, "ent1_principal", long, "review_fail", comment="不合格",
                       deadline=today() + timedelta(days=5))
    counts = []
    for url in (f"/hazards/{short.id}", f"/hazards/{long.id}"):
        counts.append(queries.of(lambda: ok(client.get(url))))
    assert counts[0] == counts[1], counts


def test_detail_quotes_the_rule_a_major_hazard_was_judged_by(login, session, world):
    """R-P1: the detail shows the exact text of the rule item (from the catalog), links it, and names the sector
    that decided."""
    h = make(session, world, "ent1_principal", level="major", sector="fake", rule_item="fake-2020-r1#1")
    assert (h.level, h.rule_item) == ("major", "fake-2020-r1#1")
    html = ok(login("ent1_mgr").get(f"/hazards/{h.id}"))
    assert "储罐区未设置泄漏检测报警装置。" in html and "（判定：测试领域）" in html
    assert 'href="/catalog/rules/fake-2020-r1#item-1"' in html and "条文待核实" not in html
