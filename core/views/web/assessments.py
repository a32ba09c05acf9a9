"""安全生产标准化 pages (R-S1…R-S4): the enterprise's annual self-assessment (per element, phone first), signing and
the regulator's review, deducted items → hidden dangers, the PDF/Excel report, the enterprise's 达标 lifecycle with
the year-on-year comparison, and the regulators' coverage per jurisdiction."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from core.extensions import db
from core.models import Enterprise, ItemResult
from core.pdf import PDF_MIMETYPE, render_pdf
from core.services import assessments as svc
from core.services.attachments import check_uploads
from core.services.errors import NotFound, ValidationFailed
from core.services.hazards import today
from core.services.permissions import can, require
from core.services.scope import scope_of
from core.views.files import send_stored
from core.views.web import CHINA_TZ, nav
from core.views.web.forms import posted

bp = Blueprint("assessments", __name__, url_prefix="/assessments")
nav.add("assessments.index", "标准化自评", "assessment.view", 45, group="standardization")
nav.add("assessments.coverage", "标准化覆盖", "standardization.coverage", 46, audience="government", group="standardization")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _own_enterprise() -> int | None:
    return scope_of(current_user).enterprise_id


def _attachment(filename: str) -> str:
    ascii_name = "anjian." + filename.rsplit(".", 1)[-1]
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def _version() -> int | None:
    raw = posted().get("version", "")
    return int(raw) if raw.isdigit() else None


def _year(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


def _flash_errors(exc: ValidationFailed) -> None:
    flash("；".join(m for msgs in exc.errors.values() for m in msgs), "error")


# --- lists ----------------------------------------------------------------------------------------------------------

@bp.get("/")
@login_required
def index():
    require(current_user, "assessment.view")
    ent_id = _own_enterprise()
    year = _year(request.args.get("year"))
    items = svc.list_assessments(db.session, current_user, enterprise_id=ent_id, year=year)
    lifecycle = svc.get_lifecycle(db.session, current_user, ent_id) if ent_id else None
    return render_template("assessments/index.html", assessments=items, year=year, this_year=today().year,
                           lifecycle=lifecycle, enterprise=db.session.get(Enterprise, ent_id) if ent_id else None,
                           grades=svc.grade_labels())


@bp.post("/new")
@login_required
def create():
    require(current_user, "assessment.edit")
    ent_id = _own_enterprise()
    if ent_id is None:
        raise NotFound()
    try:
        a = svc.create_assessment(db.session, current_user, ent_id, {
            "year": posted().get("year"), "team_leader": posted().get("team_leader"),
            "team_members": posted().get("team_members", "")})
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        _flash_errors(exc)
        return redirect(url_for(".index"))
    flash(f"已创建 {a.year} 年度自评（{len(a.items)} 个评分项）", "success")
    return redirect(url_for(".detail", assessment_id=a.id))


# --- one assessment ------------------------------------------------------------------------------------------------

def _detail(a, errors: dict | None = None, status: int = 200):
    result = svc.result_of(a)
    deducted = [it for it in a.items if it.is_deducted]
    return render_template("assessments/detail.html", a=a, result=result, deducted=deducted,
                           grades=svc.grade_labels(a.grade_rules or None), errors=errors or {},
                           editable=a.is_editable and can(current_user, "assessment.edit"),
                           rules=a.grade_rules or svc.grade_rules()), status


@bp.get("/<int:assessment_id>")
@login_required
def detail(assessment_id: int):
    return _detail(svc.get_assessment(db.session, current_user, assessment_id))


@bp.get("/<int:assessment_id>/elements/<code>")
@login_required
def element(assessment_id: int, code: str):
    a = svc.get_assessment(db.session, current_user, assessment_id)
    return _element(a, code)


def _element(a, code: str, errors: dict | None = None, posted: dict | None = None, status: int = 200):
    items = [it for it in a.items if it.element_code == code]
    if not items:
        raise NotFound()
    codes = list(dict.fromkeys(it.element_code for it in a.items))
    i = codes.index(code)
    return render_template(
        "assessments/element.html", a=a, items=items, element_name=items[0].element_name, code=code,
        prev_code=codes[i - 1] if i else None, next_code=codes[i + 1] if i + 1 < len(codes) else None,
        evidence=svc.evidence_of(db.session, items), errors=errors or {}, posted=posted or {},
        editable=a.is_editable and can(current_user, "assessment.edit"), results=ItemResult), status


@bp.post("/<int:assessment_id>/elements/<code>")
@login_required
def element_save(assessment_id: int, code: str):
    a = svc.get_assessment(db.session, current_user, assessment_id)
    ids = [it.id for it in a.items if it.element_code == code]
    if not ids:
        raise NotFound()
    form = posted()
    answers = {i: {"item_id": i, **{f: form.get(f"{f}_{i}", "") for f in
                                   ("result", "score", "deduction", "reason", "vetoed", "na_reason", "comment")}}
               for i in ids if f"result_{i}" in form}
    try:
        svc.save_items(db.session, current_user, assessment_id, _version(), list(answers.values()))
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        a = svc.get_assessment(db.session, current_user, assessment_id)
        return _element(a, code, exc.errors, answers, 422)
    flash("已保存", "success")
    nxt = posted().get("next")
    if nxt and nxt != code:
        return redirect(url_for(".element", assessment_id=assessment_id, code=nxt))
    return redirect(url_for(".detail", assessment_id=assessment_id) if nxt == "" else
                    url_for(".element", assessment_id=assessment_id, code=code))


@bp.post("/<int:assessment_id>/team")
@login_required
def team(assessment_id: int):
    try:
        svc.update_team(db.session, current_user, assessment_id, {
            "version": _version(), "team_leader": posted().get("team_leader"),
            "team_members": posted().get("team_members", ""),
            "deaths_in_window": posted().get("deaths_in_window")})
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        return _detail(svc.get_assessment(db.session, current_user, assessment_id), exc.errors, 422)
    flash("自评组信息已保存", "success")
    return redirect(url_for(".detail", assessment_id=assessment_id))


@bp.post("/<int:assessment_id>/submit")
@login_required
def submit(assessment_id: int):
    try:
        a = svc.submit(db.session, current_user, assessment_id,
                       {"version": _version(), "signer_name": posted().get("signer_name")})
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        return _detail(svc.get_assessment(db.session, current_user, assessment_id), exc.errors, 422)
    flash(f"自评已签字提交：得分 {a.score:g}，{svc.grade_labels()[a.grade]}", "success")
    return redirect(url_for(".detail", assessment_id=assessment_id))


@bp.post("/<int:assessment_id>/review")
@login_required
def review(assessment_id: int):
    try:
        a = svc.review(db.session, current_user, assessment_id, {
            "version": _version(), "decision": posted().get("decision"), "comment": posted().get("comment")})
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        return _detail(svc.get_assessment(db.session, current_user, assessment_id), exc.errors, 422)
    flash("审核通过，自评已锁定" if a.status == "accepted" else "已退回企业修改", "success")
    return redirect(url_for(".detail", assessment_id=assessment_id))


@bp.post("/<int:assessment_id>/hazards")
@login_required
def hazards(assessment_id: int):
    try:
        made = svc.create_hazards(db.session, current_user, assessment_id, posted().getlist("item_ids"))
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        _flash_errors(exc)
        return redirect(url_for(".detail", assessment_id=assessment_id))
    flash(f"已登记 {len(made)} 项隐患，进入隐患闭环管理", "success")
    return redirect(url_for(".detail", assessment_id=assessment_id))


@bp.post("/<int:assessment_id>/items/<int:item_id>/evidence")
@login_required
def evidence_upload(assessment_id: int, item_id: int):
    a = svc.get_assessment(db.session, current_user, assessment_id)
    code = next((it.element_code for it in a.items if it.id == item_id), None)
    if code is None:
        raise NotFound()
    try:
        uploads = check_uploads(request.files.getlist("files"), field="files")
        svc.add_evidence(db.session, current_user, assessment_id, item_id, uploads, _version())
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        _flash_errors(exc)
    else:
        flash(f"已上传 {len(uploads)} 个证据文件", "success")
    return redirect(url_for(".element", assessment_id=assessment_id, code=code) + f"#item-{item_id}")


@bp.get("/<int:assessment_id>/items/<int:item_id>/evidence/<int:attachment_id>")
@login_required
def evidence_file(assessment_id: int, item_id: int, attachment_id: int):
    return send_stored(svc.get_evidence(db.session, current_user, assessment_id, item_id, attachment_id))


def _report(a) -> dict[str, Any]:
    return svc.report_context(db.session, a, datetime.now(CHINA_TZ).strftime("%Y-%m-%d %H:%M"))


@bp.get("/<int:assessment_id>/report.pdf")
@login_required
def report_pdf(assessment_id: int):
    a = svc.get_assessment(db.session, current_user, assessment_id)
    body = render_pdf("pdf/assessment.html", **_report(a))
    return Response(body, mimetype=PDF_MIMETYPE, headers={
        "Content-Disposition": _attachment(f"安全生产标准化自评报告_{a.enterprise.name}_{a.year}.pdf")})


@bp.get("/<int:assessment_id>/report.xlsx")
@login_required
def report_xlsx(assessment_id: int):
    a = svc.get_assessment(db.session, current_user, assessment_id)
    return Response(svc.workbook(_report(a)), mimetype=XLSX, headers={
        "Content-Disposition": _attachment(f"安全生产标准化自评报告_{a.enterprise.name}_{a.year}.xlsx")})


# --- enterprise: lifecycle and comparison -------------------------------------------------------------------------

@bp.get("/enterprises/<int:enterprise_id>")
@login_required
def enterprise(enterprise_id: int):
    lifecycle = svc.get_lifecycle(db.session, current_user, enterprise_id)
    cmp = svc.comparison(db.session, current_user, enterprise_id)
    return render_template("assessments/enterprise.html", enterprise=db.session.get(Enterprise, enterprise_id),
                           lifecycle=lifecycle, cmp=cmp, grades=svc.grade_labels(),
                           actions=svc.available_lifecycle_actions(lifecycle) if can(
                               current_user, "standardization.manage") else [],
                           history=svc.list_assessments(db.session, current_user, enterprise_id=enterprise_id))


@bp.post("/enterprises/<int:enterprise_id>/lifecycle/<action>")
@login_required
def lifecycle(enterprise_id: int, action: str):
    data = {k: posted().get(k) for k in ("grade", "certificate_no", "certified_on", "reason")}
    try:
        svc.lifecycle_action(db.session, current_user, enterprise_id, action, {**data, "version": _version()})
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        _flash_errors(exc)
    else:
        flash("标准化状态已更新", "success")
    return redirect(url_for(".enterprise", enterprise_id=enterprise_id))


# --- regulators: coverage -------------------------------------------------------------------------------------------

@bp.get("/coverage")
@login_required
def coverage():
    year = _year(request.args.get("year")) or today().year
    node = _year(request.args.get("node"))
    result = svc.coverage(db.session, current_user, year, node)
    return render_template("assessments/coverage.html", cov=result, categories=svc.CATEGORIES,
                           years=list(range(today().year, today().year - 5, -1)))
