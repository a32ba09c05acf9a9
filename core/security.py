"""Security headers on every response, and the optional reverse-proxy fix (issue 14 item 6).

The Content-Security-Policy allows scripts from this site only: no template has an inline ``<script>`` or an
``on…=`` handler (tests/test_security_headers.py checks every template), data reach scripts as
``<script type="application/json">`` blocks or ``data-`` attributes, and confirmations are ``data-confirm``
attributes handled by ``static/js/site.js``. Inline styles stay allowed (progress bars set their width in a
``style`` attribute). Images may be ``data:`` and ``blob:`` URLs: the signature pad redraws its strokes from a
data URL when the canvas is resized, and sends the drawing as a blob.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'")


def tile_origin(url: str | None) -> str | None:
    """The scheme://host[:port] of a map tile URL template (``{s}`` subdomains become a ``*.`` wildcard), or
    None when unset or not http(s)."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = parts.netloc.split("@")[-1]
    if "{s}" in host:
        host = "*." + host.split("{s}.", 1)[-1] if host.startswith("{s}.") else host.replace("{s}", "*")
    return f"{parts.scheme}://{host}"


def csp_for(app: Flask) -> str:
    origin = tile_origin(app.config.get("MAP_TILE_URL"))
    return CSP.replace("img-src 'self' data: blob:;", f"img-src 'self' data: blob: {origin};") if origin else CSP


def security_headers(app: Flask):
    """The ``after_request`` function for ``app``: the headers, unless a view set its own."""

    def _add(response: Response) -> Response:
        headers = response.headers
        # Read per response (cheap) so a test app configured after creation gets the right policy.
        headers.setdefault("Content-Security-Policy", csp_for(app))
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        if app.config.get("TLS"):
            # Only when the site really is HTTPS: over plain HTTP browsers ignore it, and a deployment that
            # later dropped TLS would be unreachable for the max-age.
            headers.setdefault("Strict-Transport-Security", f"max-age={int(app.config['HSTS_MAX_AGE'])}")
        return response

    return _add


def init_app(app: Flask) -> None:
    app.after_request(security_headers(app))
    proxies = app.config.get("PROXY_COUNT", 0)
    if proxies:
        # Behind ``proxies`` trusted reverse proxies: the client address (login throttle, audit log), scheme and
        # host come from their X-Forwarded-* headers. Without proxies those headers are a client's word, ignored.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
