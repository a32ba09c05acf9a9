"""Inspectable objects of the 危险化学品 sector (R-A3)."""

from __future__ import annotations

from core.plugin_types import ObjectType

OBJECT_TYPES = (
    ObjectType(code="hazchem_major_hazard_source", name="危险化学品重大危险源", sector="hazchem",
               description="按 GB 18218 辨识、分为一级至四级的危险化学品重大危险源。"),
    ObjectType(code="hazchem_tank_farm", name="危险化学品储罐区", sector="hazchem",
               description="储存易燃、有毒等危险化学品的储罐及其防火堤、装卸设施。"),
    ObjectType(code="hazchem_warehouse", name="危险化学品仓库", sector="hazchem",
               description="危险化学品专用仓库、专用场地或专用储存室。"),
    ObjectType(code="hazchem_process_unit", name="化工生产装置", sector="hazchem",
               description="化工生产装置，含涉及重点监管危险化工工艺的装置。"),
    ObjectType(code="hazchem_loading_station", name="危险化学品装卸站台", sector="hazchem",
               description="液化烃、液氨、液氯等的装卸车（充装）设施。"),
)


def object_types() -> list[ObjectType]:
    return list(OBJECT_TYPES)
