"""Enterprise input/output schemas (R-A2), shared by the web form, the JSON API and Excel/CSV import."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validates_schema
from stdnum.cn import uscc as stdnum_uscc

from core.models import SupervisionLevel
from core.models.org import Enterprise
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
    in_range,
    length,
    nullable_as,
    one_of,
    sector_choice,
    validate_uscc,
)

STANDARDIZATION_STATUS = {"none": "未创建", "in_progress": "创建中", "graded": "已达标", "withdrawn": "已退出"}
STANDARDIZATION_GRADES = ["一级", "二级", "三级"]
CREDIT_CLASSES = ["A", "B", "C", "D"]
SUPERVISION_LEVELS = {lvl.value: lvl.label for lvl in SupervisionLevel}

#: Fields that decide identity and supervision; only regulators and admins may change them
#: (``enterprise.update_supervision``), an enterprise user may not change them on its own record.
SUPERVISION_FIELDS = frozenset({
    "name", "uscc", "jurisdiction_id", "grid_id", "supervising_agency_id", "supervision_level",
    "is_high_risk", "is_above_scale", "is_key_industry", "is_small_micro",
    "standardization_status", "standardization_grade", "credit_class", "is_active",
})


class UsccField(Str):
    """统一社会信用代码, normalised (spaces and dashes removed, upper case) before validation."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        return stdnum_uscc.compact(text).upper()


class SectorIn(BaseSchema):
    """One sector tag with its data; ``data`` is validated further by the sector plugin's schema."""

    sector = Str(required=True, validate=sector_choice())
    activities = List(Str(validate=length(40)), load_default=list)
    data = Dict(load_default=dict)


class EnterpriseIn(BaseSchema):
    """Create (all required fields) or update (``partial=True``; ``version`` required by the service)."""

    name = Str(required=True, validate=length(200, min=2))
    uscc = UsccField(required=True, validate=validate_uscc, metadata={
        "pattern": r"^[0-9A-HJ-NPQRTUWXY]{18}$", "description": "统一社会信用代码（18 位，末位为校验码，GB 32100-2015）"})
    address = Str(allow_none=True, validate=length(300))
    longitude = Float(allow_none=True, validate=in_range(-180, 180))
    latitude = Float(allow_none=True, validate=in_range(-90, 90))
    jurisdiction_id = Id(required=True)
    grid_id = Id(allow_none=True)
    industry_code = Str(allow_none=True, validate=length(10))
    industry_name = Str(allow_none=True, validate=length(100))
    legal_representative = Str(allow_none=True, validate=length(50))
    actual_controller = Str(allow_none=True, validate=length(50))
    principal_name = Str(allow_none=True, validate=length(50))
    principal_phone = Str(allow_none=True, validate=length(30))
    safety_manager_name = Str(allow_none=True, validate=length(50))
    safety_manager_phone = Str(allow_none=True, validate=length(30))
    employee_count = Int(allow_none=True, validate=in_range(0, 10_000_000))
    is_high_risk = Bool(load_default=False)
    is_above_scale = Bool(load_default=False)
    is_key_industry = Bool(load_default=False)
    is_small_micro = Bool(load_default=False)
    supervising_agency_id = Id(allow_none=True)
    supervision_level = Str(allow_none=True, validate=one_of(SUPERVISION_LEVELS, SUPERVISION_LEVELS.values()))
    standardization_status = Str(
        allow_none=True, validate=one_of(STANDARDIZATION_STATUS, STANDARDIZATION_STATUS.values())
    )
    standardization_grade = Str(allow_none=True, validate=one_of(STANDARDIZATION_GRADES))
    insurance_company = Str(allow_none=True, validate=length(100))
    insurance_start = Date(allow_none=True)
    insurance_end = Date(allow_none=True)
    credit_class = Str(allow_none=True, validate=one_of(CREDIT_CLASSES))
    is_active = Bool(load_default=True)
    sectors = List(Nested(SectorIn))
    version = Int(load_only=True)

    @validates_schema
    def _check_dates(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, end = data.get("insurance_start"), data.get("insurance_end")
        if start and end and end < start:
            raise ValidationError("安责险止期不能早于起期", field_name="insurance_end")


class NamedRefOut(BaseSchema):
    id = Id()
    name = Str()


class SectorOut(BaseSchema):
    sector = Str()
    sector_name = Str()
    activities = List(Str())
    data = Dict()


@nullable_as(Enterprise)
class EnterpriseOut(BaseSchema):
    id = Id()
    name = Str()
    uscc = Str()
    address = Str()
    longitude = Float()
    latitude = Float()
    jurisdiction = Nested(NamedRefOut)
    grid = Nested(NamedRefOut, allow_none=True)
    industry_code = Str()
    industry_name = Str()
    legal_representative = Str()
    actual_controller = Str()
    principal_name = Str()
    principal_phone = Str()
    safety_manager_name = Str()
    safety_manager_phone = Str()
    employee_count = Int()
    is_high_risk = Bool()
    is_above_scale = Bool()
    is_key_industry = Bool()
    is_small_micro = Bool()
    supervising_agency = Nested(NamedRefOut, allow_none=True)
    supervision_level = Str()
    standardization_status = Str()
    standardization_grade = Str()
    insurance_company = Str()
    insurance_start = Date()
    insurance_end = Date()
    credit_class = Str()
    is_active = Bool()
    sectors = List(Nested(SectorOut))
    version = Int()


class EnterpriseFilterIn(BaseSchema):
    """Query string of the enterprise list (web and API)."""

    class Meta:
        # The web list passes its whole query string; unknown keys (e.g. a UI toggle) are ignored there.
        unknown = "exclude"

    q = Str(allow_none=True, validate=length(100))
    jurisdiction_id = Id(allow_none=True)
    sector = Str(allow_none=True, validate=sector_choice())
    is_high_risk = Bool(allow_none=True)
    is_above_scale = Bool(allow_none=True)
    is_key_industry = Bool(allow_none=True)
    is_small_micro = Bool(allow_none=True)
    is_active = Bool(allow_none=True)
    after = Int(allow_none=True, validate=in_range(min=1))
    size = Int(allow_none=True, validate=in_range(1, 200))
