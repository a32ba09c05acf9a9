"""The plugin contract (R-P1…R-P3), checked for every default plugin and the fake one, with their data as it is.

For each plugin: it loads and registers its own sector; its rule sets and checklists pass the core schemas and the
catalog checks (docs/rules_and_checklists.md); every checklist item cites a basis and every ``rule:`` basis names a
shipped rule item; a ``verified`` rule set has only verified items; ``classify_hazard`` is a pure function and names
the cited rule item for a major item; its enterprise-field template renders with the spec's example data; and
``register_dated_items`` answers the example with :class:`DatedItem`s. A plugin that ships no YAML yet has nothing
to check for those parts, so this runs against the data at any moment (``pytest tests/test_plugin_contract.py``).

Problems are attributed to the plugin under test: its data is validated together with the rule sets of the other
plugins that validate on their own (a basis may cite another plugin's rule set).
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import Any

import pluggy
import pytest
from jinja2 import ChoiceLoader, FileSystemLoader

from core import hookspecs
from core.catalog.registry import Catalog, CatalogError, validate_catalog
from core.config import DEFAULT_PLUGINS
from core.plugin_types import DatedItem, EnterpriseFieldSpec, Finding, SectorInfo
from core.plugins import ENTRY_POINT_GROUP, CoreDefaults
from tests.plugins import fake_sector

PLUGINS = [*DEFAULT_PLUGINS, "fake"]


def _module(name: str) -> Any:
    if name == "fake":
        return fake_sector
    eps = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    assert name in eps, f"plugin {name} has no entry point in {ENTRY_POINT_GROUP}"
    return eps[name].load()


@cache
def _pm(name: str) -> pluggy.PluginManager:
    """A plugin manager with only the core defaults and this plugin (no catalog validation yet)."""
    pm = pluggy.PluginManager("anjian")
    pm.add_hookspecs(hookspecs)
    pm.register(CoreDefaults(), name="core")
    pm.register(_module(name), name=name)
    pm.check_pending()
    return pm


def _sector(name: str) -> str:
    return _pm(name).hook.register_sector()[0].code


def _flat(results: list[Any]) -> list[dict[str, Any]]:
    return [x for r in results for x in (r or [])]


def _own(name: str) -> tuple[list[dict], list[dict]]:
    hook = _pm(name).hook
    return _flat(hook.register_rule_sets()), _flat(hook.register_checklists())


@cache
def _others_rule_sets(name: str) -> tuple[dict, ...]:
    """The rule sets of the other plugins that validate on their own (for bases citing another plugin)."""
    out: list[dict] = []
    for other in PLUGINS:
        if other == name:
            continue
        sets, _ = _own(other)
        try:
            validate_catalog(sets, [])
        except CatalogError:
            continue
        out.extend(sets)
    return tuple(out)


@cache
def _catalog(name: str) -> Catalog:
    sets, lists = _own(name)
    return validate_catalog([*sets, *_others_rule_sets(name)], lists)


def _own_checklists(name: str):
    sector = _sector(name)
    return [c for c in _catalog(name).checklists.values() if c.sector == sector]


def _own_rule_sets(name: str):
    sector = _sector(name)
    return [r for r in _catalog(name).rule_sets.values() if r.sector == sector]


@pytest.fixture(params=PLUGINS)
def plugin(request) -> str:
    return request.param


def test_plugin_loads_and_registers_its_sector(plugin):
    """R-P1: the plugin imports, every hook it implements is known, its sector code is its name."""
    infos = _pm(plugin).hook.register_sector()
    assert len(infos) == 1 and isinstance(infos[0], SectorInfo)
    if plugin != "fake":
        assert infos[0].code == plugin
    assert infos[0].name and infos[0].version


def test_rule_sets_and_checklists_validate(plugin):
    """R-P2: the plugin's YAML passes the core schemas and the whole-catalog checks (message names file/item/field)."""
    try:
        catalog = _catalog(plugin)
    except CatalogError as exc:
        pytest.fail(str(exc), pytrace=False)
    sector = _sector(plugin)
    sets, lists = _own(plugin)
    assert sorted(r.code for r in catalog.rule_sets.values() if r.sector == sector) == sorted(r["code"] for r in sets)
    assert len([c for c in catalog.checklists.values() if c.sector == sector]) == len(lists)
    for raw in [*sets, *lists]:
        assert raw.get("sector") == sector, f"{raw.get('_file')}: sector 应为 {sector}"
        assert raw.get("_file"), "mappings should come from core.catalog.load_yaml_files (with _file)"


def test_every_checklist_item_cites_a_basis_that_resolves(plugin):
    """R-P2: every item cites at least one basis; a rule basis names a shipped rule item; a major item's rule is a
    major-hazard rule item."""
    catalog = _catalog(plugin)
    for checklist in _own_checklists(plugin):
        for item in checklist.items:
            assert item.basis, f"{checklist.file} 条目 {item.code}: 没有依据"
            for ref in item.rule_refs:
                assert catalog.rule_item(ref) is not None, f"{checklist.file} 条目 {item.code}: {ref} 无法解析"
            if item.on_fail and item.on_fail.get("level") == "major":
                found = catalog.rule_item(item.on_fail["rule"])
                assert found is not None and found[1].kind == "major_hazard", f"{checklist.file} 条目 {item.code}"


def test_verified_rule_sets_have_only_verified_items(plugin):
    """R-P2: text is never invented: verified sets are all verified; pending sets carry no items."""
    for rule_set in _own_rule_sets(plugin):
        unverified = [i.number for i in rule_set.items if not i.verified]
        if rule_set.text_status == "verified":
            assert not unverified, f"{rule_set.file}: 未核实条目 {unverified}，应标为 partial"
        if rule_set.text_status == "pending":
            assert not rule_set.items, rule_set.file
        else:
            assert rule_set.items and all(i.text.strip() for i in rule_set.items), rule_set.file


def _findings(plugin: str) -> list[tuple[Finding, Any]]:
    sector = _sector(plugin)
    out = []
    for checklist in _own_checklists(plugin):
        for item in checklist.items:
            if not item.on_fail or not item.on_fail.get("hazard"):
                continue
            rule = item.on_fail.get("rule") or next(iter(item.rule_refs), None)
            out.append((Finding(sector=sector, description=item.question, checklist_item=item.ref, rule_item=rule,
                                suggested_level=item.on_fail.get("level")), item))
    return out


def test_classify_hazard_is_deterministic_and_names_the_rule_of_major_items(plugin):
    """R-P3: classify_hazard is a pure function of the finding; a major item is classified 重大 with its cited rule."""
    hook = _pm(plugin).hook
    for finding, item in _findings(plugin):
        first, second = hook.classify_hazard(finding=finding), hook.classify_hazard(finding=finding)
        assert first == second, f"{item.ref}: 两次判定结果不同"
        assert first.level in ("general", "major"), item.ref
        if item.on_fail.get("level") == "major":
            assert (first.level, first.rule_item) == ("major", item.on_fail["rule"]), \
                f"{item.ref}: 重大隐患条目应判定为重大并给出依据 {item.on_fail['rule']}，实际 {first}"
        if first.level == "major":
            assert first.rule_item, f"{item.ref}: 判定为重大但没有给出依据条目"


def _spec(plugin: str) -> EnterpriseFieldSpec | None:
    specs = [s for s in _pm(plugin).hook.register_enterprise_fields() if s is not None]
    return specs[0] if specs else None


def _example_data(spec: EnterpriseFieldSpec) -> dict[str, Any]:
    """The example as the core stores it (load, then dump: JSON-ready)."""
    schema = spec.schema()
    return schema.dump(schema.load(spec.example))


def test_enterprise_field_template_renders_with_the_example(plugin, app, session, world):
    """R-P1: the sector section of the enterprise detail page renders with the spec's example data."""
    from core.models import Enterprise

    spec = _spec(plugin)
    if spec is None or spec.template is None:
        return
    assert spec.example is not None, f"{plugin}: 有模板的 EnterpriseFieldSpec 应提供 example"
    dirs = [d for ds in _pm(plugin).hook.register_template_dirs() for d in (ds or [])]
    env = app.jinja_env.overlay(loader=ChoiceLoader([app.jinja_loader, FileSystemLoader(dirs)]))
    enterprise = session.get(Enterprise, world.enterprises["E1"])
    with app.test_request_context("/"):
        html = env.get_template(spec.template).render(data=_example_data(spec), enterprise=enterprise)
    assert html.strip(), f"{spec.template} rendered nothing"


def test_enterprise_field_example_is_valid(plugin):
    """R-P1: the example data passes the plugin's own schema."""
    spec = _spec(plugin)
    if spec is None or spec.example is None:
        return
    assert _example_data(spec) is not None


def test_dated_items_for_the_example(plugin):
    """R-P3: register_dated_items answers the example with DatedItems, and nothing for another sector."""
    hook = _pm(plugin).hook
    spec = _spec(plugin)
    if not hook.register_dated_items.get_hookimpls() or spec is None or spec.example is None:
        return
    sector = _sector(plugin)
    items = _flat(hook.register_dated_items(sector=sector, data=_example_data(spec)))
    assert items, f"{plugin}: example 中应有带日期的数据（许可证、检验有效期）"
    assert all(isinstance(i, DatedItem) and i.key and i.label for i in items), items
    assert len({i.key for i in items}) == len(items), "keys must be unique within one enterprise's data"
    assert _flat(hook.register_dated_items(sector="no-such-sector", data=_example_data(spec))) == []
