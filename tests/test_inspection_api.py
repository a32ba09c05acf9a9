"""The inspection JSON API end to end (R-P2, R-H1, R-N3): start, detail, answers (JSON and multipart), complete."""

from __future__ import annotations

import io

import pytest

from tests.api_helpers import error, ok
from tests.images import png_bytes

API = "/api/v1/inspections"
PNG = png_bytes()  # real bytes: uploads are decoded (tests/images.py)


@pytest.fixture(autouse=True)
def _uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))


def _items(run: dict) -> dict[str, dict]:
    return {i["code"]: i for i in run["items"]}


def test_start_detail_answer_complete(api, world):
    """R-P2: a self-inspection through the API; the failing 1.1 (with its required photo) becomes a 重大 hazard."""
    c = api("ent1_mgr")
    run = ok(c.post(API, json={"checklists": ["fake-basic"]}), 201)
    assert (run["kind"], run["status"], run["enterprise_id"]) == ("self_check", "draft", world.enterprises["E1"])
    assert run["checklists"] == [{"code": "fake-basic", "version": "1.0", "title": "测试领域基础检查表",
                                  "sector": "fake"}]
    items = _items(run)
    assert list(items) == ["1.1", "1.2", "2.1", "2.2", "2.3"] and run["can_answer"] is True
    assert items["1.1"]["basis"][0]["ref"] == "fake-2020-r1#1" and items["1.1"]["basis"][0]["text"]
    assert items["1.2"]["pass_when"] == {"min": 0, "max": 1.6} and items["1.1"]["answer"] is None

    url = f"{API}/{run['id']}/answers"
    saved = ok(c.post(url, data={"item_id": str(items["1.1"]["item_id"]), "value": "no", "comment": "未装",
                                 "photos": (io.BytesIO(PNG), "p.png")}, content_type="multipart/form-data"))
    assert (saved["value"], saved["passed"], saved["version"], len(saved["photos"])) == ("no", False, 1, 1)
    assert saved["missing_on_failure"] == [] and saved["progress"]["failed"] == 1
    error(c.post(url, json={"item_id": items["1.1"]["item_id"], "value": "yes"}), 409)
    error(c.post(url, json={"item_id": items["1.1"]["item_id"], "value": "yes", "version": 7}), 409)
    body = error(c.post(url, json={"item_id": items["1.2"]["item_id"], "value": "高"}), 422)
    assert body["errors"]["json"]["value"] == ["应为数值"]
    error(c.post(url, json={"item_id": 987654, "value": "yes"}), 404)
    for code, value in (("1.2", 0.5), ("2.1", "na")):
        ok(c.post(url, json={"item_id": items[code]["item_id"], "value": value}))

    detail = ok(c.get(f"{API}/{run['id']}"))
    assert detail["progress"]["answered"] == 3 and _items(detail)["1.2"]["answer"]["value"] == "0.5"
    error(c.post(f"{API}/{run['id']}/complete", json={"version": detail["version"] + 1}), 409)
    done = ok(c.post(f"{API}/{run['id']}/complete", json={"version": detail["version"]}))
    assert done["status"] == "completed"
    s = done["summary"]
    assert (s["passed"], s["failed"], s["na"], s["hazards"]["major"], s["hazards"]["general"]) == (1, 1, 1, 1, 0)
    assert s["score"] == 33.3  # 5 of 15 points (2.1 is n/a)
    hazard = ok(api("xa_reg").get(f"/api/v1/hazards/{s['hazards']['ids'][0]}"))
    assert (hazard["level"], hazard["rule_item"], hazard["checklist_item"], hazard["sector"]) == (
        "major", "fake-2020-r1#1", "fake-basic/1.1", "fake")
    assert len(hazard["transitions"][0]["attachments"]) == 1
    error(c.post(url, json={"item_id": items["2.3"]["item_id"], "value": "补充"}), 409)


def test_complete_refusal_names_items(api):
    c = api("ent1_mgr")
    run = ok(c.post(API, json={"checklists": ["fake-basic"]}), 201)
    items = _items(run)
    ok(c.post(f"{API}/{run['id']}/answers", json={"item_id": items["2.1"]["item_id"], "value": "no"}))
    body = error(c.post(f"{API}/{run['id']}/complete", json={"version": run["version"]}), 422)
    assert body["errors"]["json"]["_schema"] == ["尚有 2 条未作答：1.1、1.2"]


def test_start_refusals_and_list_scope(api, world):
    error(api("xa_reg").post(API, json={"checklists": ["fake-basic"]}), 403)
    error(api("ent1_mgr").post(API, json={"checklists": ["fake-basic"], "enterprise_id": world.enterprises["E4"]}),
          404)
    body = error(api("ent1_mgr").post(API, json={"checklists": ["hazchem-basic"]}), 422)
    assert "不适用" in body["errors"]["json"]["checklists"][0]
    run = ok(api("ent1_mgr").post(API, json={"checklists": ["fake-basic"]}), 201)
    assert [r["id"] for r in ok(api("xa_reg").get(API))["items"]] == [run["id"]]
    assert ok(api("ent4_mgr").get(API))["items"] == []
    assert ok(api("xa_reg").get(f"{API}/{run['id']}"))["can_answer"] is False
    assert ok(api("xa_reg").get(API, query_string={"status": "completed"}))["items"] == []
