"""Login, logout, and the user's own account page (API tokens)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from core.extensions import db
from core.services import users
from core.services.errors import ValidationFailed
from core.views.web.forms import posted

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    # Only same-site relative paths: an absolute or scheme-relative URL would be an open redirect.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    error = None
    username = posted().get("username", "").strip()
    if request.method == "POST":
        try:
            user = users.authenticate(db.session, username, posted().get("password", ""))
        except users.LoginRefused as exc:
            db.session.commit()  # keep the failure count and the audit entry
            error = exc.message
        else:
            db.session.commit()
            login_user(user, remember=posted().checked("remember"))
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", error=error, username=username), (401 if error else 200)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash("您已退出登录", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    new_token = None
    errors = {}
    if request.method == "POST":
        try:
            new_token, _ = users.create_token(db.session, current_user, current_user, posted().get("name", "").strip())
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
    tokens = users.list_tokens(db.session, current_user, current_user)
    return render_template("auth/account.html", tokens=tokens, new_token=new_token, errors=errors)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    users.revoke_token(db.session, current_user, token_id)
    db.session.commit()
    flash("令牌已吊销", "info")
    return redirect(url_for("auth.account"))
