"""执法检查 through the JSON API (R-E3…R-E5, R-N3): start with a colleague and GPS, answers, multipart PNG
signatures, completion with the end position, the full-process record and the 现场检查记录."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest

from tests.api_helpers import error, ok
from tests.images import png_bytes
from tests.test_field_helpers import GPS, make_insp2, signature_png

API = "/api/v1/inspections"


@pytest.fixture(autouse=True)
def _uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))


def _sign(client, run_id, png, **fields):
    return client.post(f"{API}/{run_id}/signatures", data={**fields, "image": (io.BytesIO(png), "s.png")},
                       content_type="multipart/form-data")


def test_enforcement_end_to_end(api, session, world, monkeypatch):
    """R-E3/R-E5: the whole field inspection by API, with the refusals a client meets on the way."""
    insp2 = make_insp2(session, world)
    session.commit()
    monkeypatch.setitem(world.users, "xa_insp2", insp2.id)
    lead, co = api("xa_insp"), api("xa_insp2")
    body = {"kind": "enforcement", "enterprise_id": world.enterprises["E1"], "checklists": ["fake-basic"],
            "place": "储罐区"}
    refused = error(lead.post(API, json={**body, "co_inspector_id": world.users["xa_insp_expired"], **GPS}), 422)
    assert refused["errors"]["json"]["co_inspector_id"] == [
        f"xa_insp_expired的执法证（XA-002）已于 {date.today() - timedelta(days=1)} 过期，不能参加执法检查"]
    refused = error(lead.post(API, json={**body, "co_inspector_id": insp2.id}), 422)
    assert "gps_missing" in refused["errors"]["json"]
    error(lead.post(API, json={**body, "co_inspector_id": insp2.id, "gps_missing": "lost"}), 422)
    run = ok(lead.post(API, json={**body, "co_inspector_id": insp2.id, **GPS}), 201)
    assert (run["kind"], run["co_inspector_id"], run["place"]) == ("enforcement", insp2.id, "储罐区")
    assert run["start_position"] == {**GPS, "gps_missing": None, "label": "24.61234, 118.24567（±12 米）"}
    items = {i["code"]: i["item_id"] for i in run["items"]}
    url = f"{API}/{run['id']}/answers"
    ok(lead.post(url, data={"item_id": str(items["1.1"]), "value": "no", "comment": "未装", **GPS,
                            "photos": (io.BytesIO(png_bytes()), "p.png")},
                 content_type="multipart/form-data"))
    for code, value in (("1.2", 1.0), ("2.1", "yes")):
        ok(co.post(url, json={"item_id": items[code], "value": value, "gps_missing": "denied"}))

    # Signatures: multipart PNG; blank and JSON bodies refused; the enterprise needs a name.
    sig_url = f"{API}/{run['id']}/signatures"
    assert error(lead.post(sig_url, json={"role": "inspector"}), 422)["errors"]["json"]["image"]
    assert error(_sign(lead, run["id"], signature_png(blank=True), role="inspector"), 422)["errors"]["json"] == {
        "image": ["签名是空白的，请在签名框内签名"]}
    assert error(_sign(lead, run["id"], signature_png(), role="enterprise"), 422)["errors"]["json"] == {
        "name": ["请填写被检查单位现场负责人的姓名"]}
    error(_sign(api("xa_reg"), run["id"], signature_png(), role="inspector"), 403)
    mine = ok(_sign(lead, run["id"], signature_png(), role="inspector", **GPS), 201)
    assert (mine["role"], mine["name"], mine["cert_number"], mine["lat"]) == ("inspector", "xa_insp", "XA-001",
                                                                               24.61234)
    ok(_sign(lead, run["id"], signature_png(), role="enterprise", name="王现场", title="主任"), 201)
    listed = ok(lead.get(sig_url))
    assert [s["name"] for s in listed["items"]] == ["xa_insp", "王现场"] and listed["missing"] == ["检查人员 李执法"]
    version = ok(lead.get(f"{API}/{run['id']}"))["version"]  # the on-site person's name went onto the run
    assert version == run["version"] + 1
    done = error(lead.post(f"{API}/{run['id']}/complete", json={"version": version, **GPS}), 422)
    assert done["message"] == "尚缺签名：检查人员 李执法"
    ok(_sign(co, run["id"], signature_png(), role="inspector", gps_missing="timeout"), 201)
    assert ok(lead.get(sig_url))["missing"] == []
    error(lead.post(f"{API}/{run['id']}/inspection-record"), 409)  # not completed yet
    done = ok(lead.post(f"{API}/{run['id']}/complete", json={"version": version, "gps_missing": "timeout"}))
    assert done["status"] == "completed" and done["end_position"]["label"] == "未获取定位：定位超时"
    error(_sign(lead, run["id"], signature_png(), role="inspector"), 409)

    issued = ok(lead.post(f"{API}/{run['id']}/inspection-record"), 201)
    assert issued["number"].startswith("（翔）应急检记〔") and len(issued["pdf_sha256"]) == 64
    error(lead.post(f"{API}/{run['id']}/inspection-record"), 409)
    steps = ok(api("xa_reg").get(f"{API}/{run['id']}/record"))["items"]
    actions = [s["action"] for s in steps]
    assert actions[0] == "start" and actions[-2:] == ["complete", "document_issued"]
    assert actions.count("sign") == 3 and actions.count("finding") == 1 and "photo" in actions
    assert steps[0]["place_label"] == "24.61234, 118.24567（±12 米）"
    assert [s["place_label"] for s in steps if s["action"] == "answer"] == ["未获取定位：未授权定位"] * 2
    assert steps[-1]["detail"]["number"] == issued["number"]
    error(api("ta_reg").get(f"{API}/{run['id']}/record"), 404)


def test_withdraw_signatures_unlocks_answers(api, session, world):
    insp2 = make_insp2(session, world)
    session.commit()
    lead = api("xa_insp")
    run = ok(lead.post(API, json={"kind": "enforcement", "enterprise_id": world.enterprises["E1"],
                                  "checklists": ["fake-basic"], "co_inspector_id": insp2.id,
                                  "gps_missing": "unsupported"}), 201)
    items = {i["code"]: i["item_id"] for i in run["items"]}
    url = f"{API}/{run['id']}/answers"
    for code, value in (("1.1", "yes"), ("1.2", 1.0), ("2.1", "yes")):
        ok(lead.post(url, json={"item_id": items[code], "value": value}))
    ok(_sign(lead, run["id"], signature_png(), role="inspector"), 201)
    locked = error(lead.post(url, json={"item_id": items["1.2"], "value": 1.2, "version": 1}), 409)
    assert locked["message"].startswith("检查情况已签名确认")
    assert ok(lead.delete(f"{API}/{run['id']}/signatures")) == {"items": [], "missing": [
        "检查人员 xa_insp", "检查人员 李执法", "被检查单位现场负责人"]}
    ok(lead.post(url, json={"item_id": items["1.2"], "value": 1.2, "version": 1}))
