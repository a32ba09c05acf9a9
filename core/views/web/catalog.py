"""Catalog pages (R-P2): the stored rule sets (判定标准, with their exact text and verification marks) and checklist
versions (检查表, with each item's basis linked to the rule item it cites); XLSForm download of a version."""

from __future__ import annotations

from collections import defaultdict

from flask import Blueprint, Response, render_template
from flask_login import current_user, login_required

from core.catalog.schemas import ANSWER_TYPES, LEVELS, RULE_REF, RULE_SET_KINDS, TEXT_STATUSES
from core.extensions import db
from core.models.hazard import HAZARD_CATEGORIES
from core.plugins import plugins
from core.services import catalog
from core.views.web import nav

bp = Blueprint("catalog", __name__, url_prefix="/catalog")
nav.add("catalog.index", "检查表", "catalog.view", 60, group="inspections")

LABELS = {"kinds": RULE_SET_KINDS, "statuses": TEXT_STATUSES, "answers": ANSWER_TYPES, "levels": LEVELS,
          "categories": HAZARD_CATEGORIES}


@bp.get("/")
@login_required
def index():
    rule_sets = catalog.list_rule_sets(db.session, current_user)
    checklists = catalog.list_checklists(db.session, current_user)
    sectors: dict[str, dict[str, list]] = defaultdict(lambda: {"rule_sets": [], "checklists": []})
    for rs in rule_sets:
        sectors[rs.sector]["rule_sets"].append(rs)
    for cl in checklists:
        sectors[cl.sector]["checklists"].append(cl)
    registry = plugins()
    ordered = sorted(sectors.items(), key=lambda kv: (kv[0] not in registry.sectors, kv[0]))
    return render_template("catalog/index.html", sectors=ordered, labels=LABELS)


@bp.get("/rules/<code>")
@login_required
def rule_set(code: str):
    rs = catalog.get_rule_set(db.session, current_user, code)
    successor = predecessor = None
    for other in catalog.list_rule_sets(db.session, current_user):
        if other.code == rs.superseded_by:
            successor = other
        if other.superseded_by == rs.code:
            predecessor = other
    return render_template("catalog/rule_set.html", rs=rs, content=rs.content, successor=successor,
                           predecessor=predecessor, labels=LABELS)


@bp.get("/checklists/<code>/<version>")
@login_required
def checklist(code: str, version: str):
    cl = catalog.get_checklist(db.session, current_user, code, version)
    refs = [b["rule"] for item in cl.items for b in item.basis if "rule" in b]
    refs += [item.on_fail["rule"] for item in cl.items if item.on_fail and item.on_fail.get("rule")]
    rules = catalog.rule_texts(db.session, refs)
    versions = [c for c in catalog.list_checklists(db.session, current_user) if c.code == cl.code]
    sections = []
    by_section = defaultdict(list)
    for item in cl.items:
        by_section[item.section].append(item)
    for section in cl.content.get("sections", []):
        sections.append({"code": section["code"], "title": section["title"], "items": by_section[section["code"]]})
    return render_template("catalog/checklist.html", cl=cl, content=cl.content, sections=sections, rules=rules,
                           versions=versions, labels=LABELS, rule_code=lambda ref: RULE_REF.match(ref)["code"])


@bp.get("/checklists/<code>/<version>/xlsform")
@login_required
def checklist_xlsform(code: str, version: str):
    from core.catalog.xlsform import export_xlsform

    cl = catalog.get_checklist(db.session, current_user, code, version)
    data = export_xlsform(cl.content)
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename={cl.code}-{cl.version}.xlsx"})
