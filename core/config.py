"""Configuration: defaults → ``instance/config.py`` → ``ANJIAN_*`` environment → ``create_app(config)``.

Later sources win. ``ANJIAN_DATABASE_URL`` is the database URL (SQLAlchemy form, e.g.
``postgresql+psycopg://user@127.0.0.1:5432/anjian``); any other ``ANJIAN_<KEY>`` sets ``<KEY>``, parsed as JSON
where it parses (so ``ANJIAN_ENABLED_PLUGINS='["fire"]'`` gives a list), else taken as a string. A comma-separated
``ANJIAN_ENABLED_PLUGINS=fire,hazchem`` is accepted too.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

#: The sector plugins enabled by default: the four shipped with the core distribution.
DEFAULT_PLUGINS = ["hazchem", "fire", "roadtransport", "specialequip"]


#: Risk assessment methods (双重预防 风险分级, R-R1) as data: factors with their value tables, score = product of
#: the chosen factor values, grade bands from the top. ``min`` is the band's lower bound, ``inclusive`` (default
#: true) whether a score equal to it belongs to the band; below the last band is 低风险. Conventional practice,
#: not legal text (see docs/risk_methods.md): a province replaces a method's ``grades`` or ``values`` in
#: instance/config.py (copy ``DEFAULT_RISK_METHODS``, change, assign to ``RISK_METHODS``).
DEFAULT_RISK_METHODS: dict[str, Any] = {
    "LEC": {
        "name": "作业条件危险性分析法（LEC）",
        "formula": "D = L × E × C",
        "score_name": "D",
        "factors": [
            {"code": "L", "name": "事故发生的可能性", "values": [
                [10, "完全可以预料"], [6, "相当可能"], [3, "可能，但不经常"], [1, "可能性小，完全意外"],
                [0.5, "很不可能，可以设想"], [0.2, "极不可能"], [0.1, "实际不可能"]]},
            {"code": "E", "name": "暴露于危险环境的频繁程度", "values": [
                [10, "连续暴露"], [6, "每天工作时间内暴露"], [3, "每周一次或偶然暴露"], [2, "每月一次暴露"],
                [1, "每年几次暴露"], [0.5, "非常罕见地暴露"]]},
            {"code": "C", "name": "发生事故可能造成的后果", "values": [
                [100, "大灾难，许多人死亡"], [40, "灾难，数人死亡"], [15, "非常严重，一人死亡"], [7, "严重，重伤"],
                [3, "重大，致残"], [1, "引人注目，需要救护"]]},
        ],
        # D > 320 重大; 160 ≤ D ≤ 320 较大; 70 ≤ D < 160 一般; D < 70 低.
        "grades": [{"grade": "major", "min": 320, "inclusive": False}, {"grade": "large", "min": 160},
                   {"grade": "general", "min": 70}],
    },
    "LS": {
        "name": "风险矩阵法（L×S）",
        "formula": "R = L × S",
        "score_name": "R",
        "factors": [
            {"code": "L", "name": "事件发生的可能性", "values": [
                [5, "很可能：经常发生"], [4, "可能：较常发生"], [3, "偶尔：有时发生"], [2, "不太可能：很少发生"],
                [1, "极不可能：几乎不发生"]]},
            {"code": "S", "name": "事件后果的严重性", "values": [
                [5, "灾难性：多人死亡或重大财产损失"], [4, "严重：一人死亡或多人重伤"], [3, "较严重：重伤"],
                [2, "一般：轻伤"], [1, "轻微：无伤害或轻微伤害"]]},
        ],
        # R ≥ 20 重大; 15 ≤ R < 20 较大; 9 ≤ R < 15 一般; R < 9 低.
        "grades": [{"grade": "major", "min": 20}, {"grade": "large", "min": 15}, {"grade": "general", "min": 9}],
    },
}


#: 安全生产标准化 grading (R-S2, R-S3) as data: docs/standardization.md. The 2021 定级办法 (应急〔2021〕83号) sets
#: 一级/二级/三级, but its score thresholds and accident conditions were NOT obtained; the numbers below are the
#: LEGACY 2011/2014 values (2011 冶金等工贸企业考评办法: 一级 ≥90, 二级 ≥75, 三级 ≥60; "申请评审之日前一年内" death
#: counts), shipped as labelled defaults, never as current law. A province copies this dict into instance/config.py
#: as ``STANDARDIZATION_GRADES`` and changes it. ``min_score`` applies to the normalised score (0–100);
#: ``max_deaths`` to the 生产安全事故死亡人数 in the ``accident_window_years`` before the assessment;
#: ``min_element_percent`` (optional) to every 一级要素's own normalised score; any failed 否决项 gives 未达标.
DEFAULT_STANDARDIZATION_GRADES: dict[str, Any] = {
    "label": "旧版（2011/2014）定级条件默认值，非现行法定标准；现行《企业安全生产标准化建设定级办法》（应急〔2021〕83号）的分数线未取得",
    "verified": False,
    "source": "2011年冶金等工贸企业安全生产标准化考评办法（一级≥90、二级≥75、三级≥60；旧文本的事故条件）；"
              "见 /work/shared/verified/hazchem-and-standardization.md 第3节",
    "normalisation": "得分 = 实得分 ÷ 适用项标准分合计 × 100（不适用项不计入分母）；平台约定",
    "accident_window_years": 1,
    "validity_years": 3,  # ◐ "3年" from generic pages only
    "grades": [
        {"grade": "level1", "label": "一级", "min_score": 90, "max_deaths": 0, "min_element_percent": None},
        {"grade": "level2", "label": "二级", "min_score": 75, "max_deaths": 1, "min_element_percent": None},
        {"grade": "level3", "label": "三级", "min_score": 60, "max_deaths": 2, "min_element_percent": None},
    ],
    "fail_label": "未达标",
}
#: Coverage targets (per cent of enterprises with a valid 达标 grade) per category: the seeds' targets (R-S3).
DEFAULT_STANDARDIZATION_TARGETS: dict[str, float] = {"high_risk": 100, "above_scale": 100, "key_industry": 100}


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

    #: werkzeug hash method for passwords; tests use a cheap one to stay fast.
    PASSWORD_HASH_METHOD = "scrypt"
    # Login throttling (R-A5, core/services/logins.py): failures are counted per user name and address and per
    # address over the window; past the free allowance each attempt waits 2 s, 4 s, 8 s … up to the cap. A real
    # user from another address is never slowed, so nobody can lock an account out.
    LOGIN_FREE_FAILURES = 5
    LOGIN_ADDRESS_FREE_FAILURES = 20
    LOGIN_MAX_DELAY_SECONDS = 15 * 60
    LOGIN_FAILURE_WINDOW_MINUTES = 60
    # Cookies: script cannot read them (HttpOnly) and other sites' forms do not send them (SameSite=Lax).
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    #: 「记住我」 keeps a user logged in this long (Flask-Login's default is a year).
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    #: The site is served over HTTPS (``ANJIAN_TLS=1``): cookies are sent over HTTPS only (Secure) and browsers are
    #: told to use HTTPS for ``HSTS_MAX_AGE`` seconds (Strict-Transport-Security). Off by default, since a plain
    #: HTTP intranet deployment would lose its logins with Secure cookies.
    TLS = False
    HSTS_MAX_AGE = 365 * 24 * 3600
    #: Number of reverse proxies in front of the app whose X-Forwarded-For / X-Forwarded-Proto / X-Forwarded-Host
    #: are trusted (werkzeug ProxyFix). 0: the headers are ignored, since a client could forge them — and the
    #: login throttle counts per client address.
    PROXY_COUNT = 0
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
    #: Remind the responsible people these many days before a deadline or a 挂牌督办 due date (reminders command;
    #: a single number is accepted too).
    REMINDER_DAYS_BEFORE: list[int] = [3, 1]
    #: Overdue escalation (R-H4): the n-th entry is the number of days a hazard must be overdue before the notice
    #: goes n levels above the enterprise's supervising level (县区 → 市 → 省); the first entry (1: the day after
    #: the deadline) also tells the enterprise and its supervising level.
    OVERDUE_ESCALATION_DAYS: list[int] = [1, 7, 30]
    #: A reminders run also sends what a missed run (cron outage) would have sent during this many days.
    REMINDER_CATCH_UP_DAYS = 3
    #: Where uploaded files are stored (content-addressed by SHA-256); default ``<instance>/uploads``.
    UPLOAD_FOLDER: str | None = None
    #: Largest single uploaded file (the message names it); the whole request is capped by MAX_CONTENT_LENGTH.
    ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    #: Largest image accepted, in pixels, checked from the header before decoding (a decompression bomb of
    #: 30,000 × 30,000 is 900 MP); 40 MP covers every phone camera. Also Pillow's MAX_IMAGE_PIXELS guard.
    ATTACHMENT_MAX_PIXELS = 40_000_000
    #: Largest total uncompressed size of an .xlsx import, read from the ZIP directory before openpyxl opens it.
    IMPORT_MAX_UNCOMPRESSED = 100 * 1024 * 1024

    #: 一张图 base tiles: a Leaflet URL template such as ``https://tiles.example.gov.cn/{z}/{x}/{y}.png`` (an intranet
    #: 天地图 or the deployment's own tile server), with its attribution text. Empty: the map draws boundaries only
    #: (no request leaves the site). The tile URL's origin is added to the CSP's img-src.
    MAP_TILE_URL = ""
    MAP_TILE_ATTRIBUTION = ""
    #: Above this many enterprises in the view the map shows counts per child jurisdiction instead of markers.
    MAP_MAX_POINTS = 2000

    #: Risk assessment methods (see DEFAULT_RISK_METHODS); the first is the default in forms.
    RISK_METHODS: dict[str, Any] = DEFAULT_RISK_METHODS

    #: 安全生产标准化 grade thresholds and coverage targets (see DEFAULT_STANDARDIZATION_GRADES: legacy defaults).
    STANDARDIZATION_GRADES: dict[str, Any] = DEFAULT_STANDARDIZATION_GRADES
    STANDARDIZATION_TARGETS: dict[str, float] = DEFAULT_STANDARDIZATION_TARGETS
    #: Remind an enterprise this many days before its 达标 certificate expires (复评 is applied for months ahead).
    STANDARDIZATION_REMINDER_DAYS: list[int] = [90, 30]

    #: 执法文书 (R-E3): per type its name and 文书代字; the number is 机关简称 + 代字 + year + sequence, e.g.
    #: （翔）应急责改〔2026〕12号. The 2016 national set used 安监检记/安监责改/安监复查; post-2018 systems only swap
    #: the prefix locally, so a province sets its own here (instance/config.py). ``"legal_review": True`` makes a
    #: type wait for 法制审核 before it is issued and numbered (R-E5). Plugins add types (register_document_types).
    DOCUMENT_TYPES: dict[str, dict[str, Any]] = {
        "inspection_record": {"name": "现场检查记录", "code": "应急检记"},
        "rectification_order": {"name": "责令限期整改指令书", "code": "应急责改"},
        "review_opinion": {"name": "整改复查意见书", "code": "应急复查"},
        # No verified national template or 代字 exists for this one (core/services/documents.py).
        "supervision_notice": {"name": "挂牌督办通知书", "code": "应急督办"},
    }
    #: Wording of the 挂牌督办通知书: neutral platform text, NOT a national template (none was verified) and
    #: citing no legal article; a deployment replaces it with its own approved wording (instance/config.py).
    SUPERVISION_NOTICE_TEXT: dict[str, str] = {
        "intro": "经研究，决定对你单位存在的下列重大事故隐患实行挂牌督办：",
        "closing": "请你单位按照督办要求，落实整改责任、措施、资金、时限和应急预案，在整改期限前完成整改，"
                   "并将整改情况书面报告督办单位。",
    }
    #: Measures a 指令书 may order for its 重大事故隐患 (issue 15 item 6), code → wording printed in the document.
    #: The inspector ticks the ones decided on the spot. Labels after the measures the issue names for
    #: 《安全生产法》第六十五条; no verified text of that article was obtained, so a deployment checks them
    #: (``anjian documents editions`` lists the sentence as 待核对).
    ORDER_MAJOR_MEASURES: dict[str, str] = {
        "evacuate": "从危险区域内撤出作业人员",
        "suspend": "暂时停产停业",
        "stop_use": "停止使用相关设施、设备",
    }
    #: Most documents in one merged PDF or ZIP batch download.
    DOCUMENT_BATCH_MAX = 200

    #: 双随机 draws (R-E1): the weight of each risk class (core.services.plans.risk_class) in the weighted random
    #: draw; a class with weight 4 is four times as likely as one with weight 1 to be drawn first. Platform
    #: defaults (差异化抽查: higher-risk enterprises more often), not legal text. Each draw records the weights used.
    DRAW_WEIGHTS: dict[str, float] = {"high": 4.0, "elevated": 2.0, "normal": 1.0, "low": 0.5}

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

    from core.services.risk_methods import parse_methods

    try:
        parse_methods(app.config["RISK_METHODS"])
    except ValueError as exc:
        raise ConfigError(f"RISK_METHODS is invalid: {exc}") from None

    if app.config.get("TLS"):
        app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = True
        app.config["PREFERRED_URL_SCHEME"] = "https"
    if isinstance(app.config.get("REMEMBER_COOKIE_DURATION"), (int, float)):
        # From the environment (ANJIAN_REMEMBER_COOKIE_DURATION=86400) it arrives as seconds.
        app.config["REMEMBER_COOKIE_DURATION"] = timedelta(seconds=app.config["REMEMBER_COOKIE_DURATION"])
    try:
        app.config["PROXY_COUNT"] = int(app.config.get("PROXY_COUNT") or 0)
    except (TypeError, ValueError):
        raise ConfigError(f"PROXY_COUNT must be a whole number of proxies (0, 1, 2 …), not {app.config['PROXY_COUNT']!r}") from None

    if not app.config.get("UPLOAD_FOLDER"):
        app.config["UPLOAD_FOLDER"] = os.path.join(app.instance_path, "uploads")

    if not app.config.get("SECRET_KEY"):
        if app.config["TESTING"] or app.config["ENV"] == "development":
            # Development and tests only: a per-process key means sessions do not survive a restart.
            app.config["SECRET_KEY"] = os.urandom(32).hex()
        elif not app.config.get("SECRET_KEY_REQUIRED", True):
            # The command line (`anjian --help`, `anjian plugins` …) works on an unconfigured machine; a request
            # to such an app is answered 503 naming the setting (core.app), never served with a made-up key.
            app.config["SECRET_KEY_MISSING"] = True
        else:
            raise ConfigError(
                "SECRET_KEY is not set. Put SECRET_KEY = '<long random string>' in "
                f"{os.path.join(app.instance_path, 'config.py')} or set ANJIAN_SECRET_KEY; "
                "set ANJIAN_ENV=development to run without one on a developer machine."
            )
