"""The plugin's shipped data: rule sets and checklists (YAML), and lookups derived from them.

Everything here is read once from the package's own files and cached, so the functions built on it stay pure.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from core.catalog import load_yaml_files
from core.plugin_types import ObjectType

PACKAGE = "plugins.specialequip"
GB45067 = "specialequip-2024-gb45067"
CATALOGUE = "specialequip-2014-catalogue"

#: The 8 kinds of special equipment (《特种设备安全法》第二条) by their 目录 种类 code, with the object type code
#: used for equipment-level inspections.
KINDS: dict[str, tuple[str, str]] = {
    "1000": ("锅炉", "specialequip_boiler"),
    "2000": ("压力容器", "specialequip_pressure_vessel"),
    "8000": ("压力管道", "specialequip_pressure_piping"),
    "3000": ("电梯", "specialequip_elevator"),
    "4000": ("起重机械", "specialequip_crane"),
    "9000": ("客运索道", "specialequip_ropeway"),
    "6000": ("大型游乐设施", "specialequip_amusement"),
    "5000": ("场（厂）内专用机动车辆", "specialequip_vehicle"),
}


@cache
def _rule_sets() -> tuple[dict[str, Any], ...]:
    return tuple(load_yaml_files(PACKAGE, "rules"))


def rule_sets() -> list[dict[str, Any]]:
    """The rule-set mappings as shipped (fresh copies, so callers may not alter the cache)."""
    return [dict(rs) for rs in _rule_sets()]


def checklists() -> list[dict[str, Any]]:
    return load_yaml_files(PACKAGE, "checklists")


def rule_set(code: str) -> dict[str, Any]:
    return next(rs for rs in _rule_sets() if rs["code"] == code)


@cache
def catalogue_codes() -> dict[str, str]:
    """目录 code → name for every 种类/类别/品种 code of the 2014 catalogue (definition items excluded)."""
    return {it["number"]: it["text"] for it in rule_set(CATALOGUE)["items"] if "定义" not in it["number"]}


def kind_of(code: str) -> str | None:
    """The 种类 code (``3000``) an equipment code (``3110``, ``3100``, ``3000``) belongs to, or None when the code
    is not an equipment code of the catalogue (unknown, or 7000 压力管道元件 / F000 安全附件)."""
    if code not in catalogue_codes():
        return None
    kind = code[0] + "000"
    return kind if kind in KINDS else None


def category_label(code: str) -> str:
    """``3110 曳引驱动乘客电梯（电梯）`` for display; the bare code when unknown."""
    name = catalogue_codes().get(code)
    kind = kind_of(code)
    if name is None or kind is None:
        return code
    return f"{code} {name}" if kind == code else f"{code} {name}（{KINDS[kind][0]}）"


def object_types() -> list[ObjectType]:
    """One inspectable object type per kind of special equipment."""
    return [ObjectType(code=ot, name=name, sector="specialequip", description=f"《特种设备目录》{kind} {name}")
            for kind, (name, ot) in KINDS.items()]
