"""Inspection runs (检查记录) at the boundaries: starting a run, saving one answer, completing; their output."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, pre_load

from core.models.inspection import GPS_MISSING, RUN_KINDS, RUN_STATUS_LABELS, SIGNATURE_ROLES
from core.schemas.base import (
    BaseSchema,
    Bool,
    Dict,
    Float,
    Id,
    Int,
    List,
    Nested,
    Str,
    UtcDateTime,
    in_range,
    length,
    one_of,
)


class RunFilterIn(BaseSchema):
    class Meta:
        unknown = "exclude"

    enterprise_id = Id(allow_none=True)
    status = Str(allow_none=True, validate=one_of([s.value for s in RUN_STATUS_LABELS], RUN_STATUS_LABELS.values()))
    kind = Str(allow_none=True, validate=one_of(RUN_KINDS, RUN_KINDS.values()))
    after = Int(allow_none=True, validate=in_range(min=1))
    size = Int(allow_none=True, validate=in_range(min=1, max=200))

    @pre_load
    def _blank(self, data: Any, **kwargs: Any) -> Any:
        return {k: v for k, v in data.items() if v not in ("", None)} if isinstance(data, dict) else data


class PositionIn(BaseSchema):
    """Where a step happens: the device's coordinates (WGS-84) or why it gave none."""

    lat = Float(allow_none=True, validate=in_range(-90, 90), metadata={"description": "纬度"})
    lng = Float(allow_none=True, validate=in_range(-180, 180), metadata={"description": "经度"})
    accuracy_m = Float(allow_none=True, validate=in_range(0, 1_000_000), metadata={"description": "精度（米）"})
    gps_missing = Str(allow_none=True, validate=one_of(GPS_MISSING, GPS_MISSING.values()),
                      metadata={"description": "未获取定位的原因：" + "、".join(f"{k} {v}" for k, v in GPS_MISSING.items())})


class RunStartIn(PositionIn):
    """Start a run: the checklist codes chosen among the applicable ones (their newest version is used).

    An enforcement run (执法检查) also needs ``co_inspector_id`` (a certified colleague of the same agency) and the
    start position (``lat``/``lng`` or ``gps_missing``)."""

    enterprise_id = Id(allow_none=True, metadata={"description": "企业用户可省略（本企业）"})
    kind = Str(load_default="self_check", validate=one_of(RUN_KINDS, RUN_KINDS.values()))
    checklists = List(Str(validate=length(80)), required=True, metadata={"description": "检查表代码"})
    task_id = Id(allow_none=True, metadata={"description": "风险清单中的排查任务"})
    object_type = Str(allow_none=True, validate=length(80))
    object_ref = Str(allow_none=True, validate=length(100))
    co_inspector_id = Id(allow_none=True, metadata={"description": "第二名执法人员（执法检查）"})
    place = Str(allow_none=True, validate=length(200), metadata={"description": "检查场所（默认企业地址）"})
    onsite_name = Str(allow_none=True, validate=length(50), metadata={"description": "被检查单位现场负责人"})
    onsite_title = Str(allow_none=True, validate=length(50), metadata={"description": "现场负责人职务"})
    draw_item_id = Id(allow_none=True, metadata={"description": "本次检查所完成的双随机抽查名单条目"})


class AnswerIn(PositionIn):
    """One answer: yes/no/na for 是否题, a number, a text; photo items are answered by their photos."""

    item_id = Id(required=True)
    value = fields.Raw(allow_none=True, load_default=None)
    comment = Str(allow_none=True, validate=length(2000))
    version = Int(allow_none=True, metadata={"description": "该条答案的版本（已有答案时必填，过期为 409）"})

    @pre_load
    def _blank(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict) and data.get("version") in ("", "0"):
            data = {**data, "version": None}
        return data


class CompleteIn(PositionIn):
    """Complete a run; an enforcement run also gives its end position (``lat``/``lng`` or ``gps_missing``)."""

    version = Int(required=True, metadata={"description": "检查记录的版本（过期为 409）"})


class SignatureIn(PositionIn):
    """A signature (multipart, with the PNG in ``image``): an inspector signs for himself; the enterprise's
    on-site person signs on the inspector's device with ``name`` (and ``title``)."""

    role = Str(required=True, validate=one_of(SIGNATURE_ROLES, SIGNATURE_ROLES.values()))
    name = Str(allow_none=True, validate=length(50), metadata={"description": "现场负责人姓名（role=enterprise）"})
    title = Str(allow_none=True, validate=length(50), metadata={"description": "现场负责人职务"})


class SignatureOut(BaseSchema):
    id = Id()
    role = Str()
    role_label = Str()
    user_id = Id(allow_none=True)
    name = Str()
    title = Str(allow_none=True)
    cert_number = Str(allow_none=True)
    signed_at = UtcDateTime()
    sha256 = Str()
    lat = Float(allow_none=True)
    lng = Float(allow_none=True)
    accuracy_m = Float(allow_none=True)


class SignatureListOut(BaseSchema):
    items = List(Nested(SignatureOut))
    missing = List(Str(), metadata={"description": "尚缺的签名"})


class EventOut(BaseSchema):
    id = Id()
    at = UtcDateTime()
    actor_id = Id(allow_none=True)
    actor_name = Str()
    action = Str()
    action_label = Str()
    detail = Dict(allow_none=True)
    lat = Float(allow_none=True)
    lng = Float(allow_none=True)
    accuracy_m = Float(allow_none=True)
    gps_missing = Str(allow_none=True)
    place_label = Str(metadata={"description": "位置或未获取定位的原因"})
    attachment_shas = List(Str(), allow_none=True)


class RecordOut(BaseSchema):
    run_id = Id()
    items = List(Nested(EventOut))


class ChecklistRefOut(BaseSchema):
    code = Str()
    version = Str()
    title = Str()
    sector = Str()


class RunOut(BaseSchema):
    id = Id()
    enterprise_id = Id()
    enterprise_name = Str()
    kind = Str()
    kind_label = Str()
    object_type = Str(allow_none=True)
    object_ref = Str(allow_none=True)
    task_id = Id(allow_none=True)
    started_by_name = Str()
    started_at = UtcDateTime()
    status = Str()
    status_label = Str()
    completed_at = UtcDateTime(allow_none=True)
    summary = Dict(allow_none=True)
    version = Int()
    checklists = List(Nested(ChecklistRefOut))
    started_by_id = Id(allow_none=True)
    co_inspector_id = Id(allow_none=True)
    place = Str(allow_none=True)
    onsite_name = Str(allow_none=True)
    onsite_title = Str(allow_none=True)
    start_position = Dict(allow_none=True, metadata={"description": "开始位置 lat/lng/accuracy_m/gps_missing（执法检查）"})
    end_position = Dict(allow_none=True, metadata={"description": "结束位置（执法检查）"})


class RunPageOut(BaseSchema):
    items = List(Nested(RunOut))
    next_after = Int(allow_none=True)
    total = Int()
    total_capped = Bool()


class AnswerOut(BaseSchema):
    item_id = Id()
    value = Str(allow_none=True)
    passed = Bool(allow_none=True)
    comment = Str(allow_none=True)
    version = Int(allow_none=True)
    hazard_id = Id(allow_none=True)
    photos = List(Dict())
    missing_on_failure = List(Str())


class ItemOut(BaseSchema):
    item_id = Id()
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


class IssuedRecordOut(BaseSchema):
    document_id = Id()
    number = Str()
    pdf_sha256 = Str()
    verify_code = Str()
