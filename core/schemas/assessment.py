"""安全生产标准化 API schemas: creating an assessment, item results, submit, review, findings → hazards, output."""

from __future__ import annotations

from core.models.assessment import AssessmentStatus, ItemResult
from core.schemas.base import BaseSchema, Bool, Float, Id, Int, List, Nested, Str, in_range, length, one_of


class AssessmentIn(BaseSchema):
    """Start the self-assessment of a year for one's own enterprise (enterprise staff)."""

    year = Int(load_default=None, allow_none=True)
    team_leader = Str(allow_none=True, validate=length(50))
    team_members = List(Str(validate=length(50)), load_default=list)
    deaths_in_window = Int(load_default=0, validate=in_range(0, 10000))


class AssessmentFilterIn(BaseSchema):
    year = Int(allow_none=True)
    status = Str(allow_none=True, validate=one_of([s.value for s in AssessmentStatus]))
    enterprise_id = Id(allow_none=True)


class AssessmentItemResultIn(BaseSchema):
    item_id = Id(required=True)
    result = Str(required=True, validate=one_of([r.value for r in ItemResult], [r.label for r in ItemResult]))
    score = Float(allow_none=True)
    deduction = Float(allow_none=True)
    reason = Str(allow_none=True, validate=length(2000))
    vetoed = Bool(load_default=False)
    na_reason = Str(allow_none=True, validate=length(2000))
    comment = Str(allow_none=True, validate=length(2000))


class AssessmentItemResultsIn(BaseSchema):
    version = Int(required=True)
    items = List(Nested(AssessmentItemResultIn), required=True)


class AssessmentSubmitIn(BaseSchema):
    version = Int(required=True)
    signer_name = Str(allow_none=True, validate=length(50))


class AssessmentReviewIn(BaseSchema):
    version = Int(required=True)
    decision = Str(required=True, validate=one_of(["accept", "return"], ["通过", "退回"]))
    comment = Str(allow_none=True, validate=length(2000))


class AssessmentHazardsIn(BaseSchema):
    item_ids = List(Id(), required=True)


class AssessmentItemOut(BaseSchema):
    id = Id()
    element_code = Str()
    element_name = Str()
    code = Str()
    text = Str()
    source = Str()
    sector = Str(allow_none=True)
    standard_score = Float()
    is_veto = Bool()
    verified = Bool()
    result = Str()
    score = Float(allow_none=True)
    deduction = Float()
    vetoed = Bool()
    reason = Str(allow_none=True)
    na_reason = Str(allow_none=True)
    comment = Str(allow_none=True)
    hazard_id = Id(allow_none=True)


class AssessmentElementOut(BaseSchema):
    code = Str()
    name = Str()
    items = Int()
    evaluated = Int()
    not_applicable = Int()
    deducted = Int()
    applicable_total = Float()
    earned = Float()
    percent = Float(allow_none=True)


class AssessmentOut(BaseSchema):
    id = Id()
    enterprise_id = Id()
    enterprise_name = Str()
    year = Int()
    criteria_code = Str()
    criteria_standard = Str()
    sector_criteria = List(Str())
    edition_note = Str(allow_none=True)
    status = Str()
    status_label = Str()
    team_leader = Str(allow_none=True)
    team_members = List(Str())
    deaths_in_window = Int()
    score = Float(allow_none=True, metadata={"description": "得分（百分制）：实得分 ÷ 适用项标准分 × 100"})
    grade = Str(allow_none=True, metadata={"description": "level1 / level2 / level3 / none（未达标）"})
    grade_label = Str(allow_none=True)
    grade_reason = Str(allow_none=True)
    signer_name = Str(allow_none=True)
    review_comment = Str(allow_none=True)
    version = Int()


class AssessmentDetailOut(AssessmentOut):
    progress = Int()
    elements = List(Nested(AssessmentElementOut))
    items = List(Nested(AssessmentItemOut))


class AssessmentListOut(BaseSchema):
    items = List(Nested(AssessmentOut))
