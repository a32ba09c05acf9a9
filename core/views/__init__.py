"""HTTP layer: web pages (``views.web``) and the JSON API (``views.api``).

Views parse input, call one service, commit, and render or dump. They hold no business rules.
"""

from __future__ import annotations

from flask import Flask, jsonify


def register_views(app: Flask) -> None:
    from core.views import api, web

    web.init_app(app)
    api.init_app(app)

    @app.get("/healthz")
    def healthz():
        """Liveness probe; also the floor of the detail-page benchmark (bench/run.py)."""
        return jsonify(status="ok")
