"""Access-matrix entries of the notification pages (``/notifications``) and API (``/api/v1/notifications``).

Everyone has an inbox; a notification belongs to one user, and anyone else's (or a missing one) is 404.
"""

from __future__ import annotations

import uuid

from core.models import Notification
from tests.test_access_matrix import EVERYONE, Case, api


def notification_of(owner: str | None):
    """Resolver: a fresh unread notification of ``owner`` (None: of the acting user)."""

    def make(session, world, username) -> int:
        who = owner or username
        row = Notification(user_id=world.users[who], kind="reminder", title="权限矩阵通知", body="测试",
                           link="/notifications/", dedup_key=f"matrix:{who}:{uuid.uuid4().hex}")
        session.add(row)
        session.flush()
        return row.id

    return make


ONE = [
    ("own", notification_of(None), EVERYONE, frozenset()),
    ("ent4_mgr's", notification_of("ent4_mgr"), frozenset({"ent4_mgr"}), EVERYONE - {"ent4_mgr"}),
    ("missing", 987654, frozenset(), EVERYONE),
]

EXPECTED = {
    "notifications.index": [Case(allowed=EVERYONE)],
    "notifications.read": [Case(label, {"notification_id": nid}, allowed=allowed, not_found=nf)
                           for label, nid, allowed, nf in ONE],
    "notifications.read_all": [Case(allowed=EVERYONE)],
    "api_notifications.list_": api(Case(allowed=EVERYONE)),
    "api_notifications.unread_count": api(Case(allowed=EVERYONE)),
    "api_notifications.read": api(*[Case(label, {"notification_id": nid}, allowed=allowed, not_found=nf)
                                    for label, nid, allowed, nf in ONE]),
    "api_notifications.read_all": api(Case(allowed=EVERYONE)),
}
