"""道路运输 data on the enterprise record: 道路运输经营许可证 and the vehicle roster, and their validity dates."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError, pre_load, validates, validates_schema

from core.plugin_types import DatedItem, EnterpriseFieldSpec, as_date
from core.schemas.base import BaseSchema, Bool, Date, List, Nested, Str, length, one_of

SECTOR = "roadtransport"
TEMPLATE = "roadtransport/enterprise_section.html"

VEHICLE_TYPES = ("大型客车", "中型客车", "小型客车", "公共汽电车", "出租汽车", "重型货车", "中型货车", "轻型货车",
                 "半挂牵引车", "挂车", "罐式车辆", "其他")

_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_L = "A-HJ-NP-Z"  # letters used on plates (no I, no O)
#: 普通号牌 (闽D12345), 新能源 small (闽DD12345 / 闽DF1234X) and large (闽D12345D), 挂车 (闽D1234挂) …
PLATE_RE = re.compile(
    rf"^[{_PROVINCES}][{_L}]"
    rf"(?:[{_L}0-9]{{5}}|[DF][{_L}0-9][0-9]{{4}}|[0-9]{{5}}[DF]|[{_L}0-9]{{4}}[挂学警港澳])$"
)
PLATE_MESSAGE = "车牌号格式不正确（如 闽D12345、闽DD12345、闽D1234挂）"


def normalise_plate(value: str) -> str:
    """Upper case, without the spaces and middle dots people type (闽D·12345 → 闽D12345)."""
    return re.sub(r"[\s·•．.\-]", "", value).upper()


class VehicleSchema(BaseSchema):
    plate = Str(required=True, validate=length(10))
    vehicle_type = Str(required=True, validate=one_of(VEHICLE_TYPES))
    dangerous_goods = Bool(load_default=False)
    transport_cert_no = Str(allow_none=True, validate=length(40))
    inspection_valid_until = Date(allow_none=True)
    gps_installed = Bool(load_default=False)

    @pre_load
    def _plate(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("plate"), str):
            return {**data, "plate": normalise_plate(data["plate"])}
        return data

    @validates("plate")
    def _plate_format(self, value: str, **kwargs: Any) -> None:
        if not PLATE_RE.match(value):
            raise ValidationError(PLATE_MESSAGE)


class RoadTransportFields(BaseSchema):
    licence_no = Str(allow_none=True, validate=length(60))
    licence_scope = Str(allow_none=True, validate=length(300))
    licence_valid_until = Date(allow_none=True)
    vehicles = List(Nested(VehicleSchema), load_default=list)

    @validates("vehicles")
    def _unique_plates(self, value: list[dict[str, Any]], **kwargs: Any) -> None:
        seen: set[str] = set()
        for v in value:
            plate = v.get("plate")
            if plate and plate in seen:
                raise ValidationError(f"车牌号 {plate} 重复")
            seen.add(plate)

    @validates_schema
    def _licence(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("licence_valid_until") and not data.get("licence_no"):
            raise ValidationError("填写有效期时请同时填写许可证编号", "licence_no")


EXAMPLE = {
    "licence_no": "闽交运管许可厦字350200001234号",
    "licence_scope": "道路普通货物运输；道路危险货物运输（2类1项、3类）",
    "licence_valid_until": "2028-06-30",
    "vehicles": [
        {"plate": "闽D12345", "vehicle_type": "罐式车辆", "dangerous_goods": True,
         "transport_cert_no": "闽交运管厦字350200123456号", "inspection_valid_until": "2027-09-30",
         "gps_installed": True},
        {"plate": "闽DF12345", "vehicle_type": "轻型货车", "dangerous_goods": False,
         "transport_cert_no": "闽交运管厦字350200123457号", "inspection_valid_until": "2027-03-31",
         "gps_installed": True},
    ],
}


def field_spec() -> EnterpriseFieldSpec:
    """The spec returned by ``register_enterprise_fields`` (with an example when the core supports one)."""
    kwargs: dict[str, Any] = {"sector": SECTOR, "schema": RoadTransportFields, "template": TEMPLATE}
    if "example" in getattr(EnterpriseFieldSpec, "__dataclass_fields__", {}):
        kwargs["example"] = EXAMPLE
    return EnterpriseFieldSpec(**kwargs)



def dated_items(sector: str, data: dict[str, Any] | None) -> list[DatedItem]:
    """Validity dates in one enterprise's 道路运输 data: the licence and each vehicle's 年审/检验."""
    if sector != SECTOR or not data:
        return []
    items = []
    due = as_date(data.get("licence_valid_until"))
    if due:
        no = data.get("licence_no")
        items.append(DatedItem(label=f"道路运输经营许可证（{no}）" if no else "道路运输经营许可证", due=due, key="licence"))
    for v in data.get("vehicles") or []:
        due = as_date(v.get("inspection_valid_until"))
        plate = v.get("plate")
        if due and plate:
            kind = "危货车辆" if v.get("dangerous_goods") else "营运车辆"
            items.append(DatedItem(label=f"{kind} {plate} 年审/检验有效期", due=due, key=f"vehicle:{plate}:inspection"))
    return items
