"""Administration pages: users, jurisdictions, agencies, plugins, audit log."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from core.extensions import db
from core.models import AuditEntry, Enterprise
from core.plugins import plugins
from core.schemas.org import LEVELS, AgencyIn, JurisdictionIn
from core.schemas.user import ROLE_CHOICES, UserIn
from core.services import jurisdictions, users
from core.services.errors import ValidationFailed
from core.services.permissions import require
from core.views.web import nav
from core.views.web.forms import flat_errors, form_data, load, posted

bp = Blueprint("admin", __name__, url_prefix="/admin")
nav.add("admin.users_index", "用户", "user.manage", 80, group="admin")
nav.add("admin.jurisdictions_index", "辖区", "jurisdiction.manage", 81, group="admin")
nav.add("admin.agencies_index", "执法机关", "agency.manage", 82, group="admin")
nav.add("admin.plugins_index", "插件", "plugin.view", 83, group="admin")
nav.add("admin.audit_index", "审计日志", "audit.view", 84, group="admin")


# --- users -----------------------------------------------------------------------------------------------------

@bp.get("/users")
@login_required
def users_index():
    q = request.args.get("q", "").strip()
    role = request.args.get("role") or None
    after = request.args.get("after", type=int)
    page = users.list_users(db.session, current_user, q or None, role if role in ROLE_CHOICES else None, after=after)
    return render_template("admin/users.html", page=page, q=q, role=role, roles=ROLE_CHOICES)


def _user_form(user, values, errors, status=200):
    require(current_user, "user.manage")
    nodes = jurisdictions.list_jurisdictions(db.session, current_user)
    ents = db.session.execute(select(Enterprise.id, Enterprise.name).order_by(Enterprise.name).limit(2000)).all()
    return render_template("admin/user_form.html", user=user, values=values, errors=flat_errors(errors or {}),
                           roles=ROLE_CHOICES, nodes=nodes, agencies=jurisdictions.list_agencies(db.session, current_user),
                           enterprises=ents), status


@bp.route("/users/new", methods=["GET", "POST"], endpoint="user_new")
@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"], endpoint="user_edit")
@login_required
def user_form(user_id: int | None = None):
    user = users.get_user(db.session, current_user, user_id) if user_id else None
    require(current_user, "user.manage")
    if request.method == "POST":
        raw = form_data(lists=("roles",))
        raw.setdefault("roles", [])
        if user is not None and not raw.get("password"):
            raw.pop("password", None)
        try:
            saved = users.save_user(db.session, current_user, load(UserIn(), raw, partial=user is not None), user_id)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            user = users.get_user(db.session, current_user, user_id) if user_id else None
            return _user_form(user, raw, exc.errors, 422)
        flash(f"已保存用户 {saved.username}", "success")
        return redirect(url_for(".users_index"))
    values = {}
    if user is not None:
        values = {k: getattr(user, k) for k in ("username", "display_name", "phone", "enterprise_id", "jurisdiction_id",
                                                 "agency_id", "cert_number", "cert_valid_until", "is_active", "version")}
        values["roles"] = [r.value for r in user.roles]
    else:
        values = {"is_active": True, "roles": []}
    return _user_form(user, values, None)


# --- jurisdictions and agencies -------------------------------------------------------------------------------

@bp.get("/jurisdictions")
@login_required
def jurisdictions_index():
    require(current_user, "jurisdiction.manage")
    nodes = jurisdictions.list_jurisdictions(db.session, current_user)
    return render_template("admin/jurisdictions.html", nodes=nodes, levels=LEVELS)


@bp.route("/jurisdictions/new", methods=["GET", "POST"], endpoint="jurisdiction_new")
@bp.route("/jurisdictions/<int:node_id>/edit", methods=["GET", "POST"], endpoint="jurisdiction_edit")
@login_required
def jurisdiction_form(node_id: int | None = None):
    require(current_user, "jurisdiction.manage")
    node = jurisdictions.get_jurisdiction(db.session, current_user, node_id) if node_id else None
    errors, status = {}, 200
    if request.method == "POST":
        raw = form_data()
        try:
            data = load(JurisdictionIn(), raw, partial=node is not None)
            if node is None:
                node = jurisdictions.create_jurisdiction(db.session, current_user, data)
            else:
                node = jurisdictions.update_jurisdiction(db.session, current_user, node.id, data)
            db.session.commit()
            flash(f"已保存辖区 {node.name}", "success")
            return redirect(url_for(".jurisdictions_index"))
        except ValidationFailed as exc:
            db.session.rollback()
            node = jurisdictions.get_jurisdiction(db.session, current_user, node_id) if node_id else None
            values, errors, status = raw, exc.errors, 422
    else:
        values = ({k: getattr(node, k) for k in ("parent_id", "level", "name", "code", "version")} if node
                  else {"parent_id": request.args.get("parent_id", type=int)})
    nodes = jurisdictions.list_jurisdictions(db.session, current_user)
    return render_template("admin/jurisdiction_form.html", node=node, values=values, errors=flat_errors(errors),
                           nodes=[n for n in nodes if n.level != "grid"], levels=LEVELS), status


@bp.post("/jurisdictions/<int:node_id>/delete")
@login_required
def jurisdiction_delete(node_id: int):
    jurisdictions.delete_jurisdiction(db.session, current_user, node_id, posted().integer("version"))
    db.session.commit()
    flash("已删除辖区", "success")
    return redirect(url_for(".jurisdictions_index"))


@bp.get("/agencies")
@login_required
def agencies_index():
    require(current_user, "agency.manage")
    return render_template("admin/agencies.html", agencies=jurisdictions.list_agencies(db.session, current_user))


@bp.route("/agencies/new", methods=["GET", "POST"], endpoint="agency_new")
@bp.route("/agencies/<int:agency_id>/edit", methods=["GET", "POST"], endpoint="agency_edit")
@login_required
def agency_form(agency_id: int | None = None):
    require(current_user, "agency.manage")
    agencies = jurisdictions.list_agencies(db.session, current_user)
    agency = next((a for a in agencies if a.id == agency_id), None) if agency_id else None
    if agency_id and agency is None:
        from core.services.errors import NotFound

        raise NotFound()
    errors, status = {}, 200
    if request.method == "POST":
        raw = form_data()
        try:
            saved = jurisdictions.save_agency(db.session, current_user, load(AgencyIn(), raw, partial=agency is not None),
                                              agency_id)
            db.session.commit()
            flash(f"已保存执法机关 {saved.name}", "success")
            return redirect(url_for(".agencies_index"))
        except ValidationFailed as exc:
            db.session.rollback()
            values, errors, status = raw, exc.errors, 422
    else:
        values = ({k: getattr(agency, k) for k in ("name", "short_name", "jurisdiction_id", "parent_id",
                                                   "people_government", "court", "version")} if agency else {})
    nodes = [n for n in jurisdictions.list_jurisdictions(db.session, current_user) if n.level != "grid"]
    return render_template("admin/agency_form.html", agency=agency, values=values, errors=flat_errors(errors),
                           nodes=nodes, agencies=agencies), status


# --- plugins and audit ----------------------------------------------------------------------------------------

@bp.get("/plugins")
@login_required
def plugins_index():
    require(current_user, "plugin.view")
    registry = plugins()
    rows = []
    for name, version, info in registry.plugin_rows():
        hooks = sorted(h.name for h in registry.pm.get_hookcallers(registry.pm.get_plugin(name)) or [])
        rows.append({"name": name, "version": version, "sector": info, "hooks": hooks})
    return render_template("admin/plugins.html", rows=rows)


AUDIT_ACTIONS = {"create": "新增", "update": "修改", "delete": "删除", "login": "登录", "logout": "退出登录",
                 "login_failed": "登录失败", "login_throttled": "登录过频被拒", "password_change": "修改密码",
                 "revoke": "吊销",
                 # Entries from before login throttling (migration 0013) replaced the account lockout.
                 "login_refused_locked": "锁定期间尝试登录", "unlock": "解锁"}
AUDIT_OBJECTS = {"enterprise": "企业", "user": "用户", "login": "登录尝试", "jurisdiction": "辖区", "agency": "执法机关",
                 "api_token": "API 令牌"}


@bp.get("/audit")
@login_required
def audit_index():
    require(current_user, "audit.view")
    stmt = select(AuditEntry)
    object_type = request.args.get("object_type")
    if object_type:
        stmt = stmt.where(AuditEntry.object_type == object_type)
    after = request.args.get("after", type=int)
    if after:
        stmt = stmt.where(AuditEntry.id < after)
    entries = list(db.session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(51)))
    next_after = entries[49].id if len(entries) > 50 else None
    return render_template("admin/audit.html", entries=entries[:50], next_after=next_after, object_type=object_type,
                           actions=AUDIT_ACTIONS, objects=AUDIT_OBJECTS)
