"""In-app notifications (站内通知) of the caller: list, unread count, mark read (one or all). Only one's own:
another user's notification is 404 like a missing one (R-H4, R-A4)."""

from __future__ import annotations

from flask_smorest import Blueprint

from core.extensions import db
from core.models import Notification
from core.schemas.base import BaseSchema, Bool, Id, Int, List, Nested, Str, in_range
from core.schemas.hazard import UtcDateTime
from core.services import notifications
from core.views.api import authenticate, current_actor

PREFIX = "/notifications"
blp = Blueprint("api_notifications", __name__, description="站内通知：整改期限提醒、逾期督促、挂牌督办与排查任务到期")
blp.before_request(authenticate)


class NotificationFilterIn(BaseSchema):
    class Meta:
        unknown = "exclude"

    unread = Bool(allow_none=True, metadata={"description": "true 只看未读，false 只看已读，不传为全部"})
    after = Int(allow_none=True, validate=in_range(min=1))
    size = Int(allow_none=True, validate=in_range(1, 200))


class NotificationOut(BaseSchema):
    id = Id()
    kind = Str(metadata={"description": "reminder 整改期限提醒 / overdue 逾期未整改 / escalation 逾期督促 / "
                                        "supervision_due / supervision_overdue 挂牌督办 / task_due 排查任务到期"})
    kind_label = Str()
    title = Str()
    body = Str(allow_none=True)
    link = Str(allow_none=True, metadata={"description": "站内页面路径"})
    created_at = UtcDateTime()
    read_at = UtcDateTime(allow_none=True)
    read = Bool()


class NotificationPageOut(BaseSchema):
    items = List(Nested(NotificationOut))
    next_after = Int(allow_none=True, metadata={"description": "下一页游标：作为 after 参数传入；为空表示最后一页"})
    total = Int()
    total_capped = Bool()


class UnreadCountOut(BaseSchema):
    unread = Int(metadata={"description": "未读条数，最多数到 cap"})
    capped = Bool(metadata={"description": "为真时未读多于 unread"})


class ReadAllOut(BaseSchema):
    changed = Int(metadata={"description": "本次标为已读的条数"})


def _dump(n: Notification) -> dict:
    return {"id": n.id, "kind": n.kind, "kind_label": notifications.kind_label(n.kind), "title": n.title,
            "body": n.body, "link": n.link, "created_at": n.created_at, "read_at": n.read_at,
            "read": n.read_at is not None}


@blp.route("")
@blp.arguments(NotificationFilterIn, location="query", as_kwargs=False)
@blp.response(200, NotificationPageOut)
def list_(filters):
    """The caller's notifications, newest first (keyset: pass ``next_after`` as ``after``; ``size`` 1–200)."""
    page = notifications.list_notifications(db.session, current_actor(), unread=filters.get("unread"),
                                            after=filters.get("after"), size=filters.get("size") or 20)
    return {"items": [_dump(n) for n in page.items], "next_after": page.next_after, "total": page.total,
            "total_capped": page.total_capped}


@blp.route("/unread-count")
@blp.response(200, UnreadCountOut)
def unread_count():
    """How many of the caller's notifications are unread (counted up to 99)."""
    count, capped = notifications.unread_count(db.session, current_actor())
    return {"unread": count, "capped": capped}


@blp.route("/<int:notification_id>/read", methods=["POST"])
@blp.response(200, NotificationOut)
def read(notification_id: int):
    """Mark one of the caller's notifications read (idempotent). 404 for someone else's or a missing one."""
    row = notifications.mark_read(db.session, current_actor(), notification_id)
    db.session.commit()
    return _dump(row)


@blp.route("/read-all", methods=["POST"])
@blp.response(200, ReadAllOut)
def read_all():
    """Mark all of the caller's unread notifications read."""
    changed = notifications.mark_all_read(db.session, current_actor())
    db.session.commit()
    return {"changed": changed}
