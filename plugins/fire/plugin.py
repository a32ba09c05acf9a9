"""Hook implementations of the 消防 plugin. Only @hookimpl functions here; logic lives beside this module."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.hookspecs import hookimpl
from core.plugin_types import Classification, DatedItem, EnterpriseFieldSpec, Finding, ObjectType, SectorInfo
from plugins.fire import __version__, catalog, classify, fields, objects

SECTOR = SectorInfo(
    code="fire",
    name="消防",
    version=__version__,
    description="消防安全：重大火灾隐患判定（GB 35181）、消防安全重点单位、人员密集场所。",
    activities=("消防安全重点单位", "人员密集场所", "一般单位"),
)


@hookimpl
def register_sector() -> SectorInfo:
    return SECTOR


@hookimpl
def register_rule_sets() -> list[dict[str, Any]]:
    return catalog.rule_set_mappings()


@hookimpl
def register_checklists() -> list[dict[str, Any]]:
    return catalog.checklist_mappings()


@hookimpl
def register_object_types() -> list[ObjectType]:
    return list(objects.OBJECT_TYPES)


@hookimpl
def register_enterprise_fields() -> EnterpriseFieldSpec:
    return fields.field_spec()


@hookimpl
def classify_hazard(finding: Finding) -> Classification | None:
    return classify.classify(finding)


@hookimpl
def register_dated_items(sector: str, data: dict[str, Any]) -> list[DatedItem] | None:
    return fields.dated_items(sector, data)


@hookimpl
def register_template_dirs() -> list[str]:
    return [str(Path(__file__).parent / "templates")]
