"""In-app notifications (站内通知, R-H4): a user's own list, unread count and marking as read.

Notifications are made by the reminders job (:mod:`core.services.reminders`); here a user reads only their own.
Someone else's notification is reported as not found (404), like a missing one, so ids do not leak.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.models import Notification
from core.models.base import utcnow
from core.services import audit
from core.services.actors import Actor
from core.services.base import Page, keyset_page
from core.services.errors import NotFound
from core.services.permissions import require
from core.services.reminders import KIND_LABELS

#: The unread badge counts up to this many and then shows "99+": the count stays one short index range scan.
UNREAD_CAP = 99


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, "通知")


def list_notifications(session: Session, actor: Actor, *, unread: bool | None = None, after: int | None = None,
                       size: int = 20) -> Page[Notification]:
    """One keyset page of the actor's own notifications, newest first; ``unread`` True/False filters on
    read state."""
    require(actor, "notification.view")
    stmt = select(Notification).where(Notification.user_id == _user_id(actor))
    if unread is not None:
        stmt = stmt.where(Notification.read_at.is_(None) if unread else Notification.read_at.is_not(None))
    return keyset_page(session, stmt, Notification.id, after=after, size=size, total_cap=10_000)


def unread_count(session: Session, actor: Actor, cap: int = UNREAD_CAP) -> tuple[int, bool]:
    """(count, capped): the actor's unread notifications, counted up to ``cap`` (index ``(user_id, read_at)``)."""
    if actor.id is None:
        return 0, False
    inner = (select(Notification.id)
             .where(Notification.user_id == actor.id, Notification.read_at.is_(None)).limit(cap + 1).subquery())
    count = session.scalar(select(func.count()).select_from(inner)) or 0
    return min(count, cap), count > cap


def get_notification(session: Session, actor: Actor, notification_id: int) -> Notification:
    """The actor's own notification, or :class:`NotFound`."""
    require(actor, "notification.view")
    row = session.get(Notification, notification_id)
    if row is None or row.user_id != _user_id(actor):
        raise NotFound()
    return row


def mark_read(session: Session, actor: Actor, notification_id: int) -> Notification:
    """Mark one of the actor's notifications read (again: no change, no audit entry)."""
    row = get_notification(session, actor, notification_id)
    if row.read_at is None:
        row.read_at = utcnow()
        audit.record(session, actor, "read", "notification", row.id, summary=f"阅读通知：{row.title}")
        session.flush()
    return row


def mark_all_read(session: Session, actor: Actor) -> int:
    """Mark every unread notification of the actor read in one UPDATE; returns how many changed."""
    require(actor, "notification.view")
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == _user_id(actor), Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    changed = result.rowcount or 0
    if changed:
        audit.record(session, actor, "read_all", "notification", None, summary=f"全部标为已读：{changed} 条")
    session.flush()
    return changed


def _user_id(actor: Actor) -> int:
    # The system actor has no inbox: -1 matches no row.
    return actor.id if actor.id is not None else -1
