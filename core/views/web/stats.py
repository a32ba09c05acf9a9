"""Hidden-danger statistics pages (R-H5, R-H6): the period table with jurisdiction drill-down, per-enterprise
figures, Excel and PDF of the same numbers; the enterprise's self-report (自查自报) and the regulator's list of
who reported."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from core.extensions import db
from core.models import Enterprise, HazardSelfReport
from core.pdf import PDF_MIMETYPE, render_pdf
from core.schemas.risk import GRADES
from core.services import enforcement_report, league, risks, self_reports, stats
from core.services.errors import NotFound, ValidationFailed
from core.services.hazards import today
from core.services.permissions import can, require
from core.services.scope import scope_of
from core.services.stats import COLUMNS, Counts, Period
from core.services.xlsx import stream_xlsx
from core.views.web import CHINA_TZ, nav
from core.views.web.forms import posted

bp = Blueprint("stats", __name__, url_prefix="/stats")
nav.add("stats.index", "隐患统计", "stats.view", 40, group="hazards")
nav.add("stats.reports", "自查自报", "hazard.self_report", 41, audience="enterprise", group="hazards")
nav.add("stats.submissions", "报送情况", "stats.view", 42, audience="government", group="hazards")
nav.add("stats.enforcement", "执法情况汇总", "stats.view", 17, audience="government", group="inspections")

#: The legal basis quoted on the 统计分析表 (verified text of 16号令 第十四条, first paragraph).
LEGAL_BASIS = ("《安全生产事故隐患排查治理暂行规定》（国家安全监管总局令第16号）第十四条："
               "“生产经营单位应当每季、每年对本单位事故隐患排查治理情况进行统计分析，并分别于下一季度15日前和下一年1月31日前"
               "向安全监管监察部门和有关部门报送书面统计分析表。统计分析表应当由生产经营单位主要负责人签字。”")
ENTERPRISE_LIMIT = 1000


def _period() -> Period:
    raw = request.args.get("period")
    if raw:
        try:
            return Period.parse(raw)
        except ValidationFailed as exc:
            flash(exc.errors["period"][0], "error")
    return Period.last_completed_quarter(today())


def _node_id() -> int | None:
    raw = request.args.get("node", "")
    return int(raw) if raw.isdigit() else None


def _sector() -> str | None:
    """The ``sector`` argument when it names an enabled plugin's sector (else all sectors, with a message)."""
    from core.plugins import plugins

    raw = request.args.get("sector") or None
    if raw is not None and raw not in plugins().sectors:
        flash("领域应为以下之一：" + "、".join(plugins().sectors), "error")
        return None
    return raw


def _is_enterprise_user() -> bool:
    return scope_of(current_user).enterprise_id is not None


def _china(value: datetime) -> datetime:
    """A stored timestamp in China time (SQLite hands back naive UTC)."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(CHINA_TZ)


def _attachment(filename: str) -> str:
    ascii_name = "anjian." + filename.rsplit(".", 1)[-1]
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def _now_text() -> str:
    return datetime.now(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def _periods(period: Period) -> list[Period]:
    choices = stats.recent_periods(today())
    return choices if period in choices else [period, *choices]


# --- statistics --------------------------------------------------------------------------------------------------

@bp.get("/")
@login_required
def index():
    period = _period()
    context: dict[str, Any] = {"period": period, "periods": _periods(period), "columns": COLUMNS}
    if _is_enterprise_user():
        rows = stats.enterprise_stats(db.session, current_user, period)
        return render_template("stats/enterprise.html", row=rows[0], levels=stats.level_labels(),
                               report=self_reports.current_submission(db.session, rows[0].key, period), **context)
    sector = _sector()
    view = stats.node_stats(db.session, current_user, period, _node_id(), sector=sector)
    trend = stats.trend(db.session, current_user, _node_id(), sector=sector)
    # Risk points have no sector: their grades are shown for the whole jurisdiction only.
    grades = risks.grade_counts(db.session, current_user, jurisdiction_id=_node_id()) \
        if can(current_user, "risk.view") and not sector else None
    return render_template("stats/index.html", view=view, levels=view.levels, trend=trend, sector=sector,
                           grades=grades, grade_labels=GRADES, **context)


@bp.get("/enterprises")
@login_required
def enterprises():
    period = _period()
    node_id = _node_id()
    rows = stats.enterprise_stats(db.session, current_user, period, node_id=node_id, limit=ENTERPRISE_LIMIT + 1)
    node = stats.node_stats(db.session, current_user, period, node_id).node if not _is_enterprise_user() else None
    return render_template("stats/enterprises.html", rows=rows[:ENTERPRISE_LIMIT], more=len(rows) > ENTERPRISE_LIMIT,
                           period=period, periods=_periods(period), node=node, node_id=node_id,
                           levels=stats.level_labels(), columns=COLUMNS)


@bp.get("/league")
@login_required
def league_table():
    """The child jurisdictions ranked on one indicator, with the change against the previous period."""
    period = _period()
    sector = _sector()
    table = league.league(db.session, current_user, period, _node_id(), request.args.get("by"), sector=sector)
    return render_template("stats/league.html", table=table, period=period, periods=_periods(period),
                           indicators=league.INDICATORS, node_id=_node_id(), sector=sector)


@bp.get("/league.xlsx")
@login_required
def league_export():
    period = _period()
    table = league.league(db.session, current_user, period, _node_id(), request.args.get("by"), sector=_sector())
    headers, rows = league.rows_for_export(table)
    area = table.node.name if table.node else "全部辖区"
    name = f"隐患治理排名_{area}_{table.indicator.label}_{period.key}.xlsx"
    return Response(stream_xlsx(headers, rows, "排名"),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": _attachment(name)})


def _month() -> stats.Month:
    """The ``month`` argument (2026-11), default the last completed month; a bad one: the default with a message."""
    default = stats.Month.of(today()).previous()
    raw = request.args.get("month")
    if not raw:
        return default
    try:
        month = stats.parse_period(raw)
    except ValidationFailed:
        month = None
    if not isinstance(month, stats.Month):
        flash("月份应为“2026-11”的形式", "error")
        return default
    return month


@bp.get("/enforcement")
@login_required
def enforcement():
    """The month's enforcement summary: checks by agency and inspector, documents by type."""
    month = _month()
    summary = enforcement_report.enforcement_summary(db.session, current_user, month, _node_id())
    return render_template("stats/enforcement.html", summary=summary, month=month, node_id=_node_id(),
                           months=stats.Month.last(today(), 13)[::-1])


@bp.get("/enforcement.xlsx")
@login_required
def enforcement_export():
    month = _month()
    summary = enforcement_report.enforcement_summary(db.session, current_user, month, _node_id())
    area = summary.node.name if summary.node else (current_user.jurisdiction.name if current_user.jurisdiction
                                                   else "全部辖区")
    body = enforcement_report.workbook(summary, f"{area}执法情况汇总")
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": _attachment(f"执法情况汇总_{area}_{month.key}.xlsx")})


@bp.get("/export.xlsx")
@login_required
def export():
    period = _period()
    levels = stats.level_labels()
    if _is_enterprise_user():
        rows = stats.enterprise_stats(db.session, current_user, period)
        body = stats.workbook(period, "隐患排查治理情况统计表", [("本企业", "企业", rows, None)], levels)
        name = f"隐患排查治理统计_{rows[0].name}_{period.key}.xlsx"
    else:
        view = stats.node_stats(db.session, current_user, period, _node_id())
        ent_rows = stats.enterprise_stats(db.session, current_user, period, node_id=_node_id())
        area = view.node.name if view.node else "全部辖区"
        body = stats.workbook(period, f"{area}隐患排查治理情况统计表", [
            ("辖区汇总", "辖区", view.rows, view.total),
            ("企业明细", "企业", ent_rows, stats.total_of(ent_rows)),
        ], levels)
        name = f"隐患排查治理统计_{area}_{period.key}.xlsx"
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": _attachment(name)})


def _pdf_response(body: bytes, filename: str) -> Response:
    return Response(body, mimetype=PDF_MIMETYPE, headers={"Content-Disposition": _attachment(filename)})


def _enterprise_doc(ent: Enterprise, period: Period, figures: dict[str, Any], *, analysis: str | None,
                    signer_name: str | None, status_text: str, signed_on: str | None) -> dict[str, Any]:
    """The primitive context of ``pdf/hazard_stats_enterprise.html``."""
    return {
        "enterprise": {"name": ent.name, "uscc": ent.uscc, "address": ent.address or ""},
        "period": {"label": period.label, "first_day": period.first_day.isoformat(),
                   "last_day": period.last_day.isoformat(), "due_date": period.due_date.isoformat()},
        "levels": list(stats.level_labels().items()), "figures": figures, "analysis": analysis,
        "signer_name": signer_name, "status_text": status_text, "signed_on": signed_on,
        "generated_at": _now_text(), "legal_basis": LEGAL_BASIS,
    }


def _agency_name() -> str:
    agency = getattr(current_user, "agency", None)
    return agency.name if agency is not None else ""


def _row_doc(row: stats.Row) -> dict[str, Any]:
    return {"name": row.name, "enterprises": row.enterprises, "figures": row.counts.as_dict()}


@bp.get("/report.pdf")
@login_required
def report_pdf():
    period = _period()
    if _is_enterprise_user():
        row = stats.enterprise_stats(db.session, current_user, period)[0]
        ent = db.session.get(Enterprise, row.key)
        body = render_pdf("pdf/hazard_stats_enterprise.html", **_enterprise_doc(
            ent, period, row.counts.as_dict(), analysis=None, signer_name=None,
            status_text=f"统计数（截至 {_now_text()}，未报送）", signed_on=None))
        return _pdf_response(body, f"隐患排查治理情况统计分析表_{ent.name}_{period.key}.pdf")
    view = stats.node_stats(db.session, current_user, period, _node_id())
    area = view.node.name if view.node else "全部辖区"
    body = render_pdf("pdf/hazard_stats_summary.html", area=area, row_heading="辖区",
                      period={"label": period.label, "first_day": period.first_day.isoformat(),
                              "last_day": period.last_day.isoformat()},
                      levels=list(view.levels.items()), columns=COLUMNS, rows=[_row_doc(r) for r in view.rows],
                      total=_row_doc(view.total), agency=_agency_name(), generated_at=_now_text())
    return _pdf_response(body, f"隐患排查治理情况统计汇总表_{area}_{period.key}.pdf")


# --- self-reports (enterprise) -----------------------------------------------------------------------------------

def _report_values(form) -> dict[str, Any]:
    """The posted fields (only those present: a submit without them keeps the draft's text)."""
    version = form.get("version", "")
    values: dict[str, Any] = {k: form.get(k) for k in ("analysis", "signer_name") if k in form}
    return {**values, "version": int(version) if version.isdigit() else None}


@bp.get("/self-reports")
@login_required
def reports():
    require(current_user, "hazard.self_report")
    ent_id = scope_of(current_user).enterprise_id
    if ent_id is None:
        raise NotFound()
    history = self_reports.list_reports(db.session, current_user, ent_id)
    ended = [p for p in stats.recent_periods(today()) if p.has_ended(today())]
    return render_template("stats/reports.html", reports=history, periods=ended,
                           default=Period.last_completed_quarter(today()),
                           enterprise=db.session.get(Enterprise, ent_id))


@bp.post("/self-reports/new")
@login_required
def report_new():
    require(current_user, "hazard.self_report")
    ent_id = scope_of(current_user).enterprise_id
    if ent_id is None:
        raise NotFound()
    try:
        period = Period.parse(posted().get("period", ""))
        report = self_reports.create_draft(db.session, current_user, ent_id, period, _report_values(posted()))
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        flash("；".join(m for msgs in exc.errors.values() for m in msgs), "error")
        return redirect(url_for(".reports"))
    flash(f"已创建{period.label}统计分析表草稿", "success")
    return redirect(url_for(".report_detail", report_id=report.id))


def _detail(report: HazardSelfReport, values: dict[str, Any] | None = None, errors: dict | None = None,
            status: int = 200):
    period = Period.parse(report.period)
    editable = not report.is_submitted and _is_enterprise_user()
    superseded_by = None
    if report.is_submitted:
        current = self_reports.current_submission(db.session, report.enterprise_id, period)
        superseded_by = current if current is not None and current.id != report.id else None
    return render_template(
        "stats/report.html", report=report, period=period, figures=Counts.from_dict(report.figures),
        levels=stats.level_labels(), editable=editable, superseded_by=superseded_by,
        values={"analysis": report.analysis or "", "signer_name": report.signer_name or "",
                "version": report.version, **(values or {})},
        errors=errors or {}, legal_basis=LEGAL_BASIS), status


@bp.get("/self-reports/<int:report_id>")
@login_required
def report_detail(report_id: int):
    return _detail(self_reports.get_report(db.session, current_user, report_id))


@bp.post("/self-reports/<int:report_id>/save")
@login_required
def report_save(report_id: int):
    values = _report_values(posted())
    try:
        self_reports.update_draft(db.session, current_user, report_id, values)
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        return _detail(self_reports.get_report(db.session, current_user, report_id), values, exc.errors, 422)
    flash("草稿已保存", "success")
    return redirect(url_for(".report_detail", report_id=report_id))


@bp.post("/self-reports/<int:report_id>/submit")
@login_required
def report_submit(report_id: int):
    values = _report_values(posted())
    try:
        report = self_reports.submit(db.session, current_user, report_id, values)
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        return _detail(self_reports.get_report(db.session, current_user, report_id), values, exc.errors, 422)
    flash("统计分析表已报送" + ("（已超过报送期限）" if report.is_late else ""), "warning" if report.is_late else "success")
    return redirect(url_for(".report_detail", report_id=report_id))


@bp.get("/self-reports/<int:report_id>.pdf")
@login_required
def report_file(report_id: int):
    report = self_reports.get_report(db.session, current_user, report_id)
    period = Period.parse(report.period)
    if report.is_submitted:
        submitted = _china(report.submitted_at)
        status_text = f"已于 {submitted:%Y-%m-%d %H:%M} 报送" + ("（逾期）" if report.is_late else "") + (
            f"；更正第 {report.supersedes_id} 号报送" if report.supersedes_id else "")
        signed_on = f"{submitted.year}年{submitted.month}月{submitted.day}日"
    else:
        status_text, signed_on = "草稿（未报送）", None
    body = render_pdf("pdf/hazard_stats_enterprise.html", **_enterprise_doc(
        report.enterprise, period, report.figures, analysis=report.analysis, signer_name=report.signer_name,
        status_text=status_text, signed_on=signed_on))
    return _pdf_response(body, f"隐患排查治理情况统计分析表_{report.enterprise.name}_{period.key}_{report.id}.pdf")


# --- submissions (regulators) ------------------------------------------------------------------------------------

@bp.get("/submissions")
@login_required
def submissions():
    period = _period()
    status = request.args.get("status") or None
    if status not in (None, *self_reports.STATUS_LABELS):
        status = None
    result = self_reports.submission_status(db.session, current_user, period, _node_id(), status)
    return render_template("stats/submissions.html", result=result, period=period, periods=_periods(period),
                           status=status, labels=self_reports.STATUS_LABELS, node_id=_node_id())
