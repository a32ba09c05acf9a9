"""Self-report (自查自报) of an enterprise's hidden-danger statistics, and the regulator's view of who reported (R-H5).

《安全生产事故隐患排查治理暂行规定》第十四条: 「生产经营单位应当每季、每年对本单位事故隐患排查治理情况进行统计分析，并分别
于下一季度15日前和下一年1月31日前向安全监管监察部门和有关部门报送书面统计分析表。统计分析表应当由生产经营单位主要负责人签字。」

Rules:

* Enterprise staff (manager or principal) draft the table for a period that has ended: an analysis text and the
  name of the signer; the figures shown on a draft are recomputed whenever it is saved.
* Only the enterprise's 主要负责人 (role ``enterprise_principal``) submits. Submitting freezes the figures (computed
  at that moment by :func:`core.services.stats.enterprise_figures`), records who and when, and marks the
  submission late when its China date is after the period's due date.
* A submission is immutable. A correction is a new draft of the same period, which on submission names the
  submission it supersedes; the old one is kept. An enterprise has at most one draft per period.
* Regulators see submissions (never drafts) of the enterprises in their scope, and per period which enterprises
  submitted on time, late, or not at all. Timeliness is that of the first submission of the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core.models import Enterprise, HazardSelfReport, Jurisdiction, Role, SelfReportStatus
from core.models.base import utcnow
from core.services import audit, stats
from core.services.actors import Actor
from core.services.base import check_version
from core.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.services.hazards import CHINA, today
from core.services.permissions import require
from core.services.scope import (
    ensure_enterprise_visible,
    ensure_jurisdiction_visible,
    enterprise_clause,
    scope_of,
)
from core.services.stats import Period

ANALYSIS_MAX = 5000


def _is_enterprise_user(actor: Actor) -> bool:
    return scope_of(actor).enterprise_id is not None


def get_report(session: Session, actor: Actor, report_id: int) -> HazardSelfReport:
    """A report the actor may see: their own enterprise's (drafts too), or a submission in a regulator's scope."""
    require(actor, "stats.view")
    report = session.get(HazardSelfReport, report_id)
    if report is None:
        raise NotFound()
    scope = scope_of(actor)
    if scope.enterprise_id is not None:
        if report.enterprise_id != scope.enterprise_id:
            raise NotFound()
    elif not report.is_submitted or not scope.covers_path(report.scope_path):
        raise NotFound()
    return report


def list_reports(session: Session, actor: Actor, enterprise_id: int) -> list[HazardSelfReport]:
    """Every report of a visible enterprise, newest period first, then newest first (drafts only for its own
    staff). A few per quarter: no paging needed."""
    require(actor, "stats.view")
    ensure_enterprise_visible(actor, session.get(Enterprise, enterprise_id))
    stmt = select(HazardSelfReport).where(HazardSelfReport.enterprise_id == enterprise_id)
    if not _is_enterprise_user(actor):
        stmt = stmt.where(HazardSelfReport.status == SelfReportStatus.SUBMITTED.value)
    reports = list(session.scalars(stmt.order_by(HazardSelfReport.id.desc())))
    return sorted(reports, key=lambda r: (Period.parse(r.period).next_first_day, r.id), reverse=True)


def current_submission(session: Session, enterprise_id: int, period: Period) -> HazardSelfReport | None:
    """The latest submission of the period (the one in force), or None."""
    return session.scalar(select(HazardSelfReport).where(
        HazardSelfReport.enterprise_id == enterprise_id, HazardSelfReport.period == period.key,
        HazardSelfReport.status == SelfReportStatus.SUBMITTED.value).order_by(HazardSelfReport.id.desc()).limit(1))


def _draft_of(session: Session, enterprise_id: int, period: Period) -> HazardSelfReport | None:
    return session.scalar(select(HazardSelfReport).where(
        HazardSelfReport.enterprise_id == enterprise_id, HazardSelfReport.period == period.key,
        HazardSelfReport.status == SelfReportStatus.DRAFT.value))


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    analysis = (data.get("analysis") or "").strip()
    signer = (data.get("signer_name") or "").strip()
    if len(analysis) > ANALYSIS_MAX:
        errors["analysis"] = [f"统计分析不能超过 {ANALYSIS_MAX} 字"]
    if len(signer) > 50:
        errors["signer_name"] = ["姓名不能超过 50 字"]
    if errors:
        raise ValidationFailed(errors)
    return {"analysis": analysis or None, "signer_name": signer or None}


def create_draft(session: Session, actor: Actor, enterprise_id: int, period: Period, data: dict[str, Any],
                 now: datetime | None = None) -> HazardSelfReport:
    """Start the 统计分析表 of ``period`` (ended) for the actor's enterprise; a correction when one was submitted."""
    require(actor, "hazard.self_report")
    enterprise = ensure_enterprise_visible(actor, session.get(Enterprise, enterprise_id))
    now = now or utcnow()
    if not period.has_ended(now.astimezone(CHINA).date()):
        raise ValidationFailed({"period": [f"{period.label}尚未结束，统计期结束后才能填报"]})
    if _draft_of(session, enterprise.id, period) is not None:
        raise Conflict(f"{period.label}已有草稿，请在草稿上修改")
    values = _clean(data)
    report = HazardSelfReport(
        enterprise_id=enterprise.id, scope_path=enterprise.scope_path, period=period.key,
        status=SelfReportStatus.DRAFT, due_date=period.due_date, created_by_id=actor.id,
        figures=stats.enterprise_figures(session, actor, enterprise.id, period, now=now).as_dict(),
        analysis=values["analysis"], signer_name=values["signer_name"] or enterprise.principal_name,
    )
    session.add(report)
    session.flush()
    audit.record(session, actor, "create", "self_report", report.id,
                 summary=f"起草隐患排查治理统计分析表：{period.label}",
                 after=audit.snapshot(report, ["enterprise_id", "period", "status"]))
    return report


def _editable(session: Session, actor: Actor, report_id: int, version: int | None) -> HazardSelfReport:
    require(actor, "hazard.self_report")
    report = get_report(session, actor, report_id)
    if report.is_submitted:
        raise Conflict("统计分析表已报送，不能修改；如需更正，请新建更正报送")
    check_version(report, version, "该统计分析表")
    return report


def update_draft(session: Session, actor: Actor, report_id: int, data: dict[str, Any],
                 now: datetime | None = None) -> HazardSelfReport:
    """Save a draft's analysis and signer (absent keys keep their text; 409 on a stale version or a submitted
    report); figures are refreshed."""
    report = _editable(session, actor, report_id, data.get("version"))
    before = audit.snapshot(report, ["analysis", "signer_name"])
    values = _clean({"analysis": data.get("analysis", report.analysis),
                     "signer_name": data.get("signer_name", report.signer_name)})
    report.analysis, report.signer_name = values["analysis"], values["signer_name"]
    period = Period.parse(report.period)
    report.figures = stats.enterprise_figures(session, actor, report.enterprise_id, period, now=now).as_dict()
    session.flush()
    b, a = audit.diff(before, audit.snapshot(report, ["analysis", "signer_name"]))
    audit.record(session, actor, "update", "self_report", report.id, summary=f"修改统计分析表草稿：{period.label}",
                 before=b or None, after=a or None)
    return report


def submit(session: Session, actor: Actor, report_id: int, data: dict[str, Any],
           now: datetime | None = None) -> HazardSelfReport:
    """Sign and submit a draft (主要负责人 only): figures frozen, time and lateness recorded, an earlier
    submission of the period superseded (kept). ``data`` may carry ``analysis`` and ``signer_name`` edits."""
    report = _editable(session, actor, report_id, data.get("version"))
    if not actor.has_role(Role.ENTERPRISE_PRINCIPAL):
        raise PermissionDenied("统计分析表须由主要负责人签字报送（16号令第十四条）")
    values = _clean({"analysis": data.get("analysis", report.analysis),
                     "signer_name": data.get("signer_name", report.signer_name)})
    errors = {}
    if not values["analysis"]:
        errors["analysis"] = ["请填写统计分析"]
    if not values["signer_name"]:
        errors["signer_name"] = ["请填写签字的主要负责人姓名"]
    if errors:
        raise ValidationFailed(errors)
    now = now or utcnow()
    period = Period.parse(report.period)
    previous = current_submission(session, report.enterprise_id, period)
    report.analysis, report.signer_name = values["analysis"], values["signer_name"]
    report.figures = stats.enterprise_figures(session, actor, report.enterprise_id, period, now=now).as_dict()
    report.status = SelfReportStatus.SUBMITTED
    report.submitted_at, report.submitted_by_id = now, actor.id
    report.is_late = now.astimezone(CHINA).date() > report.due_date
    report.supersedes_id = previous.id if previous is not None else None
    session.flush()
    summary = f"报送隐患排查治理统计分析表：{period.label}" + ("（更正）" if previous else "") + ("（逾期）" if report.is_late else "")
    audit.record(session, actor, "submit", "self_report", report.id, summary=summary,
                 after=audit.snapshot(report, ["period", "signer_name", "submitted_at", "is_late", "supersedes_id",
                                               "figures"]))
    return report


# --- the regulator's view ----------------------------------------------------------------------------------------

STATUS_LABELS = {"on_time": "按期报送", "late": "逾期报送", "missing": "未报送（已逾期）", "pending": "未报送（未到期）"}


@dataclass
class SubmissionRow:
    enterprise_id: int
    enterprise_name: str
    status: str  # a key of STATUS_LABELS
    first_submitted_at: datetime | None
    submissions: int
    latest_report_id: int | None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass
class SubmissionStatus:
    period: Period
    rows: list[SubmissionRow]
    counts: dict[str, int]
    node: Jurisdiction | None


def submission_status(session: Session, actor: Actor, period: Period, node_id: int | None = None,
                      status: str | None = None, on: date | None = None) -> SubmissionStatus:
    """Which active enterprises in the actor's scope (under ``node_id``) submitted the period's table on time,
    late, or not at all (``missing`` once the due date has passed, ``pending`` before). One grouped query.

    Government users only (enterprise users: :class:`PermissionDenied`)."""
    require(actor, "stats.view")
    if _is_enterprise_user(actor):
        raise PermissionDenied("报送情况仅供监管人员查看")
    on = on or today()
    node = ensure_jurisdiction_visible(actor, session.get(Jurisdiction, node_id)) if node_id is not None else None
    submitted = (select(HazardSelfReport.enterprise_id.label("enterprise_id"),
                        func.min(HazardSelfReport.submitted_at).label("first_at"),
                        func.count().label("n"), func.max(HazardSelfReport.id).label("latest_id"))
                 .where(HazardSelfReport.period == period.key,
                        HazardSelfReport.status == SelfReportStatus.SUBMITTED.value)
                 .group_by(HazardSelfReport.enterprise_id).subquery())
    stmt = (select(Enterprise.id, Enterprise.name, submitted.c.first_at, submitted.c.n, submitted.c.latest_id,
                   case((submitted.c.enterprise_id.is_not(None), 1), else_=0))
            .outerjoin(submitted, submitted.c.enterprise_id == Enterprise.id)
            .where(enterprise_clause(actor), Enterprise.is_active.is_(True))
            .order_by(Enterprise.name, Enterprise.id))
    if node is not None:
        stmt = stmt.where(Enterprise.scope_path.like(node.path + "%"))
    rows: list[SubmissionRow] = []
    counts = dict.fromkeys(STATUS_LABELS, 0)
    for ent_id, name, first_at, n, latest_id, has in session.execute(stmt):
        if has:
            kind = "late" if _china_date(first_at) > period.due_date else "on_time"
        else:
            kind = "missing" if on > period.due_date else "pending"
        counts[kind] += 1
        if status is None or status == kind:
            rows.append(SubmissionRow(ent_id, name, kind, first_at, int(n or 0), latest_id))
    return SubmissionStatus(period, rows, counts, node)


def _china_date(value: datetime) -> date:
    if value.tzinfo is None:  # SQLite returns naive UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(CHINA).date()
