"""In-app notifications (R-H4): the page, the top-bar badge and the API show a user their own notifications only,
and marking read (one or all) touches only theirs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.models import AuditEntry, Notification
from core.services import notifications
from core.services.errors import NotFound
from tests.forms import get_form, tamper
from tests.test_reminders import ON, make_hazard


def notify(session, world, username: str, n: int = 1, *, link: str | None = "/notifications/",
           title: str = "通知") -> list[int]:
    ids = []
    for i in range(n):
        row = Notification(user_id=world.users[username], kind="reminder", title=f"{title}{i + 1}", body="正文",
                           link=link, dedup_key=f"test:{username}:{title}:{i}",
                           created_at=datetime(2025, 10, 9, 1, i, tzinfo=UTC))
        session.add(row)
        ids.append(row)
    session.flush()
    return [r.id for r in ids]


def unread_of(session, world, username: str) -> int:
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == world.users[username], Notification.read_at.is_(None)))


def test_service_lists_only_own_newest_first_with_keyset(session, world):
    """R-H4: the list is the actor's own, newest first, in keyset pages; the unread count is capped."""
    mine = notify(session, world, "ent1_mgr", 5)
    notify(session, world, "ent4_mgr", 3)
    actor = world.user(session, "ent1_mgr")

    first = notifications.list_notifications(session, actor, size=2)
    assert [n.id for n in first.items] == [mine[4], mine[3]] and first.total == 5
    second = notifications.list_notifications(session, actor, size=2, after=first.next_after)
    third = notifications.list_notifications(session, actor, size=2, after=second.next_after)
    assert [n.id for n in second.items + third.items] == [mine[2], mine[1], mine[0]]
    assert third.next_after is None
    assert notifications.unread_count(session, actor) == (5, False)
    assert notifications.unread_count(session, actor, cap=3) == (3, True)

    with pytest.raises(NotFound):  # someone else's notification is not found, not just forbidden
        notifications.mark_read(session, actor, notify(session, world, "ent4_mgr", 1, title="他人")[0])
    assert unread_of(session, world, "ent4_mgr") == 4


def test_page_lists_own_notifications_and_badge(session, world, login):
    """R-H4: the page shows the user's notifications (not others'); the top bar carries the unread badge."""
    notify(session, world, "ent1_mgr", 2, title="企业一的通知")
    notify(session, world, "ent4_mgr", 1, title="企业四的通知")
    session.commit()

    html = login("ent1_mgr").get("/notifications/").get_data(as_text=True)
    assert "企业一的通知1" in html and "企业一的通知2" in html
    assert "企业四的通知" not in html
    assert 'class="badge">2</b>' in html
    assert "全部标为已读" in html

    other = login("xa_reg").get("/notifications/").get_data(as_text=True)
    assert "企业一的通知" not in other and 'class="badge"' not in other
    assert "暂无通知" in other


def test_badge_on_every_page_and_counted_once(session, world, login, app):
    """R-H4: every page's top bar shows the unread count; it costs one query per request."""
    from sqlalchemy import event

    from core.extensions import db

    notify(session, world, "xa_reg", 3)
    session.commit()
    client = login("xa_reg")
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if "notifications" in statement:
            statements.append(statement)

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        html = client.get("/enterprises/").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert 'class="badge">3</b>' in html
    assert len(statements) == 1


def test_open_marks_read_and_follows_the_link(session, world, login):
    """R-H4: opening a notification marks it read and goes to its page; only in-app links are followed."""
    (nid,) = notify(session, world, "ent1_mgr", 1, link="/enterprises/")
    (evil,) = notify(session, world, "ent1_mgr", 1, link="//evil.example.com/x", title="坏链接")
    session.commit()
    client = login("ent1_mgr")

    resp = get_form(client, "/notifications/", action=f"/notifications/{nid}/read").submit(client, "go=1")
    assert resp.status_code == 302 and resp.headers["Location"] == "/enterprises/"
    assert session.get(Notification, nid).read_at is not None

    resp = get_form(client, "/notifications/", action=f"/notifications/{evil}/read").submit(client, "go=1")
    assert resp.headers["Location"].startswith("/notifications/")
    resp = tamper(client, f"/notifications/{evil}/read", {"go": "1", "back": "https://evil.example.com/"},
                  why="a forged back address: the page sends its own path")
    assert resp.headers["Location"] == "/notifications/"

    # Someone else's: 404, and it stays unread.
    (theirs,) = notify(session, world, "ent4_mgr", 1, title="他人")
    session.commit()
    assert tamper(client, f"/notifications/{theirs}/read", why="someone else's notification is on no page of "
                                                                 "this user").status_code == 404
    assert session.get(Notification, theirs).read_at is None


def test_read_filter_and_mark_all(session, world, login):
    """R-H4: 未读/已读 tabs filter; 全部标为已读 marks only the user's own, with one audit entry."""
    ids = notify(session, world, "ent1_mgr", 3)
    notify(session, world, "ent1_principal", 2)
    session.commit()
    client = login("ent1_mgr")
    get_form(client, "/notifications/", action=f"/notifications/{ids[0]}/read").submit(client, "标为已读")

    unread = client.get("/notifications/?show=unread").get_data(as_text=True)
    assert "通知2" in unread and "通知3" in unread and "通知1<" not in unread
    read = client.get("/notifications/?show=read").get_data(as_text=True)
    assert "通知1" in read and "通知2" not in read

    resp = get_form(client, "/notifications/", action="/read-all").submit(client, follow_redirects=True)
    assert "已将 2 条通知标为已读" in resp.get_data(as_text=True)
    assert unread_of(session, world, "ent1_mgr") == 0
    assert unread_of(session, world, "ent1_principal") == 2
    entries = session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "notification")).all()
    assert sorted(entries) == ["read", "read_all"]


def test_api_is_scoped_to_the_token_owner(session, world, api):
    """R-H4: the API lists, counts and marks the caller's notifications only; another's id is 404."""
    mine = notify(session, world, "xa_reg", 3, title="翔安")
    theirs = notify(session, world, "ta_reg", 2, title="同安")
    client = api("xa_reg")

    body = client.get("/api/v1/notifications?size=2").get_json()
    assert [n["id"] for n in body["items"]] == [mine[2], mine[1]] and body["total"] == 3
    assert body["items"][0]["kind_label"] == "整改期限提醒" and body["items"][0]["read"] is False
    rest = client.get(f"/api/v1/notifications?after={body['next_after']}").get_json()
    assert [n["id"] for n in rest["items"]] == [mine[0]] and rest["next_after"] is None
    assert client.get("/api/v1/notifications/unread-count").get_json() == {"unread": 3, "capped": False}

    marked = client.post(f"/api/v1/notifications/{mine[0]}/read").get_json()
    assert marked["read"] is True and marked["read_at"]
    assert client.get("/api/v1/notifications?unread=false").get_json()["total"] == 1
    assert client.post(f"/api/v1/notifications/{theirs[0]}/read").status_code == 404
    assert client.post("/api/v1/notifications/read-all").get_json() == {"changed": 2}
    assert client.get("/api/v1/notifications/unread-count").get_json() == {"unread": 0, "capped": False}
    assert unread_of(session, world, "ta_reg") == 2


def test_reminders_end_up_in_the_right_inbox(session, world, api, login):
    """R-H4: what the reminders job makes is what the owner's page and API show, linking to the hazard."""
    from core.services.reminders import run_reminders

    h = make_hazard(session, world, "E4", ON - timedelta(days=1))
    run_reminders(session, ON)
    session.commit()

    items = api("ta_reg").get("/api/v1/notifications").get_json()["items"]
    assert [(n["kind"], n["link"]) for n in items] == [("escalation", f"/hazards/{h.id}")]
    assert api("xa_reg").get("/api/v1/notifications").get_json()["items"] == []
    html = login("ent4_mgr").get("/notifications/").get_data(as_text=True)
    assert "隐患逾期未整改（已逾期 1 天）" in html and "逾期未整改" in html
    assert date(2025, 10, 8).strftime("%Y年%-m月%-d日") in html
