"""No N+1 queries on the lists and details people open most (R-N1).

Each test measures the statements of the same request on little and on more data and asserts they are equal:
a query per row (a lazy relationship in a template or a dump) makes the second count grow and the test fail.
"""

from __future__ import annotations

import pytest

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
    small = _count(queries, lambda: client.get("/enterprises/?size=2"))
    assert _count(queries, lambda: client.get("/enterprises/?size=50")) == small
