"""The 消防 plugin's hazard classification (``classify_hazard``) as pure functions."""

from __future__ import annotations

from datetime import date
from typing import Any

from core.plugin_types import Classification, Finding
from plugins.fire import catalog

SECTOR = "fire"


def finding_day(finding: Finding) -> date | None:
    """The day the finding was made, from ``facts['found_on']`` (a date or an ISO string), if given."""
    value = finding.facts.get("found_on")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def major_reason(item: dict[str, Any], day: date | None, sets: tuple[dict[str, Any], ...] | None = None) -> str:
    """Why a finding is 重大: the standard and clause; that the clause text is unconfirmed (``verified: false``);
    and, when a newer edition whose text is pending was in force on the day, that this edition was used instead."""
    rs = item["rule_set"]
    reason = f"符合 {rs['document_number']}《{rs['title']}》直接判定要素第{item['number']}条，应直接判定为重大火灾隐患"
    if not item.get("verified"):
        reason += "（该条原文待核实）"
    pending = None
    if day is not None:
        _, pending = catalog.applicable_edition(day, sets)
    else:  # day unknown: name every pending edition newer than the one used
        pending = next((s for s in (sets if sets is not None else catalog.rule_sets())
                        if s.get("text_status") == "pending" and s["effective_from"] > rs["effective_from"]), None)
    if pending is not None:
        reason += (f"；{pending['document_number']}《{pending['title']}》已于{pending['effective_from'].isoformat()}实施，"
                   f"其条文尚未载入，暂按 {rs['document_number']} 判定")
    return reason + "。"


def classify(finding: Finding, sets: tuple[dict[str, Any], ...] | None = None) -> Classification | None:
    """重大 with the rule item when a 消防 finding cites a 直接判定要素 item of GB 35181; otherwise None.

    None leaves the decision to the core (it keeps the suggested level): findings of other sectors, free-text
    findings, and findings citing a 综合判定要素 (clause 7), which is not 重大 on its own.
    """
    if finding.sector != SECTOR or not finding.rule_item:
        return None
    item = catalog.direct_items(sets).get(finding.rule_item)
    if item is None:
        return None
    return Classification(level="major", rule_item=finding.rule_item, decided_by=SECTOR,
                          reason=major_reason(item, finding_day(finding), sets))
