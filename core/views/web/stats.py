"""Pages of the stats module (being built: see issue 4)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("stats", __name__, url_prefix="/stats")
