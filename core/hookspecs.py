"""Every hook a plugin may implement.

Conventions (after Datasette and pytest):

* ``register_*`` hooks return contributions; all results are collected, in registration order reversed as
  pluggy does. Returning ``None`` contributes nothing.
* A bare verb marked ``firstresult`` is a decision: the first non-``None`` answer wins, and the core registers a
  default implementation with ``trylast=True`` so that there always is one.
* ``on_*`` hooks are events; they are called after the change is flushed and must not raise (the core logs and
  swallows an exception from one, so that a broken plugin cannot block the closed loop).
* Hooks are always called with keyword arguments.

``tests/test_hookspecs.py`` fails when a hook here lacks a docstring or is missing from ``docs/plugin_hooks.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from flask import Blueprint

    from core.plugin_types import (
        Classification,
        DatedItem,
        DocumentType,
        EnterpriseFieldSpec,
        Finding,
        HazardTransitionEvent,
        ObjectType,
        SectorInfo,
    )

hookspec = pluggy.HookspecMarker("anjian")
hookimpl = pluggy.HookimplMarker("anjian")


@hookspec
def register_sector() -> SectorInfo:
    """Return the plugin's :class:`~core.plugin_types.SectorInfo` (code, Chinese name, version, activities).

    Called once when the app starts. Every sector plugin implements it; its ``code`` must equal the entry-point
    name under which it was loaded, or the app refuses to start.
    """


@hookspec
def register_rule_sets() -> list[dict[str, Any]]:
    """Return the plugin's major-hazard determination rule sets (重大事故隐患判定标准) as raw mappings.

    Each mapping follows the core rule-set schema (code, title, 文号, issuer, effective_from, superseded_by,
    source, items with exact text and a ``verified`` flag). The core validates them at start-up and stores them
    versioned. Called once per app start.
    """


@hookspec
def register_checklists() -> list[dict[str, Any]]:
    """Return the plugin's checklists (检查表) as raw mappings following the core checklist schema.

    Items cite the rule item or law article they check. Validated and stored versioned by the core at start-up,
    so an answer keeps the version it was made against.
    """


@hookspec
def register_object_types() -> list[ObjectType]:
    """Return the inspectable object types this sector adds (R-A3), e.g. 电梯 or 危货车辆.

    Called once when the app starts; all plugins' lists are collected into ``registry.object_types`` by code
    (a later duplicate code replaces an earlier one, so prefix codes with the sector when in doubt).
    """


@hookspec
def register_enterprise_fields() -> EnterpriseFieldSpec:
    """Return the schema (and optional detail template) of this sector's data on the enterprise record.

    The core validates ``enterprise_sectors.data`` with the schema wherever that data enters (web form, API,
    import) and refuses invalid data with the schema's field messages.
    """


@hookspec
def register_assessment_criteria() -> list[dict[str, Any]]:
    """Return the sector's 安全生产标准化 scoring criteria (行业评分细则) as raw mappings (docs/standardization.md).

    Each mapping names its ``sector``, the core edition it ``extends`` (``gbt33000-2016``) and items with a standard
    score, deduction rules, required evidence, a ``veto`` flag (否决项) and the core 一级要素 they join. Validated with
    the core's marshmallow schema at start-up (a bad mapping stops the app); an assessment of an enterprise with
    this sector copies the items. Called once per app start.
    """


@hookspec(firstresult=True)
def classify_hazard(finding: Finding) -> Classification | None:
    """Decide the level of a hidden danger from a :class:`~core.plugin_types.Finding`.

    Firstresult: the first plugin returning a :class:`~core.plugin_types.Classification` wins; a plugin returns
    ``None`` for findings that are not its sector's. The core default (``trylast``) keeps the suggested level, or
    一般 when there is none. Must be a pure function of its input (tests call it twice and compare).
    """


@hookspec
def register_dated_items(sector: str, data: dict[str, Any]) -> list[DatedItem] | None:
    """Return the validity dates in one enterprise's data of ``sector`` (licences, equipment inspections …).

    Called by the reminders command for every enterprise sector row, with the row's sector code and its
    validated ``data``; a plugin answers only for its own sector (``None`` or ``[]`` otherwise). Must be a pure
    function of its input: the reminders command decides who is told and when.
    """


@hookspec
def on_hazard_transition(event: HazardTransitionEvent) -> None:
    """Event: a hidden danger changed state (登记, 整改, 复查, 销号, 挂牌督办 …).

    Called after the transition was flushed, inside the same transaction. Must not raise; use it to notify or
    to keep sector-side data current.
    """


@hookspec
def register_blueprints() -> list[Blueprint]:
    """Return Flask blueprints with the sector's pages. Each blueprint may carry its own ``template_folder``.

    Registered after the core blueprints; URL prefixes should start with ``/s/<sector code>``.
    """


@hookspec
def register_template_dirs() -> list[str]:
    """Return folders whose templates join the app's template search path (after the app's own).

    Use it for templates included by core pages (e.g. the sector section of the enterprise detail page); name
    them under a folder with the sector code (``hazchem/enterprise_section.html``) so that plugins never clash.
    """


@hookspec
def register_document_types() -> list[DocumentType]:
    """Return the document types (文书种类) this plugin adds, as :class:`~core.plugin_types.DocumentType` (R-O2).

    Called once at app start-up; all plugins' types are collected into ``registry.document_types`` by code. A
    code equal to a core type in ``DOCUMENT_TYPES`` or to another plugin's type stops the start-up with
    ``PluginLoadError`` naming both. The PDF template lives in one of the plugin's ``register_template_dirs``.
    """
