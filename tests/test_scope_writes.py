"""The scope matrix for writes (issue 14 item 6, R-A4): every write method of every route, sent by each user the
access table denies, with that attacker's **own valid CSRF token** (web) or own API token — 403, or 404 where the
object is outside the attacker's scope, and nothing changes. ``tests/test_access_matrix.py`` decides who may use
each endpoint (one method per case); this file sends the other methods of the same routes under the same
decisions, so a route added later is covered as soon as it is in that table (which fails until it is).

Refused attempts are audited once per user and request (core.services.audit.record_refusal).
"""

from __future__ import annotations

import re

import pytest
from flask import g
from sqlalchemy import func, select

from core.models import AuditEntry, Base
from tests.forms import tamper
from tests.test_access_matrix import ANON, EXPECTED, USERS, _method, _rules

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
#: Tables a refused request may write to: the audit trail of the refusal and nothing else.
TRAIL = {"audit_log"}


def _write_cases():
    for endpoint, cases in EXPECTED.items():
        for index, case in enumerate(cases):
            yield pytest.param(endpoint, index, id=f"{endpoint}-{case.label or index}")


def _counts(session) -> dict[str, int]:
    session.expire_all()
    return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables
            if t.name not in TRAIL}


def _csrf_token(client) -> str:
    # Flask-WTF caches the token in ``g``, which the tests' long-lived app context shares between clients.
    g.pop("csrf_token", None)
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/", follow_redirects=True).get_data(as_text=True))
    assert match, "the home page carries no CSRF token"
    return match.group(1)


@pytest.mark.parametrize(("endpoint", "index"), list(_write_cases()))
def test_denied_users_cannot_write_with_their_own_tokens(app, session, world, login, api, monkeypatch, endpoint,
                                                         index):
    """Every write method of the route × every denied user: 403/404 as the table says, no row changed."""
    rule = _rules(app)[endpoint]
    case = EXPECTED[endpoint][index]
    methods = [m for m in WRITE_METHODS if m in rule.methods and m != _method(rule, case)]
    if not methods:
        pytest.skip("the route has no other write method than the one the access matrix sends")
    is_api = rule.rule.startswith("/api/")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    denied = [u for u in USERS if u not in case.allowed]
    sent = 0
    for role in denied:
        client = api(role) if is_api else login(role)
        args = {k: v(session, world, role) if callable(v) else v for k, v in case.args.items()}
        body = dict(case.body(session, world, role, args)) if case.body else {}
        session.commit()
        url = app.url_map.bind("localhost").build(endpoint, args)
        before = _counts(session)
        for method in methods:
            if is_api:
                resp = client.open(url, method=method, json=body)
            else:
                resp = tamper(client, url, {**body, "csrf_token": _csrf_token(client)}, method=method,
                              why="a user refused the page posts anyway: no page renders him this form")
            resp.get_data()
            expected = 404 if role in case.not_found else 403
            assert resp.status_code == expected, f"{role} {method} {url} → {resp.status_code}, expected {expected}"
            sent += 1
        assert _counts(session) == before, f"{role} {methods} {url} changed rows"
    assert sent or not denied


def test_a_refused_cross_scope_read_is_audited_once(app, session, world, login, api):
    """同安区's regulator opens 翔安区's enterprise (404), twice, on the web and by the API: one audit entry each."""
    e1 = world.enterprises["E1"]

    def refusals() -> list[str]:
        session.expire_all()
        return list(session.scalars(select(AuditEntry.summary).where(
            AuditEntry.action == "refused", AuditEntry.actor_id == world.users["ta_reg"]).order_by(AuditEntry.id)))

    web = login("ta_reg")
    assert web.get(f"/enterprises/{e1}").status_code == 404
    assert web.get(f"/enterprises/{e1}").status_code == 404
    client = api("ta_reg")
    session.commit()
    assert client.get(f"/api/v1/enterprises/{e1}").status_code == 404
    assert refusals() == [f"GET /enterprises/{e1} → 404", f"GET /api/v1/enterprises/{e1} → 404"]
    assert ANON not in USERS  # anonymous visitors are sent to the login page, not audited
