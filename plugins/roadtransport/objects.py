"""Inspectable object types of the 道路运输 sector (R-A3)."""

from __future__ import annotations

from core.plugin_types import ObjectType

OBJECT_TYPES = (
    ObjectType(code="roadtransport_vehicle", name="营运车辆", sector="roadtransport",
               description="道路运输企业和城市客运企业的营运车辆（客车、货车、公共汽电车、出租汽车等）。"),
    ObjectType(code="roadtransport_dg_vehicle", name="危货车辆", sector="roadtransport",
               description="道路危险货物运输专用车辆（含罐式车辆），按《道路危险货物运输管理规定》管理。"),
)
