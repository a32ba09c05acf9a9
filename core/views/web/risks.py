"""Pages of the risks module (being built: see issue 4)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("risks", __name__, url_prefix="/risks")
