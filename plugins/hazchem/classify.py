"""重大事故隐患 decisions of the 危险化学品 plugin, as pure functions of a finding and the rule sets.

A finding of this sector whose rule item is an item of the applicable ``major_hazard`` rule set is 重大 with that
rule item; any other finding of this sector gets ``None`` (the core keeps the suggested level); findings of other
sectors are never claimed. The applicable edition is chosen by the finding's date (``facts['found_on']``) as
docs/rules_and_checklists.md says: in force on that day, not superseded, and with text; an edition in force whose
text is ``pending`` (AQ 3067-2026 from 2026-09-30) is named in the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from core.plugin_types import Classification, Finding

SECTOR = "hazchem"
#: Older spelling of rule items (issue text, core.plugin_types docstring): ``hazchem/安监总管三〔2017〕121号#5``.
LEGACY_PREFIXES = {"hazchem/安监总管三〔2017〕121号#": "hazchem-2017-121#"}

RuleSet = Mapping[str, Any]


def finding_day(facts: Mapping[str, Any]) -> date | None:
    """The day a finding was made, from ``facts['found_on']`` (a date, datetime or ISO string); None if unknown."""
    value = facts.get("found_on")
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def normalise_rule_item(ref: str | None) -> str | None:
    """``<rule set code>#<number>``, also for the legacy ``hazchem/<文号>#<number>`` spelling."""
    if not ref:
        return None
    ref = ref.strip()
    for old, new in LEGACY_PREFIXES.items():
        if ref.startswith(old):
            return new + ref[len(old):]
    return ref


def _has_text(rs: RuleSet) -> bool:
    return rs.get("text_status") != "pending" and bool(rs.get("items"))


def _in_force(rs: RuleSet, day: date | None) -> bool:
    return day is None or rs["effective_from"] <= day


def applicable_rule_set(rule_sets: Iterable[RuleSet], day: date | None) -> tuple[RuleSet | None, list[RuleSet]]:
    """(the major-hazard rule set to judge with on ``day``, editions in force on that day whose text is pending).

    ``day`` None means "now, whatever the date": the newest edition with text. An edition superseded by another
    one in force on ``day`` is skipped unless the newer one is pending.
    """
    sets = [rs for rs in rule_sets if rs.get("sector") == SECTOR and rs.get("kind") == "major_hazard"]
    by_code = {rs["code"]: rs for rs in sets}

    def superseded(rs: RuleSet) -> bool:
        newer = by_code.get(rs.get("superseded_by") or "")
        return newer is not None and _in_force(newer, day) and _has_text(newer)

    usable = [rs for rs in sets if _has_text(rs) and _in_force(rs, day) and not superseded(rs)]
    pending = [rs for rs in sets if not _has_text(rs) and rs.get("text_status") == "pending" and _in_force(rs, day)
               and day is not None]
    chosen = max(usable, key=lambda rs: rs["effective_from"], default=None)
    pending = [rs for rs in pending if chosen is None or rs["effective_from"] > chosen["effective_from"]]
    return chosen, pending


def classify(finding: Finding, rule_sets: Iterable[RuleSet]) -> Classification | None:
    """The hazchem decision for ``finding`` (see the module docstring)."""
    if finding.sector != SECTOR:
        return None
    ref = normalise_rule_item(finding.rule_item)
    if not ref or "#" not in ref:
        return None
    code, number = ref.split("#", 1)
    chosen, pending = applicable_rule_set(list(rule_sets), finding_day(finding.facts))
    if chosen is None or chosen["code"] != code:
        return None
    item = next((i for i in chosen["items"] if str(i["number"]) == number), None)
    if item is None:
        return None
    doc = chosen["document_number"]
    caveat = "" if item.get("verified") else "（条文已核对，条目编号待核）"
    reason = f"{doc}第{number}项{caveat}：{item['text']}"
    for rs in pending:
        reason += f"另：{rs['document_number']}已于{rs['effective_from'].isoformat()}实施，其条文尚未载入，仍按{doc}判定。"
    return Classification(level="major", rule_item=ref, decided_by=SECTOR, reason=reason)
