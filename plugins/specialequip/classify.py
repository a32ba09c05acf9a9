"""classify_hazard for 特种设备 findings, as pure functions.

A finding of this sector that cites an item of GB 45067-2024 (a ``major_hazard`` rule set) in force on the day it
was found is 重大, with that item named. Any other finding of this sector gets ``None`` so that the core keeps the
suggested level; findings of other sectors are never claimed.
"""

from __future__ import annotations

from datetime import date
from functools import cache

from core.plugin_types import Classification, Finding
from plugins.specialequip import data

SECTOR = "specialequip"


@cache
def major_items() -> dict[str, str]:
    """``<rule set code>#<number>`` → item text, for every item of the plugin's major-hazard rule sets."""
    out = {}
    for rs in data.rule_sets():
        if rs.get("kind") == "major_hazard":
            for item in rs.get("items") or []:
                out[f"{rs['code']}#{item['number']}"] = item["text"]
    return out


def _effective_from(rule_item: str) -> date:
    rs = data.rule_set(rule_item.split("#", 1)[0])
    value = rs["effective_from"]
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _found_on(finding: Finding) -> date | None:
    value = finding.facts.get("found_on")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def classify(finding: Finding) -> Classification | None:
    """重大 with the rule item for a GB 45067 item in force on ``facts['found_on']`` (when given); else None."""
    if finding.sector != SECTOR or not finding.rule_item:
        return None
    text = major_items().get(finding.rule_item)
    if text is None:
        return None
    found_on = _found_on(finding)
    if found_on is not None and found_on < _effective_from(finding.rule_item):
        return None
    number = finding.rule_item.split("#", 1)[1]
    reason = f"GB 45067-2024 {number}：{text}（条文未经两处来源核对，verified: false）"
    return Classification(level="major", rule_item=finding.rule_item, decided_by=SECTOR, reason=reason)
