"""Work queues: what each role's home page puts first (issue 17 item 1, R-O1).

A queue is one job family — open 重大隐患 by days left, 督办 due, 整改逾期, documents awaiting 法制审核, drawn
checks, re-checks, … — with its number, the list behind the number and the first few items, each one tap from the
page where it is done. The contract the home page and its test rely on:

* ``Queue.count`` is exact (no cap) and counts exactly what ``Queue.listing`` lists: a hazard queue's listing is
  the ledger with the same filters, so the number on the home page and the ledger's 「共 N 条」 agree.
* ``Queue.notion`` says in words what is counted, so the two notions of "overdue" are never confused:
  **整改逾期** — the rectification deadline has passed and the hazard is still 登记/整改中
  (:func:`core.services.hazards.overdue_clause`); **督办逾期** — the 挂牌督办 deadline (``due_date`` of an active
  listing) has passed, whatever the hazard's state.
* Items carry a ``target`` (kind, id) and the view turns it into a link; services build no URLs.

Everything is scoped by the underlying services (``hazard_query`` and friends): a queue never shows what the
actor could not open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from core.models import Document, Hazard, HazardState, HazardSupervision, Role
from core.services import documents, hazards, risks, self_reports
from core.services.actors import Actor
from core.services.hazards import MAJOR, today
from core.services.permissions import can

#: Items shown under each queue (the number links to the whole list).
SHOWN = 5


@dataclass
class QueueItem:
    label: str
    detail: str
    target: tuple[str, int]
    due: date | None = None
    #: Days left until ``due`` (negative: overdue by that many days).
    days_left: int | None = None


@dataclass
class Queue:
    key: str
    title: str
    notion: str
    count: int
    #: (list kind, filters): the list whose length is ``count`` — e.g. ("hazards", {"overdue": "true"}).
    listing: tuple[str, dict[str, str]]
    items: list[QueueItem] = field(default_factory=list)
    #: A button for the job itself (label, (kind, id or 0)), e.g. 开始自查.
    action: tuple[str, tuple[str, int]] | None = None


def _days(due: date | None, on: date) -> int | None:
    return (due - on).days if due else None


def _hazard_queue(session: Session, actor: Actor, key: str, title: str, notion: str, filters: dict[str, Any],
                  listing: dict[str, str], on: date) -> Queue:
    """A queue of hidden dangers: the ledger's own query (same filters → same count), earliest deadline first."""
    stmt = hazards.hazard_query(session, actor, filters)
    count = session.scalar(select(func.count()).select_from(stmt.with_only_columns(Hazard.id).subquery())) or 0
    rows = session.scalars(stmt.options(joinedload(Hazard.enterprise))
                           .order_by(Hazard.deadline.is_(None), Hazard.deadline, Hazard.id).limit(SHOWN))
    items = [QueueItem(h.description[:60], f"{h.enterprise.name} · {h.state_label}", ("hazard", h.id),
                       h.deadline, _days(h.deadline, on)) for h in rows]
    return Queue(key, title, notion, count, ("hazards", listing), items)


def _supervision_queue(session: Session, actor: Actor, on: date, overdue: bool) -> Queue:
    """Hidden dangers under an active 挂牌督办, by the listing's deadline (督办期限)."""
    filters: dict[str, Any] = {"supervised": True}
    listing = {"supervised": "true"}
    if overdue:
        filters["supervision_overdue"] = True
        listing["supervision_overdue"] = "true"
    stmt = hazards.hazard_query(session, actor, filters)
    count = session.scalar(select(func.count()).select_from(stmt.with_only_columns(Hazard.id).subquery())) or 0
    due = (select(func.min(HazardSupervision.due_date)).where(HazardSupervision.hazard_id == Hazard.id,
                                                             HazardSupervision.lifted_at.is_(None))
           .correlate(Hazard).scalar_subquery())
    rows = session.execute(stmt.add_columns(due.label("due")).options(joinedload(Hazard.enterprise))
                           .order_by(due, Hazard.id).limit(SHOWN)).all()
    items = [QueueItem(h.description[:60], f"{h.enterprise.name} · {h.state_label}", ("hazard", h.id), d,
                       _days(d, on)) for h, d in rows]
    if overdue:
        return Queue("supervision_overdue", "督办逾期", "挂牌督办期限已过、督办未解除的隐患", count,
                     ("hazards", listing), items)
    return Queue("supervised", "挂牌督办", "督办未解除的隐患（按督办期限排列）", count, ("hazards", listing), items)


def _regulator(session: Session, actor: Actor, on: date) -> list[Queue]:
    queues = [
        _hazard_queue(session, actor, "major_open", "未销号重大隐患", "等级为重大、尚未销号的隐患（按整改期限排列）",
                      {"level": MAJOR, "open": True}, {"level": MAJOR, "state": "open"}, on),
        _supervision_queue(session, actor, on, overdue=True),
        _supervision_queue(session, actor, on, overdue=False),
        _hazard_queue(session, actor, "rectification_overdue", "整改逾期", "整改期限已过、仍为登记或整改中的隐患",
                      {"overdue": True}, {"overdue": "true"}, on),
    ]
    if can(actor, "stats.view"):
        period = self_reports_period(on)
        status = self_reports.submission_status(session, actor, period, status="missing", on=on)
        queues.append(Queue(
            "self_reports_missing", "自查自报逾期未报", f"{period.label}统计分析表过了报送期限（{period.due_date}）仍未报送的企业",
            status.counts["missing"], ("submissions", {"period": period.key, "status": "missing"}),
            [QueueItem(r.enterprise_name, "未报送", ("enterprise", r.enterprise_id)) for r in status.rows[:SHOWN]]))
    if can(actor, "document.issue") and getattr(actor, "agency_id", None):
        pending = documents.list_legal_reviews(session, actor)
        queues.append(Queue(
            "legal_reviews", "待法制审核", "本机关送审、尚未审核的执法文书", len(pending), ("legal_reviews", {}),
            [QueueItem(r.summary[:60], documents.type_config(r.doc_type)["name"], ("legal_review", r.id))
             for r in pending[:SHOWN]]))
    return queues


def self_reports_period(on: date) -> Any:
    """The period whose 统计分析表 is due or was last due on ``on`` (the quarter just ended)."""
    from core.services.stats import Period

    return Period.last_completed_quarter(on)


def _inspector(session: Session, actor: Actor, on: date) -> list[Queue]:
    from core.services import field as onsite

    # Earliest end of the check period first: this month's tasks come before next month's.
    drawn = sorted(onsite.drawn_tasks(session, actor), key=lambda t: (t.draw.period_end, t.id))
    runs = onsite.open_runs(session, actor)
    queues = [
        Queue("drawn", "双随机抽查任务", "抽到本人、尚未完成检查的双随机任务（按检查期间截止日排列）", len(drawn),
              ("tasks", {}),
              [QueueItem(t.enterprise.name, t.draw.title, ("task_start", t.enterprise_id),
                         t.draw.period_end, _days(t.draw.period_end, on)) for t in drawn[:SHOWN]]),
        Queue("open_runs", "未完成的执法检查", "本人发起或作为第二名执法人员、尚未结束的执法检查", len(runs),
              ("tasks", {}),
              [QueueItem(r.enterprise.name, f"检查 #{r.id}", ("run", r.id)) for r in runs[:SHOWN]]),
        _hazard_queue(session, actor, "rechecks", "待复查", "企业已报告整改完成、等待复查的隐患",
                      {"state": HazardState.PENDING_REVIEW.value}, {"state": HazardState.PENDING_REVIEW.value}, on),
    ]
    if getattr(actor, "agency_id", None):
        count, first = _unreceived(session, actor)
        queues.append(Queue(
            "unreceived", "文书待签收", "辖区内已签发、被检查单位尚未签收的有效文书", count,
            ("documents", {"unreceived": "true"}),
            [QueueItem(d.number, d.enterprise.name, ("document", d.id), d.issued_on) for d in first]))
    return queues


def _unreceived(session: Session, actor: Actor) -> tuple[int, list[Document]]:
    stmt = documents.unreceived_stmt(actor)
    count = session.scalar(select(func.count()).select_from(stmt.with_only_columns(Document.id).subquery())) or 0
    return count, list(session.scalars(stmt.order_by(Document.issued_on, Document.id).limit(SHOWN)))


def _enterprise(session: Session, actor: Actor, on: date) -> list[Queue]:
    ent_id = actor.enterprise_id
    due = risks.due_tasks(session, actor, on, enterprise_id=ent_id) if can(actor, "risk.check") else []
    queues = [
        Queue("risk_tasks", "到期的风险点排查任务", "今天及以前到期、尚未完成的排查任务", len(due), ("risk_tasks", {}),
              [QueueItem(t.measure.risk_point.name, t.measure.description[:40] if t.measure.description else "",
                         ("risk_check", t.id), t.next_due, _days(t.next_due, on))
               for t in due[:SHOWN]],
              action=("开始自查", ("self_check", ent_id))),
        _hazard_queue(session, actor, "open", "未销号隐患", "本单位尚未销号的隐患（按整改期限排列）",
                      {"open": True, "enterprise_id": ent_id}, {"state": "open", "enterprise_id": str(ent_id)}, on),
        _hazard_queue(session, actor, "rectification_overdue", "整改逾期", "整改期限已过、仍为登记或整改中的隐患",
                      {"overdue": True, "enterprise_id": ent_id}, {"overdue": "true", "enterprise_id": str(ent_id)}, on),
    ]
    return queues


def queues_for(session: Session, actor: Actor, on: date | None = None) -> list[Queue]:
    """The actor's queues, most urgent family first (module doc). Enterprise staff: their enterprise's jobs;
    inspectors: their checks; regulators and admins: their jurisdiction's."""
    on = on or today()
    if getattr(actor, "enterprise_id", None) and not actor.has_role(Role.ADMIN, Role.REGULATOR, Role.INSPECTOR,
                                                                     Role.GRID_WORKER):
        return _enterprise(session, actor, on)
    queues: list[Queue] = []
    if actor.has_role(Role.INSPECTOR):
        queues += _inspector(session, actor, on)
    if actor.has_role(Role.REGULATOR, Role.ADMIN):
        queues += _regulator(session, actor, on)
    elif actor.has_role(Role.GRID_WORKER):
        queues.append(_hazard_queue(session, actor, "open", "网格内未销号隐患", "本网格尚未销号的隐患（按整改期限排列）",
                                    {"open": True}, {"state": "open"}, on))
    return queues

