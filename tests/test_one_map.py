"""一张图 (issue 17 item 4, R-O1): jurisdiction boundaries (validated GeoJSON, CLI import), the scoped map data with
enterprises by risk grade or counts per child node above MAP_MAX_POINTS, and the page with its no-script tables."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from core.models import AuditEntry, Enterprise, Jurisdiction
from core.services import boundaries, enterprises, risks
from core.services.actors import SYSTEM
from core.services.errors import ValidationFailed
from tests.factories import fill_work_queues, uscc

SQUARE = {"type": "Polygon", "coordinates": [[[118.2, 24.6], [118.3, 24.6], [118.3, 24.7], [118.2, 24.7],
                                              [118.2, 24.6]]]}


def rect(w, s, e, n):
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


# --- boundaries ------------------------------------------------------------------------------------------------

def test_valid_polygon_and_multipolygon_are_kept_clean():
    assert boundaries.validate_geometry(SQUARE) == SQUARE
    multi = {"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"]], "bbox": [1, 2, 3, 4]}
    assert boundaries.validate_geometry(multi) == {"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"]]}
    # A Feature is accepted for its geometry (what most tools export).
    assert boundaries.validate_geometry({"type": "Feature", "geometry": SQUARE, "properties": {}}) == SQUARE


@pytest.mark.parametrize("geometry, message", [
    ({"type": "Point", "coordinates": [118.2, 24.6]}, "边界类型须为 Polygon 或 MultiPolygon，收到 Point"),
    ({"type": "Polygon", "coordinates": []}, "边界缺少坐标"),
    ({"type": "Polygon", "coordinates": [[[118.2, 24.6], [118.3, 24.6], [118.2, 24.6]]]}, "至少需要 4 个坐标点"),
    ({"type": "Polygon", "coordinates": [[[118.2, 24.6], [118.3, 24.6], [118.3, 24.7], [118.2, 24.7]]]},
     "环未闭合"),
    # latitude/longitude swapped: 24.6°E lies outside China
    ({"type": "Polygon", "coordinates": [[[24.6, 118.2], [24.6, 118.3], [24.7, 118.3], [24.6, 118.2]]]},
     "超出我国范围（经度 73–136，纬度 3–54"),
    # projected metres, not degrees
    ({"type": "Polygon", "coordinates": [[[13150000, 2840000], [13160000, 2840000], [13160000, 2850000],
                                          [13150000, 2840000]]]}, "超出我国范围"),
    ({"type": "Polygon", "coordinates": [[["118.2", 24.6], [118.3, 24.6], [118.3, 24.7], ["118.2", 24.6]]]},
     "坐标须为 [经度, 纬度] 数字对"),
])
def test_invalid_geometries_are_refused_in_chinese(geometry, message):
    with pytest.raises(ValidationFailed) as exc:
        boundaries.validate_geometry(geometry)
    assert any(message in m for m in exc.value.errors["boundary"]), exc.value.errors


def test_size_limit(monkeypatch):
    monkeypatch.setattr(boundaries, "MAX_POSITIONS", 4)
    with pytest.raises(ValidationFailed) as exc:
        boundaries.validate_geometry(SQUARE)
    assert "坐标点过多（5 个，上限 4）" in exc.value.errors["boundary"][0]


def test_set_boundary_is_audited_and_admin_only(session, world):
    node = world.node(session, "翔安区")
    with pytest.raises(Exception):
        boundaries.set_boundary(session, world.user(session, "xa_reg"), node, SQUARE)
    boundaries.set_boundary(session, world.user(session, "admin"), node, SQUARE)
    session.commit()
    assert session.get(Jurisdiction, node.id).boundary == SQUARE
    entry = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "jurisdiction",
                                                     AuditEntry.object_id == str(node.id))
                            .order_by(AuditEntry.id.desc())).first()
    assert entry.summary == "设置辖区边界 翔安区" and entry.after["boundary_positions"] == 5


def test_cli_import_matches_by_code_then_name_and_reports(runner, session, world, tmp_path):
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "350213", "name": "随便"}, "geometry": rect(118.2, 24.6, 118.35, 24.78)},
        {"type": "Feature", "properties": {"name": "大同街道"}, "geometry": rect(118.05, 24.7, 118.2, 24.78)},
        {"type": "Feature", "properties": {"name": "不存在镇"}, "geometry": SQUARE},
    ]}
    path = tmp_path / "b.geojson"
    path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(args=["jurisdictions", "import-boundaries", str(path)])
    assert result.exit_code == 0, result.output
    assert "匹配：第 1 个要素（350213 随便） → 翔安区" in result.output
    assert "匹配：第 2 个要素（大同街道） → 大同街道" in result.output
    assert "未匹配：第 3 个要素（不存在镇）：未找到对应辖区" in result.output
    assert "已导入 2 个辖区边界，1 个要素未匹配" in result.output
    session.expire_all()
    assert world.node(session, "翔安区").boundary == rect(118.2, 24.6, 118.35, 24.78)
    assert world.node(session, "大同街道").boundary is not None
    assert session.scalar(select(AuditEntry.id).where(AuditEntry.summary == "设置辖区边界 大同街道"))


def test_cli_import_is_all_or_nothing(runner, session, world, tmp_path):
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "350213"}, "geometry": SQUARE},
        {"type": "Feature", "properties": {"code": "350212"}, "geometry": {"type": "Point", "coordinates": [1, 2]}},
    ]}
    path = tmp_path / "b.geojson"
    path.write_text(json.dumps(fc), encoding="utf-8")
    result = runner.invoke(args=["jurisdictions", "import-boundaries", str(path)])
    assert result.exit_code != 0
    assert "无效：第 2 个要素（350212）" in result.output and "1 个边界无效，未导入任何边界" in result.output
    session.expire_all()
    assert world.node(session, "翔安区").boundary is None
    path.write_text('{"type": "Feature"}', encoding="utf-8")
    result = runner.invoke(args=["jurisdictions", "import-boundaries", str(path)])
    assert result.exit_code != 0 and "GeoJSON 须为 FeatureCollection" in result.output


# --- map data --------------------------------------------------------------------------------------------------

def _place(session, world, key, lng, lat):
    ent = world.ent(session, key)
    enterprises.update_enterprise(session, SYSTEM, ent.id, {"version": ent.version, "longitude": lng, "latitude": lat})


def _point(session, world, user, **inputs):
    p = risks.create_risk_point(session, world.user(session, user), {
        "name": "反应釜区", "category": "process", "method": "LEC", "inputs": inputs or {"L": 10, "E": 6, "C": 40}})
    session.flush()
    return p


def test_map_data_scope_grades_and_flags(login, session, world):
    """R-O1: the district regulator sees its own towns' outlines and enterprises only; each enterprise carries its
    highest grade, its open 重大隐患 and the enterprise link."""
    _place(session, world, "E1", 118.25, 24.65)
    _place(session, world, "E4", 118.1, 24.72)
    _point(session, world, "ent1_mgr")                       # E1: 重大
    _point(session, world, "ent4_mgr", L=1, E=1, C=1)        # E4: 低
    fill_work_queues(session, world)                         # E1: a 重大 hazard under 挂牌督办
    boundaries.set_boundary(session, SYSTEM, world.node(session, "新店街道"), rect(118.2, 24.6, 118.3, 24.7),
                            schematic=True)
    session.commit()
    data = login("xa_reg").get("/risks/map-data.json").get_json()
    assert data["node"]["name"] == "翔安区" and data["mode"] == "points" and data["schematic"] is True
    names = {e["name"]: e for e in data["enterprises"]}
    assert set(names) == {"测试E1有限公司", "测试E2有限公司", "测试E3有限公司"}   # E4 is 同安区's
    e1 = names["测试E1有限公司"]
    assert (e1["grade"], e1["lat"], e1["lng"]) == ("major", 24.65, 118.25)
    assert (e1["majors"], e1["supervised"], e1["major_source"]) == (1, True, False)
    assert (names["测试E2有限公司"]["majors"], names["测试E2有限公司"]["supervised"]) == (0, False)
    assert e1["url"] == f"/enterprises/{world.enterprises['E1']}"
    assert names["测试E2有限公司"]["grade"] == "none"
    assert [f["properties"]["name"] for f in data["boundaries"]["features"]] == ["新店街道"]
    other = login("ta_reg").get("/risks/map-data.json").get_json()
    assert [e["name"] for e in other["enterprises"]] == ["测试E4有限公司"]
    assert other["enterprises"][0]["grade"] == "low"
    # Another district's node is not found, not "forbidden" (no leak of its existence).
    assert login("ta_reg").get(f"/risks/map-data.json?node={world.nodes['翔安区']}").status_code == 404
    assert login("ent1_mgr").get("/risks/map-data.json").status_code == 403


def test_map_data_aggregates_per_child_above_the_threshold(app, login, session, world, monkeypatch):
    _point(session, world, "ent1_mgr")
    _point(session, world, "ent4_mgr", L=1, E=1, C=1)
    boundaries.set_boundary(session, SYSTEM, world.node(session, "翔安区"), rect(118.2, 24.6, 118.4, 24.8))
    session.commit()
    monkeypatch.setitem(app.config, "MAP_MAX_POINTS", 2)
    data = login("city_reg").get("/risks/map-data.json").get_json()
    assert data["mode"] == "aggregate" and data["total"] == 4 and data["enterprises"] == []
    areas = {a["name"]: a for a in data["areas"]}
    assert set(areas) == {"翔安区", "同安区"}
    xa, ta = areas["翔安区"], areas["同安区"]
    assert xa["total"] == 3 and xa["counts"] == {"major": 1, "large": 0, "general": 0, "low": 0, "none": 2}
    assert ta["total"] == 1 and ta["counts"]["low"] == 1
    assert (xa["lat"], xa["lng"]) == (24.7, 118.3)            # the boundary's centroid
    assert xa["url"] == f"/risks/one-map?node={world.nodes['翔安区']}"
    # Below the threshold at district level the same user gets the points again.
    data = login("city_reg").get(f"/risks/map-data.json?node={world.nodes['同安区']}").get_json()
    assert data["mode"] == "points" and [e["name"] for e in data["enterprises"]] == ["测试E4有限公司"]


def test_map_data_sector_filter(login, session, world):
    data = login("xa_reg").get("/risks/map-data.json?sector=fake").get_json()
    assert [e["name"] for e in data["enterprises"]] == ["测试E1有限公司"]


def test_map_data_query_count_does_not_grow(login, session, world, queries):
    client = login("city_reg")
    client.get("/risks/map-data.json")
    before = queries.of(lambda: client.get("/risks/map-data.json"))
    for i in range(10):
        enterprises.create_enterprise(session, SYSTEM, {
            "name": f"加测{i}有限公司", "uscc": uscc(100 + i), "jurisdiction_id": world.nodes["新店街道"],
            "grid_id": world.nodes["新店1网格"], "longitude": 118.2 + i / 100, "latitude": 24.6})
    session.commit()
    assert queries.of(lambda: client.get("/risks/map-data.json")) == before


# --- page ------------------------------------------------------------------------------------------------------

def test_page_tables_without_javascript_and_nav(login, session, world):
    _point(session, world, "ent1_mgr")
    session.commit()
    html = login("xa_reg").get("/risks/one-map").get_data(as_text=True)
    assert "一张图" in html.split("<main>")[0]
    assert 'id="onemap-config"' in html and "vendor/leaflet/leaflet.js" in html
    enterprises_table = html.split('id="onemap-enterprises"')[1]
    assert f'href="/enterprises/{world.enterprises["E1"]}"' in enterprises_table and "重大风险" in enterprises_table
    areas = html.split('id="onemap-areas"')[1].split("</table>")[0]
    assert "新店街道" in areas and "马巷街道" in areas and "大同街道" not in areas
    assert "一张图" not in login("ent1_mgr").get("/risks/").get_data(as_text=True).split("<main>")[0]


def test_tile_origin_joins_the_csp(app, login, monkeypatch):
    client = login("xa_reg")
    assert "img-src 'self' data: blob:;" in client.get("/risks/one-map").headers["Content-Security-Policy"]
    monkeypatch.setitem(app.config, "MAP_TILE_URL", "https://tiles.example.gov.cn/{z}/{x}/{y}.png")
    resp = client.get("/risks/one-map")
    assert "img-src 'self' data: blob: https://tiles.example.gov.cn;" in resp.headers["Content-Security-Policy"]
    assert "https://tiles.example.gov.cn/{z}/{x}/{y}.png" in resp.get_data(as_text=True)


def test_demo_ships_schematic_boundaries_around_its_enterprises(session):
    from core.demo import seed_demo

    seed_demo(session)
    session.flush()
    towns = session.scalars(select(Jurisdiction).where(Jurisdiction.level == "township",
                                                       Jurisdiction.boundary.is_not(None))).all()
    assert len(towns) == 10 and all(t.boundary_schematic for t in towns)
    for town in towns:
        ring = town.boundary["coordinates"][0]
        w, s = min(p[0] for p in ring), min(p[1] for p in ring)
        e, n = max(p[0] for p in ring), max(p[1] for p in ring)
        inside = session.scalars(select(Enterprise).where(Enterprise.jurisdiction_id == town.id,
                                                          Enterprise.longitude.is_not(None))).all()
        assert inside and all(w < x.longitude < e and s < x.latitude < n for x in inside), town.name
