"""Server-rendered pages (Jinja, simplified Chinese, mobile first)."""

from __future__ import annotations

from datetime import date, datetime, timezone, timedelta

from flask import Flask, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from core.extensions import db, login_manager
from core.models import Role, User
from core.services.errors import ServiceError
from core.services.permissions import can

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def _format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def _options(objs, attr: str | None = None) -> list[tuple[int, str]]:
    """Objects → (id, label) pairs for a <select>; jurisdiction nodes are indented by depth."""
    if attr:
        return [(o.id, getattr(o, attr)) for o in objs]
    return [(n.id, "\u3000" * (len(n.ancestor_ids) - 1) + f"{n.name}（{n.level_label}）") for n in objs]


def _format_date_cn(value: date | None) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


HTTP_MESSAGES = {
    400: "请求无效。",
    401: "请先登录。",
    403: "您没有访问此页面的权限。",
    404: "页面不存在或您无权访问。",
    405: "不支持该请求方式。",
    413: "上传的文件过大。",
    422: "提交的数据有误。",
    500: "服务器内部错误，请稍后重试。",
}


def _too_large() -> str:
    """The 413 message, naming both limits (the request's and one file's) as configured."""
    from core.services.attachments import human_size

    total = human_size(current_app.config.get("MAX_CONTENT_LENGTH") or 0)
    one = human_size(current_app.config.get("ATTACHMENT_MAX_BYTES") or 0)
    return f"上传的内容过大：一次提交最多 {total}，单个文件最多 {one}。请压缩或分批上传。"


def service_error_page(exc: ServiceError):
    """A refused service call on a web page: 403/404 as an error page, anything else back with a message."""
    if exc.status in (403, 404):
        return render_template("errors/error.html", code=exc.status, message=exc.message), exc.status
    flash(exc.message, "error")
    return redirect(request.referrer or url_for("home.index"))


def init_app(app: Flask) -> None:
    from core.views.web import admin, assessments, auth, catalog, enterprises, hazards, home, nav, notifications, risks, stats
    from core.views.web import documents, inspections

    for module in (auth, home, enterprises, hazards, risks, stats, notifications, admin, catalog, assessments,
                   inspections, documents):
        app.register_blueprint(module.bp)
    from core.views.web import plans

    app.register_blueprint(plans.bp)  # 执法计划、双随机、专项行动 and the public /public/draws/<token> page
    app.context_processor(notifications.unread_badge)  # the top bar's unread badge, one indexed count per request

    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    login_manager.login_message_category = "warning"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        # "<id>:<session_epoch>" (User.get_id): a session or remember cookie issued before the user's last logout,
        # password change or reset carries an older epoch and is refused. A bare id (a cookie from before
        # sessions carried epochs) is refused too.
        ident, _, epoch = user_id.partition(":")
        if not ident.isdigit() or not epoch.isdigit():
            return None
        user = db.session.get(User, int(ident))
        if user is None or not user.is_active or user.session_epoch != int(epoch):
            return None
        return user

    app.jinja_env.filters["dt"] = _format_datetime
    app.jinja_env.filters["date_cn"] = _format_date_cn
    app.jinja_env.filters["options"] = _options

    @app.context_processor
    def _globals():
        from core.plugins import plugins

        return {
            "can": (lambda perm: current_user.is_authenticated and can(current_user, perm)),
            "Role": Role,
            "registry": plugins(),
            "today": date.today(),
            "nav_menu": nav.menu,
        }

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        return render_template("errors/error.html", code=400, message="页面已过期或请求无效，请返回刷新后重试。"), 400

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if request.path.startswith("/api/"):
            from core.views.api import error_response

            data = getattr(exc, "data", None) or {}
            errors = data.get("messages") or data.get("errors")
            message = "提交的数据有误" if exc.code == 422 else HTTP_MESSAGES.get(exc.code, exc.description or exc.name)
            if exc.code == 413:
                message = _too_large()
            return (*error_response(exc.code or 500, message, errors), _exception_headers(exc))
        message = _too_large() if exc.code == 413 else HTTP_MESSAGES.get(exc.code, exc.description or exc.name)
        return render_template("errors/error.html", code=exc.code, message=message), exc.code, _exception_headers(exc)


def _exception_headers(exc: HTTPException) -> dict[str, str]:
    """The headers an HTTP error must keep when its body is replaced — ``Allow`` of a 405 (RFC 9110 §15.5.6;
    issue 14: the API's 405s had none), ``WWW-Authenticate``, ``Retry-After`` — without its Content-Type."""
    return {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
