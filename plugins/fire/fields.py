"""The 消防 sector's data on the enterprise record (``enterprise_sectors.data``) and its validity dates."""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import ValidationError, validates, validates_schema

from core.plugin_types import DatedItem, EnterpriseFieldSpec, as_date
from core.schemas.base import BaseSchema, Bool, Date, Int, Str, in_range, length, one_of

SECTOR = "fire"
TEMPLATE = "fire/enterprise_section.html"

#: 建筑/场所类型 (code → 中文). Codes are stored; the labels are shown.
OCCUPANCY_TYPES: dict[str, str] = {
    "entertainment": "公共娱乐场所",
    "hotel": "旅馆、饭店",
    "store": "商店、市场",
    "hospital": "医院",
    "school": "学校",
    "childcare": "托儿所、幼儿园",
    "elderly_care": "老年人照料设施",
    "office": "办公场所",
    "factory": "厂房",
    "warehouse": "仓库",
    "flammable": "易燃易爆危险品场所",
    "underground": "地下人员密集场所",
    "residential": "住宅",
    "other": "其他",
}


class FireFields(BaseSchema):
    """消防: 消防安全重点单位, 建筑/场所类型, 微型消防站, 消防设施维保合同与年度检测."""

    key_unit = Bool(load_default=False)  # 消防安全重点单位
    occupancy_type = Str(allow_none=True, validate=one_of(OCCUPANCY_TYPES, list(OCCUPANCY_TYPES.values())))
    fire_safety_manager = Str(allow_none=True, validate=length(50))  # 消防安全管理人
    micro_station = Bool(load_default=False)  # 已建微型消防站
    micro_station_members = Int(allow_none=True, validate=in_range(1, 200))
    maintenance_company = Str(allow_none=True, validate=length(100))  # 消防设施维保单位
    maintenance_contract_until = Date(allow_none=True)  # 维保合同有效期至
    last_facility_test_on = Date(allow_none=True)  # 最近一次建筑消防设施全面检测日期

    @validates("last_facility_test_on")
    def _not_future(self, value: date | None, **kwargs: Any) -> None:
        if value is not None and value > date.today():
            raise ValidationError("检测日期不能晚于今天")

    @validates_schema
    def _micro_station(self, data: dict[str, Any], **kwargs: Any) -> None:
        members = data.get("micro_station_members")
        if data.get("micro_station") and members is None:
            raise ValidationError("已建微型消防站时应填写队员人数", "micro_station_members")
        if not data.get("micro_station") and members is not None:
            raise ValidationError("未建微型消防站时不应填写队员人数", "micro_station_members")


#: A realistic record (a shopping mall that is a 消防安全重点单位).
EXAMPLE: dict[str, Any] = {
    "key_unit": True,
    "occupancy_type": "store",
    "fire_safety_manager": "陈志强",
    "micro_station": True,
    "micro_station_members": 6,
    "maintenance_company": "厦门安消消防技术服务有限公司",
    "maintenance_contract_until": "2026-12-31",
    "last_facility_test_on": "2025-09-18",
}


def field_spec() -> EnterpriseFieldSpec:
    """The spec returned by ``register_enterprise_fields`` (with ``example`` when the core supports it)."""
    extra = {"example": EXAMPLE} if "example" in EnterpriseFieldSpec.__dataclass_fields__ else {}
    return EnterpriseFieldSpec(sector=SECTOR, schema=FireFields, template=TEMPLATE, **extra)



def one_year_after(day: date) -> date:
    """The same day one year later (29 Feb → 28 Feb)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def dated_items(sector: str, data: dict[str, Any]) -> list[DatedItem]:
    """The validity dates in one enterprise's 消防 data: the 维保 contract's end, and the next annual 全面检测
    (建筑消防设施每年至少进行一次全面检测, 《消防法》第十六条) one year after the last one."""
    if sector != SECTOR or not data:
        return []
    out = []
    contract = as_date(data.get("maintenance_contract_until"))
    if contract is not None:
        company = data.get("maintenance_company")
        label = f"消防设施维护保养合同到期（{company}）" if company else "消防设施维护保养合同到期"
        out.append(DatedItem(label=label, due=contract, key="fire_maintenance_contract"))
    tested = as_date(data.get("last_facility_test_on"))
    if tested is not None:
        out.append(DatedItem(label=f"建筑消防设施年度全面检测（上次检测 {tested.isoformat()}）",
                             due=one_year_after(tested), key="fire_annual_test"))
    return out
