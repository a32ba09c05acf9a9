"""一张图 in headless chromium at phone and desktop width (issue 17 item 4, R-O1, R-N5): Leaflet, served from the
app's own static files, draws the towns' boundaries and the enterprises as grade-shaped markers with no tile server
configured (boundaries-only map, no request leaves the site); a click opens the popup that links to the enterprise.
Screenshots: ``artifacts/screenshots/one-map-*.png``.
"""

from __future__ import annotations

import pytest

from tests.browser import (  # noqa: F401 (fixtures)
    DESKTOP,
    PHONE,
    SHOTS,
    assert_no_horizontal_overflow,
    browser,
    log_in,
    new_page,
    serve_world,
)

pytestmark = pytest.mark.browser

PLACES = {"E1": (118.25, 24.65), "E2": (118.27, 24.67), "E3": (118.32, 24.72), "E4": (118.1, 24.72)}
TOWNS = {"新店街道": (118.2, 24.6, 118.3, 24.7), "马巷街道": (118.3, 24.7, 118.4, 24.8)}


def _map_world(session, world) -> None:
    from core.services import boundaries, enterprises, risks
    from core.services.actors import SYSTEM
    from tests.factories import fill_work_queues

    for key, (lng, lat) in PLACES.items():
        ent = world.ent(session, key)
        enterprises.update_enterprise(session, SYSTEM, ent.id, {"version": ent.version, "longitude": lng,
                                                                "latitude": lat})
    for user, inputs in (("ent1_mgr", {"L": 10, "E": 6, "C": 40}), ("ent4_mgr", {"L": 1, "E": 1, "C": 1})):
        risks.create_risk_point(session, world.user(session, user), {
            "name": "反应釜区", "category": "process", "method": "LEC", "inputs": inputs})
    for name, (w, s, e, n) in TOWNS.items():
        boundaries.set_boundary(session, SYSTEM, world.node(session, name), {
            "type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}, schematic=True)
    fill_work_queues(session, world)  # E1: an open 重大隐患 under 挂牌督办


@pytest.fixture(scope="module")
def map_server(tmp_path_factory):
    with serve_world(tmp_path_factory.mktemp("live-map"), _map_world) as (base, app, _):
        yield base, app


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_map_draws_boundaries_and_markers_without_tiles(map_server, browser, size):
    base, app = map_server
    assert not app.config["MAP_TILE_URL"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = new_page(browser, PHONE if size == "phone" else DESKTOP)
    errors: list[str] = []
    outside: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
    try:
        log_in(page, base, "xa_reg")
        page.goto(base + "/risks/one-map")
        page.wait_for_selector("#onemap[data-ready='1']")
        # Two town outlines drawn as SVG paths; no tile layer, a neutral background instead.
        assert page.locator("#onemap .leaflet-overlay-pane path").count() == 2
        assert page.locator("#onemap .leaflet-tile-pane img").count() == 0
        assert "onemap-plain" in page.locator("#onemap").get_attribute("class")
        # 翔安区's three enterprises (not 同安区's E4), each with its grade character as well as its colour.
        pins = page.locator("#onemap .leaflet-marker-icon[title]")
        assert pins.count() == 3
        assert sorted(pins.evaluate_all("els => els.map(e => e.textContent)")) == ["无", "无", "重"]
        e1 = page.locator('#onemap .leaflet-marker-icon[title^="测试E1有限公司"]')
        assert e1.get_attribute("title") == "测试E1有限公司｜重大风险"
        # Badges for the open 重大隐患 and the 挂牌督办; the 督办 layer can be switched off.
        assert page.locator("#onemap .om-badge-majors").count() == 1
        assert page.locator("#onemap .om-badge-supervised").count() == 1
        page.uncheck("#onemap-layers input[data-layer=supervised]")
        assert page.locator("#onemap .om-badge-supervised").count() == 0
        page.check("#onemap-layers input[data-layer=supervised]")
        e1.click()
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        assert "测试E1有限公司" in popup.inner_text() and "未销号重大隐患：1 项" in popup.inner_text()
        assert "挂牌督办中" in popup.inner_text()
        assert_no_horizontal_overflow(page)
        page.wait_for_timeout(400)  # the popup fades in (Leaflet's 0.2 s opacity transition)
        page.screenshot(path=str(SHOTS / f"one-map-district-{size}.png"), full_page=True)
        with page.expect_navigation():
            popup.locator("a", has_text="查看企业").click()
        assert "/enterprises/" in page.url and "测试E1有限公司" in page.locator("h1").inner_text()
        assert not errors, errors
        assert not outside, outside
    finally:
        context.close()


def test_city_map_aggregates_above_the_limit(map_server, browser, monkeypatch):
    base, app = map_server
    monkeypatch.setitem(app.config, "MAP_MAX_POINTS", 2)
    context, page = new_page(browser, DESKTOP)
    try:
        log_in(page, base, "city_reg")
        page.goto(base + "/risks/one-map")
        page.wait_for_selector("#onemap[data-ready='1']")
        areas = page.locator("#onemap .om-area")
        assert sorted(areas.all_inner_texts()) == ["同安区 1", "翔安区 3"]
        assert page.locator("#onemap-enterprises").count() == 0
        assert "按下级辖区汇总" in page.content()
        assert_no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / "one-map-city-aggregate-desktop.png"), full_page=True)
    finally:
        context.close()


def test_configured_tiles_are_drawn_under_the_csp(map_server, browser, monkeypatch):
    """With MAP_TILE_URL set the base layer loads from it (here the app's own static file standing in for an
    intranet tile server) and shows the configured attribution."""
    base, app = map_server
    monkeypatch.setitem(app.config, "MAP_TILE_URL", base + "/static/vendor/leaflet/images/layers.png?z={z}&x={x}&y={y}")
    monkeypatch.setitem(app.config, "MAP_TILE_ATTRIBUTION", "测试瓦片服务")
    context, page = new_page(browser, DESKTOP)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        log_in(page, base, "xa_reg")
        page.goto(base + "/risks/one-map")
        page.wait_for_selector("#onemap[data-ready='1']")
        page.wait_for_selector("#onemap .leaflet-tile-pane img.leaflet-tile-loaded")
        assert "onemap-plain" not in page.locator("#onemap").get_attribute("class")
        assert "测试瓦片服务" in page.locator("#onemap .leaflet-control-attribution").inner_text()
        assert page.locator("#onemap .leaflet-overlay-pane path").count() == 2
        assert not errors, errors
    finally:
        context.close()
