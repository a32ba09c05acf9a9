"""Configuration precedence, start-up errors and the admin CLI (R-N5)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.app import create_app
from core.config import ConfigError
from core.models import Enterprise, Hazard, HazardState, User
from tests.conftest import base_config


def test_missing_secret_key_in_production_is_a_clear_startup_error(tmp_path, monkeypatch):
    monkeypatch.delenv("ANJIAN_SECRET_KEY", raising=False)
    monkeypatch.delenv("ANJIAN_ENV", raising=False)
    monkeypatch.setenv("ANJIAN_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app({"ENABLED_PLUGINS": [], "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})


def test_precedence_instance_file_then_environment_then_argument(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text("SECRET_KEY = 'from-file'\nPAGE_SIZE = 7\nLOGIN_FREE_FAILURES = 9\n")
    monkeypatch.setenv("ANJIAN_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("ANJIAN_PAGE_SIZE", "11")
    monkeypatch.setenv("ANJIAN_ENABLED_PLUGINS", "")
    monkeypatch.setenv("ANJIAN_DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    app = create_app({"LOGIN_FREE_FAILURES": 3})
    assert app.config["SECRET_KEY"] == "from-file"  # file beats default
    assert app.config["PAGE_SIZE"] == 11  # environment (parsed as JSON) beats file
    assert app.config["LOGIN_FREE_FAILURES"] == 3  # create_app argument beats everything
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/env.db"
    assert app.config["ENABLED_PLUGINS"] == []


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ANJIAN_INSTANCE_PATH", str(tmp_path / "inst"))
    monkeypatch.delenv("ANJIAN_DATABASE_URL", raising=False)
    app = create_app({"SECRET_KEY": "x", "ENABLED_PLUGINS": []})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///" + str(tmp_path / "inst" / "anjian.db")
    assert (tmp_path / "inst").is_dir()


def test_comma_separated_plugin_list_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ANJIAN_ENABLED_PLUGINS", "fire, hazchem")
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db"})
    assert app.config["ENABLED_PLUGINS"] == ["fire", "hazchem"]
    assert set(app.extensions["anjian"].sectors) == {"fire", "hazchem"}


def test_seed_demo_is_idempotent_and_prints_logins(runner, session):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "演示账号" in first.output and "xa_regulator" in first.output and "ent_manager" in first.output
    count = session.scalar(select(func.count(Enterprise.id)))
    users = session.scalar(select(func.count(User.id)))
    assert count >= 4 + 190  # the test world plus ~200 demo enterprises
    # R-H2: demo hidden dangers in every state of the loop, with their evidence photos.
    states = dict(session.execute(select(Hazard.state, func.count()).group_by(Hazard.state)).all())
    assert set(states) == {s.value for s in HazardState}, states
    assert "演示隐患" in first.output and "已复查待销号 1" in first.output
    hazards = session.scalar(select(func.count(Hazard.id)))
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert "本次新增 0 家" in second.output
    assert "演示隐患" not in second.output  # hazards are seeded once
    assert session.scalar(select(func.count(Enterprise.id))) == count
    assert session.scalar(select(func.count(User.id))) == users
    assert session.scalar(select(func.count(Hazard.id))) == hazards


def test_create_user_command(runner, session, world):
    result = runner.invoke(args=["create-user", "--username", "cli_admin", "--name", "命令行管理员", "--role", "admin",
                                 "--password", "abc12345"])
    assert result.exit_code == 0, result.output
    assert session.scalar(select(User).where(User.username == "cli_admin")).has_role
    bad = runner.invoke(args=["create-user", "--username", "x", "--name", "n", "--role", "admin",
                              "--password", "short"])
    assert bad.exit_code != 0
    assert "密码至少 8 位" in bad.output


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_console_script_routes_and_plugins(app):
    """The ``anjian`` console script is a FlaskGroup: Flask's commands and the app's commands both work."""
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from core.cli import main

    info = ScriptInfo(create_app=lambda: app)
    result = CliRunner().invoke(main, ["routes"], obj=info)
    assert result.exit_code == 0, result.output
    for rule in ("/api/v1/enterprises", "/enterprises/", "/admin/plugins", "/login"):
        assert rule in result.output
    plugins = CliRunner().invoke(main, ["plugins"], obj=info)
    assert plugins.exit_code == 0 and "测试领域" in plugins.output


def test_base_config_helper_is_used_by_tests(database_url):
    # Guard: tests run against the configured test database, never the developer's instance database.
    assert "anjian.db" not in base_config(database_url)["SQLALCHEMY_DATABASE_URI"] or "test" in database_url
