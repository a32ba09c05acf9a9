"""安全生产标准化 self-assessments over the API (R-S1, R-S2): list, create, record item results, sign and submit,
review, and turn deducted items into hidden dangers. Rules and errors as on the pages (services)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from core.extensions import db
from core.models import Assessment
from core.schemas.assessment import (
    AssessmentDetailOut,
    AssessmentFilterIn,
    AssessmentHazardsIn,
    AssessmentIn,
    AssessmentItemResultsIn,
    AssessmentListOut,
    AssessmentReviewIn,
    AssessmentSubmitIn,
)
from core.services import assessments as svc
from core.services.errors import NotFound
from core.services.scope import scope_of
from core.views.api import authenticate, current_actor

PREFIX = "/assessments"
blp = Blueprint("api_assessments", __name__, description="安全生产标准化自评：填报、签字提交、审核、扣分项转隐患")
blp.before_request(authenticate)

ITEM_FIELDS = ("id", "element_code", "element_name", "code", "text", "source", "sector", "standard_score", "is_veto",
               "verified", "result", "score", "deduction", "vetoed", "reason", "na_reason", "comment", "hazard_id")


def _summary(a: Assessment) -> dict[str, Any]:
    labels = svc.grade_labels(a.grade_rules or None)
    return {
        "id": a.id, "enterprise_id": a.enterprise_id, "enterprise_name": a.enterprise.name, "year": a.year,
        "criteria_code": a.criteria_code, "criteria_standard": a.criteria_standard,
        "sector_criteria": a.sector_criteria or [], "edition_note": a.edition_note, "status": a.status,
        "status_label": a.status_label, "team_leader": a.team_leader, "team_members": a.team_members or [],
        "deaths_in_window": a.deaths_in_window, "score": a.score, "grade": a.grade,
        "grade_label": labels.get(a.grade) if a.grade else None, "grade_reason": a.grade_reason,
        "signer_name": a.signer_name, "review_comment": a.review_comment, "version": a.version,
    }


def _detail(a: Assessment) -> dict[str, Any]:
    r = svc.result_of(a)
    return {**_summary(a), "progress": r.progress,
            "elements": [{**e.__dict__, "percent": e.percent} for e in r.elements],
            "items": [{f: getattr(it, f) for f in ITEM_FIELDS} for it in a.items]}


@blp.route("")
@blp.arguments(AssessmentFilterIn, location="query", as_kwargs=False)
@blp.response(200, AssessmentListOut)
def list_(filters):
    """Assessments in the caller's scope, newest year first (government users never see drafts)."""
    items = svc.list_assessments(db.session, current_actor(), enterprise_id=filters.get("enterprise_id"),
                                 year=filters.get("year"), status=filters.get("status"))
    return {"items": [_summary(a) for a in items]}


@blp.route("", methods=["POST"])
@blp.arguments(AssessmentIn, as_kwargs=False)
@blp.response(201, AssessmentDetailOut)
def create(data):
    """Start the self-assessment of ``year`` (default: this year) for the caller's own enterprise.

    The items are the core edition in force whose text is loaded plus the enterprise's sector criteria. 409 when
    the year already has one; 403 for other roles."""
    ent_id = scope_of(current_actor()).enterprise_id
    if ent_id is None:
        svc.require(current_actor(), "assessment.edit")
        raise NotFound("只有企业人员可以为本企业创建自评")
    a = svc.create_assessment(db.session, current_actor(), ent_id, data)
    db.session.commit()
    return _detail(a)


@blp.route("/<int:assessment_id>")
@blp.response(200, AssessmentDetailOut)
def detail(assessment_id: int):
    """One assessment with per-element figures and every item (404 when not visible)."""
    return _detail(svc.get_assessment(db.session, current_actor(), assessment_id))


@blp.route("/<int:assessment_id>/items", methods=["POST"])
@blp.arguments(AssessmentItemResultsIn, as_kwargs=False)
@blp.response(200, AssessmentDetailOut)
def items(data, assessment_id: int):
    """Record item results (all or nothing; errors keyed ``items.<item id>.<field>``); 409 when locked or stale."""
    a = svc.save_items(db.session, current_actor(), assessment_id, data["version"], data["items"])
    db.session.commit()
    return _detail(a)


@blp.route("/<int:assessment_id>/submit", methods=["POST"])
@blp.arguments(AssessmentSubmitIn, as_kwargs=False)
@blp.response(200, AssessmentDetailOut)
def submit(data, assessment_id: int):
    """Sign and submit (主要负责人 only; every item evaluated): score and grade are frozen."""
    a = svc.submit(db.session, current_actor(), assessment_id, data)
    db.session.commit()
    return _detail(a)


@blp.route("/<int:assessment_id>/review", methods=["POST"])
@blp.arguments(AssessmentReviewIn, as_kwargs=False)
@blp.response(200, AssessmentDetailOut)
def review(data, assessment_id: int):
    """Accept (locks) or return with comments (regulators whose scope covers the enterprise)."""
    a = svc.review(db.session, current_actor(), assessment_id, data)
    db.session.commit()
    return _detail(a)


@blp.route("/<int:assessment_id>/hazards", methods=["POST"])
@blp.arguments(AssessmentHazardsIn, as_kwargs=False)
@blp.response(200, AssessmentDetailOut)
def hazards(data, assessment_id: int):
    """Register the selected deducted items as hidden dangers (one each, linked back to the item)."""
    svc.create_hazards(db.session, current_actor(), assessment_id, data["item_ids"])
    db.session.commit()
    return _detail(svc.get_assessment(db.session, current_actor(), assessment_id))
