"""Hook implementations of the 道路运输 plugin. Only @hookimpl functions here; logic lives beside this module."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.hookspecs import hookimpl
from core.plugin_types import Classification, DatedItem, EnterpriseFieldSpec, Finding, ObjectType, SectorInfo
from plugins.roadtransport import __version__, classify, fields, objects, rules

SECTOR = SectorInfo(
    code="roadtransport",
    name="道路运输",
    version=__version__,
    description="道路运输企业和城市客运企业：重大事故隐患判定标准（交通运输部，2023）、经营许可与车辆。",
    activities=("道路旅客运输", "道路货物运输", "道路危险货物运输", "城市客运", "汽车客运站"),
)


@hookimpl
def register_sector() -> SectorInfo:
    return SECTOR


@hookimpl
def register_rule_sets() -> list[dict[str, Any]]:
    return rules.rule_sets()


@hookimpl
def register_checklists() -> list[dict[str, Any]]:
    return rules.checklists()


@hookimpl
def register_object_types() -> list[ObjectType]:
    return list(objects.OBJECT_TYPES)


@hookimpl
def register_enterprise_fields() -> EnterpriseFieldSpec:
    return fields.field_spec()


@hookimpl
def register_template_dirs() -> list[str]:
    return [str(Path(__file__).parent / "templates")]


@hookimpl
def classify_hazard(finding: Finding) -> Classification | None:
    return classify.classify(finding, rules.loaded_rule_sets())


@hookimpl
def register_dated_items(sector: str, data: dict[str, Any]) -> list[DatedItem] | None:
    return fields.dated_items(sector, data)
