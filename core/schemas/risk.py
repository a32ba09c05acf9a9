"""Risk register schemas (双重预防, R-R1, R-R2): risk points, control measures, inspection tasks, checks,
list filters, and the output shapes of the JSON API."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validates_schema

from core.models.hazard import HAZARD_CATEGORIES
from core.models.risk import RISK_CATEGORIES, RISK_GRADE_LABELS
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
    hazard_level_choice,
    in_range,
    length,
    one_of,
    risk_method_choice,
)
from core.schemas.hazard import UtcDateTime

GRADES = {g.value: label for g, (label, _) in RISK_GRADE_LABELS.items()}
MEASURE_KINDS = {"engineering": "工程技术措施", "management": "管理措施", "training": "培训教育措施",
                 "ppe": "个体防护措施", "emergency": "应急处置措施"}
CONTROL_LEVELS = {"company": "公司级", "workshop": "车间（部门）级", "team": "班组级", "post": "岗位级"}
#: Inspection periods (排查周期). Dates only: a 班次 task is due every day (shifts are not modelled).
PERIODS = {"shift": "每班", "daily": "每日", "weekly": "每周", "monthly": "每月", "quarterly": "每季度",
           "yearly": "每年"}


def _unit(name: str) -> Float:
    return Float(allow_none=True, validate=in_range(0, 1), metadata={"description": f"{name}（0–1，相对平面图）"})


class RiskPointIn(BaseSchema):
    """A risk point (风险点/风险分析单元) with its assessment. ``inputs`` maps the method's factor codes to values
    from its tables (e.g. ``{"L": 3, "E": 6, "C": 7}``); the server computes score and grade."""

    enterprise_id = Id(allow_none=True, metadata={"description": "企业用户可省略（默认本企业）"})
    name = Str(required=True, validate=length(100, min=2))
    category = Str(required=True, validate=one_of(RISK_CATEGORIES, RISK_CATEGORIES.values()))
    location = Str(allow_none=True, validate=length(200))
    hazard_identification = Str(allow_none=True, validate=length(4000))
    possible_accidents = Str(allow_none=True, validate=length(200))
    method = Str(required=True, validate=risk_method_choice())
    inputs = Dict(required=True, metadata={"description": "评价输入：因素代码 → 取值（见配置的取值表）"})
    responsible_company = Str(allow_none=True, validate=length(50))
    responsible_workshop = Str(allow_none=True, validate=length(50))
    responsible_team = Str(allow_none=True, validate=length(50))
    responsible_post = Str(allow_none=True, validate=length(50))
    plan_x = _unit("平面图横坐标")
    plan_y = _unit("平面图纵坐标")
    longitude = Float(allow_none=True, validate=in_range(-180, 180))
    latitude = Float(allow_none=True, validate=in_range(-90, 90))

    @validates_schema
    def _pairs(self, data: dict[str, Any], **kwargs: Any) -> None:
        for a, b in (("plan_x", "plan_y"), ("longitude", "latitude")):
            if (a in data or b in data) and (data.get(a) is None) != (data.get(b) is None):
                raise ValidationError("两个坐标应同时填写或同时留空", field_name=b if data.get(b) is None else a)


class RiskPointUpdateIn(RiskPointIn):
    """Partial update: only the fields sent change (``method`` and ``inputs`` together); ``version`` required."""

    version = Int(required=True)

    @validates_schema
    def _assessment_together(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("method" in data) != ("inputs" in data):
            raise ValidationError("评价方法和评价输入应一起提交", field_name="inputs" if "method" in data else "method")


#: Fields of :class:`RiskPointUpdateIn` that may be left out (``version`` may not).
UPDATE_PARTIAL = tuple(n for n in RiskPointUpdateIn._declared_fields if n != "version")


class VersionIn(BaseSchema):
    version = Int(required=True)


class PlacementIn(VersionIn):
    """Where a risk point sits on the site plan (0–1 of the width and height, from the top left)."""

    plan_x = Float(required=True, validate=in_range(0, 1))
    plan_y = Float(required=True, validate=in_range(0, 1))


class MeasureIn(BaseSchema):
    """A control measure (管控措施) of a risk point."""

    kind = Str(required=True, validate=one_of(MEASURE_KINDS, MEASURE_KINDS.values()))
    description = Str(required=True, validate=length(2000, min=2))
    level = Str(allow_none=True, validate=one_of(CONTROL_LEVELS, CONTROL_LEVELS.values()))


class MeasureUpdateIn(MeasureIn):
    """Changing a measure changes its risk point: ``version`` is the risk point's (409 when stale)."""

    version = Int(required=True)


class TaskIn(BaseSchema):
    """An inspection task (隐患排查任务): who checks which measure, what, how often, first due when."""

    measure_id = Id(required=True)
    content = Str(required=True, validate=length(2000, min=2))
    assignee_name = Str(allow_none=True, validate=length(50))
    assignee_user_id = Id(allow_none=True)
    period = Str(required=True, validate=one_of(PERIODS, PERIODS.values()))
    next_due = Date(allow_none=True, metadata={"description": "首次（下次）应排查日期，默认今天"})
    checklist_code = Str(allow_none=True, validate=length(80),
                         metadata={"description": "按此检查表排查（适用于本企业的检查表代码，用最新版本）"})


class TaskUpdateIn(BaseSchema):
    version = Int(required=True)
    content = Str(validate=length(2000, min=2))
    assignee_name = Str(allow_none=True, validate=length(50))
    assignee_user_id = Id(allow_none=True)
    period = Str(validate=one_of(PERIODS, PERIODS.values()))
    next_due = Date()
    is_active = Bool()
    checklist_code = Str(allow_none=True, validate=length(80))


class CheckIn(BaseSchema):
    """A performed check. Failed (``passed`` false): the control measure did not hold, and a hidden danger is
    registered from ``description``/``category``/``level``/``location`` (photos as multipart ``photos``)."""

    version = Int(required=True, metadata={"description": "排查任务的版本号"})
    passed = Bool(required=True)
    done_on = Date(allow_none=True, metadata={"description": "实际排查日期，默认今天"})
    note = Str(allow_none=True, validate=length(2000))
    description = Str(allow_none=True, validate=length(2000, min=4), metadata={"description": "隐患描述（不合格时必填）"})
    category = Str(allow_none=True, validate=one_of(HAZARD_CATEGORIES, HAZARD_CATEGORIES.values()))
    level = Str(allow_none=True, validate=hazard_level_choice())
    location = Str(allow_none=True, validate=length(200))

    @validates_schema
    def _hazard(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("passed") is False and not data.get("description"):
            raise ValidationError("排查不合格时请描述发现的隐患", field_name="description")


class RiskFilterIn(BaseSchema):
    class Meta:
        unknown = "exclude"

    q = Str(allow_none=True, validate=length(100))
    enterprise_id = Id(allow_none=True)
    jurisdiction_id = Id(allow_none=True)
    category = Str(allow_none=True, validate=one_of(RISK_CATEGORIES, RISK_CATEGORIES.values()))
    grade = Str(allow_none=True, validate=one_of(GRADES, GRADES.values()))
    active = Bool(allow_none=True, metadata={"description": "默认只列在用的风险点；false 列已停用的"})
    after = Int(allow_none=True, validate=in_range(min=1))
    size = Int(allow_none=True, validate=in_range(1, 200))


class SupervisionFilterIn(BaseSchema):
    class Meta:
        unknown = "exclude"

    jurisdiction_id = Id(allow_none=True)
    grade = Str(allow_none=True, validate=one_of(("major", "large"), ("重大风险", "较大风险")))
    after = Int(allow_none=True, validate=in_range(min=1))
    size = Int(allow_none=True, validate=in_range(1, 200))


class DueFilterIn(BaseSchema):
    class Meta:
        unknown = "exclude"

    on = Date(allow_none=True, metadata={"description": "列出应于该日或之前排查的任务，默认今天"})
    enterprise_id = Id(allow_none=True)


class CountsFilterIn(BaseSchema):
    class Meta:
        unknown = "exclude"

    enterprise_id = Id(allow_none=True)
    jurisdiction_id = Id(allow_none=True)


# --- output ------------------------------------------------------------------------------------------------------

class TaskOut(BaseSchema):
    id = Id()
    measure_id = Id()
    risk_point_id = Id()
    enterprise_id = Id()
    content = Str()
    assignee_user_id = Id(allow_none=True)
    assignee_name = Str(allow_none=True)
    period = Str(metadata={"description": "周期：" + "、".join(f"{k} {v}" for k, v in PERIODS.items())})
    period_label = Str()
    next_due = Date()
    last_done = Date(allow_none=True)
    checklist_code = Str(allow_none=True)
    overdue = Bool(metadata={"description": "下次应排查日期已过"})
    is_active = Bool()
    version = Int()


class MeasureOut(BaseSchema):
    id = Id()
    kind = Str()
    kind_label = Str()
    description = Str()
    level = Str(allow_none=True)
    level_label = Str(allow_none=True)
    tasks = List(Nested(TaskOut))


class RiskPointOut(BaseSchema):
    id = Id()
    enterprise_id = Id()
    enterprise_name = Str()
    name = Str()
    category = Str()
    category_label = Str()
    location = Str(allow_none=True)
    hazard_identification = Str(allow_none=True)
    possible_accidents = Str(allow_none=True)
    method = Str()
    method_name = Str()
    inputs = Dict()
    score = Float()
    grade = Str(metadata={"description": "major 重大 / large 较大 / general 一般 / low 低"})
    grade_label = Str()
    colour = Str(metadata={"description": "red / orange / yellow / blue"})
    responsible_company = Str(allow_none=True)
    responsible_workshop = Str(allow_none=True)
    responsible_team = Str(allow_none=True)
    responsible_post = Str(allow_none=True)
    plan_x = Float(allow_none=True)
    plan_y = Float(allow_none=True)
    longitude = Float(allow_none=True)
    latitude = Float(allow_none=True)
    is_active = Bool()
    updated_at = UtcDateTime()
    version = Int(metadata={"description": "版本号：修改时须带上，过期则 409"})


class LinkedHazardOut(BaseSchema):
    id = Id()
    description = Str()
    level = Str()
    state = Str()
    state_label = Str()
    control_measure_id = Id(allow_none=True)
    found_at = UtcDateTime()


class RiskPointDetailOut(RiskPointOut):
    measures = List(Nested(MeasureOut))
    hazards = List(Nested(LinkedHazardOut), metadata={"description": "在该风险点发现的隐患（最近 100 条）"})


class RiskPointPageOut(BaseSchema):
    items = List(Nested(RiskPointOut))
    next_after = Int(allow_none=True, metadata={"description": "下一页游标：作为 after 参数传入；为空表示最后一页"})
    total = Int()
    total_capped = Bool()


class DueTaskOut(TaskOut):
    risk_point_name = Str()
    grade = Str()
    grade_label = Str()
    measure_description = Str()
    enterprise_name = Str()


class DueListOut(BaseSchema):
    on = Date()
    items = List(Nested(DueTaskOut))


class CheckOut(BaseSchema):
    id = Id()
    task_id = Id()
    due_date = Date()
    done_on = Date()
    done_by_id = Id(allow_none=True)
    passed = Bool()
    note = Str(allow_none=True)
    hazard_id = Id(allow_none=True, metadata={"description": "不合格时登记的隐患"})
    task = Nested(TaskOut)


class GradeCountsOut(BaseSchema):
    major = Int()
    large = Int()
    general = Int()
    low = Int()
    total = Int()
