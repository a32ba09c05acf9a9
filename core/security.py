"""Security headers on every response, and the optional reverse-proxy fix (issue 14 item 6).

The Content-Security-Policy allows scripts from this site only: no template has an inline ``<script>`` or an
``on…=`` handler (tests/test_security_headers.py checks every template), data reach scripts as
``<script type="application/json">`` blocks or ``data-`` attributes, and confirmations are ``data-confirm``
attributes handled by ``static/js/site.js``. Inline styles stay allowed (progress bars set their width in a
``style`` attribute). Images may be ``data:`` and ``blob:`` URLs: the signature pad redraws its strokes from a
data URL when the canvas is resized, and sends the drawing as a blob.
"""

from __future__ import annotations

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'")


def security_headers(app: Flask):
    """The ``after_request`` function for ``app``: the headers, unless a view set its own."""

    def _add(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
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
