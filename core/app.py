"""The application factory."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader

from core.config import load_config
from core.extensions import configure_sqlite, csrf, db, login_manager, migrate
from core.plugins import init_plugins

log = logging.getLogger(__name__)
CORE_DIR = Path(__file__).resolve().parent


def templates_dir() -> Path:
    """The app-level ``templates/`` folder: beside ``core/`` in a checkout or editable install, else where a
    non-editable install put it (``<prefix>/share/anjian/templates``, see setup.cfg)."""
    for candidate in (CORE_DIR.parent / "templates", Path(sys.prefix) / "share" / "anjian" / "templates"):
        if (candidate / "base.html").is_file():
            return candidate
    raise RuntimeError("找不到 anjian 的页面模板目录 templates/（安装不完整）")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build an app: config → extensions → blueprints → plugin manager (which calls ``check_pending()``).

    ``config`` overrides every other source (tests pass the database URL and ``TESTING`` here).
    """
    app = Flask(
        "core",
        template_folder=str(templates_dir()),
        instance_path=os.environ.get("ANJIAN_INSTANCE_PATH") or None,
        instance_relative_config=True,
    )
    load_config(app, config)
    from core.views.converters import IdConverter

    # Before any route is added: every <int:…> of the app is an id (see core.views.converters).
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["id"] = IdConverter
    if app.config.get("SECRET_KEY_MISSING"):
        @app.before_request
        def _refuse_without_secret_key():
            return ("anjian 未配置 SECRET_KEY，不能提供服务 / SECRET_KEY is not set: put SECRET_KEY in "
                    "instance/config.py or set ANJIAN_SECRET_KEY", 503, {"Content-Type": "text/plain; charset=utf-8"})
    # Flask >= 2.3 no longer reads JSON_AS_ASCII from the config; the JSON provider holds the setting.
    app.json.ensure_ascii = bool(app.config.get("JSON_AS_ASCII", True))
    # Any Image.open in the process refuses a decompression bomb (Pillow errors above twice this, warns above
    # it); uploads check the exact limit from the header first (core.services.attachments.clean_image).
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = int(app.config["ATTACHMENT_MAX_PIXELS"])

    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(CORE_DIR / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    from core import security

    security.init_app(app)

    from core.views import register_views

    register_views(app)
    from core.cli import register_commands

    register_commands(app)
    registry = init_plugins(app)
    extra_dirs = [d for dirs in registry.hook.register_template_dirs() for d in (dirs or [])]
    if extra_dirs:
        app.jinja_loader = ChoiceLoader([app.jinja_loader, FileSystemLoader(extra_dirs)])
    return app
