"""The command line on a machine that is not configured yet (issue 14 item 5, R-N5).

A new operator's first commands are ``anjian --help``, ``anjian plugins`` and ``anjian version``: they work with
no secret key and no database, every command's ``--help`` too (the command tree is walked, so a command added
later is covered), and a command that needs the database says so in one line instead of a traceback.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from core.cli import main


@pytest.fixture()
def bare(tmp_path):
    """Run ``anjian`` in production mode with an empty instance folder and nothing configured."""
    env = {"ANJIAN_INSTANCE_PATH": str(tmp_path / "instance"), "ANJIAN_SECRET_KEY": None, "ANJIAN_ENV": None,
           "ANJIAN_DATABASE_URL": None, "ANJIAN_ENABLED_PLUGINS": None, "FLASK_APP": None}

    seen: dict[tuple[str, ...], object] = {}

    def run(*args: str):
        # each call builds the app (plugins, catalog): the walk below asks for each help once
        if args not in seen:
            seen[args] = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
        return seen[args]

    return run


def _commands(run, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path below ``path``, read from the group's own help listing."""
    out = run(*path, "--help").output
    names, listing = [], False
    for line in out.splitlines():
        if line.strip() == "Commands:":
            listing = True
        elif listing and line.startswith("  ") and line.strip():
            names.append(line.split()[0])
    found = []
    for name in names:
        found.append((*path, name))
        if "Commands:" in run(*path, name, "--help").output:
            found.extend(_commands(run, (*path, name)))
    return found


@pytest.mark.slow  # about 40 app builds
def test_every_help_works_unconfigured(bare):
    top = bare("--help")
    assert top.exit_code == 0 and "Traceback" not in top.output
    commands = _commands(bare)
    # the app's own commands are listed, so the app was created without a secret key
    assert {("plugins",), ("version",), ("reminders",), ("documents", "check-agencies"), ("db", "upgrade")} <= set(
        commands)
    for command in commands:
        result = bare(*command, "--help")
        assert result.exit_code == 0, (command, result.output)
        assert "Traceback" not in result.output and "Usage:" in result.output, command


def test_plugins_and_version_need_nothing(bare):
    plugins = bare("plugins")
    assert plugins.exit_code == 0 and "hazchem" in plugins.output
    version = bare("version")
    assert version.exit_code == 0 and version.output.startswith("anjian ") and "fire" in version.output


def test_a_command_that_needs_the_database_says_so_in_one_line(tmp_path):
    env = {"ANJIAN_INSTANCE_PATH": str(tmp_path / "instance"), "ANJIAN_SECRET_KEY": None, "ANJIAN_ENV": None,
           "ANJIAN_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none", "FLASK_APP": None}
    result = CliRunner().invoke(main, ["reminders"], env=env)
    assert result.exit_code == 1
    assert "数据库不可用 / database unavailable" in result.output and "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_the_unconfigured_app_refuses_to_serve(bare):
    """Created without a secret key for the command line, the app answers 503 naming the setting."""
    from core.app import create_app

    with pytest.MonkeyPatch.context() as mp:
        for key in ("ANJIAN_SECRET_KEY", "ANJIAN_ENV", "ANJIAN_DATABASE_URL"):
            mp.delenv(key, raising=False)
        app = create_app({"SECRET_KEY_REQUIRED": False, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    resp = app.test_client().get("/login")
    assert resp.status_code == 503 and "SECRET_KEY" in resp.get_data(as_text=True)
