"""The daily reminders job (R-H4): deadline reminders, overdue notices, escalation up the jurisdiction tree,
挂牌督办 due dates and due inspection tasks, delivered as in-app :class:`~core.models.Notification` rows.

:func:`run_reminders` is what ``anjian reminders`` (cron, once a day) runs. It is idempotent: every notice has a
``dedup_key`` naming what it is about (hazard, deadline, threshold, recipient), so running it twice creates
nothing new, and a changed deadline (extension, failed review) gets its own reminders again.

Who is told what:

* ``REMINDER_DAYS_BEFORE`` (e.g. 3 and 1) days before a hazard's rectification deadline: the enterprise's users
  (安全管理人员、主要负责人);
* on the day after the deadline (the first ``OVERDUE_ESCALATION_DAYS`` entry): the enterprise's users and the
  regulators at the enterprise's supervising level (分级分类: its ``supervision_level``, 县区 by default) whose
  jurisdiction contains the enterprise; after the further entries (e.g. 7 and 30 days) the regulators one level up
  each time (市, then 省), and the enterprise users again;
* 挂牌督办 listings: the listing agency's regulators and the enterprise's users before the due date and after it;
* inspection tasks (隐患排查任务) due today or earlier: one notice a day per enterprise user with the counts;
* dated sector data (licences, equipment inspections: the plugins' ``register_dated_items`` on every enterprise
  sector row): the enterprise's users ``REMINDER_DAYS_BEFORE`` days before the date and on the day after it.

A missed run is caught up: a notice whose trigger day lies within the last ``REMINDER_CATCH_UP_DAYS`` days is still
sent (the reminders before a deadline are not: the next one or the overdue notice supersedes them).

Scale (R-N1): every selection is a set-based, keyset-batched range query on indexed columns (hazards by
``(state, deadline)``), recipients are looked up per batch (enterprise users) or once (regulators, a few thousand
at most), existing ``dedup_key`` values are checked per batch, and rows are inserted with Core ``INSERT``s; no
ORM objects accumulate in the session, so memory stays bounded at a million hazards.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, case, func, insert, select, tuple_
from sqlalchemy.orm import Session
from werkzeug.routing import BuildError

from core.models import (
    Enterprise,
    EnterpriseSector,
    Hazard,
    HazardState,
    HazardSupervision,
    InspectionTask,
    Jurisdiction,
    JurisdictionLevel,
    Notification,
    Role,
    User,
    UserRole,
)
from core.models.base import utcnow
from core.models.hazard import OPEN_STATES
from core.models.user import ENTERPRISE_ROLES
from core.services import audit
from core.services.actors import SYSTEM
from core.services.hazards import today

BATCH = 1000
log = logging.getLogger(__name__)
#: Government tiers, bottom up; an enterprise's overdue hazards escalate along this ladder.
TIERS = ("township", "county", "city", "province")
TIER_LABELS = {"township": "乡镇（街道）", "county": "县（区）", "city": "市", "province": "省"}
_TIER_OF_LEVEL = {JurisdictionLevel.PROVINCE: "province", JurisdictionLevel.CITY: "city",
                  JurisdictionLevel.COUNTY: "county", JurisdictionLevel.ZONE: "county",
                  JurisdictionLevel.TOWNSHIP: "township"}
DEFAULT_TIER = "county"

#: Notification kinds made here, with their labels for the pages.
KIND_LABELS = {
    "reminder": "整改期限提醒",
    "overdue": "逾期未整改",
    "escalation": "逾期督促",
    "supervision_due": "挂牌督办期限提醒",
    "supervision_overdue": "挂牌督办逾期",
    "task_due": "排查任务到期",
    "dated_due": "证照/检验到期提醒",
    "dated_overdue": "证照/检验已到期",
    "standardization_due": "标准化达标有效期提醒",
    "standardization_overdue": "标准化达标已过有效期",
}


@dataclass
class ReminderReport:
    """What one run did: notifications created per kind, notices already sent before (skipped), and notices that
    found nobody to receive them (no active user at the enterprise or at the target level)."""

    on: date
    reminders: int = 0
    overdue: int = 0
    escalations: int = 0
    supervision_reminders: int = 0
    supervision_overdue: int = 0
    task_reminders: int = 0
    #: Dated sector data (licences, equipment inspections) from the plugins' ``register_dated_items``.
    dated_reminders: int = 0
    dated_overdue: int = 0
    #: Sector rows whose plugin failed in ``register_dated_items`` (logged, skipped).
    dated_failed: int = 0
    #: 安全生产标准化 达标 certificates near or past their validity (STANDARDIZATION_REMINDER_DAYS).
    standardization_reminders: int = 0
    standardization_overdue: int = 0
    already_sent: int = 0
    unrouted: int = 0
    #: Hazards (and listings) that met a trigger in this run, whether or not their notices were new.
    items: int = 0
    by_tier: dict[str, int] = field(default_factory=dict)

    @property
    def created(self) -> int:
        return (self.reminders + self.overdue + self.escalations + self.supervision_reminders
                + self.supervision_overdue + self.task_reminders + self.dated_reminders + self.dated_overdue
                + self.standardization_reminders + self.standardization_overdue)

    def counts(self) -> dict[str, Any]:
        data = asdict(self)
        data["on"] = self.on.isoformat()
        data["created"] = self.created
        return data


_COUNTER = {"reminder": "reminders", "overdue": "overdue", "escalation": "escalations",
            "supervision_due": "supervision_reminders", "supervision_overdue": "supervision_overdue",
            "task_due": "task_reminders", "dated_due": "dated_reminders", "dated_overdue": "dated_overdue",
            "standardization_due": "standardization_reminders", "standardization_overdue": "standardization_overdue"}


# --- configuration -------------------------------------------------------------------------------------------------

def _days_before() -> list[int]:
    value = current_app.config["REMINDER_DAYS_BEFORE"]
    values = [value] if isinstance(value, int) else list(value)
    return sorted({int(v) for v in values if int(v) >= 0}, reverse=True)


def _thresholds() -> list[int]:
    values = sorted({int(v) for v in current_app.config["OVERDUE_ESCALATION_DAYS"] if int(v) >= 1})
    return values or [1]


def _windows(thresholds: list[int], catch_up: int) -> list[tuple[int, int]]:
    """(first, last) days overdue during which each threshold's notice is (still) sent: the threshold itself and
    the catch-up days after it, never reaching into the next threshold."""
    out = []
    for i, t in enumerate(thresholds):
        last = t + max(catch_up, 1) - 1
        if i + 1 < len(thresholds):
            last = min(last, thresholds[i + 1] - 1)
        out.append((t, last))
    return out


# --- recipients ----------------------------------------------------------------------------------------------------

@dataclass
class _Regulators:
    """Active regulators by jurisdiction node (with the node's tier) and by agency, loaded once per run."""

    by_node: dict[int, list[int]]
    tier_of_node: dict[int, str]
    by_agency: dict[int, list[int]]

    @classmethod
    def load(cls, session: Session) -> _Regulators:
        rows = session.execute(
            select(User.id, User.jurisdiction_id, User.agency_id, Jurisdiction.level)
            .join(UserRole, UserRole.user_id == User.id)
            .outerjoin(Jurisdiction, Jurisdiction.id == User.jurisdiction_id)
            .where(UserRole.role == Role.REGULATOR.value, User.is_active.is_(True))
            .order_by(User.id)
        ).all()
        by_node: dict[int, list[int]] = defaultdict(list)
        tier_of_node: dict[int, str] = {}
        by_agency: dict[int, list[int]] = defaultdict(list)
        for user_id, node_id, agency_id, level in rows:
            tier = _TIER_OF_LEVEL.get(JurisdictionLevel(level)) if level else None
            if node_id is not None and tier is not None:
                by_node[node_id].append(user_id)
                tier_of_node[node_id] = tier
            if agency_id is not None:
                by_agency[agency_id].append(user_id)
        return cls(dict(by_node), tier_of_node, dict(by_agency))

    def at_tier(self, scope_path: str, tier: str) -> list[int]:
        """Regulators whose node at ``tier`` lies on the path from the root to ``scope_path``."""
        users: list[int] = []
        for part in scope_path.strip("/").split("/"):
            if part and self.tier_of_node.get(int(part)) == tier:
                users.extend(self.by_node[int(part)])
        return users


def _enterprise_users(session: Session, enterprise_ids: Iterable[int]) -> dict[int, list[int]]:
    """Active enterprise staff (安全管理人员、主要负责人) of the given enterprises, in one query."""
    ids = sorted(set(enterprise_ids))
    out: dict[int, list[int]] = defaultdict(list)
    if not ids:
        return out
    rows = session.execute(
        select(User.enterprise_id, User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.enterprise_id.in_(ids), User.is_active.is_(True),
               UserRole.role.in_([r.value for r in ENTERPRISE_ROLES]))
        .group_by(User.enterprise_id, User.id)
        .order_by(User.enterprise_id, User.id)
    ).all()
    for enterprise_id, user_id in rows:
        out[enterprise_id].append(user_id)
    return out


def _tier_for(supervision_level: str | None, steps_up: int) -> str:
    base = TIERS.index(supervision_level) if supervision_level in TIERS else TIERS.index(DEFAULT_TIER)
    return TIERS[min(base + steps_up, len(TIERS) - 1)]


# --- plumbing ------------------------------------------------------------------------------------------------------

def _batches(session: Session, stmt: Select, key_column: Any) -> Iterator[list[Any]]:
    """Run ``stmt`` in keyset batches of :data:`BATCH` rows ordered by ``key_column`` (the first selected
    column), so that no result set larger than a batch is ever held."""
    last = None
    while True:
        page = stmt if last is None else stmt.where(key_column > last)
        rows = session.execute(page.order_by(key_column).limit(BATCH)).all()
        if not rows:
            return
        yield rows
        if len(rows) < BATCH:
            return
        last = rows[-1][0]


class _Outbox:
    """Collects the notices of one batch and writes those whose ``dedup_key`` is new."""

    def __init__(self, session: Session, report: ReminderReport) -> None:
        self.session, self.report = session, report
        self.rows: dict[str, dict[str, Any]] = {}
        self.now = utcnow()

    def add(self, kind: str, user_ids: Iterable[int], key: str, title: str, body: str, link: str | None) -> None:
        users = list(dict.fromkeys(user_ids))
        if not users:
            self.report.unrouted += 1
            return
        for user_id in users:
            dedup = f"{key}:u{user_id}"
            self.rows[dedup] = {"user_id": user_id, "kind": kind, "title": title[:200], "body": body,
                                "link": link, "dedup_key": dedup, "created_at": self.now}

    def flush(self) -> None:
        if not self.rows:
            return
        keys = list(self.rows)
        existing: set[str] = set()
        for i in range(0, len(keys), 500):
            existing.update(self.session.scalars(
                select(Notification.dedup_key).where(Notification.dedup_key.in_(keys[i:i + 500]))))
        new = [row for key, row in self.rows.items() if key not in existing]
        self.report.already_sent += len(existing)
        if new:
            self.session.execute(insert(Notification), new)
            for row in new:
                counter = _COUNTER[row["kind"]]
                setattr(self.report, counter, getattr(self.report, counter) + 1)
        self.rows.clear()


def _link_builder(endpoint: str, fallback: str) -> Callable[..., str]:
    """A function building the in-app link of ``endpoint`` (no request needed); ``fallback`` (a format string)
    when the page is not registered in this app."""
    adapter = current_app.url_map.bind("localhost")

    def build(**values: Any) -> str:
        try:
            return adapter.build(endpoint, values)
        except BuildError:
            return fallback.format(**values)

    return build


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _d(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# --- the job -------------------------------------------------------------------------------------------------------

def _hazard_rows(on_deadlines: Any) -> Select:
    """Open hazards (登记/整改中: the deadline runs) whose deadline satisfies ``on_deadlines``."""
    return (
        select(Hazard.id, Hazard.enterprise_id, Hazard.scope_path, Hazard.description, Hazard.deadline,
               Enterprise.name, Enterprise.supervision_level)
        .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
        .where(Hazard.state.in_([s.value for s in OPEN_STATES]), on_deadlines)
    )


def _deadline_reminders(session: Session, on: date, report: ReminderReport, link: Callable[..., str]) -> None:
    for days in _days_before():
        due = on + timedelta(days=days)
        for rows in _batches(session, _hazard_rows(Hazard.deadline == due), Hazard.id):
            staff = _enterprise_users(session, (r.enterprise_id for r in rows))
            box = _Outbox(session, report)
            for r in rows:
                report.items += 1
                left = "今天到期" if days == 0 else f"还有 {days} 天"
                box.add("reminder", staff.get(r.enterprise_id, []), f"hz-due:{r.id}:{r.deadline}:{days}",
                        f"隐患整改期限将至：{left}",
                        f"{r.name}：{_short(r.description)}。整改期限 {_d(r.deadline)}，请按期完成整改并申请复查。",
                        link(hazard_id=r.id))
            box.flush()


def _overdue_notices(session: Session, on: date, report: ReminderReport, link: Callable[..., str],
                     regulators: _Regulators) -> None:
    catch_up = int(current_app.config["REMINDER_CATCH_UP_DAYS"])
    for step, (first, last) in enumerate(_windows(_thresholds(), catch_up)):
        threshold = first
        window = Hazard.deadline.between(on - timedelta(days=last), on - timedelta(days=first))
        for rows in _batches(session, _hazard_rows(window), Hazard.id):
            staff = _enterprise_users(session, (r.enterprise_id for r in rows))
            box = _Outbox(session, report)
            for r in rows:
                report.items += 1
                late = (on - r.deadline).days
                tier = _tier_for(r.supervision_level, step)
                what = f"{r.name}：{_short(r.description)}。整改期限 {_d(r.deadline)}，已逾期 {late} 天"
                key = f"{r.id}:{r.deadline}:{threshold}"
                box.add("overdue", staff.get(r.enterprise_id, []), f"hz-overdue:{key}",
                        f"隐患逾期未整改（已逾期 {late} 天）",
                        f"{what}，已通报{TIER_LABELS[tier]}级监管部门。请立即整改，确有困难的请申请延期。",
                        link(hazard_id=r.id))
                users = regulators.at_tier(r.scope_path, tier)
                if users:
                    report.by_tier[tier] = report.by_tier.get(tier, 0) + 1
                title = ("辖区隐患逾期未整改" if step == 0 else "逾期隐患升级督促") + f"（逾期 {late} 天）"
                box.add("escalation", users, f"hz-esc:{key}", title,
                        f"{what}。请督促企业整改。", link(hazard_id=r.id))
            box.flush()


def _supervision_notices(session: Session, on: date, report: ReminderReport, link: Callable[..., str],
                         regulators: _Regulators) -> None:
    catch_up = max(int(current_app.config["REMINDER_CATCH_UP_DAYS"]), 1)
    triggers: list[tuple[str, Any, int | None]] = [
        ("supervision_due", HazardSupervision.due_date == on + timedelta(days=d), d) for d in _days_before()]
    triggers.append(("supervision_overdue", HazardSupervision.due_date.between(
        on - timedelta(days=catch_up), on - timedelta(days=1)), None))
    for kind, condition, days in triggers:
        stmt = (
            select(HazardSupervision.id, HazardSupervision.hazard_id, HazardSupervision.agency_id,
                   HazardSupervision.level, HazardSupervision.due_date, HazardSupervision.leader_name,
                   Hazard.enterprise_id, Hazard.description, Enterprise.name)
            .join(Hazard, Hazard.id == HazardSupervision.hazard_id)
            .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
            .where(HazardSupervision.lifted_at.is_(None), Hazard.state != HazardState.CLOSED.value, condition)
        )
        for rows in _batches(session, stmt, HazardSupervision.id):
            staff = _enterprise_users(session, (r.enterprise_id for r in rows))
            box = _Outbox(session, report)
            for r in rows:
                report.items += 1
                users = list(staff.get(r.enterprise_id, []))
                if r.agency_id is not None:
                    users += regulators.by_agency.get(r.agency_id, [])
                level = TIER_LABELS.get(r.level, "企业") + ("级" if r.level in TIER_LABELS else "")
                what = (f"{r.name}：{_short(r.description)}。{level}挂牌督办，督办期限 {_d(r.due_date)}，"
                        f"督办责任领导 {r.leader_name}")
                if kind == "supervision_due":
                    title = f"挂牌督办期限将至：{'今天到期' if days == 0 else f'还有 {days} 天'}"
                    key = f"sv-due:{r.id}:{r.due_date}:{days}"
                else:
                    title = f"挂牌督办隐患已超过督办期限（{(on - r.due_date).days} 天）"
                    key = f"sv-overdue:{r.id}:{r.due_date}"
                box.add(kind, users, key, title, what + "。", link(hazard_id=r.hazard_id))
            box.flush()


def _task_notices(session: Session, on: date, report: ReminderReport, link: Callable[..., str]) -> None:
    stmt = (
        select(InspectionTask.enterprise_id, func.count(),
               func.sum(case((InspectionTask.next_due < on, 1), else_=0)))
        .where(InspectionTask.is_active.is_(True), InspectionTask.next_due <= on)
        .group_by(InspectionTask.enterprise_id)
    )
    for rows in _batches(session, stmt, InspectionTask.enterprise_id):
        staff = _enterprise_users(session, (r[0] for r in rows))
        box = _Outbox(session, report)
        for enterprise_id, due, overdue in rows:
            report.items += 1
            overdue = int(overdue or 0)
            body = f"共 {due} 项排查任务应在今天或之前完成" + (f"，其中 {overdue} 项已超过应排查日期" if overdue else "") + "。"
            box.add("task_due", staff.get(enterprise_id, []), f"task-due:{on}:e{enterprise_id}",
                    f"今日有 {due} 项隐患排查任务待完成", body, link())
        box.flush()


def _dated_item_notices(session: Session, on: date, report: ReminderReport, link: Callable[..., str]) -> None:
    """Validity dates in the enterprises' sector data (``register_dated_items``): the enterprise's users are told
    ``REMINDER_DAYS_BEFORE`` days before ``due`` and on the day after it (caught up like hazard deadlines). Rows
    of sectors whose plugin is not enabled are skipped; keyset batches on (enterprise, sector)."""
    from core.plugins import plugins

    registry = plugins()
    sectors = sorted(registry.sectors)
    if not sectors or not registry.hook.register_dated_items.get_hookimpls():
        return
    before = {on + timedelta(days=d): d for d in _days_before()}
    catch_up = max(int(current_app.config["REMINDER_CATCH_UP_DAYS"]), 1)
    stmt = (select(EnterpriseSector.enterprise_id, EnterpriseSector.sector, EnterpriseSector.data, Enterprise.name)
            .join(Enterprise, Enterprise.id == EnterpriseSector.enterprise_id)
            .where(EnterpriseSector.sector.in_(sectors), Enterprise.is_active.is_(True))
            .order_by(EnterpriseSector.enterprise_id, EnterpriseSector.sector).limit(BATCH))
    last: tuple[int, str] | None = None
    while True:
        page = stmt if last is None else stmt.where(
            tuple_(EnterpriseSector.enterprise_id, EnterpriseSector.sector) > tuple_(*last))
        rows = session.execute(page).all()
        if not rows:
            return
        staff = _enterprise_users(session, (r.enterprise_id for r in rows))
        box = _Outbox(session, report)
        for r in rows:
            try:
                items = [i for found in registry.hook.register_dated_items(sector=r.sector, data=dict(r.data or {}))
                         for i in (found or [])]
            except Exception:
                log.exception("plugin failed in register_dated_items for enterprise %s sector %s",
                              r.enterprise_id, r.sector)
                report.dated_failed += 1
                continue
            for item in items:
                key = f"{r.enterprise_id}:{r.sector}:{item.key}:{item.due}"
                what = f"{r.name}：{item.label}，有效期至 {_d(item.due)}"
                if item.due in before:
                    days = before[item.due]
                    report.items += 1
                    box.add("dated_due", staff.get(r.enterprise_id, []), f"dated-due:{key}:{days}",
                            f"证照/检验即将到期：{'今天到期' if days == 0 else f'还有 {days} 天'}",
                            f"{what}，请及时办理延续或检验。", link(enterprise_id=r.enterprise_id))
                elif 1 <= (on - item.due).days <= catch_up:
                    report.items += 1
                    box.add("dated_overdue", staff.get(r.enterprise_id, []), f"dated-overdue:{key}",
                            f"证照/检验已过期（{_d(item.due)}）",
                            f"{what}，已过期。请立即办理，过期期间不得从事相关活动。", link(enterprise_id=r.enterprise_id))
        box.flush()
        if len(rows) < BATCH:
            return
        last = (rows[-1].enterprise_id, rows[-1].sector)


def _standardization_notices(session: Session, on: date, report: ReminderReport, link: Callable[..., str]) -> None:
    """安全生产标准化 达标 certificates (R-S3): the enterprise's users are told ``STANDARDIZATION_REMINDER_DAYS``
    before the validity ends and on the day after it (caught up like hazard deadlines)."""
    from core.services.assessments import expiring_certificates

    before = {on + timedelta(days=d): d for d in current_app.config["STANDARDIZATION_REMINDER_DAYS"]}
    catch_up = max(int(current_app.config["REMINDER_CATCH_UP_DAYS"]), 1)
    rows = [r for r in expiring_certificates(session, on - timedelta(days=catch_up), max(before, default=on))
            if r[3] in before or 1 <= (on - r[3]).days <= catch_up]
    if not rows:
        return
    staff = _enterprise_users(session, (r[0] for r in rows))
    box = _Outbox(session, report)
    for enterprise_id, name, certificate_no, valid_until in rows:
        report.items += 1
        what = f"{name}：安全生产标准化达标证书（{certificate_no or '无编号'}）有效期至 {_d(valid_until)}"
        key = f"{enterprise_id}:{certificate_no}:{valid_until}"
        if valid_until in before:
            days = before[valid_until]
            box.add("standardization_due", staff.get(enterprise_id, []), f"std-due:{key}:{days}",
                    f"标准化达标有效期还有 {days} 天", f"{what}，请及时开展自评并申请复评。", link())
        else:
            box.add("standardization_overdue", staff.get(enterprise_id, []), f"std-overdue:{key}",
                    f"标准化达标已过有效期（{_d(valid_until)}）", f"{what}，已过有效期。", link())
    box.flush()


def run_reminders(session: Session, on: date | None = None) -> ReminderReport:
    """Create the day's notifications (see the module docstring) and record the run in the audit log.

    ``on`` is the day the job runs for (default: today in China). Flushes, never commits: the command commits.
    Running it again for the same day creates nothing and reports what it found as ``already_sent``.
    """
    on = on or today()
    report = ReminderReport(on=on)
    hazard_link = _link_builder("hazards.detail", "/hazards/{hazard_id}")
    task_link = _link_builder("risks.due", "/risks/")
    _deadline_reminders(session, on, report, hazard_link)
    regulators = _Regulators.load(session)
    _overdue_notices(session, on, report, hazard_link, regulators)
    _supervision_notices(session, on, report, hazard_link, regulators)
    _task_notices(session, on, report, task_link)
    _dated_item_notices(session, on, report, _link_builder("enterprises.detail", "/enterprises/{enterprise_id}"))
    _standardization_notices(session, on, report, _link_builder("assessments.index", "/assessments/"))
    audit.record(session, SYSTEM, "run", "reminders", on.isoformat(),
                 summary=f"提醒任务 {on.isoformat()}：新建通知 {report.created} 条，已发过 {report.already_sent} 条",
                 after=report.counts())
    session.flush()
    return report
