"""Export of the hidden-danger ledger (隐患台账) as CSV or Excel, streamed (R-H6, R-N1).

The export holds exactly the rows of the ledger page for the same filters and actor, in the same order (newest
first). Enterprise name, code and the listing flag come from the same SELECT (a join and an EXISTS), so a
million rows cost one streamed query, not one per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exists
from sqlalchemy.orm import Session

from core.models import Enterprise, Hazard, HazardSupervision
from core.models.hazard import HAZARD_CATEGORIES, HAZARD_SOURCES, HAZARD_STATE_LABELS
from core.plugins import plugins
from core.services.actors import Actor
from core.services.hazards import CHINA, hazard_query, level_labels, overdue_clause, today
from core.services.importexport import stream_table
from core.services.permissions import require

HEADERS = ["编号", "发现日期", "企业", "统一社会信用代码", "隐患部位", "隐患描述", "类别", "等级", "判定依据", "领域",
           "来源", "状态", "整改责任人", "整改期限", "是否逾期", "挂牌督办", "发现人"]


def _prepare(session: Session, actor: Actor, filters: dict[str, Any]) -> Callable[[Session], Iterator[list[Any]]]:
    """Build the statement and the lookup tables now, while the actor and the request are at hand, and return
    the lazy row iterator; a streamed response runs it later, on the streaming context's own session."""
    require(actor, "hazard.export")
    on = today()
    supervised = exists().where(HazardSupervision.hazard_id == Hazard.id,
                                HazardSupervision.lifted_at.is_(None)).label("supervised")
    stmt = (hazard_query(session, actor, filters)
            .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
            .add_columns(Enterprise.name, Enterprise.uscc, overdue_clause(on).label("overdue"), supervised)
            .order_by(Hazard.id.desc())
            .execution_options(yield_per=1000))
    levels = level_labels()
    registry = plugins()
    sectors = {code: registry.sector_name(code) for code in registry.sectors}
    states = {s.value: label for s, label in HAZARD_STATE_LABELS.items()}

    def found_date(value: datetime) -> str:
        if value.tzinfo is None:  # SQLite returns naive UTC datetimes
            value = value.replace(tzinfo=UTC)
        return value.astimezone(CHINA).date().isoformat()

    def rows(db_session: Session) -> Iterator[list[Any]]:
        for h, ent_name, ent_uscc, overdue, listed in db_session.execute(stmt):
            yield [h.id, found_date(h.found_at), ent_name, ent_uscc, h.location or "", h.description,
                   HAZARD_CATEGORIES.get(h.category, h.category), levels.get(h.level, h.level), h.rule_item or "",
                   sectors.get(h.sector, h.sector) if h.sector else "", HAZARD_SOURCES.get(h.source, h.source),
                   states.get(h.state, h.state), h.responsible_name or "",
                   h.deadline.isoformat() if h.deadline else "", "是" if overdue else "否",
                   "是" if listed else "否", h.found_by_name]

    return rows


def export_hazards(session: Session, actor: Actor, filters: dict[str, Any], fmt: str) -> tuple[Iterator[bytes], str]:
    """Stream the actor's filtered ledger as ``csv`` (UTF-8 with BOM so Excel reads the Chinese) or ``xlsx``.

    CSV rows are produced while the response is sent; XLSX is written by openpyxl's write-only mode to a
    temporary file first (the format needs the whole file) and then streamed from it. Memory stays flat.
    """
    return stream_table(session, HEADERS, _prepare(session, actor, filters), fmt, "隐患台账")
