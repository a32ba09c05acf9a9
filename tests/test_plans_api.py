"""The plans, draws and campaigns JSON API (R-E1, R-E2, R-N3): results, 422 field messages in Chinese, 409, 404."""

from __future__ import annotations

from tests.api_helpers import error, ok
from tests.test_plans import add_inspectors


def test_plan_api(api, session, world):
    c = api("xa_reg")
    body = error(c.post("/api/v1/plans", json={"year": 1999, "targets": {"classes": {"huge": 3}, "total": -1}}), 422)
    errors = body["errors"]["json"]
    assert errors["title"] == ["必填项"] and errors["year"] == ["应在 2000 到 2100 之间"]
    assert errors["targets"]["total"] == ["应在 0 到 1000000 之间"]
    assert "应为以下之一" in str(errors["targets"]["classes"])
    plan = ok(c.post("/api/v1/plans", json={"year": 2026, "title": "翔安区2026年度执法计划",
                                            "targets": {"total": 50, "classes": {"high_risk": 20}}}), 201)
    assert plan["status"] == "draft" and plan["progress"]["total"] == {
        "key": "total", "label": "合计", "target": 50, "done": 0, "percent": 0}
    assert [r["target"] for r in plan["progress"]["classes"]] == [20, None, None, None]
    body = error(c.post("/api/v1/plans", json={"year": 2026, "title": "再来一份"}), 422)
    assert "已有 2026 年度执法计划" in body["errors"]["json"]["year"][0]
    error(c.patch(f"/api/v1/plans/{plan['id']}", json={"title": "改", "version": plan["version"] + 5}), 409)
    changed = ok(c.patch(f"/api/v1/plans/{plan['id']}", json={"title": "改", "version": plan["version"]}))
    approved = ok(c.post(f"/api/v1/plans/{plan['id']}/approve", json={"version": changed["version"]}))
    assert approved["status"] == "approved" and approved["status_label"] == "已批准"
    error(c.post(f"/api/v1/plans/{plan['id']}/approve", json={"version": approved["version"]}), 409)
    assert [p["id"] for p in ok(api("city_reg").get("/api/v1/plans"))] == [plan["id"]]
    error(api("ta_reg").get(f"/api/v1/plans/{plan['id']}"), 404)
    error(api("ent1_mgr").get("/api/v1/plans"), 403)


def test_draw_api(api, session, world):
    c = api("xa_reg")
    body = error(c.post("/api/v1/draws", json={"month": "2026-11", "count": 2}), 422)
    assert "执法证有效的执法人员不足两名" in body["message"] and body["errors"]["json"]["_schema"]
    body = error(c.post("/api/v1/draws", json={"count": 0, "classes": ["x"], "seed": "a\nb"}), 422)
    errs = body["errors"]["json"]
    assert errs["count"] == ["应在 1 到 500 之间"] and "应为以下之一" in errs["classes"]["0"][0]
    assert errs["seed"] == ["随机种子只能包含可见字符"]
    body = error(c.post("/api/v1/draws", json={"count": 2}), 422)
    assert body["errors"]["json"]["month"] == ["请选择检查月份，或填写检查期间起止日期"]
    add_inspectors(session, world, 2)
    session.commit()
    draw = ok(c.post("/api/v1/draws", json={"period_start": "2026-12-01", "period_end": "2026-12-15", "count": 3,
                                            "seed": "2026-12"}), 201)
    assert draw["reproducible"] is True and draw["status"] == "draft" and draw["public_url"] is None
    assert draw["title"] == "2026-12-01至2026-12-15双随机抽查" and draw["population"] == 3
    assert len(draw["items"]) == 3 and all(len({i["id"] for i in it["inspectors"]}) == 2 for it in draw["items"])
    assert sum(draw["class_counts"].values()) == 3 and draw["weights"]["high"] == 4.0
    again = ok(c.post("/api/v1/draws", json={"period_start": "2026-12-01", "period_end": "2026-12-15", "count": 3,
                                             "seed": "2026-12"}), 201)
    assert [i["enterprise_id"] for i in again["items"]] == [i["enterprise_id"] for i in draw["items"]]
    error(api("xa_insp").get(f"/api/v1/draws/{draw['id']}"), 404)  # not published yet
    error(c.post(f"/api/v1/draws/{draw['id']}/publish", json={}), 422)
    error(c.post(f"/api/v1/draws/{draw['id']}/publish", json={"version": 99}), 409)
    error(api("city_reg").post(f"/api/v1/draws/{draw['id']}/publish", json={"version": draw["version"]}), 403)
    published = ok(c.post(f"/api/v1/draws/{draw['id']}/publish", json={"version": draw["version"]}))
    assert published["status"] == "published" and "/public/draws/" in published["public_url"]
    seen = ok(api("xa_insp").get("/api/v1/draws"))
    assert [d["id"] for d in seen["items"]] == [draw["id"]] and seen["items"][0]["items_total"] == 3
    error(api("ta_reg").get(f"/api/v1/draws/{draw['id']}"), 404)


def test_campaign_api(api, session, world):
    c = api("xa_reg")
    body = error(c.post("/api/v1/campaigns", json={"name": "汛期", "kind": "rainy", "starts_on": "2026-06-01",
                                                   "ends_on": "2026-05-01", "checklist_codes": ["nope"]}), 422)
    assert body["errors"]["json"]["kind"][0].startswith("取值应为以下之一")
    body = error(c.post("/api/v1/campaigns", json={"name": "汛期", "kind": "flood", "starts_on": "2026-06-01",
                                                   "ends_on": "2026-05-01", "checklist_codes": ["nope"]}), 422)
    assert body["errors"]["json"] == {"ends_on": ["结束日期不能早于开始日期"], "checklist_codes": ["检查表 nope 不存在"]}
    camp = ok(c.post("/api/v1/campaigns", json={
        "name": "2026年汛期专项检查", "kind": "flood", "starts_on": "2026-06-01", "ends_on": "2026-09-30",
        "sectors": ["fake"], "checklist_codes": ["fake-basic"]}), 201)
    assert camp["kind_label"] == "汛期" and camp["progress"]["in_scope"] == 1 and camp["progress"]["checked"] == 0
    changed = ok(c.patch(f"/api/v1/campaigns/{camp['id']}", json={"sectors": [], "version": camp["version"]}))
    assert changed["progress"]["in_scope"] == 3 and changed["sectors"] == []
    error(c.patch(f"/api/v1/campaigns/{camp['id']}", json={"name": "x", "version": camp["version"]}), 409)
    error(api("ta_reg").get(f"/api/v1/campaigns/{camp['id']}"), 404)
    assert [x["id"] for x in ok(api("xa_insp").get("/api/v1/campaigns"))] == [camp["id"]]
