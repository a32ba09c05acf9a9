"""The plugin manager, built per app from the enabled entry points (never at import time)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib.metadata import entry_points
from typing import Any

import pluggy
from flask import Flask, current_app

from core import hookspecs
from core.catalog.registry import ApplicableRuleSet, Catalog, Checklist, RuleItem, RuleSet, validate_catalog
from core.hookspecs import hookimpl
from core.plugin_types import (
    Classification,
    DocumentType,
    EnterpriseFieldSpec,
    Finding,
    ObjectType,
    SectorInfo,
)
from core.standardization import Criteria, core_criteria, validate_criteria

ENTRY_POINT_GROUP = "anjian.plugins"
log = logging.getLogger(__name__)


class PluginLoadError(RuntimeError):
    """An enabled plugin cannot be found or loaded, or registers itself wrongly."""


class CoreDefaults:
    """The core's own implementations: defaults for decision hooks."""

    @hookimpl(trylast=True)
    def classify_hazard(self, finding: Finding) -> Classification:
        return Classification(level=finding.suggested_level or "general", rule_item=finding.rule_item, decided_by="core")


@dataclass
class PluginRegistry:
    """What the enabled plugins contribute, collected once at start-up. Stored in ``app.extensions['anjian']``."""

    pm: pluggy.PluginManager
    sectors: dict[str, SectorInfo] = field(default_factory=dict)
    #: plugin name → distribution version (or the module's ``__version__``), for the plugins page.
    versions: dict[str, str] = field(default_factory=dict)
    enterprise_fields: dict[str, EnterpriseFieldSpec] = field(default_factory=dict)
    object_types: dict[str, ObjectType] = field(default_factory=dict)
    #: plugin name → the sector code it registered (equal for entry-point plugins).
    sector_of: dict[str, str] = field(default_factory=dict)
    #: Rule sets and checklists of the plugins, validated at start-up (docs/rules_and_checklists.md).
    catalog: Catalog = field(default_factory=Catalog)
    #: 安全生产标准化 criteria: the core editions and the plugins' sector criteria (register_assessment_criteria).
    criteria: Criteria = field(default_factory=Criteria)
    #: Document types of the plugins (register_document_types), code → type; the core's are DOCUMENT_TYPES.
    document_types: dict[str, DocumentType] = field(default_factory=dict)
    #: Document type code → the plugin that registered it (for clash messages).
    document_type_plugin: dict[str, str] = field(default_factory=dict)

    @property
    def rule_sets(self) -> Mapping[str, RuleSet]:
        """Rule set code → validated, immutable rule set."""
        return self.catalog.rule_sets

    @property
    def checklists(self) -> Mapping[tuple[str, str], Checklist]:
        """(checklist code, version) → validated, immutable checklist."""
        return self.catalog.checklists

    def rule_item(self, ref: str) -> tuple[RuleItem, RuleSet] | None:
        """``hazchem-2017-121#5`` → (item, rule set), or None when no shipped rule set has it."""
        return self.catalog.rule_item(ref)

    def applicable_rule_set(self, code: str, day: date) -> ApplicableRuleSet | None:
        """The edition of rule set ``code`` to judge with on ``day`` (see :meth:`Catalog.applicable_rule_set`)."""
        return self.catalog.applicable_rule_set(code, day)

    def plugin_rows(self) -> list[tuple[str, str, SectorInfo | None]]:
        """(plugin name, version, sector info) for every loaded plugin but the core, for listings."""
        return [(name, self.versions.get(name, ""), self.sectors.get(self.sector_of.get(name, "")))
                for name, _ in self.pm.list_name_plugin() if name != "core"]

    @property
    def hook(self) -> Any:
        return self.pm.hook

    def sector_name(self, code: str) -> str:
        """Chinese name of a sector, or a marker for a sector whose plugin is not enabled (data kept, R-P3)."""
        info = self.sectors.get(code)
        return info.name if info else f"{code}（插件未启用）"

    def classify(self, finding: Finding) -> Classification:
        return self.pm.hook.classify_hazard(finding=finding)

    def notify(self, hook_name: str, **kwargs: Any) -> None:
        """Fire an ``on_*`` event hook; a plugin that raises is logged, never allowed to break the caller."""
        hook = getattr(self.pm.hook, hook_name)
        for impl in reversed(hook.get_hookimpls()):
            try:
                impl.function(**{k: kwargs[k] for k in impl.argnames})
            except Exception:
                log.exception("plugin %s failed in %s", impl.plugin_name, hook_name)


def _available_entry_points() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def build_plugin_manager(enabled: list[str], extra: list[Any] | None = None) -> PluginRegistry:
    """Load exactly ``enabled`` plugins from the ``anjian.plugins`` entry points, plus ``extra`` objects.

    Raises :class:`PluginLoadError` naming the plugin when one is not installed, fails to import, or registers
    a sector code different from its entry-point name; calls ``check_pending()`` so that a misspelt hook name in
    a plugin fails start-up instead of being silently ignored.
    """
    pm = pluggy.PluginManager("anjian")
    pm.add_hookspecs(hookspecs)
    pm.register(CoreDefaults(), name="core")
    available = _available_entry_points()
    registry = PluginRegistry(pm=pm)

    for name in enabled:
        ep = available.get(name)
        if ep is None:
            raise PluginLoadError(
                f"插件 {name!r} 已在 ENABLED_PLUGINS 中启用，但没有安装（entry point 组 {ENTRY_POINT_GROUP} 中只有："
                f"{', '.join(sorted(available)) or '无'}）。请安装该插件或从 ENABLED_PLUGINS 中移除。"
            )
        try:
            module = ep.load()
        except Exception as exc:
            raise PluginLoadError(f"插件 {name!r} 加载失败：{exc}") from exc
        pm.register(module, name=name)
        registry.versions[name] = (ep.dist.version if ep.dist else None) or getattr(module, "__version__", "?")

    for i, plugin in enumerate(extra or []):
        pm.register(plugin, name=getattr(plugin, "__name__", None) or f"extra-{i}")

    pm.check_pending()
    _collect(registry)
    return registry


def _collect(registry: PluginRegistry) -> None:
    hook = registry.pm.hook
    for impl in hook.register_sector.get_hookimpls():
        info: SectorInfo = impl.function()
        if info.code in registry.sectors:
            raise PluginLoadError(f"两个插件注册了同一个领域代码 {info.code!r}")
        name = impl.plugin_name
        if name in registry.versions and info.code != name:
            raise PluginLoadError(f"插件 {name!r} 注册的领域代码为 {info.code!r}，应与入口点名称一致")
        registry.sectors[info.code] = info
        registry.sector_of[name] = info.code
        registry.versions.setdefault(name, info.version)
    for spec in hook.register_enterprise_fields():
        if spec is not None:
            registry.enterprise_fields[spec.sector] = spec
    for types in hook.register_object_types():
        for ot in types or []:
            registry.object_types[ot.code] = ot
    # Validated as a whole (a rule basis may cite another plugin's rule set); raises CatalogError naming the
    # file, the item and the field of every problem, which stops create_app.
    registry.catalog = validate_catalog(
        [rs for sets in hook.register_rule_sets() for rs in (sets or [])],
        [cl for lists in hook.register_checklists() for cl in (lists or [])],
        sectors=registry.sectors,
    )
    for impl in hook.register_document_types.get_hookimpls():
        for dt in impl.function() or []:
            other = registry.document_type_plugin.get(dt.code)
            if other is not None:
                raise PluginLoadError(f"插件 {other!r} 与插件 {impl.plugin_name!r} 注册了同一个文书种类代码 {dt.code!r}")
            registry.document_types[dt.code] = dt
            registry.document_type_plugin[dt.code] = impl.plugin_name
    registry.criteria = validate_criteria(
        core_criteria(), [c for sets in hook.register_assessment_criteria() for c in (sets or [])],
        sectors=registry.sectors)


def check_document_types(registry: PluginRegistry, core_types: Mapping[str, Any]) -> None:
    """Fail fast when a plugin's document type code is also a core type (config ``DOCUMENT_TYPES``)."""
    for code, dt in registry.document_types.items():
        if code in core_types:
            raise PluginLoadError(
                f"插件 {registry.document_type_plugin[code]!r} 注册的文书种类 {code!r}（{dt.name}）与核心文书种类 "
                f"{code!r}（{core_types[code].get('name', code)}，配置 DOCUMENT_TYPES）代码相同")


def init_plugins(app: Flask) -> PluginRegistry:
    registry = build_plugin_manager(app.config["ENABLED_PLUGINS"], app.config.get("EXTRA_PLUGINS"))
    check_document_types(registry, app.config["DOCUMENT_TYPES"])
    app.extensions["anjian"] = registry
    for bps in registry.hook.register_blueprints():
        for bp in bps or []:
            app.register_blueprint(bp)
    return registry


def plugins() -> PluginRegistry:
    """The current app's plugin registry."""
    return current_app.extensions["anjian"]
