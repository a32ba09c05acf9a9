"""The monthly enforcement summary of a jurisdiction (issue 17 item 7, R-E1, R-O1): checks by agency and by
inspector, documents by type, and the share of checks recorded on site with the mobile flow.

Definitions (a *month* is a calendar month in China, :class:`core.services.stats.Month`):

* **检查** (a check): an enforcement run (``kind = enforcement``) completed in the month, of an enterprise in the
  actor's scope (under the node when one is given). It counts for the agency of the inspector who started it and
  for each of its two inspectors.
* **现场定位** (located on site): the run has a location at its start and at its end (``start_lat``/``end_lat``),
  i.e. it was carried out with the platform's phone flow on the spot. **互联网+执法率** here is located ÷ checks —
  the platform's own measure of checks done online on site; a district that reports the national system's rate
  configures its own definition (``ENFORCEMENT_ONLINE_RATE_LABEL`` names what the figure is).
* **文书** (documents): issued in the month (``issued_on``), in force or since superseded, by type.

Three grouped queries whatever the size; scoped by the same rules as the run and document lists.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from core.models import Agency, Document, InspectionRun, Jurisdiction, User
from core.models.inspection import RunStatus
from core.services import documents
from core.services.actors import Actor
from core.services.errors import PermissionDenied
from core.services.permissions import require
from core.services.scope import ensure_jurisdiction_visible, path_clause, scope_of
from core.services.stats import Month


@dataclass
class Line:
    """One row: an agency or an inspector."""

    name: str
    checks: int = 0
    located: int = 0

    @property
    def rate(self) -> float | None:
        return round(100.0 * self.located / self.checks, 1) if self.checks else None


@dataclass
class EnforcementSummary:
    month: Month
    node: Jurisdiction | None
    by_agency: list[Line]
    by_inspector: list[Line]
    documents: list[tuple[str, int]]
    total: Line = field(default_factory=lambda: Line("合计"))
    rate_label: str = "互联网+执法率"


def _node(session: Session, actor: Actor, node_id: int | None) -> Jurisdiction | None:
    if scope_of(actor).enterprise_id is not None:
        raise PermissionDenied("执法情况汇总仅供监管部门查看")
    if node_id is None:
        return None
    return ensure_jurisdiction_visible(actor, session.get(Jurisdiction, node_id))


def enforcement_summary(session: Session, actor: Actor, month: Month, node_id: int | None = None) -> EnforcementSummary:
    """The month's checks and documents under the node (default: the actor's whole scope); module doc."""
    require(actor, "stats.view")
    node = _node(session, actor, node_id)
    start, cut, _ = month.bounds()
    where = [InspectionRun.kind == "enforcement", InspectionRun.status == RunStatus.COMPLETED.value,
             InspectionRun.completed_at >= start, InspectionRun.completed_at < cut,
             path_clause(InspectionRun.scope_path, scope_of(actor))]
    if node is not None:
        where.append(InspectionRun.scope_path.like(node.path + "%"))
    located = and_(InspectionRun.start_lat.is_not(None), InspectionRun.end_lat.is_not(None))
    located_count = func.coalesce(func.sum(case((located, 1), else_=0)), 0)

    agencies = [Line(name or "（未属执法机关）", int(n), int(loc or 0)) for name, n, loc in session.execute(
        select(Agency.name, func.count(InspectionRun.id), located_count)
        .select_from(InspectionRun).join(User, User.id == InspectionRun.started_by_id)
        .outerjoin(Agency, Agency.id == User.agency_id).where(*where)
        .group_by(Agency.name).order_by(func.count(InspectionRun.id).desc(), Agency.name))]

    per_inspector: Counter[str] = Counter()
    per_inspector_located: Counter[str] = Counter()
    for column in (InspectionRun.started_by_id, InspectionRun.co_inspector_id):
        for name, n, loc in session.execute(
                select(User.display_name, func.count(InspectionRun.id), located_count)
                .select_from(InspectionRun).join(User, User.id == column).where(*where)
                .group_by(User.id, User.display_name)):
            per_inspector[name] += int(n)
            per_inspector_located[name] += int(loc or 0)
    inspectors = sorted((Line(name, n, per_inspector_located[name]) for name, n in per_inspector.items()),
                        key=lambda line: (-line.checks, line.name))

    doc_stmt = (documents.documents_stmt(actor, date_from=month.first_day,
                                         date_to=month.next_first_day - timedelta(days=1))
                .with_only_columns(Document.doc_type, func.count(Document.id)).group_by(Document.doc_type))
    if node is not None:
        doc_stmt = doc_stmt.where(Document.scope_path.like(node.path + "%"))
    names = {code: t["name"] for code, t in documents.document_types().items()}
    docs = sorted(((names.get(code, code), int(n)) for code, n in session.execute(doc_stmt)), key=lambda d: -d[1])

    total = Line("合计", sum(a.checks for a in agencies), sum(a.located for a in agencies))
    label = current_app.config.get("ENFORCEMENT_ONLINE_RATE_LABEL", "互联网+执法率（现场定位的检查占比）")
    return EnforcementSummary(month, node, agencies, inspectors, docs, total, label)


def workbook(summary: EnforcementSummary, title: str) -> bytes:
    """The summary as .xlsx: one sheet per table (cells neutralised like every export)."""
    import io

    from openpyxl import Workbook

    from core.services.xlsx import safe_append

    wb = Workbook()
    sheets: list[tuple[str, list[str], list[list[Any]]]] = [
        ("按执法机关", ["执法机关", "检查", "现场定位", summary.rate_label],
         [[a.name, a.checks, a.located, a.rate] for a in [*summary.by_agency, summary.total]]),
        ("按执法人员", ["执法人员", "检查（含作为第二执法人员）", "现场定位", summary.rate_label],
         [[i.name, i.checks, i.located, i.rate] for i in summary.by_inspector]),
        ("执法文书", ["文书种类", "签发份数"], [[name, n] for name, n in summary.documents]),
    ]
    for index, (name, headers, rows) in enumerate(sheets):
        sheet = wb.active if index == 0 else wb.create_sheet()
        sheet.title = name
        safe_append(sheet, [f"{title}（{summary.month.label}）"])
        safe_append(sheet, headers)
        for row in rows:
            safe_append(sheet, row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
