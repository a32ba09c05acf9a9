"""Idempotent one-shot actions (issue 14 item 3, R-A5): a double tap, a retry after a lost answer or a second tab
never creates two records or two transitions (core/views/idempotency.py). Forms are submitted as a browser sends
them (tests/forms.py), so the hidden key is the one the page rendered."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from core.models import Hazard, HazardTransition, IdempotencyRecord
from core.models.base import utcnow
from core.views import idempotency
from tests.api_helpers import error, ok
from tests.forms import page_form
from tests.test_documents import insp2  # noqa: F401  (fixture)

API = "/api/v1/hazards"


def count(session, model, *where) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


def register_form(client):
    form = page_form(client.get("/hazards/new"), page_url="/hazards/new")
    return form.set("description", "反应釜安全阀失效（重大）").set("category", "thing").set("level", "major")


def test_every_post_form_carries_a_fresh_key(login):
    """Two renders of the same form: two keys (a second tab is a second request, not a duplicate)."""
    client = login("ent1_mgr")
    first, second = register_form(client), register_form(client)
    assert first.value(idempotency.FIELD) != second.value(idempotency.FIELD)
    assert idempotency.KEY_PATTERN.fullmatch(first.value(idempotency.FIELD))


def test_a_double_tap_on_a_major_hazard_report_registers_it_once(login, session, world):
    """Reporting a 重大隐患 twice (the same page posted twice): one hazard, both answers lead to it."""
    client = login("ent1_mgr")
    before = count(session, Hazard)
    form = register_form(client)
    first = form.submit(client)
    assert first.status_code == 302, first.get_data(as_text=True)[:500]
    again = form.submit(client)
    assert again.status_code == 302 and again.headers["Location"] == first.headers["Location"]
    assert again.headers[idempotency.REPLAYED_HEADER] == "true"
    assert count(session, Hazard) == before + 1
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert idempotency.REPLAY_NOTICE in page
    hazard_id = int(first.headers["Location"].rsplit("/", 1)[-1])
    assert count(session, HazardTransition, HazardTransition.hazard_id == hazard_id) == 1


def test_a_refused_submit_keeps_no_key_and_the_corrected_one_goes_through(login, session):
    """A validation error rolls the key back with everything else: the user corrects the page and sends it."""
    client = login("ent1_mgr")
    before = count(session, Hazard)
    form = register_form(client).set("description", "短")
    assert form.submit(client).status_code == 422
    assert count(session, IdempotencyRecord) == 0
    form.set("description", "二号车间配电箱未接地")
    assert form.submit(client).status_code == 302
    assert count(session, Hazard) == before + 1


def test_the_same_form_sent_again_with_other_content_is_refused(login, session):
    """Back button, edit, send: the key names the first request, so the second is refused, not run."""
    client = login("ent1_mgr")
    form = register_form(client)
    assert form.submit(client).status_code == 302
    before = count(session, Hazard)
    resp = form.set("description", "另一处配电箱未接地").submit(client)
    assert resp.status_code == 409 and idempotency.FORM_REUSED in resp.get_data(as_text=True)
    assert count(session, Hazard) == before


def test_a_transition_submitted_twice_happens_once(login, session, world):
    """R-H2: the 下达整改 form posted twice: one transition; the second answer is the first's redirect."""
    client = login("ent1_mgr")
    created = register_form(client).set("level", "general").submit(client)
    hazard_id = int(created.headers["Location"].rsplit("/", 1)[-1])
    url = f"/hazards/{hazard_id}/act/assign"
    form = page_form(client.get(url), page_url=url).set("responsible_name", "张三")
    first, again = form.submit(client), form.submit(client)
    assert first.status_code == again.status_code == 302, first.get_data(as_text=True)[:500]
    assert again.headers[idempotency.REPLAYED_HEADER] == "true"
    assert count(session, HazardTransition, HazardTransition.hazard_id == hazard_id) == 2  # register + assign


def test_the_api_replays_the_first_answer_for_a_retried_key(api, session, world):
    """A client that lost the answer retries with the same Idempotency-Key: the same 201 body, one hazard."""
    client = api("ent1_mgr")
    body = {"enterprise_id": world.enterprises["E1"], "description": "配电箱未接地", "category": "thing"}
    headers = {idempotency.HEADER: "retry-0001-abcdef"}
    before = count(session, Hazard)
    first = ok(client.post(API, json=body, headers=headers), 201)
    resp = client.post(API, json=body, headers=headers)
    assert resp.status_code == 201 and resp.get_json() == first
    assert resp.headers[idempotency.REPLAYED_HEADER] == "true"
    assert count(session, Hazard) == before + 1
    # Another user's same key is another request (keys are per user).
    other = ok(api("ent1_principal").post(API, json=body, headers=headers), 201)
    assert other["id"] != first["id"] and count(session, Hazard) == before + 2


def test_the_api_refuses_a_key_reused_for_another_body_and_a_malformed_key(api, session, world):
    client = api("ent1_mgr")
    body = {"enterprise_id": world.enterprises["E1"], "description": "配电箱未接地", "category": "thing"}
    ok(client.post(API, json=body, headers={idempotency.HEADER: "reuse-0001-abcdef"}), 201)
    before = count(session, Hazard)
    refused = error(client.post(API, json={**body, "description": "消防通道堵塞"},
                                headers={idempotency.HEADER: "reuse-0001-abcdef"}), 422)
    assert refused["message"] == idempotency.KEY_REUSED
    bad = error(client.post(API, json=body, headers={idempotency.HEADER: "短"}), 400)
    assert "8–64" in bad["message"]
    assert count(session, Hazard) == before


def test_a_key_older_than_a_day_is_forgotten(api, session, world):
    """After TTL the key may be used again; the services' own state checks still stand."""
    client = api("ent1_mgr")
    body = {"enterprise_id": world.enterprises["E1"], "description": "配电箱未接地", "category": "thing"}
    headers = {idempotency.HEADER: "old-key-000001"}
    first = ok(client.post(API, json=body, headers=headers), 201)
    record = session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "old-key-000001"))
    record.created_at = utcnow() - idempotency.TTL - timedelta(minutes=1)
    session.commit()
    second = ok(client.post(API, json=body, headers=headers), 201)
    assert second["id"] != first["id"]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_reads_ignore_keys(api, session, method):
    client = api("ent1_mgr")
    assert client.open(API, method=method, headers={idempotency.HEADER: "read-key-0001"}).status_code == 200
    assert count(session, IdempotencyRecord) == 0


def test_issuing_a_rectification_order_twice_from_its_page_issues_one(login, session, world, insp2):
    """R-E3: the 指令书 form pressed twice: one document, one number, the second answer is the first's page."""
    from core.models import Document
    from tests.test_documents import register

    h1 = register(session, world, "配电箱未接地")
    session.commit()
    client = login("xa_insp")
    url = f"/documents/order/new/{world.enterprises['E1']}"
    form = page_form(client.get(url), page_url=url)
    form.check("hazard_ids", str(h1.id)).check("signer_ids", str(world.users["xa_insp"]))
    form.check("signer_ids", str(insp2.id)).set("deadline", (date.today() + timedelta(days=7)).isoformat())
    before = count(session, Document)
    first, again = form.submit(client), form.submit(client)
    assert first.status_code == 302, first.get_data(as_text=True)[:1000]
    assert again.status_code == 302 and again.headers["Location"] == first.headers["Location"]
    assert count(session, Document) == before + 1
