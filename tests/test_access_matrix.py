"""Every role against every route (R-A4, R-A5).

``EXPECTED`` maps each endpoint of ``app.url_map`` to one or more cases (one per id variant: own scope, other
scope, missing). A case names the world users allowed; of the others, those in ``not_found`` must get 404 (the
object is out of their scope and must not leak) and the rest 403. Anonymous visitors are sent to the login page
on web routes and get 401 on the API. ``test_table_is_complete`` fails when an endpoint is added without an
entry here, so that nobody adds a route without deciding who may use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

from core.services import jurisdictions, users
from core.services.actors import SYSTEM
from tests.factories import uscc
from tests.forms import tamper

USERS = ("admin", "city_reg", "xa_reg", "ta_reg", "xa_insp", "xa_insp_expired", "grid1", "ent1_mgr",
         "ent1_principal", "ent4_mgr")
ANON = "anonymous"
ROLES = USERS + (ANON,)
#: Endpoints that need no entry: static files; healthz is checked separately (200 for everyone).
SKIPPED = {"static", "healthz"}

EVERYONE = frozenset(USERS)
ADMIN = frozenset({"admin"})
REGULATORS = frozenset({"admin", "city_reg", "xa_reg", "ta_reg"})  # enterprise.create / import
GOVERNMENT = frozenset({"admin", "city_reg", "xa_reg", "ta_reg", "xa_insp", "xa_insp_expired", "grid1"})
EXPORTERS = GOVERNMENT - {"grid1"}
ENTERPRISE_USERS = frozenset({"ent1_mgr", "ent1_principal", "ent4_mgr"})
#: Who sees E1 (新店1网格, 翔安区) and E4 (大同1网格, 同安区).
SEES_E1 = frozenset({"admin", "city_reg", "xa_reg", "xa_insp", "xa_insp_expired", "grid1", "ent1_mgr",
                     "ent1_principal"})
SEES_E4 = frozenset({"admin", "city_reg", "ta_reg", "ent4_mgr"})
EDITORS = REGULATORS | ENTERPRISE_USERS  # enterprise.update (scope decides which)
#: Who sees the 翔安区 and 同安区 nodes (enterprise users hold no jurisdiction.view at all: 403).
SEES_XA = frozenset({"admin", "city_reg", "xa_reg", "xa_insp", "xa_insp_expired"})
SEES_TA = frozenset({"admin", "city_reg", "ta_reg"})

Resolver = Callable[[Any, Any, str], Any]  # (session, world, username) → value


def ent(key: str) -> Resolver:
    return lambda session, world, username: world.enterprises[key]


def node(name: str) -> Resolver:
    return lambda session, world, username: world.nodes[name]


def user(name: str) -> Resolver:
    return lambda session, world, username: world.users[name]


def agency(name: str) -> Resolver:
    return lambda session, world, username: world.agencies[name]


def token_of(owner: str | None) -> Resolver:
    """A fresh API token of ``owner`` (None: of the acting user)."""

    def make(session, world, username):
        who = owner or (username if username != ANON else "xa_reg")
        _, token = users.create_token(session, SYSTEM, world.user(session, who), "matrix")
        session.flush()
        return token.id

    return make


def spare_leaf(session, world, username) -> int:
    """A fresh, unused grid cell (deletable)."""
    leaf = jurisdictions.create_jurisdiction(session, SYSTEM, {
        "parent_id": world.nodes["马巷街道"], "level": "grid", "name": "马巷9网格", "code": None})
    session.flush()
    return leaf.id


@dataclass(frozen=True)
class Case:
    """One request against an endpoint and who may make it."""

    label: str = ""
    args: Mapping[str, Any] = field(default_factory=dict)  # URL values: literals or resolvers
    allowed: frozenset[str] = frozenset()
    #: Denied users that must get 404 (out of scope / missing); every other denied user gets 403.
    not_found: frozenset[str] = frozenset()
    method: str | None = None  # default: GET when the route has it, else its only other method
    #: Request body: ``(session, world, username, args) → dict``; form data for web routes, JSON for the API.
    body: Callable[..., dict] | None = None
    #: What an anonymous visitor gets: "login" (302 to /login), "401", or "allowed".
    anonymous: str = "login"

    def __post_init__(self):
        assert not (self.allowed & self.not_found), self
        assert (self.allowed | self.not_found) <= EVERYONE, self


def api(*cases: Case) -> list[Case]:
    return [Case(**{**c.__dict__, "anonymous": "401"}) for c in cases]


def enterprise_patch(key: str) -> Callable[..., dict]:
    return lambda session, world, username, args: {"address": "权限矩阵路1号", "version": world.ent(session, key).version}


def new_enterprise(session, world, username, args) -> dict:
    town = "大同街道" if username == "ta_reg" else "新店街道"
    return {"name": "权限矩阵有限公司", "uscc": uscc(900), "jurisdiction_id": world.nodes[town]}


def node_patch(name: str) -> Callable[..., dict]:
    return lambda session, world, username, args: {"name": name, "version": world.node(session, name).version}


def delete_form(session, world, username, args) -> dict:
    from core.models import Jurisdiction

    return {"version": str(session.get(Jurisdiction, args["node_id"]).version)}


EXPECTED: dict[str, list[Case]] = {
    # --- auth ---
    "auth.login": [Case(allowed=EVERYONE, anonymous="allowed")],
    "auth.logout": [Case(allowed=EVERYONE)],
    "auth.account": [Case(allowed=EVERYONE)],
    "auth.revoke_token": [
        Case("own", {"token_id": token_of(None)}, allowed=EVERYONE),
        Case("other", {"token_id": token_of("ent4_mgr")}, allowed={"admin", "ent4_mgr"},
             not_found=EVERYONE - {"admin", "ent4_mgr"}),
        Case("missing", {"token_id": 987654}, not_found=EVERYONE),
    ],
    # --- home and enterprises ---
    "home.index": [Case(allowed=EVERYONE)],
    "enterprises.index": [Case(allowed=EVERYONE)],
    "enterprises.detail": [
        Case("E1", {"enterprise_id": ent("E1")}, allowed=SEES_E1, not_found=EVERYONE - SEES_E1),
        Case("E4", {"enterprise_id": ent("E4")}, allowed=SEES_E4, not_found=EVERYONE - SEES_E4),
        Case("missing", {"enterprise_id": 987654}, not_found=EVERYONE),
    ],
    "enterprises.create": [Case(allowed=REGULATORS)],
    "enterprises.edit": [
        Case("E1", {"enterprise_id": ent("E1")}, allowed=SEES_E1 & EDITORS, not_found=EVERYONE - SEES_E1),
        Case("E4", {"enterprise_id": ent("E4")}, allowed=SEES_E4 & EDITORS, not_found=EVERYONE - SEES_E4),
    ],
    "enterprises.import_": [Case(allowed=REGULATORS)],
    "enterprises.import_template": [
        Case("csv", {"fmt": "csv"}, allowed=REGULATORS),
        Case("xlsx", {"fmt": "xlsx"}, allowed=REGULATORS),
    ],
    "enterprises.export": [
        Case("csv", {"fmt": "csv"}, allowed=EXPORTERS),
        Case("xlsx", {"fmt": "xlsx"}, allowed=EXPORTERS),
    ],
    # --- administration: platform admin only ---
    "admin.users_index": [Case(allowed=ADMIN)],
    "admin.user_new": [Case(allowed=ADMIN)],
    "admin.user_edit": [Case("xa_reg", {"user_id": user("xa_reg")}, allowed=ADMIN)],
    "admin.user_unlock": [Case("ent4_mgr", {"user_id": user("ent4_mgr")}, allowed=ADMIN)],
    "admin.jurisdictions_index": [Case(allowed=ADMIN)],
    "admin.jurisdiction_new": [Case(allowed=ADMIN)],
    "admin.jurisdiction_edit": [
        Case("xiangan", {"node_id": node("翔安区")}, allowed=ADMIN),
        Case("tongan", {"node_id": node("同安区")}, allowed=ADMIN),
    ],
    "admin.jurisdiction_delete": [Case("spare_leaf", {"node_id": spare_leaf}, allowed=ADMIN, body=delete_form)],
    "admin.agencies_index": [Case(allowed=ADMIN)],
    "admin.agency_new": [Case(allowed=ADMIN)],
    "admin.agency_edit": [Case("xiangan", {"agency_id": agency("翔安局")}, allowed=ADMIN)],
    "admin.plugins_index": [Case(allowed=ADMIN)],
    "admin.audit_index": [Case(allowed=ADMIN)],
    # --- JSON API ---
    "api-docs.openapi_json": [Case(allowed=EVERYONE, anonymous="allowed")],
    "api_me.me": api(Case(allowed=EVERYONE)),
    "api_enterprises.list_": api(Case(allowed=EVERYONE)),
    "api_enterprises.create": api(Case(allowed=REGULATORS, body=new_enterprise)),
    "api_enterprises.detail": api(
        Case("E1", {"enterprise_id": ent("E1")}, allowed=SEES_E1, not_found=EVERYONE - SEES_E1),
        Case("E4", {"enterprise_id": ent("E4")}, allowed=SEES_E4, not_found=EVERYONE - SEES_E4),
        Case("missing", {"enterprise_id": 987654}, not_found=EVERYONE),
    ),
    "api_enterprises.update": api(
        Case("E1", {"enterprise_id": ent("E1")}, allowed=SEES_E1 & EDITORS, not_found=EVERYONE - SEES_E1,
             body=enterprise_patch("E1")),
        Case("E4", {"enterprise_id": ent("E4")}, allowed=SEES_E4 & EDITORS, not_found=EVERYONE - SEES_E4,
             body=enterprise_patch("E4")),
    ),
    "api_jurisdictions.list_": api(Case(allowed=GOVERNMENT)),
    "api_jurisdictions.create": api(Case(allowed=ADMIN, body=lambda session, world, username, args: {
        "parent_id": world.nodes["翔安区"], "level": "township", "name": "权限矩阵镇"})),
    "api_jurisdictions.detail": api(
        Case("xiangan", {"node_id": node("翔安区")}, allowed=SEES_XA, not_found=GOVERNMENT - SEES_XA),
        Case("tongan", {"node_id": node("同安区")}, allowed=SEES_TA, not_found=GOVERNMENT - SEES_TA),
        Case("missing", {"node_id": 987654}, not_found=GOVERNMENT),
    ),
    "api_jurisdictions.update": api(
        Case("xiangan", {"node_id": node("翔安区")}, allowed=ADMIN, body=node_patch("翔安区")),
    ),
}


def _merge_feature_tables() -> None:
    """Add the entries of ``tests/access/*.py`` (see that package's docstring)."""
    import importlib
    import pkgutil

    import tests.access

    for info in pkgutil.iter_modules(tests.access.__path__):
        module = importlib.import_module(f"tests.access.{info.name}")
        clash = set(module.EXPECTED) & set(EXPECTED)
        assert not clash, f"endpoints listed twice: {clash}"
        EXPECTED.update(module.EXPECTED)


_merge_feature_tables()


def _cases():
    for endpoint in EXPECTED:
        for role in ROLES:
            yield pytest.param(role, endpoint, id=f"{role}-{endpoint}")


def _rules(app) -> dict[str, Any]:
    return {rule.endpoint: rule for rule in app.url_map.iter_rules()}


def test_table_is_complete(app):
    """R-A4: every endpoint has an access decision here (add one when you add a route)."""
    endpoints = set(_rules(app)) - SKIPPED
    missing = sorted(endpoints - set(EXPECTED))
    stale = sorted(set(EXPECTED) - endpoints)
    assert not missing, f"endpoints without an entry in EXPECTED: {missing}"
    assert not stale, f"entries in EXPECTED for endpoints that no longer exist: {stale}"
    for endpoint, cases in EXPECTED.items():
        assert cases, endpoint
        rule = _rules(app)[endpoint]
        for case in cases:
            assert set(case.args) == set(rule.arguments), (endpoint, case.label)
            assert _method(rule, case) in rule.methods, (endpoint, case.label)


@pytest.mark.parametrize("role", ROLES)
def test_healthz_is_open_to_everyone(app, login, api, role):
    """Liveness needs no login and no token."""
    c = app.test_client() if role == ANON else login(role)
    assert c.get("/healthz").status_code == 200
    if role != ANON:
        assert api(role).get("/healthz").get_json() == {"status": "ok"}


def _method(rule, case: Case) -> str:
    if case.method:
        return case.method
    if "GET" in rule.methods:
        return "GET"
    (method,) = rule.methods - {"HEAD", "OPTIONS"}
    return method


@pytest.mark.parametrize(("role", "endpoint"), list(_cases()))
def test_access(app, session, world, login, api, role, endpoint):
    """R-A4: allowed → 2xx/3xx; out of scope → 404; no permission → 403; anonymous → login page or 401.

    The id variants of one endpoint (own scope, other scope, missing) run in turn in the same test."""
    rule = _rules(app)[endpoint]
    is_api = rule.rule.startswith("/api/")
    if role == ANON:
        client = app.test_client()
    elif is_api:
        client = api(role)
        session.commit()  # keep the token when an error response rolls the request's session back
    else:
        client = login(role)
    for case in EXPECTED[endpoint]:
        _check(app, session, world, client, role, endpoint, rule, is_api, case)


def _check(app, session, world, client, role, endpoint, rule, is_api, case: Case) -> None:
    acting = role if role != ANON else "xa_reg"  # resolvers need a user even for anonymous requests
    args = {k: v(session, world, acting) if callable(v) else v for k, v in case.args.items()}
    url = app.url_map.bind("localhost").build(endpoint, args)
    body = case.body(session, world, acting, args) if case.body else None
    method = _method(rule, case)
    session.commit()  # what the resolvers made must survive a rolled-back request too
    if is_api:
        resp = client.open(url, method=method, json=body)
    else:
        # Every role probes every URL, most of them users whose pages render no such form: a hand-built post by
        # design (the bodies are the tables' own, the minimum each endpoint needs to get past validation).
        resp = tamper(client, url, body or {}, method=method, why="the access matrix probes every role")
    resp.get_data()  # run streamed responses to the end
    where = f"{role} {method} {url} [{case.label}] → {resp.status_code}"

    if role == ANON:
        if case.anonymous == "login":
            assert resp.status_code == 302, where
            location = urlsplit(resp.headers["Location"])
            assert location.path == "/login" and "next=" in location.query, where
        elif case.anonymous == "401":
            assert resp.status_code == 401, where
            assert resp.get_json()["code"] == 401
        else:
            assert 200 <= resp.status_code < 300, where
        return

    if role in case.allowed:
        assert 200 <= resp.status_code < 400, where
        if resp.status_code >= 300:
            assert urlsplit(resp.headers["Location"]).path != "/login" or endpoint == "auth.logout", where
        return

    expected = 404 if role in case.not_found else 403
    assert resp.status_code == expected, where
    if is_api:
        assert resp.get_json()["code"] == expected, where
    else:
        assert f"<h1>{expected}</h1>" in resp.get_data(as_text=True), where
