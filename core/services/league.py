"""League tables: the child jurisdictions of a node ranked on one indicator, with the change against the previous
period (issue 17 item 3, R-O1).

Built on :func:`core.services.stats.node_stats` for the period and the one before it (two grouped queries each),
so a league row's figures are the statistics table's own and link to the same ledger rows. Indicators and their
direction ("better" is higher for a rate, lower for overdue counts) are :data:`INDICATORS`; ties share a rank and
are listed by name. A child without any hidden danger found has no 整改率 (shown "—") and is ranked after the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.services import stats
from core.services.actors import Actor
from core.services.errors import ValidationFailed


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    #: True: a higher value is better (rates); False: lower is better (overdue, late, listed).
    higher_is_better: bool
    #: The figure (stats.FIGURES) the value counts, for its ledger link; None for a rate.
    figure: str | None
    unit: str = "项"

    def value(self, counts: stats.Counts) -> float | int | None:
        return getattr(counts, self.key)


INDICATORS: dict[str, Indicator] = {i.key: i for i in (
    Indicator("rate", "整改率", True, None, "%"),
    Indicator("major_rate", "重大隐患整改率", True, None, "%"),
    Indicator("overdue_at_end", "期末逾期", False, "overdue_at_end"),
    Indicator("closed_late", "逾期销号", False, "closed_late"),
    Indicator("listed", "挂牌督办", False, "listed"),
    Indicator("found", "本期发现", True, "found"),
)}


@dataclass
class LeagueRow:
    key: int
    name: str
    rank: int | None
    value: float | int | None
    previous: float | int | None
    previous_rank: int | None
    counts: stats.Counts

    @property
    def change(self) -> float | int | None:
        """Value now minus the previous period's (None when either is missing)."""
        if self.value is None or self.previous is None:
            return None
        return round(self.value - self.previous, 1)

    @property
    def rank_change(self) -> int | None:
        """Places gained (positive) or lost since the previous period."""
        if self.rank is None or self.previous_rank is None:
            return None
        return self.previous_rank - self.rank


@dataclass
class League:
    period: stats.Period
    previous: stats.Period
    indicator: Indicator
    node: Any
    rows: list[LeagueRow]


def indicator(key: str | None) -> Indicator:
    if not key:
        return INDICATORS["rate"]
    if key not in INDICATORS:
        raise ValidationFailed({"by": ["排名指标应为以下之一：" + "、".join(f"{k}（{i.label}）" for k, i in INDICATORS.items())]})
    return INDICATORS[key]


def _ranks(values: dict[int, float | int | None], better_high: bool) -> dict[int, int]:
    """Competition ranking (1, 2, 2, 4) of the keys with a value; the best first."""
    present = sorted((v for v in values.values() if v is not None), reverse=better_high)
    return {k: present.index(v) + 1 for k, v in values.items() if v is not None}


def league(session: Session, actor: Actor, period: stats.Period, node_id: int | None = None,
           by: str | None = None, now: datetime | None = None, sector: str | None = None) -> League:
    """The children of the node (default: the actor's) ranked on indicator ``by`` for ``period`` (one sector's
    hidden dangers only with ``sector``)."""
    ind = indicator(by)
    current = stats.node_stats(session, actor, period, node_id, now, sector)
    before = stats.node_stats(session, actor, period.previous(), node_id, now, sector)
    children = [r for r in current.rows if r.kind == "node"]
    prev = {r.key: r.counts for r in before.rows if r.kind == "node"}
    values = {r.key: ind.value(r.counts) for r in children}
    previous_values = {k: ind.value(c) for k, c in prev.items()}
    ranks = _ranks(values, ind.higher_is_better)
    previous_ranks = _ranks(previous_values, ind.higher_is_better)
    rows = [LeagueRow(r.key, r.name, ranks.get(r.key), values[r.key], previous_values.get(r.key),
                      previous_ranks.get(r.key), r.counts) for r in children]
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.name))
    return League(period, period.previous(), ind, current.node, rows)


def rows_for_export(table: League) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows of the league table as exported to Excel (the page's columns)."""
    ind = table.indicator
    headers = ["名次", "辖区", f"{ind.label}（{table.period.label}）", f"{ind.label}（{table.previous.label}）",
               "变化", "名次变化", "本期发现", "其中已销号", "期末逾期"]
    rows = [[r.rank, r.name, r.value, r.previous, r.change, r.rank_change, r.counts.found, r.counts.found_closed,
             r.counts.overdue_at_end] for r in table.rows]
    return headers, rows
