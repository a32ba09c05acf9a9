"""The home page, one per role."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from core.extensions import db
from core.services import dashboard

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    if current_user.enterprise_id and not current_user.has_role(*dashboard.GOVERNMENT_OR_ADMIN):
        return redirect(url_for("enterprises.detail", enterprise_id=current_user.enterprise_id))
    return render_template("home.html", summary=dashboard.enterprise_summary(db.session, current_user))
