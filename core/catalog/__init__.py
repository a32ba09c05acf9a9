"""The catalog of sector knowledge: rule sets (重大事故隐患判定标准 …) and checklists shipped by plugins as YAML
(format: docs/rules_and_checklists.md), validated at start-up and stored versioned."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

import yaml


def load_yaml_files(package: str, folder: str) -> list[dict[str, Any]]:
    """The mappings in ``<package>/<folder>/*.yaml``, sorted by file name, each with its path as ``_file``.

    Plugins call this from ``register_rule_sets`` / ``register_checklists``. Reading is all it does: the core
    validates the mappings (and names ``_file`` in every error) when it collects them.
    """
    root = files(package).joinpath(folder)
    if not root.is_dir():
        return []
    out = []
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml")):
            data = yaml.safe_load(entry.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError(f"{package}/{folder}/{entry.name}: 文件内容应为一个映射（YAML mapping）")
            out.append({**data, "_file": f"{package.replace('.', '/')}/{folder}/{entry.name}"})
    return out
