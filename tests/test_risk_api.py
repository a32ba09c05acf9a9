"""The risk-register JSON API end to end (R-R1, R-R2, R-N3): ``/api/v1/risk-points``."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from core.services.hazards import today
from tests.api_helpers import error, ok
from tests.images import png_bytes

API = "/api/v1/risk-points"
PNG = png_bytes()  # real bytes: uploads are decoded (tests/images.py)


@pytest.fixture(autouse=True)
def _uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))


def create(client, **extra) -> dict:
    body = {"name": "液氯汽化器", "category": "process", "method": "LEC", "inputs": {"L": 3, "E": 6, "C": 7},
            "location": "汽化间", "responsible_company": "张总", **extra}
    return ok(client.post(API, json=body), 201)


def with_task(client, point: dict, period: str = "weekly", next_due=None) -> tuple[dict, dict]:
    measure = ok(client.post(f"{API}/{point['id']}/measures", json={
        "kind": "engineering", "description": "汽化器出口设置温度联锁", "level": "workshop"}), 201)
    task = ok(client.post(f"{API}/{point['id']}/tasks", json={
        "measure_id": measure["id"], "content": "检查温度联锁投用", "period": period, "assignee_name": "操作工",
        **({"next_due": next_due.isoformat()} if next_due else {})}), 201)
    return measure, task


def test_create_computes_score_and_grade(api, world):
    """R-R1: D = 3 × 6 × 7 = 126 → 一般 (yellow); labels for clients."""
    p = create(api("ent1_mgr"))
    assert (p["score"], p["grade"], p["grade_label"], p["colour"]) == (126, "general", "一般风险", "yellow")
    assert (p["enterprise_id"], p["enterprise_name"], p["category_label"], p["method_name"]) == (
        world.enterprises["E1"], "测试E1有限公司", "生产工艺", "作业条件危险性分析法（LEC）")
    assert p["inputs"] == {"L": 3, "E": 6, "C": 7} and p["measures"] == [] and p["hazards"] == [] and p["version"] == 1


def test_invalid_inputs_and_fields_are_422_per_field(api):
    mgr = api("ent1_mgr")
    body = error(mgr.post(API, json={"name": "储罐", "category": "equipment", "method": "LEC",
                                     "inputs": {"L": 4, "E": 6}}), 422)
    assert body["errors"]["json"]["inputs"] == {"L": ["L 应为以下之一：10、6、3、1、0.5、0.2、0.1"],
                                                "C": ["请选择发生事故可能造成的后果（C）"]}
    body = error(mgr.post(API, json={"name": "x", "category": "机器", "method": "LEC", "inputs": {},
                                     "plan_x": 1.5}), 422)
    assert set(body["errors"]["json"]) == {"name", "category", "plan_x"}
    body = error(mgr.post(API, json={"name": "储罐", "category": "equipment", "method": "FMEA", "inputs": {}}), 422)
    assert body["errors"]["json"] == {"method": ["取值应为以下之一：LEC、LS"]}


def test_update_reassesses_and_stale_version_is_409(api):
    mgr = api("ent1_mgr")
    p = create(mgr)
    p2 = ok(mgr.patch(f"{API}/{p['id']}", json={"version": 1, "method": "LS", "inputs": {"L": 4, "S": 4}}))
    assert (p2["score"], p2["grade"], p2["version"]) == (16, "large", 2)
    error(mgr.patch(f"{API}/{p['id']}", json={"version": 1, "name": "旧版本"}), 409)
    body = error(mgr.patch(f"{API}/{p['id']}", json={"version": 2, "method": "LEC"}), 422)
    assert "inputs" in body["errors"]["json"]
    assert ok(mgr.get(f"{API}/{p['id']}"))["name"] == "液氯汽化器"


def test_scope_and_roles(api, world):
    """R-A4: other enterprises and districts get 404; regulators read but do not write (403)."""
    p = create(api("ent1_mgr"))
    error(api("ent4_mgr").get(f"{API}/{p['id']}"), 404)
    error(api("ta_reg").get(f"{API}/{p['id']}"), 404)
    assert ok(api("xa_reg").get(f"{API}/{p['id']}"))["id"] == p["id"]
    error(api("xa_reg").patch(f"{API}/{p['id']}", json={"version": 1, "name": "监管改名"}), 403)
    error(api("xa_reg").post(API, json={"enterprise_id": world.enterprises["E1"], "name": "监管新增",
                                        "category": "process", "method": "LS", "inputs": {"L": 1, "S": 1}}), 403)
    assert [x["id"] for x in ok(api("ta_reg").get(API))["items"]] == []
    assert p["id"] in [x["id"] for x in ok(api("city_reg").get(API))["items"]]


def test_measures_tasks_due_checks_and_a_failed_check_with_a_photo(api, world):
    """R-R1, R-R2: measure → weekly task → due today → failed check with a photo → a 企业自查 hazard linked to the
    risk point and the measure; the task moves a week on; the hazard ledger filters by the risk point."""
    mgr = api("ent1_mgr")
    p = create(mgr)
    measure, task = with_task(mgr, p)
    assert (task["period_label"], task["next_due"], task["risk_point_id"]) == ("每周", today().isoformat(), p["id"])
    due = ok(mgr.get(f"{API}/due-checks"))
    assert due["on"] == today().isoformat()
    assert [(t["id"], t["risk_point_name"], t["grade_label"], t["measure_description"]) for t in due["items"]] == [
        (task["id"], "液氯汽化器", "一般风险", "汽化器出口设置温度联锁")]
    assert ok(api("ent4_mgr").get(f"{API}/due-checks"))["items"] == []

    form = MultiDict([("version", str(task["version"])), ("passed", "false"), ("description", "温度联锁被旁路"),
                      ("category", "management"),
                      ("photos", FileStorage(io.BytesIO(PNG), filename="旁路.png"))])
    boundary, body = encode_multipart(form)
    check = ok(mgr.post(f"{API}/tasks/{task['id']}/checks", data=body,
                        content_type=f"multipart/form-data; boundary={boundary}"), 201)
    assert check["passed"] is False and check["hazard_id"] and check["due_date"] == today().isoformat()
    assert check["task"]["next_due"] == (today() + timedelta(days=7)).isoformat()

    hazard = ok(mgr.get(f"/api/v1/hazards/{check['hazard_id']}"))
    assert (hazard["risk_point_id"], hazard["control_measure_id"], hazard["source"], hazard["category"]) == (
        p["id"], measure["id"], "self_check", "management")
    assert [a["filename"] for t in hazard["transitions"] for a in t["attachments"]] == ["旁路.png"]
    ledger = ok(mgr.get("/api/v1/hazards", query_string={"risk_point_id": p["id"]}))
    assert [h["id"] for h in ledger["items"]] == [check["hazard_id"]]
    detail = ok(api("xa_reg").get(f"{API}/{p['id']}"))
    assert [(h["id"], h["control_measure_id"], h["state"]) for h in detail["hazards"]] == [
        (check["hazard_id"], measure["id"], "registered")]
    assert detail["measures"][0]["tasks"][0]["last_done"] == today().isoformat()

    error(mgr.post(f"{API}/tasks/{task['id']}/checks", json={"version": task["version"], "passed": True}), 409)
    body = error(mgr.post(f"{API}/tasks/{task['id']}/checks", json={"version": 2, "passed": False}), 422)
    assert body["errors"]["json"] == {"description": ["排查不合格时请描述发现的隐患"]}
    error(api("xa_reg").post(f"{API}/tasks/{task['id']}/checks", json={"version": 2, "passed": True}), 403)


def test_passed_check_and_task_update(api):
    mgr = api("ent1_mgr")
    p = create(mgr)
    _, task = with_task(mgr, p, period="monthly", next_due=today() - timedelta(days=1))
    check = ok(mgr.post(f"{API}/tasks/{task['id']}/checks", json={"version": 1, "passed": True, "note": "正常"}), 201)
    assert check["hazard_id"] is None and check["task"]["version"] == 2
    t = ok(mgr.patch(f"{API}/tasks/{task['id']}", json={"version": 2, "period": "quarterly", "is_active": False}))
    assert (t["period"], t["is_active"], t["version"]) == ("quarterly", False, 3)
    error(mgr.patch(f"{API}/tasks/{task['id']}", json={"version": 2, "period": "daily"}), 409)


def test_measure_update_needs_the_point_version(api):
    mgr = api("ent1_mgr")
    p = create(mgr)
    measure, _ = with_task(mgr, p)
    m = ok(mgr.patch(f"{API}/{p['id']}/measures/{measure['id']}", json={"version": 1, "kind": "ppe"}))
    assert (m["kind"], m["kind_label"]) == ("ppe", "个体防护措施")
    error(mgr.patch(f"{API}/{p['id']}/measures/{measure['id']}", json={"version": 1, "kind": "ppe"}), 409)
    assert ok(mgr.get(f"{API}/{p['id']}"))["version"] == 2


def test_task_for_a_measure_of_another_point_is_refused(api):
    mgr = api("ent1_mgr")
    a, b = create(mgr), create(mgr, name="另一风险点")
    measure, _ = with_task(mgr, a)
    error(mgr.post(f"{API}/{b['id']}/tasks", json={"measure_id": measure["id"], "content": "错配",
                                                   "period": "daily"}), 404)


def test_deactivate_supervision_list_and_counts(api, world):
    """R-R2: the regulator's list has only 重大/较大 points in use in their jurisdiction."""
    mgr, ent4 = api("ent1_mgr"), api("ent4_mgr")
    major = create(mgr, name="重大点", inputs={"L": 10, "E": 6, "C": 40})
    large = create(mgr, name="较大点", inputs={"L": 3, "E": 6, "C": 15})
    create(mgr, name="低点", inputs={"L": 1, "E": 1, "C": 1})
    e4 = create(ent4, name="同安较大", method="LS", inputs={"L": 5, "S": 3})
    gone = create(mgr, name="停用重大", inputs={"L": 10, "E": 10, "C": 100})
    assert ok(mgr.post(f"{API}/{gone['id']}/deactivate", json={"version": 1}))["is_active"] is False

    names = [p["name"] for p in ok(api("xa_reg").get(f"{API}/supervision"))["items"]]
    assert names == ["较大点", "重大点"]
    city = ok(api("city_reg").get(f"{API}/supervision", query_string={"size": 2}))
    assert [p["id"] for p in city["items"]] == [e4["id"], large["id"]] and city["total"] == 3
    rest = ok(api("city_reg").get(f"{API}/supervision", query_string={"after": city["next_after"]}))
    assert [p["id"] for p in rest["items"]] == [major["id"]]
    error(mgr.get(f"{API}/supervision"), 403)

    assert ok(mgr.get(f"{API}/counts")) == {"major": 1, "large": 1, "general": 0, "low": 1, "total": 3}
    assert ok(api("city_reg").get(f"{API}/counts", query_string={"jurisdiction_id": world.nodes["同安区"]})) == {
        "major": 0, "large": 1, "general": 0, "low": 0, "total": 1}
    error(api("xa_reg").get(f"{API}/counts", query_string={"jurisdiction_id": world.nodes["同安区"]}), 404)
    listed = ok(mgr.get(API, query_string={"grade": "major"}))["items"]
    assert [p["name"] for p in listed] == ["重大点"]
    assert [p["name"] for p in ok(mgr.get(API, query_string={"active": "false"}))["items"]] == ["停用重大"]


def test_openapi_describes_the_risk_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = {p for p in spec["paths"] if p.startswith(API)}
    assert {API, API + "/{point_id}", API + "/{point_id}/measures", API + "/tasks/{task_id}/checks",
            API + "/due-checks", API + "/supervision", API + "/counts"} <= paths
    check = spec["paths"][API + "/tasks/{task_id}/checks"]["post"]
    assert set(check["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert "RiskPointIn" in spec["components"]["schemas"]
