"""Security headers and cookie settings (issue 14 item 6; R-A5, R-N3): a Content-Security-Policy that allows no
inline script, frame and sniffing protection on every response (pages, JSON API, static files), HSTS and Secure
cookies only when the TLS setting is on, and templates that need no inline script."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.app import create_app
from core.security import CSP
from tests.conftest import base_config
from tests.factories import PASSWORD
from tests.forms import page_form

ROOT = Path(__file__).resolve().parent.parent
COMMON = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def _check_common(resp) -> None:
    for name, value in COMMON.items():
        assert resp.headers.get(name) == value, name
    csp = resp.headers["Content-Security-Policy"]
    assert csp == CSP
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert directives["img-src"] == "'self' data: blob:"  # signature pad: data URL redraw, blob upload


@pytest.mark.parametrize("path", ["/login", "/healthz", "/api/v1/me", "/static/js/site.js", "/static/css/anjian.css",
                                  "/no-such-page"])
def test_headers_on_every_kind_of_response(client, path):
    with client.get(path) as resp:  # closes a static file's handle
        assert resp.status_code in (200, 401, 404)
        _check_common(resp)
        assert "Strict-Transport-Security" not in resp.headers  # TLS is off by default


def test_headers_on_logged_in_pages_and_api(login, api):
    _check_common(login("xa_reg").get("/"))
    resp = api("xa_reg").get("/api/v1/me")
    assert resp.status_code == 200 and resp.is_json
    _check_common(resp)


def test_plain_http_cookies_are_http_only_and_same_site_but_not_secure(client, session):
    form = page_form(client.get("/login")).set("username", "xa_reg").set("password", PASSWORD).check("remember")
    resp = form.submit(client)
    cookies = resp.headers.getlist("Set-Cookie")
    assert {c.split("=", 1)[0] for c in cookies} >= {"session", "remember_token"}
    for cookie in cookies:
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


@pytest.fixture()
def tls_app(database_url, tmp_path):
    """An app configured as behind HTTPS with one trusted proxy, over the tests' database (read only here: it is
    not the tests' rolled-back session). A probe page shows the client address and sets a session value."""
    app = create_app(base_config(database_url, TLS=1, PROXY_COUNT=1, UPLOAD_FOLDER=str(tmp_path)))

    @app.get("/_probe")
    def _probe():
        from flask import request, session

        session["probe"] = 1
        return f"{request.remote_addr} {request.scheme}"

    yield app
    with app.app_context():
        from core.extensions import db

        db.session.remove()
        db.engine.dispose()


def test_tls_setting_turns_on_hsts_and_secure_cookies(app, tls_app):
    assert app.config["SESSION_COOKIE_SECURE"] is False  # the default app: plain HTTP works
    client = tls_app.test_client()
    for path in ("/login", "/api/v1/me", "/static/js/site.js"):
        with client.get(path) as resp:
            _check_common(resp)
            assert resp.headers["Strict-Transport-Security"] == "max-age=31536000"
    # Flask-Login reads the remember cookie's flags from these settings when it sets the cookie.
    assert tls_app.config["REMEMBER_COOKIE_SECURE"] is True and tls_app.config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert tls_app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    (cookie,) = client.get("/_probe", base_url="https://anjian.example").headers.getlist("Set-Cookie")
    assert cookie.startswith("session=") and "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_proxy_count_trusts_x_forwarded_for(tls_app):
    """Behind one proxy the client address and scheme are the proxy's X-Forwarded-For / -Proto."""
    resp = tls_app.test_client().get("/_probe", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
    assert resp.get_data(as_text=True) == "203.0.113.9 https"


def test_default_app_ignores_x_forwarded_for(app, session):
    from flask import request

    with app.test_request_context("/", headers={"X-Forwarded-For": "203.0.113.9"},
                                  environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        assert request.remote_addr == "127.0.0.1"
    assert app.config["PROXY_COUNT"] == 0


# --- templates: nothing the policy would block ---------------------------------------------------------------------

TEMPLATE_DIRS = [ROOT / "templates", *sorted((ROOT / "plugins").glob("*/templates"))]
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
HANDLER = re.compile(r"<[a-zA-Z][^>]*?\son[a-z]+\s*=", re.IGNORECASE | re.DOTALL)
JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']\s*javascript:""", re.IGNORECASE)


def _templates() -> list[Path]:
    files = [p for d in TEMPLATE_DIRS for p in d.rglob("*.html")]
    assert len(files) > 50, "the template folders were not found"
    return files


def test_no_template_has_inline_script_or_event_handlers():
    problems = []
    for path in _templates():
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(ROOT)
        for match in SCRIPT_TAG.finditer(text):
            attrs = match.group(1)
            if "src=" in attrs or re.search(r"""type\s*=\s*["']application/(ld\+)?json["']""", attrs):
                continue
            problems.append(f"{rel}: inline <script{attrs}>")
        problems += [f"{rel}: inline handler {m.group(0)[-40:]!r}" for m in HANDLER.finditer(text)]
        problems += [f"{rel}: javascript: URL" for _ in JS_URL.finditer(text)]
    assert not problems, "\n".join(problems)


def test_the_check_finds_what_it_looks_for():
    """The patterns above catch the forms they must refuse (so the check above can fail)."""
    bad = ['<script>alert(1)</script>', '<form onsubmit="return confirm(\'x\')">',
           '<button class="x"\n onclick=\'go()\'>', '<a href="javascript:void(0)">']
    good = ['<script src="/static/js/site.js" defer></script>', '<script type="application/json" id="d">{}</script>',
            '<form action="/x" data-confirm="确定？">', '<p>version=1 action=2</p>']
    for text in bad:
        assert any(p.search(text) for p in (HANDLER, JS_URL)) or (
            (m := SCRIPT_TAG.search(text)) and "src=" not in m.group(1)), text
    for text in good:
        assert not HANDLER.search(text) and not JS_URL.search(text), text


def test_confirmations_are_data_attributes_handled_by_site_js(login, session, world):
    js = (ROOT / "core" / "static" / "js" / "site.js").read_text(encoding="utf-8")
    assert 'getAttribute("data-confirm")' in js and "window.confirm" in js
    html = login("admin").get("/admin/jurisdictions").get_data(as_text=True)
    assert 'data-confirm="确定删除“' in html and "onsubmit" not in html
    assert '<script src="/static/js/site.js" defer></script>' in html
