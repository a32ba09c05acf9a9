"""Packaging: a non-editable install has everything the app reads from disk.

The app-level templates are installed as data files (``<prefix>/share/anjian/templates``, see setup.cfg and
``core.app.templates_dir``); migrations, static files and plugin data as package data. A folder or file type
forgotten in setup.cfg works in a checkout and breaks only after ``pip install``, so these tests check the lists
against the tree, and a slow test builds the wheel and looks inside.
"""

from __future__ import annotations

import configparser
import importlib.metadata
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
DATA_PREFIX = "share/anjian/templates"
PLUGINS = ("hazchem", "fire", "roadtransport", "specialequip")


def _setup_cfg() -> configparser.ConfigParser:
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(ROOT / "setup.cfg", encoding="utf-8")
    return cfg


def _lines(value: str) -> list[str]:
    return [v.strip() for v in value.replace(",", "\n").splitlines() if v.strip()]


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def _data_files() -> dict[str, list[str]]:
    return {target: _lines(sources) for target, sources in _setup_cfg()["options.data_files"].items()}


# --- data files: the app-level templates ---------------------------------------------------------------------

def test_every_templates_subfolder_has_a_data_files_line():
    data_files = _data_files()
    for sub in sorted(p for p in TEMPLATES.iterdir() if p.is_dir() and p.name != "__pycache__"):
        assert f"{DATA_PREFIX}/{sub.name}" in data_files, (
            f"setup.cfg [options.data_files] lacks: {DATA_PREFIX}/{sub.name} = templates/{sub.name}/*.html")


def test_every_template_file_is_installed_at_its_path():
    """Each file under templates/ is matched by a glob of the data_files line of its own folder (nested folders
    and non-HTML files such as print CSS included)."""
    data_files = _data_files()
    missing = []
    for path in _files(TEMPLATES):
        rel_dir = path.parent.relative_to(TEMPLATES).as_posix()
        target = DATA_PREFIX if rel_dir == "." else f"{DATA_PREFIX}/{rel_dir}"
        matched = {ROOT / m for pattern in data_files.get(target, []) for m in ROOT.glob(pattern)}
        if path not in matched:
            missing.append(path.relative_to(ROOT).as_posix())
    assert missing == [], f"not installed by setup.cfg [options.data_files]: {missing}"


def test_data_files_lines_point_at_existing_templates():
    for target, patterns in _data_files().items():
        assert target == DATA_PREFIX or target.startswith(DATA_PREFIX + "/"), target
        sub = target[len(DATA_PREFIX):].lstrip("/")
        for pattern in patterns:
            assert Path(pattern).parent.as_posix() == ("templates/" + sub).rstrip("/"), (target, pattern)
            assert list(ROOT.glob(pattern)), f"setup.cfg data_files pattern {pattern!r} matches nothing"


def test_every_template_compiles(app):
    names = [p.relative_to(TEMPLATES).as_posix() for p in _files(TEMPLATES) if p.suffix == ".html"]
    assert "base.html" in names and len(names) > 5
    for name in names:
        template = app.jinja_env.get_template(name)  # raises TemplateSyntaxError, naming file and line
        assert template.filename == str(TEMPLATES / name)


# --- package data: migrations, static files, plugin data -----------------------------------------------------

def test_every_non_python_file_of_the_packages_is_package_data():
    package_data = {pkg: _lines(patterns) for pkg, patterns in _setup_cfg()["options.package_data"].items()}
    covered: set[Path] = set()
    for package, patterns in package_data.items():
        base = ROOT / package.replace(".", "/")
        for pattern in patterns:
            covered.update(base.glob(pattern))
    missing = [p.relative_to(ROOT).as_posix() for top in ("core", "plugins") for p in _files(ROOT / top)
               if p.suffix not in (".py", ".pyc") and p not in covered]
    assert missing == [], f"not in setup.cfg [options.package_data]: {missing}"


# --- the built wheel -----------------------------------------------------------------------------------------

def _offline_backend_available() -> str | None:
    """Why the wheel cannot be built offline with --no-build-isolation, or None when it can."""
    try:
        setuptools = Version(importlib.metadata.version("setuptools"))
    except importlib.metadata.PackageNotFoundError:
        return "setuptools is not installed"
    if setuptools < Version("68"):
        return f"setuptools {setuptools} < 68 ([build-system] requires)"
    try:
        importlib.metadata.version("wheel")
    except importlib.metadata.PackageNotFoundError:
        if setuptools < Version("70.1"):
            return "wheel is not installed"
    return None


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    reason = _offline_backend_available()
    if reason:
        pytest.skip(f"cannot build offline: {reason}; run scripts/setup (test extra installs setuptools, wheel)")
    # Build from a copy, so that no build/ or egg-info is left in (or reused from) the checkout.
    src = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for name in ("core", "plugins", "templates"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    out = tmp_path_factory.mktemp("wheel")
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(src)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    wheels = list(out.glob("anjian-*.whl"))
    assert len(wheels) == 1, wheels
    with zipfile.ZipFile(wheels[0]) as zf:
        yield zf


@pytest.mark.slow
def test_wheel_contains_migrations_static_and_templates(wheel):
    names = set(wheel.namelist())
    for required in (
        "core/migrations/alembic.ini",
        "core/migrations/env.py",
        "core/migrations/script.py.mako",
        "core/migrations/versions/0001_foundation.py",
        "core/static/css/anjian.css",
        "anjian-0.1.0.data/data/share/anjian/templates/base.html",
    ):
        assert required in names, f"{required} missing from the wheel"
    for path in _files(TEMPLATES):
        assert f"anjian-0.1.0.data/data/{DATA_PREFIX}/{path.relative_to(TEMPLATES).as_posix()}" in names
    for top in ("core", "plugins"):
        for path in _files(ROOT / top):
            assert path.relative_to(ROOT).as_posix() in names, f"{path.relative_to(ROOT)} missing from the wheel"
    assert not [n for n in names if n.startswith(("tests/", "docs/", "bench/", "scripts/", "instance/"))]


@pytest.mark.slow
def test_wheel_declares_the_plugins_and_the_console_script(wheel):
    entry_points = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    entry_points.read_string(wheel.read("anjian-0.1.0.dist-info/entry_points.txt").decode())
    assert dict(entry_points["anjian.plugins"]) == {name: f"plugins.{name}.plugin" for name in PLUGINS}
    assert dict(entry_points["console_scripts"]) == {"anjian": "core.cli:main"}
    metadata = wheel.read("anjian-0.1.0.dist-info/METADATA").decode()
    assert "Name: anjian\n" in metadata and "Version: 0.1.0\n" in metadata
