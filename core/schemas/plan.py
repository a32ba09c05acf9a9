"""Plans, 双随机 draws and 专项行动 at the boundaries (R-E1, R-E2): what the forms and the API accept and return.

Field messages are Chinese (the base fields carry them); sector codes, jurisdictions and checklist codes are
checked by :mod:`core.services.plans`, which needs the database and the plugin registry.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from marshmallow import ValidationError, post_load, pre_load, validates_schema

from core.models.org import SupervisionLevel
from core.models.plan import CAMPAIGN_KINDS, CAMPAIGN_STATUS_LABELS, DRAW_STATUS_LABELS, ENTERPRISE_CLASSES
from core.schemas.base import (
    BaseSchema,
    Bool,
    Date,
    Dict,
    Id,
    Int,
    List,
    Nested,
    Str,
    UtcDateTime,
    in_range,
    length,
    one_of,
    sector_choice,
)

LEVELS = {lvl.value: lvl.label for lvl in SupervisionLevel}


class _Blankless(BaseSchema):
    @pre_load
    def _blank(self, data: Any, **kwargs: Any) -> Any:
        return {k: v for k, v in data.items() if v not in ("", None)} if isinstance(data, dict) else data


class TargetsIn(BaseSchema):
    """Target numbers of checks (家次) for the year: total, per sector code, per enterprise class, per level."""

    total = Int(allow_none=True, validate=in_range(min=0, max=1_000_000))
    sectors = Dict(keys=Str(validate=sector_choice()), values=Int(validate=in_range(min=0, max=1_000_000)),
                   load_default=dict)
    classes = Dict(keys=Str(validate=one_of(ENTERPRISE_CLASSES, ENTERPRISE_CLASSES.values())),
                   values=Int(validate=in_range(min=0, max=1_000_000)), load_default=dict)
    levels = Dict(keys=Str(validate=one_of(LEVELS, LEVELS.values())),
                  values=Int(validate=in_range(min=0, max=1_000_000)), load_default=dict)


class InspectionPlanIn(_Blankless):
    year = Int(required=True, validate=in_range(min=2000, max=2100))
    title = Str(required=True, validate=length(200, 1))
    targets = Nested(TargetsIn, load_default=dict)
    note = Str(allow_none=True, validate=length(5000))
    version = Int(allow_none=True, metadata={"description": "修改时必填（过期为 409）"})


class InspectionPlanPatchIn(_Blankless):
    title = Str(validate=length(200, 1))
    targets = Nested(TargetsIn)
    note = Str(allow_none=True, validate=length(5000))
    version = Int(required=True, metadata={"description": "计划的版本（过期为 409）"})


class PlanVersionIn(BaseSchema):
    version = Int(required=True, metadata={"description": "版本（过期为 409）"})


#: ``YYYY-MM`` in the years dates may have (see :data:`core.schemas.base.DATE_PATTERN`).
MONTH_PATTERN = r"^(19[0-9]{2}|2[01][0-9]{2}|2200)-(0[1-9]|1[0-2])$"


def _valid_month(value: str) -> None:
    if not re.match(MONTH_PATTERN, value):
        raise ValidationError("应为年月（格式 YYYY-MM），年份在 1900 到 2200 之间")


def _printable(value: str) -> None:
    if not value.isprintable():
        raise ValidationError("随机种子只能包含可见字符")


class DrawIn(_Blankless):
    """抽取: the period (a month ``YYYY-MM``, or period_start/period_end), how many, optional filters and seed."""

    title = Str(allow_none=True, validate=length(200))
    plan_id = Id(allow_none=True)
    month = Str(allow_none=True, validate=_valid_month, metadata={"pattern": MONTH_PATTERN, "description": "检查月份 YYYY-MM（或给出 period_start 与 period_end）"})
    period_start = Date(allow_none=True)
    period_end = Date(allow_none=True)
    count = Int(required=True, validate=in_range(min=1, max=500))
    seed = Str(allow_none=True, validate=[length(64), _printable],
               metadata={"description": "随机种子（文本）；不填则由系统随机生成"})
    sectors = List(Str(validate=sector_choice()), load_default=list)
    classes = List(Str(validate=one_of(ENTERPRISE_CLASSES, ENTERPRISE_CLASSES.values())), load_default=list)
    levels = List(Str(validate=one_of(LEVELS, LEVELS.values())), load_default=list)

    @validates_schema
    def _period(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data.get("month") and not (data.get("period_start") and data.get("period_end")):
            raise ValidationError("请选择检查月份，或填写检查期间起止日期", "month")

    @post_load
    def _month_to_period(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        month = data.pop("month", None)
        if month:
            year, m = (int(p) for p in month.split("-"))
            start = date(year, m, 1)
            data["period_start"] = start
            data["period_end"] = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return data


class DrawFilterIn(_Blankless):
    class Meta:
        unknown = "exclude"

    status = Str(allow_none=True, validate=one_of([s.value for s in DRAW_STATUS_LABELS], DRAW_STATUS_LABELS.values()))
    plan_id = Id(allow_none=True)
    after = Int(allow_none=True, validate=in_range(min=1))
    size = Int(allow_none=True, validate=in_range(min=1, max=200))


class CampaignIn(_Blankless):
    name = Str(required=True, validate=length(200, 1))
    kind = Str(required=True, validate=one_of(CAMPAIGN_KINDS, CAMPAIGN_KINDS.values()))
    sectors = List(Str(validate=sector_choice()), load_default=list)
    jurisdiction_ids = List(Id(), load_default=list)
    starts_on = Date(required=True)
    ends_on = Date(required=True)
    checklist_codes = List(Str(validate=length(80)), load_default=list)
    description = Str(allow_none=True, validate=length(5000))
    status = Str(allow_none=True, validate=one_of([s.value for s in CAMPAIGN_STATUS_LABELS],
                                                  CAMPAIGN_STATUS_LABELS.values()))
    version = Int(allow_none=True, metadata={"description": "修改时必填（过期为 409）"})


class CampaignPatchIn(_Blankless):
    name = Str(validate=length(200, 1))
    kind = Str(validate=one_of(CAMPAIGN_KINDS, CAMPAIGN_KINDS.values()))
    sectors = List(Str(validate=sector_choice()))
    jurisdiction_ids = List(Id())
    starts_on = Date()
    ends_on = Date()
    checklist_codes = List(Str(validate=length(80)))
    description = Str(allow_none=True, validate=length(5000))
    status = Str(validate=one_of([s.value for s in CAMPAIGN_STATUS_LABELS], CAMPAIGN_STATUS_LABELS.values()))
    version = Int(required=True, metadata={"description": "专项行动的版本（过期为 409）"})


# --- output -------------------------------------------------------------------------------------------------------

class ProgressRowOut(BaseSchema):
    key = Str()
    label = Str()
    target = Int(allow_none=True)
    done = Int()
    percent = Int(allow_none=True)


class InspectionPlanOut(BaseSchema):
    id = Id()
    agency_id = Id()
    agency_name = Str()
    year = Int()
    title = Str()
    targets = Dict()
    note = Str(allow_none=True)
    status = Str()
    status_label = Str()
    approved_at = UtcDateTime(allow_none=True)
    version = Int()


class InspectionPlanDetailOut(InspectionPlanOut):
    progress = Dict(metadata={"description": "total/classes/levels/sectors：目标与已完成执法检查家次；draw_items 双随机"})


class DrawItemOut(BaseSchema):
    id = Id()
    position = Int()
    enterprise_id = Id()
    enterprise_name = Str()
    inspectors = List(Dict())
    status = Str()
    status_label = Str()
    inspection_run_id = Id(allow_none=True)
    result = Str(allow_none=True)


class DrawOut(BaseSchema):
    id = Id()
    agency_id = Id()
    agency_name = Str()
    plan_id = Id(allow_none=True)
    title = Str()
    period_start = Date()
    period_end = Date()
    requested_count = Int()
    filters = Dict()
    seed = Str()
    algorithm = Str()
    drawn_by_name = Str()
    drawn_at = UtcDateTime()
    status = Str()
    status_label = Str()
    published_at = UtcDateTime(allow_none=True)
    public_url = Str(allow_none=True)
    items_total = Int()
    items_done = Int()
    version = Int()


class DrawDetailOut(DrawOut):
    population = Int()
    class_counts = Dict()
    weights = Dict()
    inspectors = List(Dict())
    reproducible = Bool(metadata={"description": "复算校验：按记录的种子和输入复算，结果与名单一致"})
    items = List(Nested(DrawItemOut))


class DrawPageOut(BaseSchema):
    items = List(Nested(DrawOut))
    next_after = Int(allow_none=True)
    total = Int()
    total_capped = Bool()


class CampaignOut(BaseSchema):
    id = Id()
    agency_id = Id()
    agency_name = Str()
    name = Str()
    kind = Str()
    kind_label = Str()
    sectors = List(Str())
    jurisdiction_ids = List(Id())
    starts_on = Date()
    ends_on = Date()
    checklist_codes = List(Str())
    description = Str(allow_none=True)
    status = Str()
    status_label = Str()
    version = Int()


class CampaignDetailOut(CampaignOut):
    progress = Dict(metadata={"description": "in_scope 范围内企业；checked 已检查企业；hazards 发现隐患；rectified 已销号"})
