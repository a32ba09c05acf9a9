"""The 消防 plugin's rule sets and checklists (YAML data in ``rules/`` and ``checklists/``) and lookups over them."""

from __future__ import annotations

import copy
from datetime import date
from functools import cache
from typing import Any

from core.catalog import load_yaml_files

#: GB 35181-2017《重大火灾隐患判定方法》: the edition the plugin judges with (its text is partly loaded).
RULES_2017 = "fire-2017-gb35181"
#: GB 35181-2025《重大火灾隐患判定规则》: in force from 2025-11-01, its clause text is not loaded (pending).
RULES_2025 = "fire-2025-gb35181"
#: Tag of the items of GB 35181-2017 clause 6 (直接判定要素): any one of them is a 重大火灾隐患 on its own.
DIRECT_TAG = "直接判定要素"


@cache
def rule_sets() -> tuple[dict[str, Any], ...]:
    """The shipped rule sets as loaded from YAML (each with ``_file``), read once."""
    return tuple(load_yaml_files("plugins.fire", "rules"))


@cache
def checklists() -> tuple[dict[str, Any], ...]:
    """The shipped checklists as loaded from YAML (each with ``_file``), read once."""
    return tuple(load_yaml_files("plugins.fire", "checklists"))


def rule_set_mappings() -> list[dict[str, Any]]:
    """Fresh copies of the rule sets for ``register_rule_sets`` (the core may normalise what it receives)."""
    return copy.deepcopy(list(rule_sets()))


def checklist_mappings() -> list[dict[str, Any]]:
    """Fresh copies of the checklists for ``register_checklists``."""
    return copy.deepcopy(list(checklists()))


def rule_set(code: str, sets: tuple[dict[str, Any], ...] | None = None) -> dict[str, Any]:
    """The rule set with ``code`` (KeyError when the plugin does not ship it)."""
    for rs in sets if sets is not None else rule_sets():
        if rs["code"] == code:
            return rs
    raise KeyError(code)


def direct_items(sets: tuple[dict[str, Any], ...] | None = None) -> dict[str, dict[str, Any]]:
    """``<rule set code>#<number>`` → item, for every 直接判定要素 item of the shipped major-hazard rule sets."""
    out = {}
    for rs in sets if sets is not None else rule_sets():
        if rs.get("kind") != "major_hazard":
            continue
        for item in rs.get("items") or []:
            if DIRECT_TAG in (item.get("tags") or []):
                out[f"{rs['code']}#{item['number']}"] = {**item, "rule_set": rs}
    return out


def applicable_edition(day: date, sets: tuple[dict[str, Any], ...] | None = None
                       ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(the rule set to judge with on ``day``, the newer edition in force whose text is pending, or None).

    The newest major-hazard set in force on ``day`` applies; when its text is ``pending`` (no items), the newest
    set in force that has text is used instead and the pending one is returned so that the record can say so
    (docs/rules_and_checklists.md).
    """
    in_force = sorted((rs for rs in (sets if sets is not None else rule_sets())
                       if rs.get("kind") == "major_hazard" and rs["effective_from"] <= day),
                      key=lambda rs: rs["effective_from"], reverse=True)
    if not in_force:
        raise LookupError(f"{day.isoformat()} 没有已实施的消防重大火灾隐患判定规则集")
    newest = in_force[0]
    if newest.get("text_status") != "pending":
        return newest, None
    with_text = [rs for rs in in_force if rs.get("text_status") != "pending" and rs.get("items")]
    if not with_text:
        raise LookupError(f"{day.isoformat()} 实施的规则集均无条文")
    return with_text[0], newest
