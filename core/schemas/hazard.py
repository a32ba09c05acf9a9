"""Hidden-danger schemas: registration, the data of each closed-loop action, list filters, output."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validates_schema

from core.models.hazard import HAZARD_CATEGORIES, HAZARD_SOURCES, HAZARD_STATE_LABELS
from core.schemas.base import BaseSchema, Bool, Date, Dict, Float, Int, List, Nested, Str, in_range, length, one_of
from core.services.deadlines import DEADLINE_KINDS

STATES = {s.value: label for s, label in HAZARD_STATE_LABELS.items()}
SUPERVISION_LEVELS = {"enterprise": "企业", "county": "县（区）", "city": "市", "province": "省"}


class HazardIn(BaseSchema):
    """Registration (登记). ``level`` is the level suggested by the person; the sector plugins decide."""

    enterprise_id = Int(required=True)
    description = Str(required=True, validate=length(2000, min=4))
    location = Str(allow_none=True, validate=length(200))
    category = Str(required=True, validate=one_of(HAZARD_CATEGORIES, HAZARD_CATEGORIES.values()))
    level = Str(load_default="general", validate=length(20))
    source = Str(allow_none=True, validate=one_of(HAZARD_SOURCES, HAZARD_SOURCES.values()))
    sector = Str(allow_none=True, validate=length(40))
    checklist_item = Str(allow_none=True, validate=length(200))
    rule_item = Str(allow_none=True, validate=length(200))
    risk_point_id = Int(allow_none=True)
    control_measure_id = Int(allow_none=True)
    object_type = Str(allow_none=True, validate=length(40))
    object_ref = Str(allow_none=True, validate=length(100))
    found_on = Date(allow_none=True)


class ActionIn(BaseSchema):
    """Common to every action: the version the actor saw, and a comment."""

    version = Int(required=True)
    comment = Str(allow_none=True, validate=length(2000))


class AssignIn(ActionIn):
    responsible_name = Str(required=True, validate=length(50))
    measures = Str(allow_none=True, validate=length(2000))
    deadline = Date(allow_none=True)
    deadline_kind = Str(allow_none=True, validate=one_of(DEADLINE_KINDS, DEADLINE_KINDS.values()))
    days = Int(allow_none=True, validate=in_range(1, 3650))

    @validates_schema
    def _deadline(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("deadline") and data.get("days"):
            raise ValidationError("整改期限和天数只能填一项", field_name="deadline")


class CommentRequiredIn(ActionIn):
    comment = Str(required=True, validate=length(2000, min=2))


class ReviewFailIn(CommentRequiredIn):
    deadline = Date(required=True)


class PlanIn(ActionIn):
    """重大事故隐患 report (16号令 第十四条) and 治理方案 (第十五条 （一）–（六）)."""

    status_and_cause = Str(allow_none=True, validate=length(4000))
    harm_analysis = Str(allow_none=True, validate=length(4000))
    goals_tasks = Str(allow_none=True, validate=length(4000))
    methods_measures = Str(allow_none=True, validate=length(4000))
    funds_materials = Str(allow_none=True, validate=length(4000))
    funds_amount = Float(allow_none=True, validate=in_range(0, 1e9))
    organization_personnel = Str(allow_none=True, validate=length(4000))
    time_requirements = Str(allow_none=True, validate=length(4000))
    safety_emergency = Str(allow_none=True, validate=length(4000))
    approved_by_name = Str(allow_none=True, validate=length(50))


class ListIn(ActionIn):
    level = Str(required=True, validate=one_of(SUPERVISION_LEVELS, SUPERVISION_LEVELS.values()))
    due_date = Date(required=True)
    leader_name = Str(required=True, validate=length(50))
    requirements = Str(allow_none=True, validate=length(2000))


class ExtensionIn(ActionIn):
    new_deadline = Date(required=True)
    reason = Str(required=True, validate=length(2000, min=2))


class DecideExtensionIn(ActionIn):
    approve = Bool(required=True)


class HazardFilterIn(BaseSchema):
    class Meta:
        unknown = "exclude"

    q = Str(allow_none=True, validate=length(100))
    jurisdiction_id = Int(allow_none=True)
    enterprise_id = Int(allow_none=True)
    sector = Str(allow_none=True, validate=length(40))
    level = Str(allow_none=True, validate=length(20))
    state = Str(allow_none=True, validate=one_of(STATES, STATES.values()))
    source = Str(allow_none=True, validate=one_of(HAZARD_SOURCES, HAZARD_SOURCES.values()))
    overdue = Bool(allow_none=True)
    supervised = Bool(allow_none=True)
    risk_point_id = Int(allow_none=True)
    found_from = Date(allow_none=True)
    found_to = Date(allow_none=True)
    after = Int(allow_none=True, validate=in_range(min=1))
    size = Int(allow_none=True, validate=in_range(1, 200))


class TransitionOut(BaseSchema):
    id = Int()
    action = Str()
    from_state = Str(allow_none=True)
    to_state = Str()
    actor_name = Str()
    at = Str()
    comment = Str(allow_none=True)
    data = Dict()


class HazardOut(BaseSchema):
    id = Int()
    enterprise_id = Int()
    enterprise_name = Str()
    description = Str()
    location = Str(allow_none=True)
    category = Str()
    level = Str()
    rule_item = Str(allow_none=True)
    classified_by = Str(allow_none=True)
    sector = Str(allow_none=True)
    checklist_item = Str(allow_none=True)
    source = Str()
    risk_point_id = Int(allow_none=True)
    found_by_name = Str()
    found_at = Str()
    state = Str()
    responsible_name = Str(allow_none=True)
    deadline = Date(allow_none=True)
    deadline_kind = Str(allow_none=True)
    overdue = Bool()
    supervised = Bool()
    version = Int()
    transitions = List(Nested(TransitionOut))
