"""The plugin's rule sets and checklists (YAML under rules/ and checklists/), read once per process."""

from __future__ import annotations

from functools import cache
from typing import Any

from core.catalog import load_yaml_files

PACKAGE = "plugins.hazchem"


@cache
def _rule_sets() -> tuple[dict[str, Any], ...]:
    return tuple(load_yaml_files(PACKAGE, "rules"))


@cache
def _checklists() -> tuple[dict[str, Any], ...]:
    return tuple(load_yaml_files(PACKAGE, "checklists"))


def rule_sets() -> list[dict[str, Any]]:
    """Fresh copies of the rule set mappings (callers and the core may annotate them)."""
    return [_copy(rs) for rs in _rule_sets()]


def loaded_rule_sets() -> tuple[dict[str, Any], ...]:
    """The cached mappings themselves, for read-only use (classification on every finding)."""
    return _rule_sets()


def checklists() -> list[dict[str, Any]]:
    return [_copy(cl) for cl in _checklists()]


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
