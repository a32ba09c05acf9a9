"""Pages of the hazards module (being built: see issue 4)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("hazards", __name__, url_prefix="/hazards")
