"""The 消防 sector's inspectable object types (R-A3)."""

from __future__ import annotations

from core.plugin_types import ObjectType

OBJECT_TYPES = [
    ObjectType(code="fire_building", name="建筑", sector="fire",
               description="单体建筑或建筑群（高层、地下、厂房、仓库等），按建筑检查疏散、防火分隔和消防设施。"),
    ObjectType(code="fire_venue", name="场所", sector="fire",
               description="建筑内的使用场所（公共娱乐场所、商店、旅馆、人员密集场所、易燃易爆危险品场所等）。"),
]
