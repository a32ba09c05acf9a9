"""Login, logout, and the user's own account pages (password change, API tokens)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from core.extensions import db
from core.schemas.user import PASSWORD_RULE
from core.services import audit, logins, users
from core.services.errors import ValidationFailed
from core.views.web.forms import posted

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    # Only same-site relative paths: an absolute or scheme-relative URL would be an open redirect.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("home.index")


def _start_session(user, remember: bool) -> None:
    # A fresh session for the login: nothing an attacker planted in the pre-login session (a fixed session) or
    # left by the previous user of the browser survives, and the cookie value changes.
    session.clear()
    login_user(user, remember=remember)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    error, status, headers = None, 200, {}
    username = posted().get("username", "").strip()
    if request.method == "POST":
        try:
            user = logins.authenticate(db.session, username, posted().get("password", ""))
        except logins.LoginThrottled as exc:
            db.session.commit()  # the login_throttled entry
            error, status, headers = exc.message, 429, {"Retry-After": str(exc.retry_after)}
        except logins.LoginRefused as exc:
            db.session.commit()  # the login_failed entry: the throttle counts these
            error, status = exc.message, 401
        else:
            db.session.commit()
            _start_session(user, remember=posted().checked("remember"))
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", error=error, username=username), status, headers


@bp.post("/logout")
@login_required
def logout():
    user = current_user._get_current_object()
    # Ends this user's sessions and remember cookies everywhere, not only this browser's cookie: a copy of the
    # session cookie (a shared computer, a stolen cookie) is refused from now on.
    users.end_sessions(db.session, user)
    audit.record(db.session, user, "logout", "user", user.id, summary="退出登录（全部会话失效）")
    db.session.commit()
    session.clear()
    logout_user()  # after clear(): it leaves the note that makes Flask-Login delete the remember cookie
    flash("您已退出登录", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    errors: dict[str, list[str]] = {}
    error, status, headers = None, 200, {}
    if request.method == "POST":
        data = posted()
        user = current_user._get_current_object()
        try:
            # The current password is a password check like a login's: throttled the same way.
            logins.throttle(db.session, user.username, request.remote_addr, user)
            users.change_password(db.session, user, data.get("current_password", ""), data.get("new_password", ""),
                                  data.get("repeat_password", ""))
            db.session.commit()
        except logins.LoginThrottled as exc:
            db.session.commit()  # the login_throttled entry
            error, status, headers = exc.message, 429, {"Retry-After": str(exc.retry_after)}
        except ValidationFailed as exc:
            db.session.rollback()
            errors, status = exc.errors, 422
            if "current_password" in errors:
                logins.record_failure(db.session, user.username, request.remote_addr, "修改密码：当前密码不正确")
                db.session.commit()
        else:
            # Every session ended with the old password; this one goes on under the new epoch.
            _start_session(user, remember=False)
            flash("密码已修改；其他设备上的登录和全部 API 令牌已失效", "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/password.html", errors=errors, error=error, rule=PASSWORD_RULE), status, headers


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
