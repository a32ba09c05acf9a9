"""Rectification deadlines (R-H4): working days around 春节 and 国庆 with the adjusted workdays (调休), the fallback
for years without holiday data, the default deadline policies, and the overdue rule in SQL and Python.

The expected dates are written out by hand from the State Council's holiday notices (国务院办公厅关于2024年、2025年、
2026年部分节假日安排的通知), which the ``chinese-calendar`` data reproduces:

* 2024 春节 2月10日–17日 off, 2月4日（日）and 2月18日（日）worked; 国庆 10月1日–7日 off, 9月29日（日）and
  10月12日（六）worked (除夕 2月9日 is a working day).
* 2025 春节 1月28日–2月4日 off, 1月26日（日）and 2月8日（六）worked; 国庆中秋 10月1日–8日 off, 9月28日（日）and
  10月11日（六）worked.
* 2026 春节 2月15日–23日 off, 2月14日（六）and 2月28日（六）worked; 中秋 9月25日–27日 off; 国庆 10月1日–7日 off,
  9月20日（日）and 10月10日（六）worked.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import chinese_calendar
import pytest
from sqlalchemy import select

from core.models import Hazard, HazardState
from core.services import deadlines
from core.services.deadlines import CALENDAR, WORKING, add_days, default_deadline, is_workday, policy_for
from core.services.hazards import overdue_clause

D = date

WORKING_DAY_CASES = [
    # 2024 春节
    (D(2024, 2, 8), 1, D(2024, 2, 9)),    # 除夕 is worked in 2024
    (D(2024, 2, 9), 1, D(2024, 2, 18)),   # over the holiday to the worked Sunday
    (D(2024, 2, 9), 2, D(2024, 2, 19)),
    (D(2024, 2, 2), 1, D(2024, 2, 4)),    # Saturday off, Sunday 2月4日 worked
    (D(2024, 2, 5), 5, D(2024, 2, 18)),
    # 2024 国庆
    (D(2024, 9, 27), 1, D(2024, 9, 29)),  # Sunday 9月29日 worked
    (D(2024, 9, 30), 1, D(2024, 10, 8)),
    (D(2024, 10, 11), 1, D(2024, 10, 12)),  # Saturday 10月12日 worked
    (D(2024, 9, 25), 10, D(2024, 10, 14)),
    # 2025 春节
    (D(2025, 1, 24), 1, D(2025, 1, 26)),
    (D(2025, 1, 27), 1, D(2025, 2, 5)),
    (D(2025, 2, 7), 1, D(2025, 2, 8)),
    (D(2025, 1, 20), 15, D(2025, 2, 14)),
    # 2025 国庆中秋
    (D(2025, 9, 26), 1, D(2025, 9, 28)),
    (D(2025, 9, 30), 1, D(2025, 10, 9)),
    (D(2025, 9, 30), 3, D(2025, 10, 11)),
    # 2026 春节
    (D(2026, 2, 13), 1, D(2026, 2, 14)),
    (D(2026, 2, 14), 1, D(2026, 2, 24)),
    (D(2026, 2, 27), 1, D(2026, 2, 28)),
    (D(2026, 2, 10), 10, D(2026, 3, 2)),
    # 2026 中秋 and 国庆
    (D(2026, 9, 18), 1, D(2026, 9, 20)),
    (D(2026, 9, 24), 1, D(2026, 9, 28)),
    (D(2026, 9, 30), 1, D(2026, 10, 8)),
    (D(2026, 10, 9), 1, D(2026, 10, 10)),
]


@pytest.mark.parametrize(("start", "days", "expected"), WORKING_DAY_CASES,
                         ids=[f"{s}+{n}" for s, n, _ in WORKING_DAY_CASES])
def test_working_days_around_spring_festival_and_national_day(start, days, expected):
    """R-H4: working-day deadlines skip public holidays and count the adjusted workdays (调休)."""
    assert add_days(start, days, WORKING) == expected


@pytest.mark.parametrize(("day", "workday"), [
    (D(2024, 2, 4), True), (D(2024, 2, 18), True), (D(2024, 2, 12), False), (D(2024, 10, 12), True),
    (D(2025, 1, 26), True), (D(2025, 2, 8), True), (D(2025, 1, 29), False), (D(2025, 10, 8), False),
    (D(2025, 10, 11), True), (D(2026, 2, 14), True), (D(2026, 2, 28), True), (D(2026, 2, 23), False),
    (D(2026, 9, 20), True), (D(2026, 9, 25), False), (D(2026, 10, 10), True), (D(2026, 10, 7), False),
])
def test_is_workday_knows_the_adjusted_days(day, workday):
    """R-H4: the adjusted weekend workdays are workdays and the holidays are not (same as the package data)."""
    assert is_workday(day) is workday
    assert chinese_calendar.is_workday(day) is workday


def test_calendar_days_ignore_holidays():
    """R-H4: a calendar-day deadline simply adds days, holidays or not."""
    assert add_days(D(2024, 2, 9), 10, CALENDAR) == D(2024, 2, 19)
    assert add_days(D(2025, 9, 30), 0, WORKING) == D(2025, 9, 30)
    with pytest.raises(ValueError):
        add_days(D(2025, 9, 30), -1, WORKING)
    with pytest.raises(ValueError):
        add_days(D(2025, 9, 30), 1, "lunar")


def test_year_without_holiday_data_falls_back_to_weekends(monkeypatch, caplog):
    """R-H4: a year chinese-calendar does not know counts Monday–Friday, warns once, never raises."""
    unknown = 2035
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(D(unknown, 1, 5))
    monkeypatch.setattr(deadlines, "_warned_years", set())
    with caplog.at_level(logging.WARNING, logger="core.services.deadlines"):
        assert add_days(D(unknown, 1, 5), 1, WORKING) == D(unknown, 1, 8)   # Friday → Monday
        assert add_days(D(unknown, 1, 1), 10, WORKING) == D(unknown, 1, 15)  # 2035-01-01 is a Monday: no 元旦 data
        assert is_workday(D(unknown, 10, 1)) is True  # a Monday; 国庆 unknown for that year
        assert is_workday(D(unknown, 10, 6)) is False  # a Saturday
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and str(unknown) in r.getMessage()]
    assert len(warnings) == 1


def test_default_policy_per_level_and_sector(app):
    """R-H4: deadline policies are data: per level, a sector's own entry wins over the "*" default."""
    configured = app.config["HAZARD_DEADLINE_POLICIES"]
    assert policy_for(configured, None, "general") == {"days": 15, "kind": "working"}
    assert policy_for(configured, "fake", "major") == {"days": 90, "kind": "calendar"}
    policies = {
        "*": {"general": {"days": 15, "kind": "working"}, "major": {"days": 90, "kind": "calendar"}},
        "fire": {"major": {"days": 60, "kind": "calendar"}, "general": {"days": 5, "kind": "working"}},
        "hazchem": {"major": {"days": 30, "kind": "working"}},
    }
    start = D(2025, 9, 26)  # Friday before 国庆中秋 2025
    assert default_deadline(policies, None, "general", start) == (D(2025, 10, 23), WORKING)
    assert default_deadline(policies, None, "major", start) == (D(2025, 12, 25), CALENDAR)
    assert default_deadline(policies, "fire", "major", start) == (D(2025, 11, 25), CALENDAR)
    assert default_deadline(policies, "fire", "general", start) == (D(2025, 10, 10), WORKING)
    assert default_deadline(policies, "hazchem", "general", start) == (D(2025, 10, 23), WORKING)  # falls to "*"
    assert default_deadline(policies, "hazchem", "major", start) == (D(2025, 11, 13), WORKING)
    # A level nobody configured (e.g. a province's 较大) gets the built-in 30 calendar days.
    assert default_deadline(policies, "fire", "large", start) == (D(2025, 10, 26), CALENDAR)


def test_overdue_in_sql_and_python_agree(session, world):
    """R-H4: ``overdue_clause`` (SQL) and ``Hazard.is_overdue`` (Python) agree on every state × deadline."""
    on = D(2025, 10, 9)
    ent = world.ent(session, "E1")
    deadlines_ = {"none": None, "before": D(2025, 10, 8), "on": on, "after": D(2025, 10, 10)}
    made: dict[tuple[str, str], Hazard] = {}
    for state in HazardState:
        for label, deadline in deadlines_.items():
            h = Hazard(enterprise_id=ent.id, scope_path=ent.scope_path, description=f"{state} {label}",
                       category="thing", level="general", source="self_check", found_by_name="测试",
                       found_at=datetime(2025, 9, 1, tzinfo=UTC), state=state.value, deadline=deadline)
            session.add(h)
            made[(state.value, label)] = h
    session.flush()
    ids = [h.id for h in made.values()]
    in_sql = set(session.scalars(select(Hazard.id).where(Hazard.id.in_(ids), overdue_clause(on))))
    in_python = {h.id for h in made.values() if h.is_overdue(on)}
    assert in_sql == in_python
    # …and both say exactly this: open (登记/整改中) with a deadline before the day.
    assert in_python == {made[("registered", "before")].id, made[("rectifying", "before")].id}
