"""道路运输 hazard classification as pure functions (the logic behind the ``classify_hazard`` hook).

A finding of this sector whose rule item is a *verified* item of the applicable 重大事故隐患判定标准 is 重大, with
that rule item. Anything else of this sector gets ``None``, so the core keeps the suggested level; findings of
other sectors are never claimed. Unverified items (e.g. the 第六条(二) fragment) are not used to declare a
major hazard automatically: their text is not confirmed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from core.plugin_types import Classification, Finding, as_date

SECTOR = "roadtransport"
_FULL_WIDTH = str.maketrans({"（": "(", "）": ")", " ": "", "　": ""})


def normalise_rule_item(ref: str) -> str:
    """``roadtransport-2023-mot#第三条（一）`` → ``roadtransport-2023-mot#第三条(一)`` (parentheses and spaces)."""
    return ref.strip().translate(_FULL_WIDTH)



def applicable_rule_set(rule_sets: Iterable[Mapping[str, Any]], day: date | None) -> Mapping[str, Any] | None:
    """The major-hazard rule set of this sector in force on ``day`` (the newest with text when ``day`` is None).

    Pending sets (no text) are skipped: the newest set with text judges, as docs/rules_and_checklists.md says.
    """
    candidates = [
        rs for rs in rule_sets
        if rs.get("sector") == SECTOR and rs.get("kind") == "major_hazard" and rs.get("text_status") != "pending"
        and (day is None or as_date(rs.get("effective_from")) is None or as_date(rs["effective_from"]) <= day)
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda rs: as_date(rs.get("effective_from")) or date.min)


def major_items(rule_set: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Verified items of a major-hazard rule set by number: the ones that make a finding 重大."""
    return {str(it["number"]): it for it in rule_set.get("items") or [] if it.get("verified") is True}


def finding_day(finding: Finding) -> date | None:
    """The day the finding was made, when the caller passed it in ``facts`` (``found_on``)."""
    return as_date(finding.facts.get("found_on"))


def classify(finding: Finding, rule_sets: Iterable[Mapping[str, Any]]) -> Classification | None:
    """Decide a finding's level, or ``None`` when this plugin has nothing to say about it."""
    if finding.sector != SECTOR or not finding.rule_item:
        return None
    code, _, number = normalise_rule_item(finding.rule_item).partition("#")
    rule_set = applicable_rule_set(rule_sets, finding_day(finding))
    if rule_set is None or code != rule_set["code"]:
        return None
    item = major_items(rule_set).get(number)
    if item is None:
        return None
    label = item.get("title") or number
    return Classification(
        level="major",
        rule_item=f"{code}#{number}",
        decided_by=SECTOR,
        reason=f"{rule_set['document_number']}《{rule_set['title']}》{number}：{label}",
    )
