"""JSON API of the risks module (being built: see issue 4)."""

from __future__ import annotations

from flask_smorest import Blueprint

from core.views.api import authenticate

PREFIX = "/risks"
blp = Blueprint("api_risks", __name__, description="risks")
blp.before_request(authenticate)
