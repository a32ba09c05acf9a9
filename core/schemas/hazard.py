"""Hidden-danger schemas: registration, the data of each closed-loop action, list filters, output."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validates_schema

from core.models.hazard import HAZARD_CATEGORIES, HAZARD_SOURCES, HAZARD_STATE_LABELS
from core.schemas.base import (
    BaseSchema,
    Bool,
    Date,
    Dict,
    Float,
    Id,
    Int,
    List,
    Nested,
    Str,
    UtcDateTime,
    hazard_level_choice,
    in_range,
    length,
    one_of,
    sector_choice,
)
from core.services.deadlines import DEADLINE_KINDS

STATES = {s.value: label for s, label in HAZARD_STATE_LABELS.items()}
SUPERVISION_LEVELS = {"enterprise": "企业", "county": "县（区）", "city": "市", "province": "省"}


class HazardIn(BaseSchema):
    """Registration (登记). ``level`` is the level suggested by the person; the sector plugins decide."""

    enterprise_id = Id(required=True)
    description = Str(required=True, validate=length(2000, min=4))
    location = Str(allow_none=True, validate=length(200))
    category = Str(required=True, validate=one_of(HAZARD_CATEGORIES, HAZARD_CATEGORIES.values()))
    level = Str(load_default="general", validate=hazard_level_choice())
    source = Str(allow_none=True, validate=one_of(HAZARD_SOURCES, HAZARD_SOURCES.values()))
    sector = Str(allow_none=True, validate=sector_choice())
    checklist_item = Str(allow_none=True, validate=length(200))
    rule_item = Str(allow_none=True, validate=length(200))
    risk_point_id = Id(allow_none=True)
    control_measure_id = Id(allow_none=True)
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
    jurisdiction_id = Id(allow_none=True)
    enterprise_id = Id(allow_none=True)
    sector = Str(allow_none=True, validate=sector_choice())
    level = Str(allow_none=True, validate=hazard_level_choice())
    state = Str(allow_none=True, validate=one_of(STATES, STATES.values()))
    source = Str(allow_none=True, validate=one_of(HAZARD_SOURCES, HAZARD_SOURCES.values()))
    overdue = Bool(allow_none=True)
    supervised = Bool(allow_none=True)
    figure = Str(allow_none=True, validate=length(40),
                 metadata={"description": "统计项（隐患统计表中的一个数），与 period 一起使用，如 found、overdue_at_end"})
    period = Str(allow_none=True, validate=length(10),
                 metadata={"description": "统计期，如 2026Q3、2026 或 2026-11（月份）"})
    direct = Bool(allow_none=True, metadata={"description": "只列直属于 jurisdiction_id 辖区（不属任何下级辖区）的"})
    supervision_overdue = Bool(allow_none=True, metadata={"description": "督办逾期：挂牌督办期限已过、督办未解除"})
    risk_point_id = Id(allow_none=True)
    found_from = Date(allow_none=True)
    found_to = Date(allow_none=True)
    after = Int(allow_none=True, validate=in_range(min=1))
    size = Int(allow_none=True, validate=in_range(1, 200))


class AttachmentOut(BaseSchema):
    """Metadata of an evidence file; ``url`` downloads it (same token, same scope as the hazard)."""

    id = Id()
    transition_id = Id(allow_none=True, metadata={"description": "所属处置步骤（时间线条目）"})
    filename = Str()
    content_type = Str(metadata={"description": "按文件内容判定的类型"})
    size = Int(metadata={"description": "字节数"})
    sha256 = Str()
    uploaded_at = UtcDateTime()
    url = Str()


class TransitionOut(BaseSchema):
    """One step of the timeline: who did what, when, from which state to which, why, with which data and evidence."""

    id = Id()
    action = Str(metadata={"description": "动作代码（register 或 actions 接口的 code）"})
    action_label = Str()
    from_state = Str(allow_none=True)
    to_state = Str()
    actor_id = Id(allow_none=True)
    actor_name = Str()
    at = UtcDateTime()
    comment = Str(allow_none=True)
    data = Dict(metadata={"description": "本步骤的数据（期限、方案、挂牌层级等）"})
    attachments = List(Nested(AttachmentOut))


class PlanOut(BaseSchema):
    """重大事故隐患 report (16号令 第十四条) and 治理方案 (第十五条 （一）–（六）)."""

    status_and_cause = Str(allow_none=True)
    harm_analysis = Str(allow_none=True)
    goals_tasks = Str(allow_none=True)
    methods_measures = Str(allow_none=True)
    funds_materials = Str(allow_none=True)
    funds_amount = Float(allow_none=True)
    organization_personnel = Str(allow_none=True)
    time_requirements = Str(allow_none=True)
    safety_emergency = Str(allow_none=True)
    approved_by_name = Str(allow_none=True)
    complete = Bool(metadata={"description": "报告三项与治理方案六项是否齐全（重大隐患下达整改的前提）"})
    updated_at = UtcDateTime()


class SupervisionOut(BaseSchema):
    """挂牌督办 at a level; ``lifted_at`` is set when the hazard is struck off (销号)."""

    id = Id()
    level = Str(metadata={"description": "督办层级：" + "、".join(f"{k} {v}" for k, v in SUPERVISION_LEVELS.items())})
    level_label = Str()
    agency_id = Id(allow_none=True)
    agency_name = Str(allow_none=True)
    listed_by_id = Id(allow_none=True)
    listed_at = UtcDateTime()
    due_date = Date()
    leader_name = Str()
    requirements = Str(allow_none=True)
    lifted_at = UtcDateTime(allow_none=True)
    active = Bool()


class ExtensionOut(BaseSchema):
    """延期申请 and its decision."""

    id = Id()
    requested_by_id = Id(allow_none=True)
    old_deadline = Date(allow_none=True)
    new_deadline = Date()
    reason = Str()
    status = Str(metadata={"description": "pending 待审批 / approved 批准 / rejected 驳回"})
    decided_by_id = Id(allow_none=True)
    decided_at = UtcDateTime(allow_none=True)
    decision_comment = Str(allow_none=True)


class ActionRefOut(BaseSchema):
    code = Str()
    label = Str()


class HazardOut(BaseSchema):
    """A hidden danger as a ledger row (list items); the detail adds the timeline and the rest."""

    id = Id()
    enterprise_id = Id()
    enterprise_name = Str()
    description = Str()
    location = Str(allow_none=True)
    category = Str()
    category_label = Str()
    level = Str()
    level_label = Str()
    rule_item = Str(allow_none=True)
    classified_by = Str(allow_none=True)
    sector = Str(allow_none=True)
    checklist_item = Str(allow_none=True)
    source = Str()
    source_label = Str()
    risk_point_id = Id(allow_none=True)
    found_by_name = Str()
    found_at = UtcDateTime()
    state = Str()
    state_label = Str()
    responsible_name = Str(allow_none=True)
    deadline = Date(allow_none=True)
    deadline_kind = Str(allow_none=True)
    overdue = Bool(metadata={"description": "登记/整改中且已过整改期限"})
    supervised = Bool(metadata={"description": "正在挂牌督办"})
    supervision_level = Str(allow_none=True, metadata={"description": "最高的有效挂牌层级"})
    version = Int(metadata={"description": "版本号：处置操作须带上，过期则 409"})


class HazardDetailOut(HazardOut):
    """One hidden danger with everything about it: timeline with evidence, plan, listings, extension requests, and
    the actions the caller may take now (``actions``; the server checks again when one is posted)."""

    object_type = Str(allow_none=True)
    object_ref = Str(allow_none=True)
    control_measure_id = Id(allow_none=True)
    measures = Str(allow_none=True)
    reported_at = UtcDateTime(allow_none=True)
    rectified_at = UtcDateTime(allow_none=True)
    closed_at = UtcDateTime(allow_none=True)
    closed_on_spot = Bool()
    plan = Nested(PlanOut, allow_none=True)
    supervisions = List(Nested(SupervisionOut))
    extensions = List(Nested(ExtensionOut))
    transitions = List(Nested(TransitionOut))
    actions = List(Nested(ActionRefOut))


class HazardPageOut(BaseSchema):
    items = List(Nested(HazardOut))
    next_after = Int(allow_none=True, metadata={"description": "下一页游标：作为 after 参数传入；为空表示最后一页"})
    total = Int(metadata={"description": "符合条件的条数，最多数到 total_cap"})
    total_capped = Bool(metadata={"description": "为真时实际条数多于 total"})
