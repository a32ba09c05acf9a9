"""Risk register pages (双重预防, R-R1, R-R2): the register with filters, a risk point with its measures, tasks and
hidden dangers, the forms (assessment by LEC or L×S with the value tables), the due checks of an enterprise, the
regulator's 重大/较大 list, and the four-colour maps (四色图) of an enterprise and of a jurisdiction."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from marshmallow import ValidationError

from core.extensions import db
from core.models import RiskGrade
from core.plugins import plugins
from core.models.hazard import HAZARD_CATEGORIES
from core.models.risk import RISK_CATEGORIES
from core.schemas.risk import (
    CONTROL_LEVELS,
    GRADES,
    MEASURE_KINDS,
    PERIODS,
    UPDATE_PARTIAL,
    CheckIn,
    DueFilterIn,
    MeasureIn,
    MeasureUpdateIn,
    PlacementIn,
    RiskFilterIn,
    RiskPointIn,
    RiskPointUpdateIn,
    SupervisionFilterIn,
    TaskIn,
    TaskUpdateIn,
    VersionIn,
)
from core.services import enterprises, hazards, inspections, jurisdictions, onemap, risk_methods, risks
from core.services.attachments import check_uploads, storage_path
from core.services.errors import Conflict, NotFound, ValidationFailed
from core.services.permissions import can, require
from core.views.files import send_stored
from core.views.web import nav
from core.views.web.forms import flat_errors, form_data, load, posted

bp = Blueprint("risks", __name__, url_prefix="/risks")
nav.add("risks.index", "风险清单", "risk.view", 30, group="risks")
nav.add("risks.due", "排查任务", "risk.check", 31, audience="enterprise", group="risks")
nav.add("risks.supervision", "重大较大风险", "risk.supervise", 32, audience="government", group="risks")
nav.add("risks.my_map", "四色图", "risk.view", 33, group="risks")
nav.add("risks.one_map", "一张图", "risk.supervise", 34, audience="government", group="risks")

POINT_FIELDS = [
    ("name", "风险点名称", True), ("location", "位置", False), ("possible_accidents", "可能导致的事故类型", False),
]
RESPONSIBLE_FIELDS = [("responsible_company", "公司级"), ("responsible_workshop", "车间（部门）级"),
                      ("responsible_team", "班组级"), ("responsible_post", "岗位级")]


def _num(value: Any) -> str:
    """A factor value as the form posts it (10, 0.5): no trailing .0."""
    return "" if value is None or value == "" else f"{float(value):g}"


def _hazard_url(hazard_id: int) -> str | None:
    """Link to the hidden-danger page when the hazards module provides one."""
    if "hazards.detail" in current_app.view_functions:
        return url_for("hazards.detail", hazard_id=hazard_id)
    return None


@bp.app_template_filter("risk_num")
def _risk_num(value: Any) -> str:
    return _num(value)


def _checklists(point) -> list[tuple[str, str]]:
    """(code, title) of the checklists that apply to the point's enterprise, for a task's 按检查表排查."""
    return [(c.code, c.title) for c in inspections.applicable_checklists(point.enterprise)]


def _common() -> dict[str, Any]:
    return {"grades": GRADES, "categories": RISK_CATEGORIES, "RiskGrade": RiskGrade,
            "grade_order": risks.GRADE_ORDER, "periods": PERIODS, "kinds": MEASURE_KINDS,
            "control_levels": CONTROL_LEVELS}


def _filters(schema) -> dict[str, Any]:
    try:
        return schema.load(request.args.to_dict())
    except ValidationError as exc:
        flash("筛选条件有误：" + "；".join(f"{k} {v[0]}" for k, v in flat_errors(exc.messages).items()), "error")
        return {}


# --- register ----------------------------------------------------------------------------------------------------

@bp.get("/")
@login_required
def index():
    filters = _filters(RiskFilterIn())
    if current_user.enterprise_id:
        filters["enterprise_id"] = current_user.enterprise_id
    page = risks.list_risk_points(db.session, current_user, filters, after=filters.get("after"),
                                  size=filters.get("size") or 20)
    enterprise = None
    if filters.get("enterprise_id"):
        enterprise = enterprises.get_enterprise(db.session, current_user, filters["enterprise_id"])
    counts = risks.grade_counts(db.session, current_user, enterprise_id=filters.get("enterprise_id"),
                                jurisdiction_id=filters.get("jurisdiction_id"))
    nodes = jurisdictions.list_jurisdictions(db.session, current_user) if can(current_user, "jurisdiction.view") else []
    args = {k: v for k, v in request.args.items() if k != "after" and v}
    return render_template("risks/list.html", page=page, filters=filters, args=args, counts=counts,
                           enterprise=enterprise, nodes=[n for n in nodes if n.level != "grid"], **_common())


@bp.get("/<int:point_id>")
@login_required
def detail(point_id: int):
    point = risks.get_risk_point(db.session, current_user, point_id)
    method = risk_methods.methods().get(point.method)
    linked = risks.linked_hazards(db.session, current_user, point)
    return render_template("risks/detail.html", point=point, method=method, hazards=linked,
                           checks=risks.recent_checks(db.session, current_user, point),
                           hazard_url=_hazard_url, today=hazards.today(), levels=hazards.level_labels(), **_common())


# --- risk point form ---------------------------------------------------------------------------------------------

def _form_context(point=None, values=None, errors=None) -> dict[str, Any]:
    methods = risk_methods.methods()
    return {"point": point, "values": values or {}, "errors": flat_errors(errors or {}), "methods": methods,
            "methods_json": {code: m.as_json() for code, m in methods.items()}, "point_fields": POINT_FIELDS,
            "responsible_fields": RESPONSIBLE_FIELDS, **_common()}


def _values_of(point) -> dict[str, Any]:
    values = {name: getattr(point, name) for name in (*risks._POINT_FIELDS, "method")}
    values.update({f"f_{point.method}_{k}": _num(v) for k, v in (point.inputs or {}).items()})
    values["version"] = point.version
    return values


def _posted() -> tuple[dict[str, Any], dict[str, Any]]:
    """Form post → (schema input, values to re-render). Factor selects are named ``f_<method>_<factor>``; only
    the chosen method's go into ``inputs``."""
    raw = form_data()
    values = dict(raw)
    chosen = raw.get("method") or ""
    inputs = {}
    for key in [k for k in raw if k.startswith("f_")]:
        value = raw.pop(key)
        code, _, factor = key[2:].partition("_")
        if code == chosen and value not in (None, ""):
            inputs[factor] = value
    raw["inputs"] = inputs
    return raw, values


def _load_point(schema, raw: dict[str, Any]) -> dict[str, Any]:
    """Load the form with ``schema``; when other fields are wrong, check the assessment too, so that every
    message shows at once."""
    try:
        return load(schema, raw)
    except ValidationFailed as exc:
        errors = dict(exc.errors)
        if "method" not in errors and "inputs" not in errors and raw.get("method"):
            try:
                risk_methods.assess(risk_methods.method(raw["method"]), raw.get("inputs") or {})
            except ValidationFailed as more:
                errors.update(more.errors)
        raise ValidationFailed(errors) from None


def _with_inputs_errors(errors: dict[str, Any], method: str | None) -> dict[str, Any]:
    """``{"inputs": {"L": […]}}`` → ``{"f_LEC_L": […]}`` so that the messages sit beside the selects."""
    out = {k: v for k, v in errors.items() if k != "inputs"}
    inputs = errors.get("inputs")
    if isinstance(inputs, dict):
        out.update({f"f_{method}_{k}": v for k, v in inputs.items()})
    elif inputs:
        out["method"] = list(inputs)
    return out


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    require(current_user, "risk.manage")
    if request.method == "POST":
        raw, values = _posted()
        try:
            point = risks.create_risk_point(db.session, current_user, _load_point(RiskPointIn(), raw))
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            errors = _with_inputs_errors(exc.errors, raw.get("method"))
            return render_template("risks/form.html", **_form_context(None, values, errors)), 422
        flash(f"已新增风险点：{point.name}（{point.grade_label}，{point.method} {point.score:g}）", "success")
        return redirect(url_for(".detail", point_id=point.id))
    first = next(iter(risk_methods.methods()))
    return render_template("risks/form.html", **_form_context(None, {"method": first}))


@bp.route("/<int:point_id>/edit", methods=["GET", "POST"])
@login_required
def edit(point_id: int):
    point = risks.get_risk_point(db.session, current_user, point_id)
    require(current_user, "risk.manage")
    if request.method == "POST":
        raw, values = _posted()
        try:
            risks.update_risk_point(db.session, current_user, point.id,
                                    _load_point(RiskPointUpdateIn(partial=UPDATE_PARTIAL), raw))
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            point = risks.get_risk_point(db.session, current_user, point_id)
            errors = _with_inputs_errors(exc.errors, raw.get("method"))
            return render_template("risks/form.html", **_form_context(point, values, errors)), 422
        except Conflict as exc:
            db.session.rollback()
            point = risks.get_risk_point(db.session, current_user, point_id)
            values["version"] = point.version
            return render_template("risks/form.html", conflict=exc.message, **_form_context(point, values)), 409
        flash("已保存", "success")
        return redirect(url_for(".detail", point_id=point_id))
    return render_template("risks/form.html", **_form_context(point, _values_of(point)))


@bp.post("/<int:point_id>/active")
@login_required
def set_active(point_id: int):
    risks.get_risk_point(db.session, current_user, point_id)
    require(current_user, "risk.manage")
    active = posted().get("active") == "1"
    data = load(VersionIn(), {"version": posted().get("version")})
    point = risks.set_risk_point_active(db.session, current_user, point_id, data["version"], active)
    db.session.commit()
    flash(f"已{'启用' if active else '停用'}风险点：{point.name}", "success")
    return redirect(url_for(".detail", point_id=point_id))


@bp.post("/enterprises/<int:enterprise_id>/place")
@login_required
def place(enterprise_id: int):
    """Put a risk point on the site plan: the map page's form names the point (``point_id``, the select) and
    carries each placeable point's version (``version_<id>``), so it works without a script too; the script only
    fills the numbers from a click on the plan."""
    ent = enterprises.get_enterprise(db.session, current_user, enterprise_id)
    require(current_user, "risk.manage")
    back = url_for(".enterprise_map", enterprise_id=ent.id)
    form = posted()
    point_id = form.integer("point_id")
    if point_id is None:
        flash("位置无效：请选择要放置的风险点", "error")
        return redirect(back)
    point = risks.get_risk_point(db.session, current_user, point_id)
    if point.enterprise_id != ent.id:
        raise NotFound()
    try:
        data = load(PlacementIn(), {"version": form.get(f"version_{point_id}"), "plan_x": form.get("plan_x"),
                                    "plan_y": form.get("plan_y")})
        risks.update_risk_point(db.session, current_user, point_id, data)
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        flash("位置无效：" + "；".join(m for msgs in flat_errors(exc.errors).values() for m in msgs), "error")
        return redirect(back)
    flash(f"已放置风险点：{point.name}", "success")
    return redirect(back)


# --- control measures and tasks ----------------------------------------------------------------------------------

@bp.route("/<int:point_id>/measures/new", methods=["GET", "POST"])
@login_required
def measure_new(point_id: int):
    point = risks.get_risk_point(db.session, current_user, point_id)
    require(current_user, "risk.manage")
    values, errors = {}, {}
    if request.method == "POST":
        values = form_data()
        try:
            risks.add_measure(db.session, current_user, point_id, load(MeasureIn(), values))
            db.session.commit()
            flash("已新增管控措施", "success")
            return redirect(url_for(".detail", point_id=point_id))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = flat_errors(exc.errors)
    return render_template("risks/measure_form.html", point=point, measure=None, values=values, errors=errors,
                           **_common()), 422 if errors else 200


@bp.route("/<int:point_id>/measures/<int:measure_id>/edit", methods=["GET", "POST"])
@login_required
def measure_edit(point_id: int, measure_id: int):
    measure = risks.get_measure(db.session, current_user, point_id, measure_id)
    require(current_user, "risk.manage")
    point = measure.risk_point
    values = {"kind": measure.kind, "description": measure.description, "level": measure.level,
              "version": point.version}
    errors, conflict, status = {}, None, 200
    if request.method == "POST":
        values = form_data()
        try:
            risks.update_measure(db.session, current_user, point_id, measure_id, load(MeasureUpdateIn(), values))
            db.session.commit()
            flash("已保存管控措施", "success")
            return redirect(url_for(".detail", point_id=point_id))
        except ValidationFailed as exc:
            db.session.rollback()
            errors, status = flat_errors(exc.errors), 422
        except Conflict as exc:
            db.session.rollback()
            conflict, status = exc.message, 409
        measure = risks.get_measure(db.session, current_user, point_id, measure_id)
        point = measure.risk_point
        if conflict:
            values["version"] = point.version
    return render_template("risks/measure_form.html", point=point, measure=measure, values=values, errors=errors,
                           conflict=conflict, **_common()), status


def _assignees(point) -> list[tuple[int, str]]:
    from sqlalchemy import select

    from core.models import User

    return [(u.id, u.display_name) for u in db.session.scalars(
        select(User).where(User.enterprise_id == point.enterprise_id, User.is_active.is_(True))
        .order_by(User.display_name))]


@bp.route("/<int:point_id>/tasks/new", methods=["GET", "POST"])
@login_required
def task_new(point_id: int):
    point = risks.get_risk_point(db.session, current_user, point_id)
    require(current_user, "risk.manage")
    values: dict[str, Any] = {"measure_id": request.args.get("measure_id"), "period": "monthly",
                              "next_due": hazards.today().isoformat()}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = form_data()
        try:
            risks.add_task(db.session, current_user, point_id, load(TaskIn(), values))
            db.session.commit()
            flash("已新增排查任务", "success")
            return redirect(url_for(".detail", point_id=point_id))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = flat_errors(exc.errors)
        except NotFound:
            db.session.rollback()
            errors = {"measure_id": ["请选择本风险点的管控措施"]}
        point = risks.get_risk_point(db.session, current_user, point_id)
    return render_template("risks/task_form.html", point=point, task=None, values=values, errors=errors,
                           assignees=_assignees(point), checklists=_checklists(point), **_common()), 422 if errors else 200


@bp.route("/tasks/<int:task_id>/edit", methods=["GET", "POST"])
@login_required
def task_edit(task_id: int):
    task = risks.get_task(db.session, current_user, task_id)
    require(current_user, "risk.manage")
    fields = ("content", "assignee_user_id", "assignee_name", "period", "next_due", "is_active", "checklist_code",
              "version")
    values = {k: getattr(task, k) for k in fields}
    errors, conflict, status = {}, None, 200
    if request.method == "POST":
        values = form_data()
        try:
            risks.update_task(db.session, current_user, task_id, load(TaskUpdateIn(), values))
            db.session.commit()
            flash("已保存排查任务", "success")
            return redirect(url_for(".detail", point_id=task.measure.risk_point_id))
        except ValidationFailed as exc:
            db.session.rollback()
            errors, status = flat_errors(exc.errors), 422
        except Conflict as exc:
            db.session.rollback()
            conflict, status = exc.message, 409
        task = risks.get_task(db.session, current_user, task_id)
        if conflict:
            values["version"] = task.version
    point = task.measure.risk_point
    return render_template("risks/task_form.html", point=point, task=task, values=values, errors=errors,
                           conflict=conflict, assignees=_assignees(point), checklists=_checklists(point),
                           **_common()), status


# --- due checks --------------------------------------------------------------------------------------------------

@bp.get("/due")
@login_required
def due():
    require(current_user, "risk.check")
    today = hazards.today()
    on = _filters(DueFilterIn()).get("on") or today
    tasks = risks.due_tasks(db.session, current_user, on)
    return render_template("risks/due.html", tasks=tasks, on=on, today=today, **_common())


@bp.route("/tasks/<int:task_id>/check", methods=["GET", "POST"])
@login_required
def check(task_id: int):
    task = risks.get_task(db.session, current_user, task_id)
    require(current_user, "risk.check")
    values: dict[str, Any] = {"version": task.version, "passed": "", "category": "thing",
                              "done_on": hazards.today().isoformat()}
    errors: dict[str, list[str]] = {}
    conflict, status = None, 200
    if request.method == "POST":
        values = form_data()
        try:
            errs: dict[str, Any] = {}
            data: dict[str, Any] = {}
            try:
                data = load(CheckIn(), values)
            except ValidationFailed as exc:
                errs.update(exc.errors)
            try:
                uploads = check_uploads(request.files.getlist("photos"), "photos", images_only=True)
            except ValidationFailed as exc:
                errs.update(exc.errors)
            if errs:
                raise ValidationFailed(errs)
            if data["passed"]:
                uploads = []  # photos document a hidden danger; a passed check registers none
            result = risks.record_check(db.session, current_user, task_id, data, uploads=uploads)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            errors, status = flat_errors(exc.errors), 422
        except Conflict as exc:
            db.session.rollback()
            conflict, status = exc.message, 409
        else:
            if result.hazard_id:
                flash(f"已记录排查不合格，并登记隐患（编号 {result.hazard_id}），请在隐患台账中下达整改", "success")
            else:
                flash(f"已记录排查合格，下次应排查日期 {task.next_due.isoformat()}", "success")
            return redirect(url_for(".due"))
        task = risks.get_task(db.session, current_user, task_id)
        if conflict:
            values["version"] = task.version
    return render_template("risks/check_form.html", task=task, values=values, errors=errors, conflict=conflict,
                           hazard_categories=HAZARD_CATEGORIES, levels=hazards.level_labels(), **_common()), status


# --- regulator's list --------------------------------------------------------------------------------------------

@bp.get("/supervision")
@login_required
def supervision():
    require(current_user, "risk.supervise")
    filters = _filters(SupervisionFilterIn())
    page = risks.supervision_list(db.session, current_user, filters, after=filters.get("after"),
                                  size=filters.get("size") or 20)
    counts = risks.grade_counts(db.session, current_user, jurisdiction_id=filters.get("jurisdiction_id"))
    nodes = [n for n in jurisdictions.list_jurisdictions(db.session, current_user) if n.level != "grid"]
    args = {k: v for k, v in request.args.items() if k != "after" and v}
    return render_template("risks/supervision.html", page=page, filters=filters, counts=counts, nodes=nodes,
                           args=args, **_common())


# --- four-colour maps --------------------------------------------------------------------------------------------

@bp.get("/map")
@login_required
def my_map():
    """The menu's 四色图: an enterprise user's own map, a government user's jurisdiction map."""
    require(current_user, "risk.view")
    if current_user.enterprise_id:
        return redirect(url_for(".enterprise_map", enterprise_id=current_user.enterprise_id))
    require(current_user, "risk.supervise")
    return redirect(url_for(".area_map"))


def _enterprise_map(enterprise_id: int):
    ent = enterprises.get_enterprise(db.session, current_user, enterprise_id)
    view, plan = risks.enterprise_map(
        db.session, current_user, ent.id,
        plan_url=url_for(".site_plan", enterprise_id=ent.id, v=0),
        point_url=lambda p: url_for(".detail", point_id=p.id))
    if plan is not None:
        view.background = url_for(".site_plan", enterprise_id=ent.id, v=plan.id)
    return ent, view, plan


@bp.get("/enterprises/<int:enterprise_id>/map")
@login_required
def enterprise_map(enterprise_id: int):
    ent, view, plan = _enterprise_map(enterprise_id)
    counts = risks.grade_counts(db.session, current_user, enterprise_id=ent.id)
    placeable = [m.ref for m in view.markers] + list(view.unplaced) if view.kind == "plan" else []
    return render_template("risks/map.html", ent=ent, view=view, plan=plan, counts=counts, placeable=placeable,
                           title=f"{ent.name} 安全风险四色分布图", **_common())


def _svg(body: str, filename: str) -> Response:
    from urllib.parse import quote

    return Response(body, mimetype="image/svg+xml", headers={
        "Content-Disposition": f"inline; filename=\"risk-map.svg\"; filename*=UTF-8''{quote(filename)}",
        "X-Content-Type-Options": "nosniff"})


@bp.get("/enterprises/<int:enterprise_id>/map.svg")
@login_required
def enterprise_map_svg(enterprise_id: int):
    ent, view, _ = _enterprise_map(enterprise_id)
    title = f"{ent.name} 安全风险四色分布图"
    return _svg(render_template("risks/map.svg.html", view=view, title=title, standalone=True,
                                empty_text="暂无可在图上显示位置的风险点", **_common()), f"{title}.svg")


@bp.get("/enterprises/<int:enterprise_id>/site-plan")
@login_required
def site_plan(enterprise_id: int):
    row = risks.site_plan(db.session, current_user, enterprise_id)
    if row is None or not storage_path(row.sha256).is_file():
        abort(404)
    return send_stored(row)


@bp.post("/enterprises/<int:enterprise_id>/site-plan")
@login_required
def site_plan_upload(enterprise_id: int):
    enterprises.get_enterprise(db.session, current_user, enterprise_id)
    require(current_user, "risk.manage")
    try:
        uploads = check_uploads([request.files.get("file")], "file", images_only=True)
        if not uploads:
            raise ValidationFailed({"file": ["请选择平面图图片"]})
        risks.upload_site_plan(db.session, current_user, enterprise_id, uploads[0])
        db.session.commit()
        flash("已上传厂区平面图。请在图上点击放置各风险点。", "success")
    except ValidationFailed as exc:
        db.session.rollback()
        flash("上传失败：" + "；".join(m for msgs in flat_errors(exc.errors).values() for m in msgs), "error")
    return redirect(url_for(".enterprise_map", enterprise_id=enterprise_id))


def _area(jurisdiction_id: int | None):
    return risks.area_map(db.session, current_user, jurisdiction_id,
                          enterprise_url=lambda e: url_for(".enterprise_map", enterprise_id=e.id))


def _jurisdiction_arg() -> int | None:
    raw = request.args.get("jurisdiction_id") or ""
    return int(raw) if raw.isdigit() else None


@bp.get("/area-map")
@login_required
def area_map():
    require(current_user, "risk.supervise")
    jurisdiction_id = _jurisdiction_arg()
    view, rows = _area(jurisdiction_id)
    nodes = [n for n in jurisdictions.list_jurisdictions(db.session, current_user) if n.level != "grid"]
    counts = risks.grade_counts(db.session, current_user, jurisdiction_id=jurisdiction_id)
    return render_template("risks/area_map.html", view=view, rows=rows, nodes=nodes, counts=counts,
                           jurisdiction_id=jurisdiction_id, title="辖区安全风险四色分布图", **_common())


@bp.get("/area-map.svg")
@login_required
def area_map_svg():
    require(current_user, "risk.supervise")
    view, _ = _area(_jurisdiction_arg())
    title = "辖区安全风险四色分布图"
    return _svg(render_template("risks/map.svg.html", view=view, title=title, standalone=True,
                                empty_text="辖区内没有带经纬度且已建立风险清单的企业", **_common()), f"{title}.svg")


# --- 一张图 (issue 17 item 4) -------------------------------------------------------------------------------------

def _map_args() -> tuple[int | None, str | None]:
    raw = request.args.get("node") or ""
    sector = (request.args.get("sector") or "").strip()
    # Any sector code filters (a disabled plugin's enterprises keep their tag); the select offers enabled ones.
    return (int(raw) if raw.isdigit() else None), (sector[:40] or None)


def _map_data():
    node_id, sector = _map_args()
    try:
        return onemap.map_data(db.session, current_user, node_id=node_id, sector=sector,
                               max_points=int(current_app.config.get("MAP_MAX_POINTS", 2000)),
                               enterprise_url=lambda eid: url_for("enterprises.detail", enterprise_id=eid))
    except NotFound:
        abort(404)


@bp.get("/map-data.json")
@login_required
def map_data():
    """The map's data: child boundaries and enterprises (or counts per child node above MAP_MAX_POINTS)."""
    data = _map_data().as_json()
    _, sector = _map_args()
    for area in data["areas"]:
        area["url"] = url_for(".one_map", node=area["id"], **({"sector": sector} if sector else {}))
    for feature in data["boundaries"]["features"]:
        feature["properties"]["url"] = url_for(".one_map", node=feature["properties"]["id"],
                                               **({"sector": sector} if sector else {}))
    return jsonify(data)


@bp.get("/one-map")
@login_required
def one_map():
    """一张图: Leaflet draws ``map-data.json``; the same data as tables for readers without JavaScript."""
    require(current_user, "risk.supervise")
    node_id, sector = _map_args()
    data = _map_data()
    nodes = [n for n in jurisdictions.list_jurisdictions(db.session, current_user) if n.level != "grid"]
    params = {k: v for k, v in (("node", node_id), ("sector", sector)) if v}
    config = {"data_url": url_for(".map_data", **params), "tile_url": current_app.config.get("MAP_TILE_URL") or "",
              "attribution": current_app.config.get("MAP_TILE_ATTRIBUTION") or "",
              "base_url": url_for(".one_map")}
    return render_template("risks/one_map.html", data=data, nodes=nodes, node_id=node_id, sector=sector,
                           sectors=plugins().sectors, config=config, onemap=onemap,
                           title="一张图", **_common())
