"""Sector plugins (R-P1, R-P3): entry-point loading, fail-fast start-up, decisions and events, listings, an
external plugin installed from outside the repository, and data kept when a plugin is disabled."""

from __future__ import annotations

import logging
import re
import shutil
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import ScriptInfo
from pluggy import PluginValidationError
from sqlalchemy import select

from core.app import create_app
from core.config import DEFAULT_PLUGINS
from core.extensions import db
from core.hookspecs import hookimpl
from core.models import EnterpriseSector
from core.plugin_types import Classification, Finding, HazardTransitionEvent, SectorInfo
from core.plugins import PluginLoadError, build_plugin_manager
from tests.conftest import base_config, session_user_id
from tests.forms import page_form
from tests.plugins import fake_sector

ROOT = Path(__file__).resolve().parent.parent
GONGMAO_SRC = Path(__file__).resolve().parent / "data" / "anjian_gongmao" / "anjian_gongmao"

REAL_PLUGINS = {
    "hazchem": "危险化学品",
    "fire": "消防",
    "roadtransport": "道路运输",
    "specialequip": "特种设备",
}


# --- helpers -----------------------------------------------------------------------------------------------------

def _default_config(url: str) -> dict:
    """The tests' config but with the deployment default ENABLED_PLUGINS (no key: DefaultConfig applies)."""
    config = base_config(url, EXTRA_PLUGINS=[])
    del config["ENABLED_PLUGINS"]
    return config


def _dispose(app: Flask) -> None:
    with app.app_context():
        db.engine.dispose()


@pytest.fixture()
def isolated_env(tmp_path, monkeypatch) -> Path:
    """No developer instance config or ANJIAN_* plugin settings leak into an app built here."""
    monkeypatch.delenv("ANJIAN_ENABLED_PLUGINS", raising=False)
    monkeypatch.setenv("ANJIAN_INSTANCE_PATH", str(tmp_path / "instance"))
    return tmp_path


@pytest.fixture()
def real_app(app, database_url, isolated_env) -> Iterator[Flask]:
    """An app with the default plugins (the four real ones, via entry points) on the migrated test database."""
    real = create_app(_default_config(database_url))
    yield real
    _dispose(real)


@pytest.fixture()
def install_gongmao(tmp_path, monkeypatch):
    """Make the external 工贸 plugin discoverable through a real entry point, without pip: a dist-info folder
    and a copy of the package on sys.path, as ``pip install`` would leave them in site-packages."""

    def _install(entry_name: str = "gongmao") -> Path:
        site = tmp_path / "site"
        dist_info = site / "anjian_gongmao-0.1.0.dist-info"
        dist_info.mkdir(parents=True)
        (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: anjian-gongmao\nVersion: 0.1.0\n")
        (dist_info / "entry_points.txt").write_text(f"[anjian.plugins]\n{entry_name} = anjian_gongmao.plugin\n")
        shutil.copytree(GONGMAO_SRC, site / "anjian_gongmao", ignore=shutil.ignore_patterns("__pycache__"))
        monkeypatch.syspath_prepend(str(site))
        return site

    yield _install
    for name in [m for m in sys.modules if m == "anjian_gongmao" or m.startswith("anjian_gongmao.")]:
        del sys.modules[name]


# --- loading the real plugins (R-P1) ----------------------------------------------------------------------------

def test_default_app_loads_the_four_real_plugins_from_entry_points(real_app):
    assert real_app.config["ENABLED_PLUGINS"] == DEFAULT_PLUGINS
    registry = real_app.extensions["anjian"]
    assert {code: info.name for code, info in registry.sectors.items()} == REAL_PLUGINS
    for code in REAL_PLUGINS:
        module = registry.pm.get_plugin(code)
        assert module is not None and module.__name__ == f"plugins.{code}.plugin"
        assert registry.sector_of[code] == code
        assert re.fullmatch(r"\d+\.\d+\.\d+.*", registry.versions[code]), registry.versions
        assert registry.sectors[code].version == sys.modules[f"plugins.{code}"].__version__
        assert registry.sectors[code].activities, f"{code} declares no activities (sector tags)"
    assert [name for name, _, _ in registry.plugin_rows()] == list(DEFAULT_PLUGINS)


def test_enabled_plugin_that_is_not_installed_is_a_startup_error(database_url, isolated_env):
    with pytest.raises(PluginLoadError) as excinfo:
        create_app(base_config(database_url, ENABLED_PLUGINS=["fire", "yanhua"], EXTRA_PLUGINS=[]))
    message = str(excinfo.value)
    assert "'yanhua'" in message and "没有安装" in message
    assert "fire" in message  # lists what is installed, to help with a typo


def test_plugin_that_fails_to_import_is_named(install_gongmao, database_url, isolated_env):
    site = install_gongmao()
    (site / "anjian_gongmao" / "plugin.py").write_text("raise ImportError('缺少依赖 foo')\n")
    with pytest.raises(PluginLoadError, match=r"插件 'gongmao' 加载失败.*缺少依赖 foo"):
        create_app(base_config(database_url, ENABLED_PLUGINS=["gongmao"], EXTRA_PLUGINS=[]))


def test_misspelt_hook_fails_at_startup(database_url, isolated_env):
    typo = types.ModuleType("typo_sector")

    @hookimpl
    def register_sectr() -> SectorInfo:  # the misspelling under test
        return SectorInfo(code="typo", name="拼写错误", version="1")

    typo.register_sectr = register_sectr
    with pytest.raises(PluginValidationError, match="register_sectr"):
        create_app(base_config(database_url, EXTRA_PLUGINS=[typo]))


def test_sector_code_must_equal_entry_point_name(install_gongmao, database_url, isolated_env):
    install_gongmao(entry_name="gongmao_x")  # the module registers sector "gongmao"
    with pytest.raises(PluginLoadError, match=r"'gongmao_x'.*'gongmao'.*入口点名称一致"):
        create_app(base_config(database_url, ENABLED_PLUGINS=["gongmao_x"], EXTRA_PLUGINS=[]))


def test_two_plugins_registering_the_same_sector_are_refused():
    clone = types.ModuleType("fake_clone")
    clone.register_sector = hookimpl(lambda: SectorInfo(code="fake", name="克隆", version="1"))
    with pytest.raises(PluginLoadError, match="同一个领域代码 'fake'"):
        build_plugin_manager([], [fake_sector, clone])


def test_core_never_imports_plugins():
    pattern = re.compile(r"^\s*(from\s+plugins(\.|\s)|import\s+plugins\b)", re.MULTILINE)
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "core").rglob("*.py") if pattern.search(p.read_text("utf-8"))]
    assert offenders == []


# --- decisions and events ------------------------------------------------------------------------------------

def test_classify_hazard_core_default():
    registry = build_plugin_manager([])
    assert registry.classify(Finding(sector=None, description="消防通道堵塞")) == Classification(
        level="general", decided_by="core")
    kept = registry.classify(Finding(sector="other", description="x", suggested_level="major", rule_item="r#1"))
    assert (kept.level, kept.rule_item, kept.decided_by) == ("major", "r#1", "core")


def test_plugin_decision_wins_over_the_core_default(app):
    registry = app.extensions["anjian"]
    finding = Finding(sector="fake", description="储罐区未设置泄漏检测", rule_item="fake/R1#1", suggested_level="general")
    decided = registry.classify(finding)
    assert decided == Classification(level="major", rule_item="fake/R1#1", decided_by="fake", reason="测试规则第1项")
    assert registry.classify(finding) == decided  # a pure function of the finding
    # Not the plugin's sector: it returns None and the core default answers.
    other = registry.classify(Finding(sector="fire", description="x", suggested_level="major"))
    assert (other.level, other.decided_by) == ("major", "core")


def test_event_hook_swallows_a_plugin_exception_and_calls_the_others(caplog):
    calls: list[str] = []

    class Broken:
        @hookimpl
        def on_hazard_transition(self, event):
            calls.append("broken")
            raise RuntimeError("插件故障")

    class Recorder:
        @hookimpl
        def on_hazard_transition(self, event):
            calls.append(f"recorder:{event.to_state}")

    fake_sector.TRANSITIONS.clear()
    # Registered in both orders so the broken one runs first once and last once.
    for plugins in ([Recorder(), Broken()], [Broken(), Recorder()]):
        calls.clear()
        registry = build_plugin_manager([], [fake_sector, *plugins])
        event = HazardTransitionEvent(hazard_id=7, sector="fake", from_state="registered", to_state="rectifying",
                                      action="assign", actor_id=None)
        with caplog.at_level(logging.ERROR, logger="core.plugins"):
            registry.notify("on_hazard_transition", event=event)
        assert sorted(calls) == ["broken", "recorder:rectifying"]
        assert fake_sector.TRANSITIONS[-1] is event
        assert any("on_hazard_transition" in r.getMessage() and r.exc_info for r in caplog.records)
    assert len(fake_sector.TRANSITIONS) == 2
    fake_sector.TRANSITIONS.clear()


# --- listings: CLI and admin page ---------------------------------------------------------------------------

def test_cli_plugins_lists_the_four(real_app):
    from core.cli import main

    result = CliRunner().invoke(main, ["plugins"], obj=ScriptInfo(create_app=lambda: real_app))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 4
    for (code, name), line in zip(REAL_PLUGINS.items(), lines):
        assert line.split() == [code, real_app.extensions["anjian"].versions[code], name]


def test_admin_plugins_page_lists_plugins_and_versions(login):
    html = login("admin").get("/admin/plugins").get_data(as_text=True)
    assert "fake_sector" in html and "9.9.9" in html and "测试领域" in html
    assert "classify_hazard" in html and "register_sector" in html


def test_admin_plugins_page_with_the_real_plugins(real_app, world):
    client = real_app.test_client()
    with client.session_transaction() as s:
        s["_user_id"] = session_user_id(world.users["admin"])
        s["_fresh"] = True
    response = client.get("/admin/plugins")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for code, name in REAL_PLUGINS.items():
        assert f"<code>{code}</code>" in html and name in html
    assert "0.1.0" in html


@pytest.mark.parametrize("username", ["xa_reg", "ent1_mgr"])
def test_admin_plugins_page_is_forbidden_to_others(login, username):
    response = login(username).get("/admin/plugins")
    assert response.status_code == 403
    assert "只有平台管理员可以查看插件" in response.get_data(as_text=True)


# --- an external plugin, no core change (R-P1) -------------------------------------------------------------

GOOD_DATA = {"dust_explosion": True, "ammonia_refrigeration": True, "liquid_ammonia_tonnes": 12.5,
             "confined_spaces": 3}


def test_external_plugin_installed_from_outside_the_repository(install_gongmao, database_url, isolated_env):
    from core.services.enterprises import validate_sectors

    install_gongmao()
    app = create_app(base_config(database_url, ENABLED_PLUGINS=["gongmao"], EXTRA_PLUGINS=[]))
    try:
        registry = app.extensions["anjian"]
        assert set(registry.sectors) == {"gongmao"}
        assert registry.sectors["gongmao"].name == "工贸"
        assert registry.versions["gongmao"] == "0.1.0"  # from the dist-info, not from the source tree
        assert registry.sectors["gongmao"].version == "0.1.0"
        assert registry.pm.get_plugin("gongmao").__file__.startswith(str(isolated_env))
        assert "gongmao_confined_space" in registry.object_types
        with app.app_context():
            cleaned, errors = validate_sectors([{"sector": "gongmao", "activities": ["机械"], "data": GOOD_DATA}])
            assert errors == {} and cleaned == [{"sector": "gongmao", "activities": ["机械"], "data": GOOD_DATA}]
            # The plugin's schema decides what is valid.
            _, errors = validate_sectors([{"sector": "gongmao", "activities": ["机械"],
                                           "data": {"ammonia_refrigeration": True, "confined_spaces": -1}}])
            assert errors == {0: {"data": {"liquid_ammonia_tonnes": ["涉氨制冷企业应填写液氨储存量"],
                                           "confined_spaces": ["不能小于 0"]}}}
            _, errors = validate_sectors([{"sector": "gongmao", "activities": ["化工"], "data": {}}])
            assert "冶金" in errors[0]["activities"][0]
            # The core's own sectors are not there: only what is enabled.
            _, errors = validate_sectors([{"sector": "fire", "activities": [], "data": {}}])
            assert errors == {0: {"sector": ["领域 fire 未启用"]}}
    finally:
        _dispose(app)


def test_external_plugin_tags_an_enterprise_end_to_end(install_gongmao, tmp_path, isolated_env):
    """On a database of its own: create an enterprise tagged 工贸 through the service, see the plugin's template
    render its data on the detail page."""
    from flask_migrate import upgrade

    from core.services import enterprises, jurisdictions, users
    from core.services.actors import SYSTEM
    from core.services.errors import ValidationFailed
    from tests.factories import uscc

    install_gongmao()
    app = create_app(base_config(f"sqlite:///{tmp_path / 'gongmao.db'}", ENABLED_PLUGINS=["gongmao"], EXTRA_PLUGINS=[]))
    try:
        with app.app_context():
            upgrade()
            area = jurisdictions.create_jurisdiction(db.session, SYSTEM, {"parent_id": None, "level": "county",
                                                                          "name": "晋江市", "code": "350582"})
            with pytest.raises(ValidationFailed) as bad:
                enterprises.create_enterprise(db.session, SYSTEM, {
                    "name": "晋江某鞋业有限公司", "uscc": uscc(1, "350582"), "jurisdiction_id": area.id,
                    "sectors": [{"sector": "gongmao", "activities": ["轻工"], "data": {"ammonia_refrigeration": True}}]})
            assert "liquid_ammonia_tonnes" in bad.value.errors["sectors"][0]["data"]
            db.session.rollback()
            area = jurisdictions.create_jurisdiction(db.session, SYSTEM, {"parent_id": None, "level": "county",
                                                                          "name": "晋江市", "code": "350582"})
            ent = enterprises.create_enterprise(db.session, SYSTEM, {
                "name": "晋江某鞋业有限公司", "uscc": uscc(1, "350582"), "jurisdiction_id": area.id,
                "sectors": [{"sector": "gongmao", "activities": ["轻工"], "data": GOOD_DATA}]})
            admin = users.save_user(db.session, SYSTEM, {"username": "admin", "display_name": "管理员",
                                                         "password": "gongmao-pass-1", "roles": ["admin"]})
            db.session.commit()
            ent_id, admin_id = ent.id, admin.id
            row = db.session.scalar(select(EnterpriseSector).where(EnterpriseSector.enterprise_id == ent_id))
            assert (row.sector, row.activities, row.data) == ("gongmao", ["轻工"], GOOD_DATA)
            db.session.remove()
        client = app.test_client()
        with client.session_transaction() as s:
            s["_user_id"] = session_user_id(admin_id)
            s["_fresh"] = True
        html = client.get(f"/enterprises/{ent_id}").get_data(as_text=True)
        assert "工贸" in html and "（轻工）" in html
        assert "液氨储存量 12.5 吨" in html and "3 处" in html  # rendered by the plugin's own template
        assert "插件未启用" not in html
    finally:
        _dispose(app)


# --- disabling a plugin never loses data (R-P3) -------------------------------------------------------------

def _add_disabled_sector_row(session, world) -> int:
    ent_id = world.enterprises["E1"]
    session.add(EnterpriseSector(enterprise_id=ent_id, sector="hazchem", activities=["储存"],
                                 data={"licence_no": "闽厦危化经字〔2025〕001"}))
    session.commit()
    return ent_id


def _sector_rows(session, ent_id: int) -> dict[str, tuple[list, dict]]:
    session.expire_all()
    rows = session.scalars(select(EnterpriseSector).where(EnterpriseSector.enterprise_id == ent_id))
    return {r.sector: (r.activities, r.data) for r in rows}


def test_disabled_plugin_data_is_shown_on_the_detail_page(session, world, login):
    ent_id = _add_disabled_sector_row(session, world)
    html = login("xa_reg").get(f"/enterprises/{ent_id}").get_data(as_text=True)
    assert "hazchem（插件未启用）" in html
    assert "闽厦危化经字〔2025〕001" in html  # the data is still readable
    assert "测试领域" in html  # the enabled sector beside it


def test_disabled_plugin_data_is_kept_on_update_through_the_service(session, world, app):
    from core.services.enterprises import update_enterprise

    ent_id = _add_disabled_sector_row(session, world)
    actor = world.user(session, "xa_reg")
    ent = world.ent(session, "E1")
    update_enterprise(session, actor, ent_id, {"version": ent.version, "sectors": [
        {"sector": "fake", "activities": ["经营"], "data": {"licence_no": "FK-777"}}]})
    session.commit()
    rows = _sector_rows(session, ent_id)
    assert rows["hazchem"] == (["储存"], {"licence_no": "闽厦危化经字〔2025〕001"})
    assert rows["fake"] == (["经营"], {"licence_no": "FK-777"})
    # Removing every enabled sector still keeps the disabled one.
    update_enterprise(session, actor, ent_id, {"version": world.ent(session, "E1").version, "sectors": []})
    session.commit()
    assert set(_sector_rows(session, ent_id)) == {"hazchem"}


def test_disabled_plugin_data_is_kept_when_the_web_form_is_saved(session, world, login):
    ent_id = _add_disabled_sector_row(session, world)
    client, url = login("xa_reg"), f"/enterprises/{ent_id}/edit"
    form = page_form(client.get(url), page_url=url).set("name", "测试E1有限公司（改名）")
    assert "sector_hazchem" not in form.names()  # a disabled plugin's sector is not on the form
    response = form.uncheck("sector_fake").submit(client)
    assert response.status_code == 302, response.get_data(as_text=True)
    rows = _sector_rows(session, ent_id)
    assert rows.get("hazchem") == (["储存"], {"licence_no": "闽厦危化经字〔2025〕001"})
    assert "fake" not in rows  # unticked in the form: the enabled sector was removed, as asked
