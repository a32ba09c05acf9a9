"""The plugin's rule sets and checklists, read once from the YAML files beside this module."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from core.catalog import load_yaml_files

SECTOR = "roadtransport"


@cache
def _rule_sets() -> tuple[dict[str, Any], ...]:
    return tuple(load_yaml_files(__package__, "rules"))


@cache
def _checklists() -> tuple[dict[str, Any], ...]:
    return tuple(load_yaml_files(__package__, "checklists"))


def rule_sets() -> list[dict[str, Any]]:
    """Raw rule-set mappings (docs/rules_and_checklists.md), each with ``_file``."""
    return copy.deepcopy(list(_rule_sets()))


def checklists() -> list[dict[str, Any]]:
    """Raw checklist mappings (docs/rules_and_checklists.md), each with ``_file``."""
    return copy.deepcopy(list(_checklists()))


def loaded_rule_sets() -> tuple[dict[str, Any], ...]:
    """The cached rule sets themselves, for read-only use (classification); callers must not mutate them."""
    return _rule_sets()
