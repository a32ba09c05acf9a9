"""Real concurrent requests against the production server (gunicorn, 2 worker processes, as ``scripts/run``
serves) on its own database — a SQLite file, or PostgreSQL when ``ANJIAN_TEST_DATABASE_URL`` names one
(R-N1, issue 14 item 3, issue 20 item 1).

* 8 writers registering hidden dangers while 2 readers list them: 0 errors, every row there (SQLite writers begin
  ``IMMEDIATE`` and queue on the busy timeout instead of failing with "database is locked").
* The same transition sent by 6 clients at once: exactly one 200, the others 409, one timeline step.
* The same 指令书 issued by 4 clients at once: exactly one 201, the others 409, one document number.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from core.services import hazards, users
from core.services.actors import SYSTEM
from tests.live_gunicorn import in_parallel, request, serve_gunicorn

pytestmark = pytest.mark.slow

WRITERS, PER_WRITER, READERS = 8, 12, 2


def _tokens(session, world, username: str, n: int) -> list[str]:
    user = world.user(session, username)
    return [users.create_token(session, SYSTEM, user, f"live-{i}")[0] for i in range(n)]


def _scalar(url: str, sql: str, **params) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar_one()
    finally:
        engine.dispose()


def test_eight_concurrent_writers_lose_nothing(tmp_path):
    """R-N1: 8 API clients register 12 hidden dangers each while 2 read the ledger: all 96 are 201 and stored,
    no reader fails."""
    def setup(session, world):
        return {"ent": world.enterprises["E1"], "writers": _tokens(session, world, "ent1_mgr", WRITERS),
                "readers": _tokens(session, world, "xa_reg", READERS)}

    with serve_gunicorn(tmp_path, setup) as (base, data, url):
        def writer(w: int):
            return [request("POST", base + "/api/v1/hazards", data["writers"][w], {
                "enterprise_id": data["ent"], "description": f"并发登记 {w}-{i}", "category": "thing"})[0]
                for i in range(PER_WRITER)]

        def reader(r: int):
            return [request("GET", base + "/api/v1/hazards?size=20", data["readers"][r])[0] for _ in range(PER_WRITER)]

        results = in_parallel([lambda w=w: writer(w) for w in range(WRITERS)]
                              + [lambda r=r: reader(r) for r in range(READERS)])
        written = Counter(s for statuses in results[:WRITERS] for s in statuses)
        read = Counter(s for statuses in results[WRITERS:] for s in statuses)
        assert written == {201: WRITERS * PER_WRITER}, written
        assert read == {200: READERS * PER_WRITER}, read
        assert _scalar(url, "SELECT count(*) FROM hazards WHERE description LIKE :p", p="并发登记 %") \
            == WRITERS * PER_WRITER


def test_the_same_transition_at_once_wins_once(tmp_path):
    """R-H2: 6 clients send 下达整改 on the same version at the same moment: one 200, five 409 with a Chinese
    message, one ``assign`` step in the timeline."""
    def setup(session, world):
        mgr = world.user(session, "ent1_mgr")
        h = hazards.register_hazard(session, mgr, {"enterprise_id": world.enterprises["E1"],
                                                   "description": "并发下达整改", "category": "thing"})
        session.flush()
        return {"hazard": h.id, "version": h.version, "tokens": _tokens(session, world, "ent1_mgr", 6)}

    with serve_gunicorn(tmp_path, setup) as (base, data, url):
        target = f"{base}/api/v1/hazards/{data['hazard']}/actions/assign"
        body = {"version": data["version"], "responsible_name": "王五", "days": 10}
        results = in_parallel([lambda t=t: request("POST", target, t, body) for t in data["tokens"]])
        statuses = Counter(status for status, _ in results)
        assert statuses == {200: 1, 409: 5}, results
        assert all("刷新" in payload["message"] for status, payload in results if status == 409), results
        assert _scalar(url, "SELECT count(*) FROM hazard_transitions WHERE hazard_id = :h AND action = 'assign'",
                       h=data["hazard"]) == 1


def test_the_same_order_issued_at_once_takes_one_number(tmp_path):
    """R-E4: 4 inspectors' clients issue the same 指令书 (same hazard, same version) at once: one 201, three 409,
    one document and one number used."""
    def setup(session, world):
        insp2 = users.save_user(session, SYSTEM, {
            "username": "xa_insp2", "display_name": "李执法", "password": "secret-password-1", "roles": ["inspector"],
            "jurisdiction_id": world.nodes["翔安区"], "agency_id": world.agencies["翔安局"],
            "cert_number": "XA-003", "cert_valid_until": date.today() + timedelta(days=365)})
        h = hazards.register_hazard(session, world.user(session, "xa_insp"), {
            "enterprise_id": world.enterprises["E1"], "description": "并发签发", "category": "thing"})
        session.flush()
        body = {"enterprise_id": world.enterprises["E1"], "deadline": (date.today() + timedelta(days=9)).isoformat(),
                "items": [{"hazard_id": h.id, "version": h.version}],
                "signer_ids": [world.users["xa_insp"], insp2.id]}
        return {"body": body, "tokens": _tokens(session, world, "xa_insp", 4)}

    with serve_gunicorn(tmp_path, setup) as (base, data, url):
        results = in_parallel([lambda t=t: request("POST", base + "/api/v1/documents/orders", t, data["body"])
                               for t in data["tokens"]])
        statuses = Counter(status for status, _ in results)
        assert statuses == {201: 1, 409: 3}, results
        assert _scalar(url, "SELECT count(*) FROM documents") == 1
        number = next(p["document"]["number"] for s, p in results if s == 201)
        assert number.endswith("1号"), number


def test_the_same_idempotency_key_at_once_registers_once(tmp_path):
    """Issue 14 item 3: a phone retrying a 重大隐患 report over a bad network sends the same request with the
    same Idempotency-Key 6 times at once: one hazard, every answer the same 201 body (5 of them replayed)."""
    def setup(session, world):
        return {"ent": world.enterprises["E1"], "token": _tokens(session, world, "ent1_mgr", 1)[0]}

    with serve_gunicorn(tmp_path, setup) as (base, data, url):
        body = {"enterprise_id": data["ent"], "description": "并发重复上报", "category": "thing", "level": "major"}
        headers = {"Idempotency-Key": "phone-retry-000001"}
        results = in_parallel([lambda: request("POST", base + "/api/v1/hazards", data["token"], body, headers)
                               for _ in range(6)])
        assert Counter(status for status, _ in results) == {201: 6}, results
        assert len({payload["id"] for _, payload in results}) == 1
        assert _scalar(url, "SELECT count(*) FROM hazards WHERE description = '并发重复上报'") == 1
