"""Inspection runs (检查记录) at the boundaries: starting a run, saving one answer, completing; their output."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, pre_load

from core.models.inspection import RUN_KINDS, RUN_STATUS_LABELS
from core.schemas.base import BaseSchema, Bool, Dict, Float, Int, List, Nested, Str, in_range, length, one_of


class RunFilterIn(BaseSchema):
    class Meta:
        unknown = "exclude"

    enterprise_id = Int(allow_none=True)
    status = Str(allow_none=True, validate=one_of([s.value for s in RUN_STATUS_LABELS], RUN_STATUS_LABELS.values()))
    kind = Str(allow_none=True, validate=one_of(RUN_KINDS, RUN_KINDS.values()))
    after = Int(allow_none=True, validate=in_range(min=1))
    size = Int(allow_none=True, validate=in_range(min=1, max=200))

    @pre_load
    def _blank(self, data: Any, **kwargs: Any) -> Any:
        return {k: v for k, v in data.items() if v not in ("", None)} if isinstance(data, dict) else data


class RunStartIn(BaseSchema):
    """Start a run: the checklist codes chosen among the applicable ones (their newest version is used)."""

    enterprise_id = Int(allow_none=True, metadata={"description": "企业用户可省略（本企业）"})
    kind = Str(load_default="self_check", validate=one_of(RUN_KINDS, RUN_KINDS.values()))
    checklists = List(Str(validate=length(80)), required=True, metadata={"description": "检查表代码"})
    task_id = Int(allow_none=True, metadata={"description": "风险清单中的排查任务"})
    object_type = Str(allow_none=True, validate=length(80))
    object_ref = Str(allow_none=True, validate=length(100))


class AnswerIn(BaseSchema):
    """One answer: yes/no/na for 是否题, a number, a text; photo items are answered by their photos."""

    item_id = Int(required=True)
    value = fields.Raw(allow_none=True, load_default=None)
    comment = Str(allow_none=True, validate=length(2000))
    version = Int(allow_none=True, metadata={"description": "该条答案的版本（已有答案时必填，过期为 409）"})

    @pre_load
    def _blank(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict) and data.get("version") in ("", "0"):
            data = {**data, "version": None}
        return data


class CompleteIn(BaseSchema):
    version = Int(required=True, metadata={"description": "检查记录的版本（过期为 409）"})


class ChecklistRefOut(BaseSchema):
    code = Str()
    version = Str()
    title = Str()
    sector = Str()


class RunOut(BaseSchema):
    id = Int()
    enterprise_id = Int()
    enterprise_name = Str()
    kind = Str()
    kind_label = Str()
    object_type = Str(allow_none=True)
    object_ref = Str(allow_none=True)
    task_id = Int(allow_none=True)
    started_by_name = Str()
    started_at = fields.DateTime()
    status = Str()
    status_label = Str()
    completed_at = fields.DateTime(allow_none=True)
    summary = Dict(allow_none=True)
    version = Int()
    checklists = List(Nested(ChecklistRefOut))


class RunPageOut(BaseSchema):
    items = List(Nested(RunOut))
    next_after = Int(allow_none=True)
    total = Int()
    total_capped = Bool()


class AnswerOut(BaseSchema):
    item_id = Int()
    value = Str(allow_none=True)
    passed = Bool(allow_none=True)
    comment = Str(allow_none=True)
    version = Int(allow_none=True)
    hazard_id = Int(allow_none=True)
    photos = List(Dict())
    missing_on_failure = List(Str())


class ItemOut(BaseSchema):
    item_id = Int()
    checklist = Str()
    code = Str()
    section = Str()
    question = Str()
    guidance = Str(allow_none=True)
    answer_type = Str()
    pass_when = fields.Raw(allow_none=True)
    on_fail = Dict(allow_none=True)
    points = Int()
    basis = List(Dict())
    answer = Nested(AnswerOut, allow_none=True)


class RunDetailOut(RunOut):
    progress = Dict()
    items = List(Nested(ItemOut))
    can_answer = Bool()


class SavedAnswerOut(AnswerOut):
    progress = Dict()
    score = Float(allow_none=True)
