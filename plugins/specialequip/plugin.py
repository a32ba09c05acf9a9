"""Hook implementations of the 特种设备 plugin. Only @hookimpl functions here; logic lives beside this module."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.hookspecs import hookimpl
from core.plugin_types import Classification, DatedItem, EnterpriseFieldSpec, Finding, ObjectType, SectorInfo
from plugins.specialequip import __version__, classify, dated, fields
from plugins.specialequip import data as shipped

SECTOR = SectorInfo(
    code="specialequip",
    name="特种设备",
    version=__version__,
    description="特种设备使用单位：重大事故隐患判定准则（GB 45067-2024）、设备登记与定期检验。",
    activities=("锅炉", "压力容器", "压力管道", "电梯", "起重机械", "客运索道", "大型游乐设施", "场（厂）内专用机动车辆"),
)


@hookimpl
def register_sector() -> SectorInfo:
    return SECTOR


@hookimpl
def register_rule_sets() -> list[dict[str, Any]]:
    return shipped.rule_sets()


@hookimpl
def register_checklists() -> list[dict[str, Any]]:
    return shipped.checklists()


@hookimpl
def register_object_types() -> list[ObjectType]:
    return shipped.object_types()


@hookimpl
def register_enterprise_fields() -> EnterpriseFieldSpec:
    return fields.field_spec()


@hookimpl
def classify_hazard(finding: Finding) -> Classification | None:
    return classify.classify(finding)


@hookimpl
def register_dated_items(sector: str, data: dict[str, Any]) -> list[DatedItem]:
    return dated.dated_items(sector, data)


@hookimpl
def register_template_dirs() -> list[str]:
    return [str(Path(__file__).parent / "templates")]
