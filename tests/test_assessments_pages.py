"""安全生产标准化 pages, PDF/Excel report and API (R-S2, R-S4): the same numbers on the page, in the PDF and in Excel."""

from __future__ import annotations

import io
import subprocess
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import select

from core.models import Assessment
from core.services import assessments as svc
from tests.forms import Form, get_form, submit
from tests.images import png_bytes

YEAR = date.today().year
PNG = png_bytes()  # real bytes: uploads are decoded (tests/images.py)


def _element_form(client, a, code, **overrides) -> Form:
    """The element's page form with every item scored in full but for ``overrides`` (item code → fields)."""
    form = get_form(client, f"/assessments/{a.id}/elements/{code}", action="/elements/")
    for it in a.items:
        if it.element_code != code:
            continue
        form.fill({f"result_{it.id}": "scored", f"score_{it.id}": str(int(it.standard_score))})
        form.fill({k.format(id=it.id): v for k, v in overrides.get(it.code, {}).items()})
    return form


def test_enterprise_fills_by_element_submits_and_regulator_returns_then_accepts(session, world, login):
    """R-S2 through the pages: errors are shown beside the item (422), N/A leaves the denominator, the principal
    signs, 翔安区 returns once then accepts; deducted items become hazards in one post."""
    mgr, principal, xa = login("ent1_mgr"), login("ent1_principal"), login("xa_reg")
    resp = submit(mgr, "/assessments/", {"year": str(YEAR), "team_leader": "李组长", "team_members": "王一、赵二"},
                  action="/new")
    assert resp.status_code == 302
    a = session.scalar(select(Assessment).where(Assessment.enterprise_id == world.enterprises["E1"]))
    assert len(a.items) == 31
    page = mgr.get(f"/assessments/{a.id}").get_data(as_text=True)
    assert "安全风险管控及隐患排查治理" in page and "0 / 31 项已评定" in page
    resp = _element_form(mgr, a, "1", **{"1.1": {"score_{id}": "15"}}).submit(mgr, "next=1")
    assert resp.status_code == 422 and "有扣分时请填写扣分理由" in resp.get_data(as_text=True)
    session.expire_all()
    codes = list(dict.fromkeys(it.element_code for it in a.items))
    overrides = {"1.1": {"score_{id}": "15", "reason_{id}": "目标未分解到车间"},
                 "4.1": {"result_{id}": "not_applicable", "na_reason_{id}": "无在用设备设施"},
                 "F1": {"score_{id}": "30", "reason_{id}": "两台报警器失效"},
                 "5.3": {"score_{id}": "50", "reason_{id}": "隐患排查记录不全"}}
    for code in codes:
        session.expire_all()
        a = session.get(Assessment, a.id)
        assert _element_form(mgr, a, code, **overrides).submit(mgr, f"next={code}").status_code == 302
    session.expire_all()
    a = session.get(Assessment, a.id)
    upload = get_form(mgr, f"/assessments/{a.id}/elements/{a.items[0].element_code}",
                      action=f"/items/{a.items[0].id}/evidence").attach("files", PNG, "目标文件.png").submit(mgr)
    assert upload.status_code == 302
    session.expire_all()
    a = session.get(Assessment, a.id)
    assert "目标文件.png" in mgr.get(f"/assessments/{a.id}/elements/1").get_data(as_text=True)
    # 1020 applicable (4.1 N/A), 1020 − 5 − 10 − 10 = 995 → 97.5
    detail = f"/assessments/{a.id}"
    assert submit(principal, detail, {"signer_name": "张主要"}, action="/submit").status_code == 302
    session.expire_all()
    a = session.get(Assessment, a.id)
    assert (a.status, a.score, a.grade) == ("submitted", 97.5, "level1")
    page = xa.get(f"/assessments/{a.id}").get_data(as_text=True)
    assert "审核通过" in page and "97.5" in page
    assert submit(xa, detail, action="/review", button="decision=return").status_code == 422
    submit(xa, detail, {"comment": "请补充 5.3 的证据"}, action="/review", button="decision=return")
    session.expire_all()
    a = session.get(Assessment, a.id)
    assert a.status == "returned"
    submit(principal, detail, {"signer_name": "张主要"}, action="/submit")
    session.expire_all()
    a = session.get(Assessment, a.id)
    submit(xa, detail, {"comment": "同意"}, action="/review", button="decision=accept")
    session.expire_all()
    a = session.get(Assessment, a.id)
    assert a.status == "accepted"
    deducted = [str(it.id) for it in a.items if it.is_deducted]
    assert len(deducted) == 3
    assert submit(mgr, detail, {"item_ids": deducted}, action="/hazards").status_code == 302
    session.expire_all()
    a = session.get(Assessment, a.id)
    assert all(it.hazard_id for it in a.items if it.is_deducted)
    assert "隐患 " in mgr.get(f"/assessments/{a.id}").get_data(as_text=True)


def _accepted(session, world) -> Assessment:
    mgr, principal = world.user(session, "ent1_mgr"), world.user(session, "ent1_principal")
    a = svc.create_assessment(session, mgr, world.enterprises["E1"], {"team_leader": "李组长", "team_members": ["王一"]})
    results = [{"item_id": it.id, "result": "scored", "score": it.standard_score} for it in a.items]
    for r, it in zip(results, a.items):
        if it.code == "2.2":
            r.update(score=28, reason="制度未及时修订")
        if it.code == "F2":
            r.update(vetoed=True, reason="重大隐患未整改")
    svc.save_items(session, mgr, a.id, a.version, results)
    svc.submit(session, principal, a.id, {"version": a.version, "signer_name": "张主要"})
    svc.review(session, world.user(session, "xa_reg"), a.id, {"version": a.version, "decision": "accept"})
    session.commit()
    return a


def test_pdf_report_has_the_page_numbers_in_chinese(session, world, login, tmp_path):
    """R-S4: cover, summary score and grade, per-element scores, deducted items with reasons, team and signature."""
    a = _accepted(session, world)  # 1100 − 12 − 50 = 1038 → 94.4, 否决项 → 未达标
    assert (a.score, a.grade) == (94.4, "none")
    resp = login("xa_reg").get(f"/assessments/{a.id}/report.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    (tmp_path / "r.pdf").write_bytes(resp.data)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "r.pdf"), "-"], capture_output=True,
                          check=True).stdout.decode()
    for expected in ("安全生产标准化自评报告", "测试E1有限公司", "GB/T 33000-2016", "94.4", "未达标", "否决项不符合",
                     "制度化管理", "2.2 规章制度", "评分项 31 项", "制度未及时修订", "李组长", "张主要", "旧版（2011/2014）"):
        assert expected in text, expected


def test_excel_report_reads_back_the_same_numbers(session, world, login):
    """R-S4: the same data as Excel: summary, element scores, deducted items."""
    a = _accepted(session, world)
    resp = login("ent1_mgr").get(f"/assessments/{a.id}/report.xlsx")
    wb = load_workbook(io.BytesIO(resp.data))
    summary = {row[0]: row[1] for row in wb["汇总"].iter_rows(min_row=2, values_only=True)}
    assert summary["最终得分（百分制）"] == 94.4 and summary["等级"] == "未达标" and summary["适用项标准分合计"] == 1100
    elements = {row[0]: row for row in wb["要素得分"].iter_rows(min_row=2, values_only=True)}
    assert elements["制度化管理"][4:] == (120, 108, 90.0)
    deducted = list(wb["扣分项"].iter_rows(min_row=2, values_only=True))
    assert [(r[1], r[5], r[6]) for r in deducted] == [("2.2", 12, None), ("F2", 50, "是")]


def test_comparison_and_coverage_pages(session, world, login):
    """R-S2/R-S3: the enterprise page shows per-element percents by year; the coverage page the shares."""
    a = _accepted(session, world)
    page = login("xa_reg").get(f"/assessments/enterprises/{world.enterprises['E1']}").get_data(as_text=True)
    assert "历年对比" in page and "90" in page and str(a.year) in page
    cov = login("city_reg").get(f"/assessments/coverage?year={YEAR}").get_data(as_text=True)
    assert "翔安区" in cov and "同安区" in cov and "(33.3%)" in cov


def test_api_flow(session, world, api):
    """R-S2 over the API: create, record results (422 keyed by item), submit, review."""
    mgr = api("ent1_mgr")
    resp = mgr.post("/api/v1/assessments", json={"team_leader": "李组长", "team_members": ["王一"]})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert len(body["items"]) == 31 and body["criteria_standard"] == "GB/T 33000-2016"
    first = body["items"][0]
    bad = mgr.post(f"/api/v1/assessments/{body['id']}/items", json={"version": body["version"], "items": [
        {"item_id": first["id"], "result": "scored", "deduction": 3}]})
    assert bad.status_code == 422 and f"items.{first['id']}.reason" in bad.get_json()["errors"]["json"]
    ok = mgr.post(f"/api/v1/assessments/{body['id']}/items", json={"version": body["version"], "items": [
        {"item_id": it["id"], "result": "scored", "score": it["standard_score"]} for it in body["items"]]})
    assert ok.status_code == 200 and ok.get_json()["score"] == 100.0 and ok.get_json()["progress"] == 100
    done = api("ent1_principal").post(f"/api/v1/assessments/{body['id']}/submit",
                                      json={"version": ok.get_json()["version"], "signer_name": "张主要"})
    assert done.get_json()["status"] == "submitted" and done.get_json()["grade_label"] == "一级"
    assert api("ta_reg").get(f"/api/v1/assessments/{body['id']}").status_code == 404
    accepted = api("xa_reg").post(f"/api/v1/assessments/{body['id']}/review",
                                  json={"version": done.get_json()["version"], "decision": "accept"})
    assert accepted.get_json()["status"] == "accepted"
    assert api("xa_reg").get("/api/v1/assessments").get_json()["items"][0]["id"] == body["id"]


def test_enterprise_page_shows_the_grade_label_and_links_to_the_assessments(session, world, login):
    """R-S3: the enterprise page names the 达标 grade in words (not its code) and links to the self-assessments."""
    e1 = world.enterprises["E1"]
    xa = world.user(session, "xa_reg")
    life = svc.lifecycle_action(session, xa, e1, "create", {})
    svc.lifecycle_action(session, xa, e1, "certify", {"version": life.version, "grade": "level2",
                                                      "certificate_no": "闽AQBⅡ2026001", "certified_on": "2026-03-01"})
    session.commit()
    page = login("ent1_mgr").get(f"/enterprises/{e1}").get_data(as_text=True)
    assert "（二级）" in page and "level2" not in page
    assert f'href="/assessments/enterprises/{e1}"' in page
