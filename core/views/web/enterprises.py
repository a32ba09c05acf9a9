"""Enterprise pages: list with search and filters, detail, create/edit, import and export (R-A2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required
from marshmallow import ValidationError

from core.extensions import db
from core.plugins import plugins
from core.schemas.enterprise import (
    CREDIT_CLASSES,
    STANDARDIZATION_GRADES,
    STANDARDIZATION_STATUS,
    SUPERVISION_FIELDS,
    SUPERVISION_LEVELS,
    EnterpriseFilterIn,
    EnterpriseIn,
)
from core.services import assessments, enterprises, hazards, importexport, jurisdictions
from core.services.errors import Conflict, ValidationFailed
from core.services.permissions import can, require
from core.views.web import nav
from core.views.web.forms import flat_errors, form_data, load, posted

bp = Blueprint("enterprises", __name__, url_prefix="/enterprises")
nav.add("enterprises.index", "企业", "enterprise.view", 10, audience="government")


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text | number | date | bool | select | jurisdiction | grid | agency
    choices: tuple[tuple[str, str], ...] = ()
    required: bool = False


FORM_SECTIONS: list[tuple[str, list[Field]]] = [
    ("基本信息", [
        Field("name", "单位名称", required=True),
        Field("uscc", "统一社会信用代码", required=True),
        Field("address", "地址"),
        Field("industry_code", "行业代码（GB/T 4754）"),
        Field("industry_name", "行业名称"),
        Field("employee_count", "从业人员数", "number"),
        Field("longitude", "经度", "number"),
        Field("latitude", "纬度", "number"),
    ]),
    ("属地与监管", [
        Field("jurisdiction_id", "所属辖区", "jurisdiction", required=True),
        Field("grid_id", "所在网格", "grid"),
        Field("supervising_agency_id", "监管主体", "agency"),
        Field("supervision_level", "分级分类监管层级", "select", tuple(SUPERVISION_LEVELS.items())),
        Field("is_high_risk", "高危行业", "bool"),
        Field("is_above_scale", "规模以上", "bool"),
        Field("is_key_industry", "重点行业领域", "bool"),
        Field("is_small_micro", "中小微企业", "bool"),
        Field("standardization_status", "标准化状态", "select", tuple(STANDARDIZATION_STATUS.items())),
        Field("standardization_grade", "标准化等级", "select", tuple((g, g) for g in STANDARDIZATION_GRADES)),
        Field("credit_class", "信用等级", "select", tuple((c, c) for c in CREDIT_CLASSES)),
        Field("is_active", "在营", "bool"),
    ]),
    ("人员", [
        Field("legal_representative", "法定代表人"),
        Field("actual_controller", "实际控制人"),
        Field("principal_name", "主要负责人"),
        Field("principal_phone", "主要负责人电话"),
        Field("safety_manager_name", "安全管理人员"),
        Field("safety_manager_phone", "安全管理人员电话"),
    ]),
    ("安全生产责任保险", [
        Field("insurance_company", "承保机构"),
        Field("insurance_start", "起期", "date"),
        Field("insurance_end", "止期", "date"),
    ]),
]
FLAG_FILTERS = [("is_high_risk", "高危"), ("is_above_scale", "规上"), ("is_key_industry", "重点行业"),
                ("is_small_micro", "中小微")]


def _filters() -> dict[str, Any]:
    try:
        return EnterpriseFilterIn().load(request.args.to_dict())
    except ValidationError as exc:
        flash("筛选条件有误：" + "；".join(f"{k} {v[0]}" for k, v in flat_errors(exc.messages).items()), "error")
        return {}


@bp.get("/")
@login_required
def index():
    filters = _filters()
    page = enterprises.list_enterprises(
        db.session, current_user, filters, after=filters.get("after"), size=filters.get("size") or 20
    )
    nodes = jurisdictions.list_jurisdictions(db.session, current_user) if can(current_user, "jurisdiction.view") else []
    args = {k: v for k, v in request.args.items() if k != "after" and v}
    more_open = any(filters.get(k) is not None for k, _ in FLAG_FILTERS) or bool(filters.get("sector"))
    return render_template("enterprises/list.html", page=page, filters=filters, nodes=nodes, args=args,
                           flag_filters=FLAG_FILTERS, more_open=more_open)


@bp.get("/<int:enterprise_id>")
@login_required
def detail(enterprise_id: int):
    ent = enterprises.get_enterprise(db.session, current_user, enterprise_id)
    sections = []
    registry = plugins()
    for row in ent.sectors:
        spec = registry.enterprise_fields.get(row.sector)
        sections.append({"row": row, "name": registry.sector_name(row.sector), "template": spec.template if spec else None})
    hazard_counts = hazards.enterprise_counts(db.session, current_user, ent.id)
    return render_template("enterprises/detail.html", ent=ent, sections=sections, hazard_counts=hazard_counts,
                           levels=SUPERVISION_LEVELS, std_status=STANDARDIZATION_STATUS,
                           std_grades=assessments.grade_labels())


def _form_context(ent=None, values=None, errors=None) -> dict[str, Any]:
    gov = can(current_user, "jurisdiction.view")
    nodes = jurisdictions.list_jurisdictions(db.session, current_user) if gov else []
    return {
        "ent": ent,
        "sections": FORM_SECTIONS,
        "values": values or {},
        "errors": flat_errors(errors or {}),
        "locked": set() if can(current_user, "enterprise.update_supervision") else SUPERVISION_FIELDS,
        "areas": [n for n in nodes if n.level != "grid"],
        "grids": [n for n in nodes if n.level == "grid"],
        "agencies": jurisdictions.list_agencies(db.session, current_user) if gov else [],
        "sectors": plugins().sectors,
    }


def _values_of(ent) -> dict[str, Any]:
    values = {f.name: getattr(ent, f.name) for _, fields in FORM_SECTIONS for f in fields}
    values["sectors"] = {s.sector: list(s.activities or []) for s in ent.sectors}
    values["version"] = ent.version
    return values


def _posted(ent=None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Form post → (schema input, values to re-render).

    A sector is kept, added or removed by its box (``sector_<code>``, after a hidden ``0``); its activities come
    from the ``activity_<code>`` group when the form showed it. An enabled sector whose box was not on the form
    and every sector's data, which this form does not edit, are carried over unchanged; a disabled plugin's
    sector is not on the form and the service keeps it (enterprises.update_enterprise)."""
    form = posted()
    raw = form_data()
    for key in list(raw):
        if key.startswith(("sector_", "activity_")):
            raw.pop(key)
    existing = {s.sector: s for s in ent.sectors} if ent is not None else {}
    chosen: dict[str, list[str]] = {}
    for code in plugins().sectors:  # a disabled plugin's sector is kept by the service itself
        shown = form.flag(f"sector_{code}")
        if shown is False or (shown is None and code not in existing):
            continue
        row = existing.get(code)
        chosen[code] = (form.getlist(f"activity_{code}") if form.shown(f"activity_{code}") or row is None
                        else list(row.activities or []))
    raw["sectors"] = [{"sector": c, "activities": acts, "data": existing[c].data if c in existing else {}}
                      for c, acts in chosen.items()]
    if ent is not None and not can(current_user, "enterprise.update_supervision"):
        for key in SUPERVISION_FIELDS:
            raw.pop(key, None)
    return raw, {**raw, "sectors": chosen}


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    require(current_user, "enterprise.create")
    if request.method == "POST":
        raw, values = _posted()
        try:
            ent = enterprises.create_enterprise(db.session, current_user, load(EnterpriseIn(), raw))
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            return render_template("enterprises/form.html", **_form_context(None, values, exc.errors)), 422
        flash(f"已新增企业：{ent.name}", "success")
        return redirect(url_for(".detail", enterprise_id=ent.id))
    return render_template("enterprises/form.html", **_form_context(None, {"is_active": True}))


@bp.route("/<int:enterprise_id>/edit", methods=["GET", "POST"])
@login_required
def edit(enterprise_id: int):
    ent = enterprises.get_enterprise(db.session, current_user, enterprise_id)
    require(current_user, "enterprise.update")
    if request.method == "POST":
        raw, values = _posted(ent)
        try:
            enterprises.update_enterprise(db.session, current_user, ent.id, load(EnterpriseIn(), raw, partial=True))
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            ent = enterprises.get_enterprise(db.session, current_user, enterprise_id)
            return render_template("enterprises/form.html", **_form_context(ent, values, exc.errors)), 422
        except Conflict as exc:
            # Someone saved in between: keep what this user typed, show the current record beside it, and let
            # them save again knowingly against the current version.
            db.session.rollback()
            ent = enterprises.get_enterprise(db.session, current_user, enterprise_id)
            values["version"] = ent.version
            context = _form_context(ent, values)
            return render_template("enterprises/form.html", conflict=exc.message, current=_values_of(ent),
                                   **context), 409
        flash("已保存", "success")
        return redirect(url_for(".detail", enterprise_id=ent.id))
    return render_template("enterprises/form.html", **_form_context(ent, _values_of(ent)))


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_():
    require(current_user, "enterprise.import")
    report = None
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            report = importexport.import_enterprises(db.session, current_user, upload)
        except ValidationFailed as exc:
            db.session.rollback()
            report = importexport.ImportReport(errors=[importexport.RowError(0, "文件", m)
                                                       for msgs in exc.errors.values() for m in msgs])
        if report.ok:
            db.session.commit()
            flash(f"导入成功：新增 {report.created} 家，更新 {report.updated} 家", "success")
            return redirect(url_for(".index"))
        db.session.rollback()
    status = 422 if report is not None and not report.ok else 200
    return render_template("enterprises/import.html", report=report, columns=importexport.COLUMNS), status


@bp.get("/import/template.<fmt>")
@login_required
def import_template(fmt: str):
    require(current_user, "enterprise.import")
    if fmt not in ("xlsx", "csv"):
        abort(404)
    body, mimetype = importexport.template(fmt)
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": _attachment(f"企业导入模板.{fmt}")})


@bp.get("/export.<fmt>")
@login_required
def export(fmt: str):
    require(current_user, "enterprise.export")
    if fmt not in ("xlsx", "csv"):
        abort(404)
    stream, mimetype = importexport.export_enterprises(db.session, current_user, _filters(), fmt)
    return Response(stream_with_context(stream), mimetype=mimetype, headers={"Content-Disposition": _attachment(f"企业清单.{fmt}")})


def _attachment(filename: str) -> str:
    from urllib.parse import quote

    ascii_name = "anjian." + filename.rsplit(".", 1)[-1]
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
