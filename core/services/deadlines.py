"""Rectification deadlines in calendar or working days (R-H4).

Working days follow the State Council's holiday arrangements as published in ``chinese-calendar`` (holidays and the
adjusted workdays, 调休). For a year the package does not know yet, a day counts as a workday when it is Monday to
Friday, and a warning is logged once per year: a deadline is never refused for lack of calendar data.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

import chinese_calendar

log = logging.getLogger(__name__)
_warned_years: set[int] = set()

CALENDAR = "calendar"
WORKING = "working"
DEADLINE_KINDS = {CALENDAR: "自然日", WORKING: "工作日"}


def is_workday(day: date) -> bool:
    """True on a Chinese working day (adjusted workdays included, public holidays excluded)."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            log.warning("chinese-calendar has no holiday data for %s: counting Monday–Friday as workdays", day.year)
        return day.weekday() < 5


def add_days(start: date, days: int, kind: str) -> date:
    """The deadline ``days`` after ``start``: calendar days, or working days not counting ``start`` itself.

    ``add_days(d, 0, …)`` is ``d``. Working days skip weekends and holidays and include 调休 Saturdays/Sundays.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    if kind == CALENDAR:
        return start + timedelta(days=days)
    if kind != WORKING:
        raise ValueError(f"unknown deadline kind {kind!r}")
    day, left = start, days
    while left:
        day += timedelta(days=1)
        if is_workday(day):
            left -= 1
    return day


def policy_for(policies: dict[str, Any], sector: str | None, level: str) -> dict[str, Any]:
    """The deadline policy for a level in a sector: the sector's own entry wins over the ``"*"`` default.

    ``policies`` is ``HAZARD_DEADLINE_POLICIES`` from the configuration, e.g.
    ``{"*": {"general": {"days": 15, "kind": "working"}}, "fire": {"major": {"days": 60, "kind": "calendar"}}}``.
    """
    for key in (sector, "*"):
        entry = (policies.get(key) or {}).get(level) if key else None
        if entry:
            return entry
    return {"days": 30, "kind": CALENDAR}


def default_deadline(policies: dict[str, Any], sector: str | None, level: str, start: date) -> tuple[date, str]:
    """(deadline, kind) for a hazard found on ``start`` under the configured policy."""
    policy = policy_for(policies, sector, level)
    return add_days(start, int(policy["days"]), policy["kind"]), policy["kind"]
