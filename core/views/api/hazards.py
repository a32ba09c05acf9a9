"""JSON API of the hazards module (being built: see issue 4)."""

from __future__ import annotations

from flask_smorest import Blueprint

from core.views.api import authenticate

PREFIX = "/hazards"
blp = Blueprint("api_hazards", __name__, description="hazards")
blp.before_request(authenticate)
