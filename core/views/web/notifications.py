"""Notification pages (站内通知, R-H4): the user's own list, opening one (marks it read and follows its link) and
marking all read. The unread badge in the top bar comes from :func:`unread_badge` (a context processor)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, has_request_context, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from core.extensions import db
from core.services import notifications
from core.views.web import nav
from core.views.web.forms import posted

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
nav.add("notifications.index", "通知", "notification.view", 70)

_BADGE_KEY = "anjian.unread_notifications"
FILTERS = {"": ("全部", None), "unread": ("未读", True), "read": ("已读", False)}


def unread_badge() -> dict:
    """``unread_notifications``: (count, capped) of the current user's unread notifications, once per request."""
    if not has_request_context() or not current_user.is_authenticated:
        return {"unread_notifications": (0, False)}
    # Cached on the request (not on ``g``, which outlives a request when an app context is shared, as in tests).
    cached = request.environ.get(_BADGE_KEY)
    if cached is None:
        cached = request.environ[_BADGE_KEY] = notifications.unread_count(db.session, current_user)
    return {"unread_notifications": cached}


@bp.get("/")
@login_required
def index():
    show = request.args.get("show", "")
    if show not in FILTERS:
        show = ""
    page = notifications.list_notifications(db.session, current_user, unread=FILTERS[show][1],
                                            after=request.args.get("after", type=int), size=20)
    args = {"show": show} if show else {}
    return render_template("notifications/list.html", page=page, show=show, filters=FILTERS, args=args,
                           kind_label=notifications.kind_label)


@bp.post("/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    row = notifications.mark_read(db.session, current_user, notification_id)
    db.session.commit()
    if posted().get("go") and row.link and _local(row.link):
        return redirect(row.link)
    return redirect(_back())


@bp.post("/read-all")
@login_required
def read_all():
    changed = notifications.mark_all_read(db.session, current_user)
    db.session.commit()
    flash(f"已将 {changed} 条通知标为已读" if changed else "没有未读通知", "success")
    return redirect(url_for(".index"))


def _local(link: str) -> bool:
    """Only in-app paths are followed (a stored link is never an open redirect)."""
    parts = urlsplit(link)
    return not parts.scheme and not parts.netloc and link.startswith("/") and not link.startswith("//")


def _back() -> str:
    target = posted().get("back") or ""
    return target if target and _local(target) else url_for(".index")
