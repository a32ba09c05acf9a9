"""The 危险化学品 data on the enterprise record (``enterprise_sectors.data``) and its validity dates.

Every field is optional (an enterprise tagged 危险化学品 may have no data yet); a licence number and its
validity date come together. Stored as the schema dumps it (dates as ISO strings).
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validates_schema

from core.plugin_types import DatedItem, EnterpriseFieldSpec, as_date
from core.schemas.base import BaseSchema, Date, List, Nested, Str, length, one_of

SECTOR = "hazchem"
TEMPLATE = "hazchem/enterprise_section.html"
#: 重大危险源等级 (GB 18218 分级; 一级为最高级别).
LEVELS = ("一级", "二级", "三级", "四级")

#: (field prefix, Chinese name): each licence has ``<prefix>_no``, ``<prefix>_valid_from``, ``<prefix>_valid_until``.
LICENCES = (
    ("safety_licence", "安全生产许可证"),
    ("operating_licence", "危险化学品经营许可证"),
)

EXAMPLE: dict[str, Any] = {
    "safety_licence_no": "（闽）WH安许证字〔2024〕0012号",
    "safety_licence_valid_from": "2024-03-01",
    "safety_licence_valid_until": "2027-02-28",
    "operating_licence_no": "闽厦危化经字〔2025〕000123",
    "operating_licence_valid_from": "2025-06-10",
    "operating_licence_valid_until": "2028-06-09",
    "major_hazard_sources": [
        {"name": "液氨储罐区", "level": "三级", "substances": ["氨"]},
        {"name": "甲醇装卸及储罐区", "level": "四级", "substances": ["甲醇"]},
    ],
}


class MajorHazardSourceSchema(BaseSchema):
    """One 重大危险源 of the enterprise."""

    name = Str(required=True, validate=length(100))
    level = Str(required=True, validate=one_of(LEVELS))
    substances = List(Str(validate=length(60)), load_default=list)


class HazchemFields(BaseSchema):
    """许可证 numbers and validity, and the 重大危险源 list."""

    safety_licence_no = Str(allow_none=True, validate=length(60))
    safety_licence_valid_from = Date(allow_none=True)
    safety_licence_valid_until = Date(allow_none=True)
    operating_licence_no = Str(allow_none=True, validate=length(60))
    operating_licence_valid_from = Date(allow_none=True)
    operating_licence_valid_until = Date(allow_none=True)
    major_hazard_sources = List(Nested(MajorHazardSourceSchema), load_default=list)

    @validates_schema
    def _licences(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        for prefix, name in LICENCES:
            number = data.get(f"{prefix}_no")
            start, until = data.get(f"{prefix}_valid_from"), data.get(f"{prefix}_valid_until")
            if number and not until:
                errors[f"{prefix}_valid_until"] = [f"请填写{name}的有效期截止日期"]
            if (start or until) and not number:
                errors[f"{prefix}_no"] = [f"填写了有效期，请同时填写{name}编号"]
            if start and until and start > until:
                errors[f"{prefix}_valid_from"] = [f"{name}的有效期起始日期不能晚于截止日期"]
        names = [s["name"] for s in data.get("major_hazard_sources") or []]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            errors["major_hazard_sources"] = [f"重大危险源名称重复：{'、'.join(repeated)}"]
        if errors:
            raise ValidationError(errors)


def field_spec() -> EnterpriseFieldSpec:
    return EnterpriseFieldSpec(sector=SECTOR, schema=HazchemFields, template=TEMPLATE, example=EXAMPLE)



def dated_items(sector: str, data: dict[str, Any] | None) -> list[DatedItem]:
    """The licences' validity dates in one enterprise's hazchem data ([] for another sector's data)."""
    if sector != SECTOR or not data:
        return []
    out = []
    for prefix, name in LICENCES:
        due = as_date(data.get(f"{prefix}_valid_until"))
        if due is not None:
            number = data.get(f"{prefix}_no")
            label = f"{name}（{number}）有效期" if number else f"{name}有效期"
            out.append(DatedItem(label=label, due=due, key=prefix))
    return out
