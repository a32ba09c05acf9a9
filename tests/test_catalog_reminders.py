"""Reminders for dated sector data (R-H4, R-P3): the plugins' ``register_dated_items`` on every enterprise sector
row; the enterprise's users are told REMINDER_DAYS_BEFORE (3, 1) days before ``due`` and on the day after it.
Driven by the fake sector (its ``licence_valid_until``)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from core.models import EnterpriseSector, Notification, User
from core.services.reminders import run_reminders

ON = date(2025, 10, 9)


def set_licence(session, world, key: str, due: date | None, sector: str = "fake") -> None:
    ent_id = world.enterprises[key]
    row = session.get(EnterpriseSector, (ent_id, sector))
    data = {"licence_no": f"FK-{key}", "licence_valid_until": due.isoformat() if due else None}
    if row is None:
        session.add(EnterpriseSector(enterprise_id=ent_id, sector=sector, activities=[], data=data))
    else:
        row.data = data
    session.flush()


def dated(session) -> list[tuple[str, str, str, str]]:
    rows = session.execute(select(User.username, Notification.kind, Notification.title, Notification.link)
                           .join(User, User.id == Notification.user_id)
                           .where(Notification.kind.in_(["dated_due", "dated_overdue"]))
                           .order_by(User.username, Notification.id)).all()
    return [tuple(r) for r in rows]


def test_licence_reminded_before_and_after_its_date(session, world):
    """R-H4: 3 days before → a reminder to E1's staff with a link to the enterprise; nothing for others."""
    set_licence(session, world, "E1", ON + timedelta(days=3))
    report = run_reminders(session, ON)
    link = f"/enterprises/{world.enterprises['E1']}"
    assert dated(session) == [("ent1_mgr", "dated_due", "证照/检验即将到期：还有 3 天", link),
                              ("ent1_principal", "dated_due", "证照/检验即将到期：还有 3 天", link)]
    body = session.scalar(select(Notification.body).where(Notification.kind == "dated_due").limit(1))
    assert body == "测试E1有限公司：测试许可证（FK-E1），有效期至 2025年10月12日，请及时办理延续或检验。"
    assert (report.dated_reminders, report.dated_overdue, report.dated_failed) == (2, 0, 0)

    again = run_reminders(session, ON)
    assert again.dated_reminders == 0 and again.already_sent >= 2
    run_reminders(session, ON + timedelta(days=2))  # 1 day before
    run_reminders(session, ON + timedelta(days=3))  # the day itself: nothing (0 is not in REMINDER_DAYS_BEFORE)
    over = run_reminders(session, ON + timedelta(days=4))  # the day after
    assert over.dated_overdue == 2
    assert [(u, k, t) for u, k, t, _ in dated(session) if u == "ent1_mgr"] == [
        ("ent1_mgr", "dated_due", "证照/检验即将到期：还有 3 天"),
        ("ent1_mgr", "dated_due", "证照/检验即将到期：还有 1 天"),
        ("ent1_mgr", "dated_overdue", "证照/检验已过期（2025年10月12日）"),
    ]
    later = run_reminders(session, ON + timedelta(days=5))
    assert later.dated_overdue == 0  # sent once


def test_missed_overdue_notice_is_caught_up_then_dropped(session, world):
    set_licence(session, world, "E1", ON - timedelta(days=3))
    assert run_reminders(session, ON).dated_overdue == 2  # within REMINDER_CATCH_UP_DAYS (3)
    set_licence(session, world, "E1", ON - timedelta(days=4))
    assert run_reminders(session, ON).dated_overdue == 0


def test_a_renewed_licence_gets_its_own_reminders(session, world):
    set_licence(session, world, "E1", ON + timedelta(days=1))
    assert run_reminders(session, ON).dated_reminders == 2
    set_licence(session, world, "E1", ON + timedelta(days=3))  # renewed: a new date, reminded anew
    assert run_reminders(session, ON).dated_reminders == 2


def test_rows_without_dates_or_of_disabled_plugins_are_skipped(session, world):
    """R-P3: rows of a sector whose plugin is not enabled are kept but not asked; no date, no notice."""
    set_licence(session, world, "E1", None)
    set_licence(session, world, "E4", ON + timedelta(days=1), sector="oldsector")
    report = run_reminders(session, ON)
    assert (report.dated_reminders, report.dated_overdue, dated(session)) == (0, 0, [])


def test_batches_cover_every_sector_row(session, world, monkeypatch):
    """R-N1: keyset batches on (enterprise, sector); with tiny batches every row is still asked once."""
    from core.services import reminders

    monkeypatch.setattr(reminders, "BATCH", 2)
    for key in ("E1", "E2", "E3", "E4"):
        set_licence(session, world, key, ON + timedelta(days=1))
        set_licence(session, world, key, ON + timedelta(days=1), sector="oldsector")
    report = run_reminders(session, ON)
    # E1: ent1_mgr + ent1_principal; E4: ent4_mgr; E2/E3 have no users (unrouted).
    assert report.dated_reminders == 3
    assert sorted({u for u, *_ in dated(session)}) == ["ent1_mgr", "ent1_principal", "ent4_mgr"]


def test_cli_prints_the_dated_counts(session, world, runner):
    set_licence(session, world, "E1", ON - timedelta(days=1))
    result = runner.invoke(args=["reminders", "--date", ON.isoformat()])
    assert result.exit_code == 0, result.output
    assert "证照/检验到期提醒 0 条，证照/检验已到期 2 条" in result.output
