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
    # Plain columns, not Hazard entities: building an ORM object per row was most of the export's time (R-N1).
    stmt = (hazard_query(session, actor, filters)
            .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
            .with_only_columns(Hazard.id, Hazard.found_at, Enterprise.name, Enterprise.uscc, Hazard.location,
                               Hazard.description, Hazard.category, Hazard.level, Hazard.rule_item, Hazard.sector,
                               Hazard.source, Hazard.state, Hazard.responsible_name, Hazard.deadline,
                               overdue_clause(on).label("overdue"), supervised, Hazard.found_by_name,
                               maintain_column_froms=True)
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
        for (hid, found_at, ent_name, ent_uscc, location, description, category, level, rule_item, sector, source,
             state, responsible, deadline, overdue, listed, found_by) in db_session.execute(stmt):
            yield [hid, found_date(found_at), ent_name, ent_uscc, location or "", description,
                   HAZARD_CATEGORIES.get(category, category), levels.get(level, level), rule_item or "",
                   sectors.get(sector, sector) if sector else "", HAZARD_SOURCES.get(source, source),
                   states.get(state, state), responsible or "", deadline.isoformat() if deadline else "",
                   "是" if overdue else "否", "是" if listed else "否", found_by]

    return rows


def export_hazards(session: Session, actor: Actor, filters: dict[str, Any], fmt: str) -> tuple[Iterator[bytes], str]:
    """Stream the actor's filtered ledger as ``csv`` (UTF-8 with BOM so Excel reads the Chinese) or ``xlsx``.

    Both formats are produced while the response is sent (:func:`core.services.importexport.stream_table`);
    memory stays flat.
    """
    return stream_table(session, HEADERS, _prepare(session, actor, filters), fmt, "隐患台账")
