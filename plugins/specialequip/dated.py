"""Validity dates in the 特种设备 data (下次检验日期 per equipment in use, certificate validity), as DatedItems."""

from __future__ import annotations

from typing import Any

from core.plugin_types import DatedItem, as_date
from plugins.specialequip import data

SECTOR = "specialequip"



def dated_items(sector: str, values: dict[str, Any] | None) -> list[DatedItem]:
    """One item per equipment in use with a 下次检验日期, and one per certificate with its validity."""
    if sector != SECTOR or not values:
        return []
    out = []
    for i, row in enumerate(values.get("equipment") or []):
        due = as_date(row.get("next_inspection_date"))
        if due is None or row.get("status", "在用") != "在用":
            continue
        ident = row.get("registration_code") or row.get("factory_no") or str(i + 1)
        kind = data.KINDS.get(data.kind_of(row.get("category_code", "")) or "", ("特种设备", ""))[0]
        out.append(DatedItem(label=f"{kind}“{row.get('name', '')}”（注册代码 {ident}）定期检验",
                             due=due, key=f"equipment:{ident}:inspection"))
    for row in values.get("certificates") or []:
        due = as_date(row.get("valid_until"))
        if due is None:
            continue
        out.append(DatedItem(label=f"特种设备{row.get('role', '')}证（{row.get('name', '')}，{row.get('certificate_no', '')}）",
                             due=due, key=f"certificate:{row.get('certificate_no', '')}"))
    return out

