"""The hidden-danger JSON API end to end (R-H1…R-H3, R-H6, R-N3, R-N5).

Clients come from the ``api(username)`` fixture (a fresh Bearer token, committed so that error responses, which
roll the request's session back, keep it). Photos go through ``multipart/form-data`` on the actions endpoint.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, date, timedelta

import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from core.services import hazard_flow
from core.services.hazards import today
from tests.api_helpers import error, ok
from tests.images import jpeg_bytes, png_bytes

API = "/api/v1/hazards"
PNG = png_bytes()  # real bytes: uploads are decoded (tests/images.py)
JPEG = jpeg_bytes()
PLAN = {k: f"{label}：按方案落实" for k, label in hazard_flow.PLAN_FIELDS.items()}


@pytest.fixture(autouse=True)
def _uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))


def register(client, world, ent: str = "E1", **extra) -> dict:
    return ok(client.post(API, json={"enterprise_id": world.enterprises[ent], "description": "配电箱未接地",
                                     "category": "thing", **extra}), 201)


def act(client, hazard: dict, code: str, **data):
    return client.post(f"{API}/{hazard['id']}/actions/{code}", json={"version": hazard["version"], **data})


def act_multipart(client, hazard: dict, code: str, photos=(), **data):
    form = {"version": str(hazard["version"]), **{k: str(v) for k, v in data.items()}}
    form["photos"] = [FileStorage(io.BytesIO(content), filename=name) for name, content in photos]
    # Encoded in memory: the test client spools large bodies to a temporary file it never closes.
    boundary, body = encode_multipart(MultiDict([(k, v) for k, vs in form.items()
                                                 for v in (vs if isinstance(vs, list) else [vs])]))
    return client.post(f"{API}/{hazard['id']}/actions/{code}", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def steps(hazard: dict) -> list[tuple[str, str | None, str]]:
    return [(t["action"], t["from_state"], t["to_state"]) for t in hazard["transitions"]]


# --- the two loops -------------------------------------------------------------------------------------------------

def test_general_hazard_loop_with_photos_and_a_failed_review(api, world):
    """R-H2: register → assign → request_review with a photo → review_fail → request_review → review_pass."""
    mgr, principal = api("ent1_mgr"), api("ent1_principal")
    h = register(mgr, world, location="二号车间")
    assert (h["state"], h["state_label"], h["source"], h["level"], h["level_label"]) == (
        "registered", "登记", "self_check", "general", "一般")
    assert h["enterprise_name"] == "测试E1有限公司" and h["found_by_name"] == "ent1_mgr"
    assert {"assign", "rectify_on_spot"} <= {a["code"] for a in h["actions"]}
    h = ok(act(mgr, h, "assign", responsible_name="王五", days=10, deadline_kind="calendar", measures="重新接地"))
    assert h["state"] == "rectifying" and h["deadline"] == (today() + timedelta(days=10)).isoformat()
    assert h["responsible_name"] == "王五" and h["measures"] == "重新接地"

    h = ok(act_multipart(mgr, h, "request_review", photos=[("整改后.png", PNG), ("细节.jpg", JPEG)],
                         comment="已重新接地"))
    assert h["state"] == "pending_review"
    step = h["transitions"][-1]
    assert step["comment"] == "已重新接地" and step["actor_name"] == "ent1_mgr"
    assert [(a["filename"], a["content_type"], a["size"]) for a in step["attachments"]] == [
        ("整改后.png", "image/png", len(PNG)), ("细节.jpg", "image/jpeg", len(JPEG))]
    photo = step["attachments"][0]
    resp = principal.get(photo["url"])
    assert resp.status_code == 200 and resp.data == PNG and resp.mimetype == "image/png"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"

    new_deadline = (today() + timedelta(days=3)).isoformat()
    h = ok(act(principal, h, "review_fail", comment="接地电阻不合格", deadline=new_deadline))
    assert h["state"] == "rectifying" and h["deadline"] == new_deadline
    h = ok(act(mgr, h, "request_review", comment="已复测"))
    h = ok(act(principal, h, "review_pass", comment="复查合格"))
    assert h["state"] == "closed" and h["closed_at"] and h["actions"] == []

    detail = ok(mgr.get(f"{API}/{h['id']}"))
    assert steps(detail) == [("register", None, "registered"), ("assign", "registered", "rectifying"),
                             ("request_review", "rectifying", "pending_review"),
                             ("review_fail", "pending_review", "rectifying"),
                             ("request_review", "rectifying", "pending_review"),
                             ("review_pass", "pending_review", "closed")]
    assert [t["action_label"] for t in detail["transitions"]][:2] == ["登记", "下达整改"]
    assert detail["transitions"][3]["data"]["deadline"] == new_deadline
    assert detail["transitions"][3]["actor_name"] == "ent1_principal"
    assert all(t["at"].endswith("+00:00") for t in detail["transitions"])
    assert detail["version"] == len(detail["transitions"])  # registered at 1, every step bumps it


def test_major_hazard_loop(api, world):
    """R-H3: plan → 挂牌督办 by the county → assign → 延期 → review → 销号 by the listing agency."""
    principal, xa_reg, xa_insp, city_reg = api("ent1_principal"), api("xa_reg"), api("xa_insp"), api("city_reg")
    h = register(principal, world, level="major", sector="fake", rule_item="fake/R1#1")
    assert (h["level"], h["rule_item"], h["classified_by"]) == ("major", "fake/R1#1", "fake")
    body = error(act(principal, h, "assign", responsible_name="张三"), 409)
    assert "治理方案" in body["message"]
    h = ok(act(principal, h, "plan", funds_amount=30.0, approved_by_name="陈总", **PLAN))
    assert h["plan"]["complete"] is True and h["plan"]["funds_amount"] == 30.0 and h["reported_at"]

    due = (today() + timedelta(days=60)).isoformat()
    h = ok(act(xa_reg, h, "list", level="county", due_date=due, leader_name="李局长", requirements="限期治理"))
    (listing,) = h["supervisions"]
    assert (listing["level"], listing["level_label"], listing["agency_name"], listing["active"]) == (
        "county", "县（区）", "厦门市翔安区应急管理局", True)
    assert h["supervised"] and h["supervision_level"] == "county"
    listed = ok(xa_reg.get(API, query_string={"supervised": "true"}))
    assert [i["id"] for i in listed["items"]] == [h["id"]]

    h = ok(act(principal, h, "assign", responsible_name="张三"))
    assert h["deadline"] == (today() + timedelta(days=90)).isoformat()
    later = (today() + timedelta(days=120)).isoformat()
    h = ok(act(principal, h, "request_extension", new_deadline=later, reason="设备到货延迟"))
    assert h["extensions"][0]["status"] == "pending"
    error(act(city_reg, h, "decide_extension", approve=True), 403)  # not the listing agency
    h = ok(act(xa_reg, h, "decide_extension", approve=True, comment="同意延期"))
    assert h["deadline"] == later and h["extensions"][0]["status"] == "approved"
    assert h["extensions"][0]["decision_comment"] == "同意延期"

    h = ok(act_multipart(principal, h, "request_review", photos=[("治理完成.jpg", JPEG)], comment="治理完成，申请复查"))
    h = ok(act(xa_insp, h, "review_pass", comment="现场复查合格"))
    assert h["state"] == "reviewed" and h["state_label"] == "已复查待销号"
    error(act(city_reg, h, "close", comment="销号"), 403)
    h = ok(act(xa_reg, h, "close", comment="准予销号"))
    assert h["state"] == "closed" and not h["supervised"] and h["supervisions"][0]["lifted_at"]
    assert [t["action"] for t in h["transitions"]] == [
        "register", "plan", "list", "assign", "request_extension", "decide_extension", "request_review",
        "review_pass", "close"]


def test_register_with_photos_by_multipart(api, world):
    """R-H1: a hazard is registered with its photos."""
    grid = api("grid1")
    resp = grid.post(API, data={"enterprise_id": str(world.enterprises["E1"]), "description": "消防通道堵塞",
                                "category": "environment", "photos": [(io.BytesIO(JPEG), "现场.jpg")]},
                     content_type="multipart/form-data")
    h = ok(resp, 201)
    assert h["source"] == "grid_patrol" and h["category_label"] == "环境因素"
    assert h["transitions"][0]["attachments"][0]["filename"] == "现场.jpg"


def test_rectify_on_spot_by_multipart(api, world):
    """R-H2: 立即整改 closes a general hazard in one step, with photos; without photos it is a 422."""
    insp = api("xa_insp")
    h = register(insp, world)
    body = error(act(insp, h, "rectify_on_spot", comment="当场整改"), 422)
    assert "photos" in body["errors"]["json"]
    h = ok(act_multipart(insp, h, "rectify_on_spot", photos=[("整改后.png", PNG)], comment="当场整改"))
    assert h["state"] == "closed" and h["closed_on_spot"] is True


# --- concurrency (R-N3) ----------------------------------------------------------------------------------------------

def test_two_actors_on_one_version_the_second_gets_409_and_nothing(api, world):
    """Decision 3: the city and the county list the same hazard from the same version; the second is refused and
    nothing of it is applied (even though a listing at another level would otherwise be allowed)."""
    principal = api("ent1_principal")
    h = ok(act(principal, register(principal, world, level="major", sector="fake", rule_item="fake/R1#1"), "plan",
               **PLAN))
    due = (today() + timedelta(days=30)).isoformat()
    first = ok(act(api("city_reg"), h, "list", level="city", due_date=due, leader_name="市领导"))
    body = error(act(api("xa_reg"), h, "list", level="county", due_date=due, leader_name="区领导"), 409)
    assert "已被他人修改" in body["message"]
    now = ok(principal.get(f"{API}/{h['id']}"))
    assert [s["level"] for s in now["supervisions"]] == ["city"]
    assert now["version"] == first["version"] == h["version"] + 1
    assert [t["action"] for t in now["transitions"]] == ["register", "plan", "list"]


# --- errors ------------------------------------------------------------------------------------------------------

def test_no_token_is_401(client):
    error(client.get(API), 401)
    error(client.get(f"{API}/1"), 401)
    error(client.post(f"{API}/1/actions/assign", json={"version": 1}), 401)
    error(client.get(f"{API}/1/attachments/1"), 401)


def test_not_found_cases(api, world):
    """Out of scope and missing look the same (404); unknown action codes and foreign attachments too."""
    mgr = api("ent1_mgr")
    h = register(mgr, world)
    ta = api("ta_reg")
    error(ta.get(f"{API}/{h['id']}"), 404)
    error(act(ta, h, "assign", responsible_name="x"), 404)
    error(mgr.get(f"{API}/987654"), 404)
    body = error(act(mgr, h, "demolish"), 404)
    assert "demolish" in body["message"]
    other = ok(act_multipart(mgr, register(mgr, world), "rectify_on_spot", photos=[("a.png", PNG)], comment="好了"))
    photo = other["transitions"][-1]["attachments"][0]
    assert mgr.get(photo["url"]).data == PNG  # its own hazard serves it …
    error(mgr.get(f"{API}/{h['id']}/attachments/{photo['id']}"), 404)  # belongs to another hazard
    error(ta.get(photo["url"]), 404)
    error(api("ent4_mgr").post(API, json={"enterprise_id": world.enterprises["E1"], "description": "越权登记",
                                          "category": "thing"}), 404)


def test_forbidden_cases(api, world):
    h = register(api("ent1_mgr"), world)
    body = error(act(api("grid1"), h, "assign", responsible_name="张三"), 403)
    assert "下达整改" in body["message"]
    body = error(act(api("xa_insp_expired"), h, "assign", responsible_name="张三"), 403)
    assert "执法证" in body["message"]
    error(api("admin").post(API, json={"enterprise_id": world.enterprises["E1"], "description": "管理员登记",
                                       "category": "thing"}), 403)


def test_conflict_cases(api, world):
    mgr = api("ent1_mgr")
    h = register(mgr, world)
    body = error(act(mgr, {**h, "version": h["version"] + 5}, "assign", responsible_name="张三"), 409)
    assert "已被他人修改" in body["message"]
    body = error(act(mgr, h, "request_review", comment="好了"), 409)
    assert "登记" in body["message"]
    body = error(act(mgr, h, "plan", **PLAN), 409)  # a plan is for major hazards only
    assert ok(mgr.get(f"{API}/{h['id']}"))["version"] == h["version"]


@pytest.mark.parametrize(("payload", "field", "message"), [
    # PRD item 14.4: the message lists the codes the API accepts, not only their labels
    ({"category": "unknown"}, "category", "取值应为以下之一：human、thing、management、environment"),
    ({"source": "rumour"}, "source", "应为以下之一"),
    ({"colour": "red"}, "colour", "未知字段"),
    ({"description": "短"}, "description", "长度应在"),
    ({"enterprise_id": None}, "enterprise_id", "不能为空"),
    ({"found_on": "2026-13-01"}, "found_on", "应为日期"),
])
def test_register_validation_is_422(api, world, payload, field, message):
    data = {"enterprise_id": world.enterprises["E1"], "description": "配电箱未接地", "category": "thing", **payload}
    body = error(api("ent1_mgr").post(API, json=data), 422)
    assert any(message in m for m in body["errors"]["json"][field]), body


@pytest.mark.parametrize(("code", "payload", "field", "message"), [
    ("assign", {"responsible_name": "张三", "bogus": 1}, "bogus", "未知字段"),
    ("assign", {"responsible_name": "张三", "deadline_kind": "lunar"}, "deadline_kind", "应为以下之一"),
    ("assign", {"responsible_name": "张三", "days": 5, "deadline": "2099-01-01"}, "deadline", "只能填一项"),
    ("assign", {"responsible_name": "张三", "deadline": "2000-01-01"}, "deadline", "不能早于今天"),
    ("assign", {}, "responsible_name", "必填项"),
    ("assign", {"version": None, "responsible_name": "张三"}, "version", "不能为空"),
])
def test_action_validation_is_422_and_changes_nothing(api, world, code, payload, field, message):
    mgr = api("ent1_mgr")
    h = register(mgr, world)
    resp = mgr.post(f"{API}/{h['id']}/actions/{code}", json={"version": h["version"], **payload})
    body = error(resp, 422)
    assert any(message in m for m in body["errors"]["json"][field]), body
    assert ok(mgr.get(f"{API}/{h['id']}"))["version"] == h["version"]


def test_missing_version_is_422(api, world):
    mgr = api("ent1_mgr")
    h = register(mgr, world)
    body = error(mgr.post(f"{API}/{h['id']}/actions/assign", json={"responsible_name": "张三"}), 422)
    assert body["errors"]["json"]["version"] == ["必填项"]


def test_review_fail_needs_a_deadline(api, world):
    mgr, principal = api("ent1_mgr"), api("ent1_principal")
    h = ok(act(mgr, register(mgr, world), "assign", responsible_name="王五"))
    h = ok(act(mgr, h, "request_review", comment="已整改"))
    body = error(act(principal, h, "review_fail", comment="不合格"), 422)
    assert "deadline" in body["errors"]["json"]
    yesterday = (today() - timedelta(days=1)).isoformat()
    body = error(act(principal, h, "review_fail", comment="不合格", deadline=yesterday), 422)
    assert "不能早于今天" in body["errors"]["json"]["deadline"][0]


@pytest.mark.parametrize(("name", "content"), [
    ("整改后.png", b"MZ\x90\x00 not an image at all"),  # an executable renamed .png
    ("报告.pdf", b"%PDF-1.7\n%..."),  # a PDF is a document, not a photo
    ("空.jpg", b""),
])
def test_a_photo_that_is_not_an_image_is_422(api, world, name, content):
    """R-N3: uploads are checked by content; the step is not taken."""
    mgr = api("ent1_mgr")
    h = ok(act(mgr, register(mgr, world), "assign", responsible_name="王五"))
    body = error(act_multipart(mgr, h, "request_review", photos=[(name, content)], comment="已整改"), 422)
    assert any(name in m for m in body["errors"]["json"]["photos"]), body
    assert ok(mgr.get(f"{API}/{h['id']}"))["state"] == "rectifying"


def test_a_photo_over_the_size_limit_is_422(api, app, world, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 1024 * 1024)
    mgr = api("ent1_mgr")
    h = ok(act(mgr, register(mgr, world), "assign", responsible_name="王五"))
    big = PNG + b"\x00" * (1024 * 1024)
    body = error(act_multipart(mgr, h, "request_review", photos=[("大.png", big)], comment="已整改"), 422)
    assert "超过" in body["errors"]["json"]["photos"][0]


def test_stray_file_fields_and_wrong_media_types(api, world):
    mgr = api("ent1_mgr")
    h = ok(act(mgr, register(mgr, world), "assign", responsible_name="王五"))
    resp = mgr.post(f"{API}/{h['id']}/actions/request_review", content_type="multipart/form-data",
                    data={"version": str(h["version"]), "comment": "已整改", "scan": (io.BytesIO(PNG), "a.png")})
    assert "scan" in error(resp, 422)["errors"]["json"]
    error(mgr.post(f"{API}/{h['id']}/actions/request_review", data="version=2", content_type="text/plain"), 415)
    body = error(mgr.post(f"{API}/{h['id']}/actions/request_review", data="[1, 2]",
                          content_type="application/json"), 422)
    assert "_schema" in body["errors"]["json"]


# --- the ledger --------------------------------------------------------------------------------------------------

@pytest.fixture()
def ledger(api, world):
    """Six hazards on E1 (one major, one closed on the spot, one overdue-free rectifying), one on E4."""
    mgr, insp = api("ent1_mgr"), api("xa_insp")
    made = {"a": register(mgr, world, description="储罐区报警器失效"),
            "b": register(insp, world, description="配电柜无防护"),
            "c": register(mgr, world, description="消防通道堵塞", category="environment"),
            "major": register(api("ent1_principal"), world, level="major", sector="fake", rule_item="fake/R1#1",
                              description="重大：反应釜安全阀失效"),
            "d": register(mgr, world, description="未按规定培训", category="management", found_on="2026-01-05"),
            "e": register(mgr, world, description="安全标志缺失")}
    made["c"] = ok(act(mgr, made["c"], "assign", responsible_name="王五", days=5, deadline_kind="calendar"))
    made["e"] = ok(act_multipart(mgr, made["e"], "rectify_on_spot", photos=[("e.png", PNG)], comment="已补"))
    made["e4"] = register(api("ent4_mgr"), world, ent="E4", description="同安区的隐患")
    return made


def ids(resp) -> list[int]:
    return [item["id"] for item in ok(resp)["items"]]


def test_list_is_scoped_and_newest_first(api, ledger):
    e1 = sorted((h["id"] for k, h in ledger.items() if k != "e4"), reverse=True)
    assert ids(api("xa_reg").get(API)) == e1
    assert ids(api("ent1_mgr").get(API)) == e1
    assert ids(api("ta_reg").get(API)) == [ledger["e4"]["id"]]
    assert ids(api("city_reg").get(API)) == sorted([*e1, ledger["e4"]["id"]], reverse=True)
    body = ok(api("xa_reg").get(API))
    assert body["total"] == 6 and body["total_capped"] is False and body["next_after"] is None
    assert "transitions" not in body["items"][0]


@pytest.mark.parametrize(("query", "keys"), [
    ({"level": "major"}, ["major"]),
    ({"state": "rectifying"}, ["c"]),
    ({"state": "closed"}, ["e"]),
    ({"source": "inspection"}, ["b"]),
    ({"q": "消防"}, ["c"]),
    ({"q": "100%"}, []),
    ({"overdue": "false", "state": "registered"}, ["d", "major", "b", "a"]),
    ({"found_from": "2026-01-01", "found_to": "2026-01-31"}, ["d"]),
])
def test_list_filters(api, ledger, query, keys):
    """R-H6: the ledger filters by level, state, source, text, overdue and date range."""
    expected = sorted((ledger[k]["id"] for k in keys), reverse=True)
    assert ids(api("xa_reg").get(API, query_string=query)) == expected


def test_list_filter_by_enterprise_and_jurisdiction(api, world, ledger):
    city = api("city_reg")
    assert ids(city.get(API, query_string={"enterprise_id": world.enterprises["E4"]})) == [ledger["e4"]["id"]]
    assert ids(city.get(API, query_string={"jurisdiction_id": world.nodes["同安区"]})) == [ledger["e4"]["id"]]
    # a filter never widens the scope
    assert ids(api("xa_reg").get(API, query_string={"enterprise_id": world.enterprises["E4"]})) == []


@pytest.mark.parametrize(("query", "field"), [
    ({"state": "done"}, "state"), ({"source": "rumour"}, "source"), ({"size": "0"}, "size"),
    ({"size": "500"}, "size"), ({"after": "x"}, "after"), ({"overdue": "maybe"}, "overdue"),
    ({"found_from": "yesterday"}, "found_from"),
])
def test_bad_list_filters_are_422(api, query, field):
    body = error(api("xa_reg").get(API, query_string=query), 422)
    assert field in body["errors"]["query"]


def test_keyset_pagination_walks_every_row_once(api, ledger):
    client = api("xa_reg")
    everything = ids(client.get(API))
    seen, after, pages = [], None, 0
    while True:
        body = ok(client.get(API, query_string={"size": 4, **({"after": after} if after else {})}))
        assert body["total"] == 6
        seen += [i["id"] for i in body["items"]]
        pages += 1
        after = body["next_after"]
        if after is None:
            break
    assert seen == everything and pages == 2


# --- OpenAPI (R-N5) ------------------------------------------------------------------------------------------------

def test_openapi_documents_the_hazard_api(client):
    spec = json.loads(client.get("/api/v1/openapi.json").get_data(as_text=True))
    paths = spec["paths"]
    assert set(paths[API]) >= {"get", "post"}
    assert "get" in paths[API + "/{hazard_id}"]
    action = paths[API + "/{hazard_id}/actions/{code}"]["post"]
    assert "get" in paths[API + "/{hazard_id}/attachments/{attachment_id}"]
    assert set(action["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    for code in hazard_flow.ACTIONS:
        assert f"``{code}``" in action["description"], code
    refs = {s["$ref"].rsplit("/", 1)[-1] for s in action["requestBody"]["content"]["application/json"]["schema"]["oneOf"]}
    assert refs == {a.schema.__name__ for a in hazard_flow.ACTIONS.values()}
    for name in ("HazardDetailOut", "TransitionOut", "AttachmentOut", "SupervisionOut", "HazardPageOut"):
        assert name in spec["components"]["schemas"], name
    assert "version" in spec["components"]["schemas"]["AssignIn"]["required"]
    for path, ops in paths.items():
        if path.startswith(API):
            for method, op in ops.items():
                if method in ("get", "post"):
                    assert op.get("summary") or op.get("description"), (path, method)


def test_dates_are_iso(api, world):
    h = register(api("ent1_mgr"), world, found_on="2026-03-02")
    assert h["found_at"].startswith("2026-03-02T") and date.fromisoformat(h["found_at"][:10])


def test_date_filters_are_days_in_china_time(api, world, session):
    """R-H6: a hazard found at 01:00 on 5 January in China (17:00 UTC on the 4th) belongs to 5 January."""
    from datetime import datetime

    from core.models import Hazard

    mgr = api("ent1_mgr")
    h = register(mgr, world, description="凌晨巡查发现的隐患")
    session.get(Hazard, h["id"]).found_at = datetime(2026, 1, 4, 17, 0, tzinfo=UTC)
    session.commit()
    assert h["id"] in ids(mgr.get(API, query_string={"found_from": "2026-01-05", "found_to": "2026-01-05"}))
    assert h["id"] not in ids(mgr.get(API, query_string={"found_to": "2026-01-04"}))
    assert h["id"] not in ids(mgr.get(API, query_string={"found_from": "2026-01-06"}))


def test_openapi_names_enum_values_the_api_accepts(api):
    """Issue 14 item 4: every enum field in the OpenAPI document lists the codes its validator accepts."""
    doc = api("ent1_mgr").get("/api/v1/openapi.json").get_json()
    props = doc["components"]["schemas"]
    found = [p for s in props.values() for p in s.get("properties", {}).values() if "enum" in p]
    assert found
    category = [p for s in props.values() for n, p in s.get("properties", {}).items() if n == "category" and "enum" in p]
    assert any({"human", "thing", "management", "environment"} <= set(p["enum"]) for p in category), category
