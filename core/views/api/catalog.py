"""The catalog, read-only (R-P2): stored rule sets with their exact text and checklist versions with their items."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from core.extensions import db
from core.schemas.base import UtcDateTime
from core.services import catalog
from core.views.api import authenticate, current_actor

PREFIX = "/catalog"
blp = Blueprint("api_catalog", __name__, description="判定标准与检查表（只读）")
blp.before_request(authenticate)


class RuleSetSummaryOut(Schema):
    code = fields.String()
    revision = fields.Integer()
    sector = fields.String()
    title = fields.String()
    document_number = fields.String()
    issuer = fields.String()
    kind = fields.String()
    effective_from = fields.Date()
    superseded_by = fields.String(allow_none=True)
    text_status = fields.String()
    sha256 = fields.String()


class RuleSetOut(RuleSetSummaryOut):
    #: The validated content as shipped: items with their exact text and ``verified`` flags, sources, notes.
    content = fields.Dict()


class ChecklistSummaryOut(Schema):
    code = fields.String()
    version = fields.String()
    sector = fields.String()
    title = fields.String()
    sha256 = fields.String()
    created_at = UtcDateTime()


class ChecklistOut(ChecklistSummaryOut):
    #: The validated content: sections, items (question, answer type, pass_when, basis, on_fail, points).
    content = fields.Dict()


@blp.route("/rule-sets")
@blp.response(200, RuleSetSummaryOut(many=True))
def rule_sets():
    """The newest stored revision of every rule set."""
    return catalog.list_rule_sets(db.session, current_actor())


@blp.route("/rule-sets/<code>")
@blp.response(200, RuleSetOut)
def rule_set(code: str):
    """One rule set with its items (newest revision); 404 when unknown."""
    return catalog.get_rule_set(db.session, current_actor(), code)


@blp.route("/checklists")
@blp.response(200, ChecklistSummaryOut(many=True))
def checklists():
    """Every stored checklist version."""
    return catalog.list_checklists(db.session, current_actor())


@blp.route("/checklists/<code>/<version>")
@blp.response(200, ChecklistOut)
def checklist(code: str, version: str):
    """One checklist version with its content; 404 when unknown."""
    return catalog.get_checklist(db.session, current_actor(), code, version)
