"""No N+1 queries on the lists and details people open most (R-N1).

Each test measures the statements of the same request on little and on more data and asserts they are equal:
a query per row (a lazy relationship in a template or a dump) makes the second count grow and the test fail.
:func:`test_no_list_route_grows_with_page_size` walks every argument-less GET page and API route of the app, so a
list added later is covered without touching this file.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import Flask

from core.benchdata import Sizes, generate
from core.models import Notification
from core.services import hazard_flow, hazards
from core.services.attachments import Upload

PNG = Upload(data=b"\x89PNG\r\n\x1a\n" + b"q" * 40, content_type="image/png", filename="证据.png")


@pytest.fixture(autouse=True)
def _uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))


def _add_hazards(session, world, n: int, ent: str = "E1") -> list[int]:
    """``n`` hazards of ``ent``, each assigned (a second timeline step) with a photo, half listed as supervised."""
    mgr = world.user(session, "ent1_mgr" if ent == "E1" else "ent4_mgr")
    made = []
    for i in range(n):
        h = hazards.register_hazard(session, mgr, {"enterprise_id": world.enterprises[ent], "category": "thing",
                                                   "description": f"查询计数隐患{i}"}, uploads=[PNG])
        hazard_flow.perform(session, mgr, h.id, "assign", {"version": h.version, "responsible_name": "王五"})
        made.append(h.id)
    session.commit()
    return made


def _count(queries, fn) -> int:
    def request():
        resp = fn()
        assert resp.status_code == 200, resp.get_data(as_text=True)[:500]

    return queries.of(request)


def test_hazard_api_list_queries_do_not_grow_with_rows(api, session, world, queries):
    client = api("xa_reg")
    _add_hazards(session, world, 2)
    small = _count(queries, lambda: client.get("/api/v1/hazards?size=100"))
    _add_hazards(session, world, 12)
    assert _count(queries, lambda: client.get("/api/v1/hazards?size=100")) == small


def test_hazard_api_detail_queries_do_not_grow_with_the_timeline(api, session, world, queries):
    client = api("ent1_mgr")
    [hid] = _add_hazards(session, world, 1)
    small = _count(queries, lambda: client.get(f"/api/v1/hazards/{hid}"))
    mgr = world.user(session, "ent1_mgr")
    for i in range(4):  # four more steps with photos: request an extension, decide it … (as the principal)
        h = hazards.get_hazard(session, mgr, hid)
        hazard_flow.perform(session, mgr, hid, "request_extension", {
            "version": h.version, "new_deadline": h.deadline.replace(year=h.deadline.year + 1 + i),
            "reason": "设备未到货"}, uploads=[PNG])
        h = hazards.get_hazard(session, mgr, hid)
        hazard_flow.perform(session, world.user(session, "ent1_principal"), hid, "decide_extension",
                            {"version": h.version, "approve": True})
    session.commit()
    assert _count(queries, lambda: client.get(f"/api/v1/hazards/{hid}")) == small


def test_hazard_export_queries_do_not_grow_with_rows(session, world, queries):
    from core.services.hazard_export import export_hazards

    _add_hazards(session, world, 2)
    reg = world.user(session, "xa_reg")

    def export_count() -> int:
        b"".join(export_hazards(session, reg, {}, "csv")[0])
        session.expire_all()
        with queries() as q:
            stream, _ = export_hazards(session, reg, {}, "csv")
            b"".join(stream)
        return q.count

    before = export_count()
    _add_hazards(session, world, 10)
    assert export_count() == before


def test_enterprise_list_page_queries_do_not_grow_with_rows(login, session, world, queries):
    client = login("city_reg")
    # The first page shows an enterprise with a supervising agency too, so both pages load agencies (in bulk).
    world.ent(session, "E4").supervising_agency_id = world.agencies["同安局"]
    session.commit()
    small = _count(queries, lambda: client.get("/enterprises/?size=2"))
    assert _count(queries, lambda: client.get("/enterprises/?size=50")) == small


# --- every list route -------------------------------------------------------------------------------------------------

#: Argument-less GET routes that are not lists of rows (downloads, forms, probes, documentation).
_NOT_LISTS = re.compile(r"export|template|\.(pdf|zip|xlsx|csv|svg|json)$|/login|/logout|/account|/healthz|/new$|"
                        r"/create$|/import$|/batch|/verify|/start$|openapi|/static/")


def list_routes(app: Flask) -> list[str]:
    """Every GET route without URL arguments that shows rows (web pages and API lists)."""
    out = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and not _NOT_LISTS.search(rule.rule):
            out.append(rule.rule)
    return sorted(set(out))


def _bench_rows(session, world, sizes: Sizes, notifications: int) -> None:
    """Rows for every list: the bench generator under the test city (厦门市) and notifications for city_reg."""
    generate(session, sizes, seed=3, today=date(2026, 6, 30), force=True)
    user_id = world.users["city_reg"]
    start = session.query(Notification).count()
    for i in range(notifications):
        session.add(Notification(user_id=user_id, kind="reminder", title=f"整改期限提醒 {start + i}",
                                 body="请按期整改", link="/hazards/", dedup_key=f"query-count-{start + i}"))
    session.commit()


def test_no_list_route_grows_with_page_size(app, session, world, login, api, queries):
    """R-N1 (issue 8): for every list page and API list, the statements at page size 50 on a city with dozens of
    rows per list equal those at page size 5 on a city with a handful: no query per row anywhere."""
    routes = list_routes(app)
    assert {"/hazards/", "/enterprises/", "/inspections/", "/documents/", "/risks/", "/notifications/",
            "/api/v1/hazards", "/api/v1/enterprises", "/api/v1/inspections", "/api/v1/risk-points",
            "/api/v1/notifications"} <= set(routes)
    clients = {"web": login("city_reg"), "admin": login("admin"), "api": api("city_reg")}

    def client_for(route: str):
        if route.startswith("/api/"):
            return clients["api"]
        return clients["admin"] if route.startswith("/admin/") else clients["web"]

    def count(route: str, size: int) -> int | None:
        client = client_for(route)
        url = f"{route}{'&' if '?' in route else '?'}size={size}"
        if client.get(url).status_code != 200:  # not for this role (e.g. enterprise-only pages)
            return None
        return queries.of(lambda: client.get(url))

    _bench_rows(session, world, Sizes(enterprises=4, hazards=8, risk_points=3, inspections=3, documents=3), 3)
    small = {route: count(route, 5) for route in routes}
    _bench_rows(session, world, Sizes(enterprises=70, hazards=400, risk_points=70, inspections=70, documents=70),
                60)
    large = {route: count(route, 50) for route in routes}
    measured = [r for r in routes if small[r] is not None]
    assert len(measured) >= 20, measured
    grown = {r: (small[r], large[r]) for r in measured if large[r] != small[r]}
    assert grown == {}, f"queries (size 5, few rows) → (size 50, many rows): {grown}"
