"""Configuration: defaults → ``instance/config.py`` → ``ANJIAN_*`` environment → ``create_app(config)``.

Later sources win. ``ANJIAN_DATABASE_URL`` is the database URL (SQLAlchemy form, e.g.
``postgresql+psycopg://user@127.0.0.1:5432/anjian``); any other ``ANJIAN_<KEY>`` sets ``<KEY>``, parsed as JSON
where it parses (so ``ANJIAN_ENABLED_PLUGINS='["fire"]'`` gives a list), else taken as a string. A comma-separated
``ANJIAN_ENABLED_PLUGINS=fire,hazchem`` is accepted too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

#: The sector plugins enabled by default: the four shipped with the core distribution.
DEFAULT_PLUGINS = ["hazchem", "fire", "roadtransport", "specialequip"]


class ConfigError(RuntimeError):
    """The configuration cannot work; the message says what to set."""


class DefaultConfig:
    """Defaults for every deployment. Secrets have none on purpose."""

    #: Must come from instance/config.py or ANJIAN_SECRET_KEY outside of testing/development.
    SECRET_KEY: str | None = None
    #: None means the embedded SQLite database at ``<instance>/anjian.db``.
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {}
    ENABLED_PLUGINS: list[str] = list(DEFAULT_PLUGINS)
    #: Plugin objects registered directly (tests, embedding); not from entry points.
    EXTRA_PLUGINS: list[Any] = []
    #: "production" (default) or "development"; development tolerates a missing SECRET_KEY.
    ENV: str = "production"
    TESTING = False

    # Login protection (R-A5): after this many failures the account is locked for LOCKOUT_MINUTES.
    #: werkzeug hash method for passwords; tests use a cheap one to stay fast.
    PASSWORD_HASH_METHOD = "scrypt"
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCKOUT_MINUTES = 15
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = 8 * 3600  # an inspector's working day on one page must not expire the form

    # Upload limit for imports and attachments.
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    #: Largest enterprise import accepted in one file.
    IMPORT_MAX_ROWS = 20000

    # JSON API / OpenAPI (flask-smorest)
    API_TITLE = "anjian API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    JSON_AS_ASCII = False

    #: Hidden-danger levels, lowest first: (code, label). A province may add e.g. ("large", "较大") between them;
    #: "general" and "major" must stay (the closed loop treats "major" specially: report, plan, listing).
    HAZARD_LEVELS: list[tuple[str, str]] = [("general", "一般"), ("major", "重大")]
    #: Default rectification deadlines per sector ("*" = any) and level. Platform defaults, not legal text:
    #: 16号令 sets no fixed number of days; deployments set their own.
    HAZARD_DEADLINE_POLICIES: dict = {
        "*": {"general": {"days": 15, "kind": "working"}, "major": {"days": 90, "kind": "calendar"}},
    }
    #: Remind the responsible people this many days before a deadline (reminders command).
    REMINDER_DAYS_BEFORE = 3
    #: Where uploaded files are stored (content-addressed by SHA-256); default ``<instance>/uploads``.
    UPLOAD_FOLDER: str | None = None
    ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024

    #: Page sizes for lists: the default, and the most a client may ask for.
    PAGE_SIZE = 20
    MAX_PAGE_SIZE = 200


def _parse_plugins(value: Any) -> list[str]:
    if isinstance(value, str):
        return [p.strip() for p in value.split(",") if p.strip()]
    return list(value)


def load_config(app: Flask, overrides: dict[str, Any] | None = None) -> None:
    """Fill ``app.config`` in precedence order and validate it.

    Raises :class:`ConfigError` with a message naming the setting when the result cannot work.
    """
    app.config.from_object(DefaultConfig)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("ANJIAN")
    if "DATABASE_URL" in app.config:
        app.config["SQLALCHEMY_DATABASE_URI"] = app.config.pop("DATABASE_URL")
    if overrides:
        app.config.update(overrides)

    app.config["ENABLED_PLUGINS"] = _parse_plugins(app.config["ENABLED_PLUGINS"])
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "anjian.db")

    if not app.config.get("UPLOAD_FOLDER"):
        app.config["UPLOAD_FOLDER"] = os.path.join(app.instance_path, "uploads")

    if not app.config.get("SECRET_KEY"):
        if app.config["TESTING"] or app.config["ENV"] == "development":
            # Development and tests only: a per-process key means sessions do not survive a restart.
            app.config["SECRET_KEY"] = os.urandom(32).hex()
        else:
            raise ConfigError(
                "SECRET_KEY is not set. Put SECRET_KEY = '<long random string>' in "
                f"{os.path.join(app.instance_path, 'config.py')} or set ANJIAN_SECRET_KEY; "
                "set ANJIAN_ENV=development to run without one on a developer machine."
            )
