"""Hidden-danger statistics (隐患排查治理情况统计) per period, per enterprise and up the jurisdiction tree (R-H5, R-H6).

《安全生产事故隐患排查治理暂行规定》第十四条 asks every enterprise to analyse its hidden dangers each quarter and each
year and to send a signed 统计分析表 before the 15th of the next quarter / before 31 January. This module computes the
numbers of that table; :mod:`core.services.self_reports` freezes them into a submission.

Definitions (a *period* is a quarter or a year of the calendar in China, UTC+8):

* **start** is 00:00 China time of the period's first day; the **cut** is 00:00 China time of the day after its last
  day, or *now* while the period is still running. All counts look at the hidden dangers as they stood at the cut.
* **发现 (found)**: ``found_at`` in [start, cut), split by the configured levels (一般 / 重大 / …).
* **销号 (closed, "rectified")**: ``closed_at`` in [start, cut), whenever the hazard was found. Of those, **按期**
  (on time) when the China date of ``closed_at`` is on or before the ``deadline`` (the current one: an approved
  extension or the new deadline after a failed review counts), or when there was no deadline (立即整改); else
  **逾期销号** (late).
* **期末未销号 (open at the cut)**: found before the cut and not closed before it (stock, whatever the found date).
* **期末逾期 (overdue at the cut)**: open at the cut, its deadline before the *overdue day* (the day after the
  period, or today for a running period: the rule of :func:`core.services.hazards.overdue_clause`), and not waiting
  for review at the cut (a hazard whose latest 整改完成 report came before the cut and that is not back in 整改中).
  The state at a past cut is rebuilt from ``closed_at`` and ``rectified_at``; the current deadline is used.
* **整改率** = 本期发现且在期末前已销号的隐患数 ÷ 本期发现的隐患数 (``found_closed / found``), so 0–100 %; None (shown
  "—") when nothing was found. **重大隐患整改率** is the same ratio over major hidden dangers. "销号" (the flow of the
  period, including older hazards) is reported beside it but not used as the numerator: a cleared backlog would
  push a found-based ratio above 100 %.
* **挂牌督办**: hidden dangers listed (挂牌督办, any level) in [start, cut).

Everything is computed with set-based SQL (one GROUP BY per table shown), the same on SQLite and PostgreSQL,
filtered by the actor's scope.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, and_, case, exists, func, literal, not_, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from core.models import Enterprise, EnterpriseSector, Hazard, HazardState, HazardSupervision, Jurisdiction
from core.models.base import utcnow
from core.services.actors import Actor
from core.services.errors import NotFound, ValidationFailed
from core.services.hazards import CHINA, MAJOR, china_midnight_utc, hazard_clause, level_labels
from core.services.permissions import require
from core.services.scope import (
    ensure_enterprise_visible,
    ensure_jurisdiction_visible,
    enterprise_clause,
    scope_of,
)

# --- periods -----------------------------------------------------------------------------------------------------

_PERIOD_RE = re.compile(r"^(\d{4})(?:[Qq]([1-4]))?$")


@dataclass(frozen=True, order=True)
class Period:
    """A statistics period: quarter ``quarter`` of ``year``, or the whole year when ``quarter`` is None."""

    year: int
    quarter: int | None = None

    @classmethod
    def parse(cls, text: str) -> Period:
        """``"2026Q1"`` → 2026 Q1, ``"2026"`` → the year 2026; :class:`ValidationFailed` otherwise."""
        match = _PERIOD_RE.match((text or "").strip())
        if not match or not 2000 <= int(match[1]) <= 2100:
            raise ValidationFailed({"period": ["统计期应为“2026Q1”（季度）或“2026”（年度）的形式"]})
        return cls(int(match[1]), int(match[2]) if match[2] else None)

    @classmethod
    def last_completed_quarter(cls, today: date) -> Period:
        """The latest quarter that has ended on ``today`` (the one being reported on)."""
        q = (today.month - 1) // 3 + 1
        return cls(today.year, q - 1) if q > 1 else cls(today.year - 1, 4)

    @property
    def key(self) -> str:
        return f"{self.year}Q{self.quarter}" if self.quarter else str(self.year)

    @property
    def label(self) -> str:
        return f"{self.year}年第{'一二三四'[self.quarter - 1]}季度" if self.quarter else f"{self.year}年度"

    @property
    def is_annual(self) -> bool:
        return self.quarter is None

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.quarter - 2 if self.quarter else 1, 1)

    @property
    def next_first_day(self) -> date:
        """The first day after the period."""
        if self.quarter is None or self.quarter == 4:
            return date(self.year + 1, 1, 1)
        return date(self.year, 3 * self.quarter + 1, 1)

    @property
    def last_day(self) -> date:
        return self.next_first_day - timedelta(days=1)

    @property
    def due_date(self) -> date:
        """The last day to submit the 统计分析表 (16号令 第十四条): the 15th of the next quarter's first month for a
        quarter, 31 January of the next year for a year ("…前" is read as "on or before")."""
        if self.quarter is None:
            return date(self.year + 1, 1, 31)
        return self.next_first_day.replace(day=15)

    def has_ended(self, today: date) -> bool:
        return today >= self.next_first_day

    def previous(self) -> Period:
        if self.quarter is None:
            return Period(self.year - 1)
        return Period(self.year, self.quarter - 1) if self.quarter > 1 else Period(self.year - 1, 4)

    def following(self) -> Period:
        if self.quarter is None:
            return Period(self.year + 1)
        return Period(self.year, self.quarter + 1) if self.quarter < 4 else Period(self.year + 1, 1)

    def bounds(self, now: datetime | None = None) -> tuple[datetime, datetime, date]:
        """(start, cut, overdue day) in UTC/China date: see the module docstring."""
        now = now or utcnow()
        start = china_midnight_utc(self.first_day)
        end = china_midnight_utc(self.next_first_day)
        if now < end:
            return start, max(now, start), max(now.astimezone(CHINA).date(), self.first_day)
        return start, end, self.next_first_day


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month in China, for trends (``"2026-11"``). Not a reporting period: the 统计分析表 and the
    self-reports stay quarterly and annual (:class:`Period`); a month has the same ``bounds``, so every figure of
    :func:`figure_clauses` can be counted per month and each monthly number links to its ledger rows."""

    year: int
    month: int

    @property
    def key(self) -> str:
        return f"{self.year}-{self.month:02d}"

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def next_first_day(self) -> date:
        return date(self.year + 1, 1, 1) if self.month == 12 else date(self.year, self.month + 1, 1)

    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def bounds(self, now: datetime | None = None) -> tuple[datetime, datetime, date]:
        return Period.bounds(self, now)  # type: ignore[arg-type]  # the same rule over first/next_first_day

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @classmethod
    def last(cls, today: date, n: int = 12) -> list[Month]:
        """The ``n`` months up to and including ``today``'s, oldest first."""
        months = [cls.of(today)]
        while len(months) < n:
            months.append(months[-1].previous())
        return months[::-1]


_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def parse_period(text: str) -> Period | Month:
    """A ledger's ``period``: a quarter or year (``2026Q3``, ``2026``) or a month (``2026-11``)."""
    match = _MONTH_RE.match((text or "").strip())
    if match and 2000 <= int(match[1]) <= 2100 and 1 <= int(match[2]) <= 12:
        return Month(int(match[1]), int(match[2]))
    try:
        return Period.parse(text)
    except ValidationFailed:
        raise ValidationFailed({"period": ["统计期应为“2026Q1”（季度）、“2026”（年度）或“2026-11”（月份）的形式"]}) from None


def recent_periods(today: date, years: int = 3) -> list[Period]:
    """Choices for the period selector, newest first: the quarters and years of the last ``years`` years up to
    the running quarter."""
    out: list[Period] = []
    for year in range(today.year, today.year - years, -1):
        for q in range(4, 0, -1):
            if date(year, 3 * q - 2, 1) <= today:
                out.append(Period(year, q))
        out.append(Period(year))
    return out


# --- SQL helpers -------------------------------------------------------------------------------------------------

class china_date(FunctionElement):
    """The calendar date in China (UTC+8) of a stored UTC timestamp. Compiled for the two databases the platform
    runs on (SQLite stores naive UTC text; PostgreSQL ``timestamptz``); tests run on both."""

    type = Date()
    inherit_cache = True
    name = "china_date"


@compiles(china_date, "sqlite")
def _china_date_sqlite(element, compiler, **kw):
    return "date(%s, '+8 hours')" % compiler.process(element.clauses, **kw)


@compiles(china_date, "postgresql")
def _china_date_postgresql(element, compiler, **kw):
    return "CAST((%s AT TIME ZONE 'Asia/Shanghai') AS DATE)" % compiler.process(element.clauses, **kw)


def _count_if(clause: ColumnElement[bool]) -> Any:
    # SUM(CASE …) rather than COUNT(*) FILTER (…): the same SQL on SQLite and PostgreSQL; 0 for an outer join's
    # NULL row (CASE gives 0 when the hazard columns are NULL).
    return func.coalesce(func.sum(case((clause, 1), else_=0)), 0)


# --- figures -----------------------------------------------------------------------------------------------------

@dataclass
class Counts:
    """The figures of one enterprise, node or total for a period (definitions: module docstring)."""

    found: int = 0
    found_by_level: dict[str, int] = field(default_factory=dict)
    found_closed: int = 0
    major_found: int = 0
    major_found_closed: int = 0
    closed: int = 0
    closed_on_time: int = 0
    closed_late: int = 0
    open_at_end: int = 0
    overdue_at_end: int = 0
    listed: int = 0

    @property
    def rate(self) -> float | None:
        """整改率 in percent (0–100), None when nothing was found."""
        return round(100.0 * self.found_closed / self.found, 1) if self.found else None

    @property
    def major_rate(self) -> float | None:
        """重大隐患整改率 in percent, None when no major hidden danger was found."""
        return round(100.0 * self.major_found_closed / self.major_found, 1) if self.major_found else None

    def add(self, other: Counts) -> None:
        for f in fields(self):
            if f.name == "found_by_level":
                for level, n in other.found_by_level.items():
                    self.found_by_level[level] = self.found_by_level.get(level, 0) + n
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures (the self-report snapshot and the API), rates included."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["found_by_level"] = dict(self.found_by_level)
        return {**data, "rate": self.rate, "major_rate": self.major_rate}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Counts:
        names = {f.name for f in fields(cls)}
        return cls(**{k: (dict(v) if k == "found_by_level" else int(v)) for k, v in data.items() if k in names})


#: Column labels of the figures, in table order (pages, Excel, PDF share them). Levels come before these.
COLUMNS: list[tuple[str, str]] = [
    ("found", "本期发现"),
    ("found_closed", "其中已销号"),
    ("rate", "整改率"),
    ("major_rate", "重大隐患整改率"),
    ("closed", "本期销号"),
    ("closed_on_time", "按期销号"),
    ("closed_late", "逾期销号"),
    ("open_at_end", "期末未销号"),
    ("overdue_at_end", "期末逾期"),
    ("listed", "挂牌督办"),
]


#: The figures a ledger filter can select (``figure`` + ``period``): each a set of hidden dangers whose size is
#: the number shown, so every number of a statistics table links to exactly its rows. ``found_<level>`` too.
FIGURES = ("found", "found_closed", "major_found", "major_found_closed", "closed", "closed_on_time", "closed_late",
           "open_at_end", "overdue_at_end", "listed")


def figure_clauses(t: Any, period: Period | Month, now: datetime | None = None,
                   levels: list[str] | None = None) -> dict[str, ColumnElement[bool]]:
    """Figure name → the condition a hidden danger meets to be counted in it (definitions: module docstring),
    over ``t`` (the Hazard entity or a subquery with the same column names)."""
    start, cut, overdue_day = period.bounds(now)
    found = and_(t.found_at >= start, t.found_at < cut)
    closed_by_cut = and_(t.closed_at.is_not(None), t.closed_at < cut)
    closed_in = and_(t.closed_at >= start, t.closed_at < cut)
    late = and_(t.deadline.is_not(None), china_date(t.closed_at) > t.deadline)
    open_at_cut = and_(t.found_at < cut, or_(t.closed_at.is_(None), t.closed_at >= cut))
    awaiting_review = and_(t.rectified_at.is_not(None), t.rectified_at < cut,
                           t.state != HazardState.RECTIFYING.value)
    major = t.level == MAJOR
    clauses: dict[str, ColumnElement[bool]] = {
        "found": found,
        "found_closed": and_(found, closed_by_cut),
        "major_found": and_(found, major),
        "major_found_closed": and_(found, major, closed_by_cut),
        "closed": closed_in,
        "closed_on_time": and_(closed_in, not_(late)),
        "closed_late": and_(closed_in, late),
        "open_at_end": open_at_cut,
        "overdue_at_end": and_(open_at_cut, t.deadline.is_not(None), t.deadline < overdue_day,
                               not_(awaiting_review)),
        "listed": exists().where(HazardSupervision.hazard_id == t.id, HazardSupervision.listed_at >= start,
                                 HazardSupervision.listed_at < cut),
    }
    for level in levels if levels is not None else list(level_labels()):
        clauses[f"found_{level}"] = and_(found, t.level == level)
    return clauses


def figure_label(figure: str) -> str:
    """A figure's column label (``found_major`` → 其中重大)."""
    if figure.startswith("found_") and figure[6:] in level_labels():
        return f"本期发现其中{level_labels()[figure[6:]]}"
    names = {**dict(COLUMNS), "major_found": "本期发现重大隐患", "major_found_closed": "本期发现重大隐患已销号",
             "found_closed": "本期发现其中已销号"}
    return names.get(figure, figure)


def figure_clause(t: Any, period: Period | Month, figure: str,
                  now: datetime | None = None) -> ColumnElement[bool]:
    """One figure's condition (:func:`figure_clauses`); :class:`ValidationFailed` naming the accepted figures."""
    clauses = figure_clauses(t, period, now)
    if figure not in clauses:
        raise ValidationFailed({"figure": ["统计项应为以下之一：" + "、".join(clauses)]})
    return clauses[figure]


def _measures(t: Any, period: Period, now: datetime | None, levels: list[str]) -> list[Any]:
    """The aggregate columns, in the order :func:`_counts_from` reads them."""
    c = figure_clauses(t, period, now, levels)
    names = ["found", "found_closed", "major_found", "major_found_closed", "closed", "closed_late",
             "open_at_end", "overdue_at_end", "listed", *[f"found_{level}" for level in levels]]
    return [_count_if(c[name]) for name in names]


def _may_count(t: Any, period: Period, now: datetime | None) -> ColumnElement[bool]:
    """The hidden dangers any figure of ``period`` can count: found since its start, closed since its start, or
    not closed. One found and closed before the start counts nowhere (a listing needs an open hazard), so this
    filter changes no figure; it lets PostgreSQL read the period's rows through the found_at / closed_at indexes
    instead of the whole five-year ledger (R-N1)."""
    start, _, _ = period.bounds(now)
    return or_(t.found_at >= start, t.closed_at >= start, t.closed_at.is_(None))


def _counts_from(values: Any, levels: list[str]) -> Counts:
    v = [int(x or 0) for x in values]
    found, found_closed, major_found, major_closed, closed, late, open_, overdue, listed = v[:9]
    return Counts(found=found, found_by_level=dict(zip(levels, v[9:])), found_closed=found_closed,
                  major_found=major_found, major_found_closed=major_closed, closed=closed,
                  closed_on_time=closed - late, closed_late=late, open_at_end=open_, overdue_at_end=overdue,
                  listed=listed)


@dataclass
class Row:
    """One line of a statistics table: a child node, the enterprises directly at the node, an enterprise, or the
    total. ``key`` is the node or enterprise id (None for the direct bucket and the total)."""

    kind: str  # "node" | "direct" | "enterprise" | "total"
    key: int | None
    name: str
    counts: Counts
    enterprises: int = 0
    #: Whether the row can be drilled into (a child node with children or enterprises).
    drill: bool = False


@dataclass
class NodeStats:
    period: Period
    #: The node viewed (None: an admin's view of the whole tree).
    node: Jurisdiction | None
    rows: list[Row]
    total: Row
    levels: dict[str, str]
    #: Ancestors of the node inside the actor's scope, for the breadcrumb (top first).
    trail: list[Jurisdiction] = field(default_factory=list)


def _levels() -> tuple[list[str], dict[str, str]]:
    labels = level_labels()
    return list(labels), labels


def _viewed_node(session: Session, actor: Actor, node_id: int | None) -> Jurisdiction | None:
    """The node the actor looks at: the one asked for (in scope), else their own; None for admin's whole tree."""
    scope = scope_of(actor)
    if scope.enterprise_id is not None:
        raise NotFound()
    if node_id is not None:
        return ensure_jurisdiction_visible(actor, session.get(Jurisdiction, node_id))
    if scope.everything:
        return None
    if actor.jurisdiction is None:
        raise NotFound()
    return actor.jurisdiction


def _sector_hazards(sector: str | None) -> list[ColumnElement[bool]]:
    return [Hazard.sector == sector] if sector else []


def _sector_enterprises(sector: str | None) -> list[ColumnElement[bool]]:
    return [exists().where(EnterpriseSector.enterprise_id == Enterprise.id,
                           EnterpriseSector.sector == sector)] if sector else []


def node_stats(session: Session, actor: Actor, period: Period, node_id: int | None = None,
               now: datetime | None = None, sector: str | None = None) -> NodeStats:
    """Figures of the node ``node_id`` (default: the actor's own node) for ``period``: one row per child node,
    one for enterprises placed directly at the node (if any), and the total. With ``sector`` (a plugin's code)
    only that sector's hidden dangers and the enterprises tagged with it count.

    Two queries whatever the size: the hidden dangers of the subtree grouped by the child their ``scope_path``
    falls under, and the active enterprises grouped the same way. Enterprise users get :class:`NotFound`.
    """
    require(actor, "stats.view")
    node = _viewed_node(session, actor, node_id)
    if node is None:
        children = list(session.scalars(select(Jurisdiction).where(Jurisdiction.parent_id.is_(None))
                                        .order_by(Jurisdiction.id)))
        prefix = ""
    else:
        children = list(session.scalars(select(Jurisdiction).where(Jurisdiction.parent_id == node.id)
                                        .order_by(Jurisdiction.id)))
        prefix = node.path
    level_codes, labels = _levels()
    _, cut, _ = period.bounds(now)

    def bucket(path_column: Any) -> Any:
        # The child whose subtree holds the path; 0: the node itself. Paths are digits and slashes only.
        whens = [(path_column.like(c.path + "%"), c.id) for c in children]
        return case(*whens, else_=0) if whens else literal(0)

    # Grouping by a CASE with bound parameters is refused by PostgreSQL (the GROUP BY expression's parameters
    # differ from the SELECT's), so the bucket is computed in a subquery and grouped outside.
    inner = (select(Hazard.id, Hazard.found_at, Hazard.closed_at, Hazard.deadline, Hazard.state, Hazard.level,
                    Hazard.rectified_at, bucket(Hazard.scope_path).label("bucket"))
             .where(hazard_clause(actor), Hazard.scope_path.like(prefix + "%"), Hazard.found_at < cut,
                    _may_count(Hazard, period, now), *_sector_hazards(sector))
             .subquery())
    by_bucket = {r[0]: _counts_from(r[1:], level_codes) for r in session.execute(
        select(inner.c.bucket, *_measures(inner.c, period, now, level_codes)).group_by(inner.c.bucket))}

    ent_inner = (select(bucket(Enterprise.scope_path).label("bucket"))
                 .where(enterprise_clause(actor), Enterprise.is_active.is_(True),
                        Enterprise.scope_path.like(prefix + "%"), *_sector_enterprises(sector)).subquery())
    ent_counts = dict(session.execute(select(ent_inner.c.bucket, func.count()).group_by(ent_inner.c.bucket)).all())
    has_children = set(session.scalars(select(Jurisdiction.parent_id).where(
        Jurisdiction.parent_id.in_([c.id for c in children])).distinct())) if children else set()

    rows = [Row("node", c.id, c.name, by_bucket.get(c.id, Counts(found_by_level=dict.fromkeys(level_codes, 0))),
                ent_counts.get(c.id, 0), drill=c.id in has_children or ent_counts.get(c.id, 0) > 0)
            for c in children]
    if 0 in by_bucket or ent_counts.get(0):
        rows.append(Row("direct", None, f"{node.name if node else ''}直属企业",
                        by_bucket.get(0, Counts(found_by_level=dict.fromkeys(level_codes, 0))), ent_counts.get(0, 0)))
    total = Counts(found_by_level=dict.fromkeys(level_codes, 0))
    for r in rows:
        total.add(r.counts)
    total_row = Row("total", None, "合计", total, sum(r.enterprises for r in rows))
    return NodeStats(period, node, rows, total_row, labels, _trail(session, actor, node))


#: The figures of the monthly trend (each links to its rows with ``period=<month>``).
TREND_FIGURES = ("found", "found_closed", "major_found", "closed")


@dataclass
class Trend:
    node: Jurisdiction | None
    months: list[Month]
    #: figure → one number per month, in ``months`` order.
    series: dict[str, list[int]]

    def rate(self, i: int) -> float | None:
        """整改率 of month ``i`` (found that month and closed since, over found)."""
        found = self.series["found"][i]
        return round(100.0 * self.series["found_closed"][i] / found, 1) if found else None


def trend(session: Session, actor: Actor, node_id: int | None = None, months: int = 12,
          now: datetime | None = None, sector: str | None = None) -> Trend:
    """Month by month for the last ``months`` months (the running one included) under the node: the figures of
    ``TREND_FIGURES`` in one aggregate query, with the very clauses the ledger's ``figure`` filter uses."""
    require(actor, "stats.view")
    node = _viewed_node(session, actor, node_id)
    span = Month.last((now or utcnow()).astimezone(CHINA).date(), months)
    start, _, _ = span[0].bounds(now)
    columns = [_count_if(figure_clauses(Hazard, m, now, [])[f]) for f in TREND_FIGURES for m in span]
    stmt = select(*columns).where(hazard_clause(actor), or_(Hazard.found_at >= start, Hazard.closed_at >= start),
                                  *_sector_hazards(sector))
    if node is not None:
        stmt = stmt.where(Hazard.scope_path.like(node.path + "%"))
    row = [int(v or 0) for v in session.execute(stmt).one()]
    n = len(span)
    return Trend(node, span, {f: row[i * n:(i + 1) * n] for i, f in enumerate(TREND_FIGURES)})


def _trail(session: Session, actor: Actor, node: Jurisdiction | None) -> list[Jurisdiction]:
    if node is None:
        return []
    scope = scope_of(actor)
    ids = node.ancestor_ids
    nodes = {n.id: n for n in session.scalars(select(Jurisdiction).where(Jurisdiction.id.in_(ids)))}
    return [nodes[i] for i in ids if i in nodes and scope.covers_path(nodes[i].path)]


def enterprise_stats(session: Session, actor: Actor, period: Period, node_id: int | None = None,
                     enterprise_id: int | None = None, now: datetime | None = None,
                     limit: int | None = None) -> list[Row]:
    """Per-enterprise figures for ``period``: every active enterprise in the actor's scope (under ``node_id``
    when given; only ``enterprise_id`` when given), including those without any hidden danger, most found first.

    One query: the enterprises left-joined to their hidden dangers found before the cut, grouped by enterprise.
    """
    require(actor, "stats.view")
    level_codes, _ = _levels()
    _, cut, _ = period.bounds(now)
    stmt = (select(Enterprise.id, Enterprise.name, *_measures(Hazard, period, now, level_codes))
            .select_from(Enterprise)
            .outerjoin(Hazard, and_(Hazard.enterprise_id == Enterprise.id, Hazard.found_at < cut,
                                    _may_count(Hazard, period, now)))
            .where(enterprise_clause(actor))
            .group_by(Enterprise.id, Enterprise.name))
    if enterprise_id is not None:
        ensure_enterprise_visible(actor, session.get(Enterprise, enterprise_id))
        stmt = stmt.where(Enterprise.id == enterprise_id)
    else:
        stmt = stmt.where(Enterprise.is_active.is_(True))
        if node_id is not None:
            node = ensure_jurisdiction_visible(actor, session.get(Jurisdiction, node_id))
            stmt = stmt.where(Enterprise.scope_path.like(node.path + "%"))
    found_total = _measures(Hazard, period, now, level_codes)[0]
    stmt = stmt.order_by(found_total.desc(), Enterprise.name, Enterprise.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [Row("enterprise", r[0], r[1], _counts_from(r[2:], level_codes), 1) for r in session.execute(stmt)]


def enterprise_figures(session: Session, actor: Actor, enterprise_id: int, period: Period,
                       now: datetime | None = None) -> Counts:
    """The figures of one visible enterprise (what its 统计分析表 reports)."""
    rows = enterprise_stats(session, actor, period, enterprise_id=enterprise_id, now=now)
    return rows[0].counts


# --- Excel -------------------------------------------------------------------------------------------------------

def _sheet(wb: Any, title: str, heading: str, first_column: str, rows: list[Row], total: Row | None,
           levels: dict[str, str]) -> None:
    """One formatted sheet: a title line, a bold filled header, one line per row, a bold totals line."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    header = [first_column, "企业数", COLUMNS[0][1], *[f"其中{label}" for label in levels.values()],
              *[label for _, label in COLUMNS[1:]]]
    ws.column_dimensions["A"].width = 28
    for i in range(2, len(header) + 1):
        ws.column_dimensions[get_column_letter(i)].width = 11
    ws.freeze_panes = "B3"

    def cell(value: Any, *, bold: bool = False, fill: str | None = None, fmt: str | None = None,
             wrap: bool = False) -> Any:
        c = WriteOnlyCell(ws, value=value)
        c.font = Font(bold=bold)
        c.border = border
        if fill:
            c.fill = PatternFill("solid", fgColor=fill)
        if fmt:
            c.number_format = fmt
        c.alignment = Alignment(wrap_text=wrap, vertical="center", horizontal="center" if wrap else None)
        return c

    title_cell = WriteOnlyCell(ws, value=heading)
    title_cell.font = Font(bold=True, size=14)
    ws.append([title_cell])
    ws.append([cell(h, bold=True, fill="DCE6F1", wrap=True) for h in header])

    def line(row: Row, bold: bool = False) -> list[Any]:
        c = row.counts
        values: list[Any] = [cell(row.name, bold=bold), cell(row.enterprises, bold=bold), cell(c.found, bold=bold)]
        values += [cell(c.found_by_level.get(code, 0), bold=bold) for code in levels]
        for key, _ in COLUMNS[1:]:
            if key.endswith("rate"):
                value = getattr(c, key)
                values.append(cell(value / 100 if value is not None else "—", bold=bold, fmt="0.0%"))
            else:
                values.append(cell(getattr(c, key), bold=bold))
        return values

    for row in rows:
        ws.append(line(row))
    if total is not None:
        ws.append(line(total, bold=True))


def workbook(period: Period, title: str, sheets: list[tuple[str, str, list[Row], Row | None]],
             levels: dict[str, str]) -> bytes:
    """An .xlsx of statistics tables: ``sheets`` = (sheet name, first-column heading, rows, totals row)."""
    import io

    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for name, first_column, rows, total in sheets:
        _sheet(wb, name, f"{title}（{period.label}）", first_column, rows, total, levels)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def total_of(rows: list[Row], name: str = "合计") -> Row:
    """The totals row of ``rows`` (counts summed, rates recomputed)."""
    levels = {code for r in rows for code in r.counts.found_by_level}
    total = Counts(found_by_level=dict.fromkeys(levels, 0))
    for r in rows:
        total.add(r.counts)
    return Row("total", None, name, total, sum(r.enterprises for r in rows))
