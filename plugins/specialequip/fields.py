"""The 特种设备 data on the enterprise record: equipment register and certificates, validated by marshmallow.

Stored as the schema's dump (dates as ISO strings); each equipment row also carries ``category_name`` on dump
(from the 2014 目录) for display, dropped again on load so that stored data round-trips.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError, post_dump, pre_load, validates, validates_schema

from core.plugin_types import EnterpriseFieldSpec
from core.schemas.base import BaseSchema, Date, List, Nested, Str, length, one_of
from plugins.specialequip import data

SECTOR = "specialequip"
TEMPLATE = "specialequip/enterprise_section.html"
STATUSES = ("在用", "停用")
ROLES = ("安全管理人员", "作业人员")
_REG_CODE = re.compile(r"^[0-9A-Za-z-]{1,40}$")


class EquipmentSchema(BaseSchema):
    """One row of the equipment register (特种设备台账)."""

    category_code = Str(required=True)
    name = Str(required=True, validate=length(60))
    model = Str(load_default=None, allow_none=True, validate=length(60))
    registration_code = Str(load_default=None, allow_none=True)
    use_certificate_no = Str(load_default=None, allow_none=True, validate=length(60))
    factory_no = Str(load_default=None, allow_none=True, validate=length(60))
    location = Str(load_default=None, allow_none=True, validate=length(100))
    next_inspection_date = Date(load_default=None, allow_none=True)
    status = Str(load_default="在用", validate=one_of(STATUSES))

    @pre_load
    def _drop_display_fields(self, raw: Any, **kwargs: Any) -> Any:
        if isinstance(raw, dict):
            raw = {k: v for k, v in raw.items() if k != "category_name"}
        return raw

    @validates("category_code")
    def _category(self, value: str, **kwargs: Any) -> None:
        if data.kind_of(value) is None:
            raise ValidationError("设备类别应为《特种设备目录》（2014）中设备的种类、类别或品种代码，如 3110（曳引驱动乘客电梯）")

    @validates("registration_code")
    def _registration(self, value: str | None, **kwargs: Any) -> None:
        if value is not None and not _REG_CODE.match(value):
            raise ValidationError("注册代码应为 1 到 40 位数字、字母或连字符")

    @validates_schema
    def _in_use_needs_date(self, values: dict[str, Any], **kwargs: Any) -> None:
        if values.get("status", "在用") == "在用" and not values.get("next_inspection_date"):
            raise ValidationError("在用设备应填写下次检验日期", field_name="next_inspection_date")

    @post_dump
    def _add_category_name(self, out: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        out["category_name"] = data.category_label(out["category_code"])
        return out


class CertificateSchema(BaseSchema):
    """A 特种设备安全管理人员 or 作业人员 certificate (特种设备安全管理和作业人员证)."""

    role = Str(required=True, validate=one_of(ROLES))
    name = Str(required=True, validate=length(30))
    certificate_no = Str(required=True, validate=length(40))
    work_item = Str(load_default=None, allow_none=True, validate=length(40))
    valid_until = Date(required=True)


class SpecialEquipFields(BaseSchema):
    equipment = List(Nested(EquipmentSchema), load_default=list)
    certificates = List(Nested(CertificateSchema), load_default=list)

    @validates_schema
    def _unique(self, values: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, Any] = {}
        seen: set[str] = set()
        for i, row in enumerate(values.get("equipment") or []):
            code = row.get("registration_code")
            if code and code in seen:
                errors.setdefault("equipment", {})[i] = {"registration_code": [f"注册代码 {code} 重复"]}
            seen.add(code or "")
        seen = set()
        for i, row in enumerate(values.get("certificates") or []):
            no = row["certificate_no"]
            if no in seen:
                errors.setdefault("certificates", {})[i] = {"certificate_no": [f"证书编号 {no} 重复"]}
            seen.add(no)
        if errors:
            raise ValidationError(errors)


EXAMPLE: dict[str, Any] = {
    "equipment": [
        {"category_code": "3110", "name": "1号客梯", "model": "GeN2-MR", "registration_code": "31103502112019060001",
         "use_certificate_no": "梯11闽B00123(19)", "factory_no": "NE2019-0456", "location": "办公楼",
         "next_inspection_date": "2026-06-30", "status": "在用"},
        {"category_code": "5110", "name": "3吨内燃叉车", "model": "CPCD30", "registration_code": "51103502112020070002",
         "use_certificate_no": "车11闽B00456(20)", "factory_no": "HL20200715", "location": "成品仓库",
         "next_inspection_date": "2026-03-15", "status": "在用"},
    ],
    "certificates": [
        {"role": "安全管理人员", "name": "陈志明", "certificate_no": "350203198001011234", "work_item": "A",
         "valid_until": "2027-05-31"},
        {"role": "作业人员", "name": "林海峰", "certificate_no": "350211199002023456", "work_item": "N1",
         "valid_until": "2026-09-30"},
    ],
}


def field_spec() -> EnterpriseFieldSpec:
    kwargs: dict[str, Any] = {"sector": SECTOR, "schema": SpecialEquipFields, "template": TEMPLATE}
    if "example" in getattr(EnterpriseFieldSpec, "__dataclass_fields__", {}):
        kwargs["example"] = EXAMPLE
    return EnterpriseFieldSpec(**kwargs)
