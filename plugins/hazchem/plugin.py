"""Hook implementations of the 危险化学品 plugin. Only @hookimpl functions here; logic lives beside this module."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.hookspecs import hookimpl
from core.plugin_types import Classification, DatedItem, EnterpriseFieldSpec, Finding, ObjectType, SectorInfo
from plugins.hazchem import __version__, catalog, classify, fields, objects, standardization

SECTOR = SectorInfo(
    code="hazchem",
    name="危险化学品",
    version=__version__,
    description="危险化学品生产、经营、使用、储存单位的安全监管：重大事故隐患判定（安监总管三〔2017〕121号等）、许可证与重大危险源。",
    activities=("生产", "经营", "使用", "储存"),
)


@hookimpl
def register_sector() -> SectorInfo:
    return SECTOR


@hookimpl
def register_rule_sets() -> list[dict[str, Any]]:
    return catalog.rule_sets()


@hookimpl
def register_checklists() -> list[dict[str, Any]]:
    return catalog.checklists()


@hookimpl
def register_object_types() -> list[ObjectType]:
    return objects.object_types()


@hookimpl
def register_enterprise_fields() -> EnterpriseFieldSpec:
    return fields.field_spec()


@hookimpl
def classify_hazard(finding: Finding) -> Classification | None:
    return classify.classify(finding, catalog.loaded_rule_sets())


@hookimpl
def register_dated_items(sector: str, data: dict[str, Any]) -> list[DatedItem]:
    return fields.dated_items(sector, data)


@hookimpl
def register_assessment_criteria() -> list[dict[str, Any]]:
    return standardization.criteria()


@hookimpl
def register_template_dirs() -> list[str]:
    return [str(Path(__file__).resolve().parent / "templates")]
