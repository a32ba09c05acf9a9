"""Support for the real browser checks (headless Debian chromium via Playwright; R-N5).

Browser test modules import the ``live_server`` and ``browser`` fixtures from here (one live server per module):
the app runs in a thread on its own SQLite database with the test world and CSRF enabled, exactly as users get
it. Screenshots go to ``artifacts/screenshots/`` (or ``$ANJIAN_SCREENSHOT_DIR``) to be looked at.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from core.app import create_app
from core.extensions import db
from tests import factories
from tests.conftest import base_config

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(os.environ.get("ANJIAN_SCREENSHOT_DIR", Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"))
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@contextmanager
def serve_world(tmp: Path, setup: Callable[[Any, factories.World], Any] | None = None,
                plugins: list[str] | None = None, **config: Any) -> Iterator[tuple[str, Any, Any]]:
    """Serve the app on a free local port over its own migrated SQLite database in ``tmp`` holding the test world,
    with CSRF on and uploads under ``tmp``, as users get it; yields (base URL, app, what ``setup`` returned).

    ``setup(session, world)`` adds what a module needs before serving (committed after it). ``plugins``: run these
    real plugins (instead of none) with an instance folder in ``tmp``; ``config`` overrides settings."""
    if plugins is not None:
        config["ENABLED_PLUGINS"] = plugins
    with pytest.MonkeyPatch.context() as mp:
        if plugins is not None:
            mp.delenv("ANJIAN_ENABLED_PLUGINS", raising=False)
            mp.setenv("ANJIAN_INSTANCE_PATH", str(tmp / "instance"))
        app = create_app(base_config("sqlite:///" + str(tmp / "live.db"), WTF_CSRF_ENABLED=True,
                                     UPLOAD_FOLDER=str(tmp / "uploads"), **config))
    with app.app_context():
        upgrade()
        world = factories.build_world(db.session)
        extra = setup(db.session, world) if setup else None
        db.session.commit()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app, extra
    finally:
        server.shutdown()
        thread.join(5)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    with serve_world(tmp_path_factory.mktemp("live")) as (base, _, _):
        yield base


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian chromium is required: scripts/setup installs it"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


def new_page(browser, viewport):
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    return context, context.new_page()


def log_in(page, base: str, username: str, password: str = factories.PASSWORD) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():  # the next step must see the page after the login, even on a busy machine
        page.click("button[type=submit]")


def assert_no_horizontal_overflow(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"page is {width}px wide in a {viewport}px viewport"


