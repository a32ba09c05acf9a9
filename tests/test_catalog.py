"""The catalog core (R-P1…R-P3): rule sets and checklists as validated, versioned data.

Schemas and whole-catalog checks (docs/rules_and_checklists.md), the registry built at start-up, edition choice by
date, and ``anjian catalog sync`` storing every version once. Driven by the fake sector's data
(tests/plugins/fake_data), never by the real plugins'.
"""

from __future__ import annotations

import copy
import dataclasses
from datetime import date

import pytest
from marshmallow import ValidationError
from sqlalchemy import func, select

from core.app import create_app
from core.catalog import load_yaml_files
from core.catalog.registry import CatalogError, validate_catalog
from core.catalog.schemas import ChecklistSchema, RuleSetSchema, load_checklist
from core.hookspecs import hookimpl
from core.models import AuditEntry, StoredChecklist, StoredChecklistItem, StoredRuleItem, StoredRuleSet
from core.plugin_types import SectorInfo
from core.services.catalog import CHANGED_MESSAGE, sync_catalog
from core.services.errors import Conflict, PermissionDenied
from tests.conftest import base_config
from tests.plugins import fake_sector

RULES = load_yaml_files("tests.plugins", "fake_data/rules")
CHECKLISTS = load_yaml_files("tests.plugins", "fake_data/checklists")
CL_FILE = "tests/plugins/fake_data/checklists/fake-basic-1.0.yaml"


def _rules() -> list[dict]:
    return copy.deepcopy(RULES)


def _lists() -> list[dict]:
    return copy.deepcopy(CHECKLISTS)


def _rule_set(code: str) -> dict:
    return next(r for r in _rules() if r["code"] == code)


def _problems(rule_sets, checklists) -> list[str]:
    with pytest.raises(CatalogError) as excinfo:
        validate_catalog(rule_sets, checklists)
    return excinfo.value.problems


# --- schemas -------------------------------------------------------------------------------------------------------

def test_fake_data_loads_with_files_named():
    """R-P2: the fake sector's YAML passes; each mapping carries its file."""
    catalog = validate_catalog(_rules(), _lists())
    assert sorted(catalog.rule_sets) == ["fake-2019-duty", "fake-2020-r1", "fake-2026-r2"]
    checklist = catalog.checklists[("fake-basic", "1.0")]
    assert checklist.file == CL_FILE
    assert [i.code for i in checklist.items] == ["1.1", "1.2", "2.1", "2.2", "2.3"]
    assert checklist.item("1.2").pass_when == {"min": 0, "max": 1.6}
    assert checklist.item("1.1").on_fail["rule"] == "fake-2020-r1#1"
    assert checklist.item("2.2").on_fail is None and checklist.item("2.2").pass_when is None
    assert checklist.item("1.1").ref == "fake-basic/1.1"
    assert catalog.rule_sets["fake-2020-r1"].effective_from == date(2020, 3, 1)
    assert "_file" not in catalog.rule_sets["fake-2020-r1"].content and "file" not in checklist.content


def test_catalog_objects_are_immutable():
    """R-P2: what start-up validated cannot be changed afterwards by a caller."""
    catalog = validate_catalog(_rules(), _lists())
    checklist = catalog.checklists[("fake-basic", "1.0")]
    with pytest.raises(dataclasses.FrozenInstanceError):
        checklist.title = "改"  # type: ignore[misc]
    with pytest.raises(TypeError):
        checklist.content["title"] = "改"  # type: ignore[index]
    with pytest.raises(TypeError):
        catalog.rule_sets["x"] = None  # type: ignore[index]


@pytest.mark.parametrize("change, field, message", [
    (lambda d: d.update(colour="red"), "colour", "未知字段"),
    (lambda d: d.pop("document_number"), "document_number", "必填项"),
    (lambda d: d.update(kind="law"), "kind", "应为以下之一"),
    (lambda d: d.update(code="R1"), "code", "<领域代码>-<年份>-<文号或简称>"),
    (lambda d: d.update(code="other-2020-r1"), "code", "fake-2017-121"),
    (lambda d: d.update(effective_from="2020-13-01"), "effective_from", "应为日期"),
    (lambda d: d.update(text_status="verified"), "text_status", "未核实条目（3）"),
    (lambda d: d.update(text_status="pending"), "items", "不能有条目"),
    (lambda d: d.update(items=[]), "items", "至少应有一个条目"),
    (lambda d: d.update(source_urls=[]), "source_urls", "出处"),
])
def test_rule_set_schema_refuses(change, field, message):
    """R-P2: a broken rule set is refused with a Chinese message on the field."""
    data = _rule_set("fake-2020-r1")
    change(data)
    with pytest.raises(ValidationError) as excinfo:
        RuleSetSchema().load(data)
    assert message in " ".join(excinfo.value.messages[field]), excinfo.value.messages


def test_rule_item_numbers_are_text_and_unique():
    data = _rule_set("fake-2020-r1")
    data["items"][1]["number"] = 1  # YAML int → "1", which duplicates item 1
    with pytest.raises(ValidationError) as excinfo:
        RuleSetSchema().load(data)
    assert excinfo.value.messages == {"items": ["条目编号 1 重复"]}


def _item(data: dict, code: str) -> dict:
    return next(i for s in data["sections"] for i in s["items"] if i["code"] == code)


@pytest.mark.parametrize("code, change, path, message", [
    ("1.1", lambda i: i.pop("basis"), ("basis",), "必填项"),
    ("1.1", lambda i: i.update(basis=[]), ("basis",), "长度应在 1"),
    ("1.1", lambda i: i.update(basis=[{"rule": "fake-2020-r1"}]), ("basis", 0, "rule"), "<判定标准代码>#<条目编号>"),
    ("1.1", lambda i: i.update(basis=[{"rule": "a#1", "law": "b"}]), ("basis", 0, "_schema"), "有且只有"),
    ("1.1", lambda i: i.update(answer="maybe"), ("answer",), "应为以下之一"),
    ("1.1", lambda i: i.pop("pass_when"), ("pass_when",), "\"yes\" 或 \"no\""),
    ("1.1", lambda i: i["on_fail"].pop("rule"), ("on_fail", "rule"), "level 为 major 时应给出 rule"),
    ("1.1", lambda i: i["on_fail"].update(category="weather"), ("on_fail", "category"), "应为以下之一"),
    ("1.1", lambda i: i["on_fail"].pop("category"), ("on_fail", "category"), "隐患类别"),
    ("1.1", lambda i: i.pop("on_fail"), ("on_fail",), "应写明不合格时的处理"),
    ("1.2", lambda i: i.update(pass_when={"min": 5, "max": 1}), ("pass_when",), "min 不能大于 max"),
    ("1.2", lambda i: i.update(pass_when={"least": 5}), ("pass_when",), "{min: 数值, max: 数值}"),
    ("2.2", lambda i: i.update(pass_when="yes"), ("pass_when",), "没有合格条件"),
    ("2.3", lambda i: i.update(on_fail={"hazard": False}), ("on_fail",), "不应填写 on_fail"),
    ("1.1", lambda i: i.update(points=-1), ("points",), "不能小于 0"),
])
def test_checklist_item_schema_refuses(code, change, path, message):
    """R-P2: per-item rules of the format (basis, answer types, pass_when, on_fail)."""
    data = _lists()[0]
    item = _item(data, code)
    change(item)
    section = next(n for n, s in enumerate(data["sections"]) if item in s["items"])
    index = data["sections"][section]["items"].index(item)
    with pytest.raises(ValidationError) as excinfo:
        ChecklistSchema().load(data)
    node = excinfo.value.messages["sections"][section]["items"][index]
    for key in path:
        node = node[key]
    assert message in " ".join(node), excinfo.value.messages


def test_checklist_yaml_conveniences():
    """Unquoted YAML values that mean the obvious are accepted: pass_when yes (a boolean), numeric codes, the
    draft category name ``behaviour``; a numeric version gets a hint to quote it."""
    data = _lists()[0]
    item = _item(data, "1.1")
    item.update(pass_when=True, code=7.5)
    item["on_fail"]["category"] = "behaviour"
    loaded = ChecklistSchema().load(data)
    first = loaded["sections"][0]["items"][0]
    assert (first["code"], first["pass_when"], first["on_fail"]["category"]) == ("7.5", "yes", "human")
    data["version"] = 2026.1
    with pytest.raises(ValidationError) as excinfo:
        load_checklist(data)
    assert excinfo.value.messages["version"] == ["应为文本（YAML 中请加引号，例如 \"2026.1\"）"]


def test_unscored_checklist_has_no_points():
    data = _lists()[0]
    data["scored"] = False
    with pytest.raises(ValidationError) as excinfo:
        ChecklistSchema().load(data)
    assert "1.1、1.2、2.1" in excinfo.value.messages["scored"][0]


# --- whole-catalog checks and the error message ----------------------------------------------------------------------

def test_error_names_the_file_the_item_and_the_field():
    """R-P2: "<file> 条目 <code> 字段 <field>: <message>", every problem at once."""
    lists = _lists()
    _item(lists[0], "2.1")["basis"][1]["law"] = ""
    _item(lists[0], "1.2")["answer"] = "yes"
    rules = _rules()
    rules[0]["items"][0].pop("text")  # fake-2019-duty 第五条
    problems = _problems(rules, lists)
    assert sorted(problems) == sorted([
        "tests/plugins/fake_data/rules/fake-2019-duty.yaml 条目 第五条 字段 text: 必填项",
        f"{CL_FILE} 条目 2.1 字段 basis[1].law: 长度应在 1 到 300 个字符之间",
        f"{CL_FILE} 条目 1.2 字段 answer: 取值应为以下之一：yes_no、yes_no_na、number、text、photo",
    ])
    broken = _lists()
    broken[0]["sections"][1]["title"] = ""
    assert _problems(_rules(), broken) == [f"{CL_FILE} 分组 2 字段 title: 长度应在 1 到 200 个字符之间"]


def test_unresolved_rule_basis_and_major_rule_kind():
    """R-P2: a rule basis must name a shipped rule item; a major item's rule must be in a major_hazard set."""
    lists = _lists()
    _item(lists[0], "1.1")["basis"][0]["rule"] = "fake-2020-r1#9"
    _item(lists[0], "2.1")["basis"][0]["rule"] = "fake-2021-x#1"
    _item(lists[0], "1.1")["on_fail"]["rule"] = "fake-2019-duty#第五条"
    problems = _problems(_rules(), lists)
    assert problems == [
        f"{CL_FILE} 条目 1.1 字段 basis[0].rule: 判定标准 fake-2020-r1 中没有条目 9（fake-2020-r1#9）",
        (f"{CL_FILE} 条目 1.1 字段 on_fail.rule: level 为 major 时 rule 应为重大事故隐患判定标准的条目，"
         "fake-2019-duty 的类型为 duty"),
        f"{CL_FILE} 条目 2.1 字段 basis[0].rule: 找不到判定标准 fake-2021-x（fake-2021-x#1）",
    ]


def test_duplicates_and_dangling_superseded_by():
    rules = _rules()
    rules.append({**copy.deepcopy(rules[0]), "_file": "dup.yaml"})
    rules[1]["superseded_by"] = "fake-2030-none"  # fake-2020-r1
    lists = _lists()
    lists.append({**copy.deepcopy(lists[0]), "_file": "again.yaml"})
    _item(lists[0], "2.3")["code"] = "2.2"
    problems = _problems(rules, lists)
    assert "dup.yaml 字段 code: 判定标准代码 fake-2019-duty 重复（另见 tests/plugins/fake_data/rules/fake-2019-duty.yaml）" \
        in problems
    assert "tests/plugins/fake_data/rules/fake-2020-r1.yaml 字段 superseded_by: 找不到判定标准 fake-2030-none" in problems
    assert f"again.yaml 字段 version: 检查表 fake-basic 的版本 1.0 重复（另见 {CL_FILE}）" in problems
    assert f"{CL_FILE} 条目 2.2 字段 code: 条目编号在检查表中重复" in problems
    assert len(problems) == 4


def test_sector_must_be_loaded():
    with pytest.raises(CatalogError) as excinfo:
        validate_catalog(_rules(), [], sectors=["hazchem"])
    assert "tests/plugins/fake_data/rules/fake-2019-duty.yaml 字段 sector: 领域 'fake' 没有启用的插件" in \
        excinfo.value.problems


def test_broken_plugin_file_stops_create_app(database_url, tmp_path, monkeypatch):
    """R-P2: a plugin shipping a broken file stops start-up with the file, item and field named."""
    monkeypatch.setenv("ANJIAN_INSTANCE_PATH", str(tmp_path / "instance"))
    broken = _lists()
    _item(broken[0], "1.1")["basis"] = [{"rule": "fake-2020-r1#42"}]

    class BrokenFake:
        __name__ = "broken_fake"

        @hookimpl
        def register_sector(self) -> SectorInfo:
            return SectorInfo(code="broken", name="坏数据", version="0.1")

        @hookimpl
        def register_checklists(self) -> list[dict]:
            return [{**broken[0], "sector": "broken", "code": "broken-basic"}]

    with pytest.raises(CatalogError) as excinfo:
        create_app(base_config(database_url, EXTRA_PLUGINS=[fake_sector, BrokenFake()]))
    assert f"{CL_FILE} 条目 1.1 字段 basis[0].rule: 判定标准 fake-2020-r1 中没有条目 42（fake-2020-r1#42）" \
        in str(excinfo.value)


# --- the registry at start-up --------------------------------------------------------------------------------------

def test_registry_collects_the_catalog_at_startup(app):
    """R-P1: the app's registry holds the plugins' validated rule sets and checklists."""
    registry = app.extensions["anjian"]
    assert set(registry.rule_sets) == {"fake-2019-duty", "fake-2020-r1", "fake-2026-r2"}
    assert list(registry.checklists) == [("fake-basic", "1.0")]
    item, rule_set = registry.rule_item("fake-2020-r1#1")
    assert (item.text, item.ref, rule_set.document_number) == ("储罐区未设置泄漏检测报警装置。", "fake-2020-r1#1", "测规〔2020〕1号")
    assert registry.rule_item("fake-2019-duty#第五条")[0].verified is True
    assert registry.rule_item("fake-2020-r1#4") is None
    assert registry.rule_item("fake-2020-r1") is None
    assert registry.catalog.checklist("fake-basic").version == "1.0"


def test_applicable_rule_set_by_date(app):
    """R-P2: the edition in force on the day; a pending newer edition falls back to the newest with text, noted."""
    registry = app.extensions["anjian"]
    assert registry.applicable_rule_set("fake-2020-r1", date(2019, 12, 31)) is None
    before = registry.applicable_rule_set("fake-2026-r2", date(2026, 5, 31))
    assert (before.rule_set.code, before.note) == ("fake-2020-r1", "")
    after = registry.applicable_rule_set("fake-2020-r1", date(2026, 6, 1))
    assert after.rule_set.code == "fake-2020-r1"
    assert after.note == "现行版本 测规〔2026〕2号（2026-06-01 起施行）条文尚未录入，按 测规〔2020〕1号 判定"
    assert registry.applicable_rule_set("no-such-set", date(2026, 1, 1)) is None


def test_applicable_rule_set_uses_a_newer_edition_with_text():
    rules = _rules()
    newer = next(r for r in rules if r["code"] == "fake-2026-r2")
    newer.update(text_status="verified", source_urls=["https://example.invalid/r2"],
                 items=[{"number": "1", "text": "新版第一项。", "verified": True}])
    catalog = validate_catalog(rules, [])
    chosen = catalog.applicable_rule_set("fake-2020-r1", date(2026, 7, 1))
    assert (chosen.rule_set.code, chosen.note) == ("fake-2026-r2", "")
    assert [r.code for r in catalog.editions("fake-2026-r2")] == ["fake-2020-r1", "fake-2026-r2"]


# --- versioned storage ---------------------------------------------------------------------------------------------

def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_sync_stores_each_version_once(app, session):
    """R-P2: sync writes every rule set and checklist version with its items, once."""
    report = sync_catalog(session)
    assert sorted(report.rule_sets) == [("fake-2019-duty", 1), ("fake-2020-r1", 1), ("fake-2026-r2", 1)]
    assert report.checklists == [("fake-basic", "1.0")]
    stored = session.scalar(select(StoredChecklist).where(StoredChecklist.code == "fake-basic"))
    assert (stored.version, stored.sector, stored.sha256) == ("1.0", "fake", app.extensions["anjian"].checklists[
        ("fake-basic", "1.0")].sha256)
    assert [(i.code, i.section, i.answer_type, i.points) for i in stored.items] == [
        ("1.1", "1", "yes_no", 10), ("1.2", "1", "number", 5), ("2.1", "2", "yes_no_na", 5), ("2.2", "2", "photo", 0),
        ("2.3", "2", "text", 0)]
    assert stored.items[1].pass_when == {"min": 0, "max": 1.6}
    assert stored.items[0].on_fail["rule"] == "fake-2020-r1#1"
    assert stored.items[2].basis == [{"rule": "fake-2019-duty#第五条"}, {"law": "《测试安全法》第十一条"}]
    item = session.scalar(select(StoredRuleItem).where(StoredRuleItem.ref == "fake-2020-r1#3"))
    assert (item.text, item.verified, item.rule_set.text_status) == ("未按规定进行测试演练。", False, "partial")
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.object_type.in_(["rule_set", "checklist"]))) == 4

    again = sync_catalog(session)
    assert (again.added, again.unchanged) == (0, 4)
    assert (_count(session, StoredRuleSet), _count(session, StoredChecklist),
            _count(session, StoredChecklistItem)) == (3, 1, 5)


def _catalog_with(rules=None, lists=None):
    return validate_catalog(rules if rules is not None else _rules(), lists if lists is not None else _lists())


def test_a_changed_published_checklist_version_is_refused(app, session):
    """R-P2: a new version never rewrites history: the same (code, version) with other content is an error."""
    sync_catalog(session)
    lists = _lists()
    _item(lists[0], "1.1")["question"] = "改过的问题？"
    with pytest.raises(Conflict) as excinfo:
        sync_catalog(session, _catalog_with(lists=lists))
    assert excinfo.value.message == f"{CHANGED_MESSAGE}：检查表 fake-basic 版本 1.0（{CL_FILE}）"

    lists[0]["version"] = "1.1"
    report = sync_catalog(session, _catalog_with(lists=lists))
    assert report.checklists == [("fake-basic", "1.1")]
    old = session.scalar(select(StoredChecklist).where(StoredChecklist.version == "1.0"))
    assert old.items[0].question == "储罐区是否设置泄漏检测报警装置？"


def test_a_changed_rule_set_is_stored_as_a_new_revision(app, session):
    """R-P2: rule sets have no version in YAML; a content change is kept beside the earlier revision."""
    sync_catalog(session)
    rules = _rules()
    r1 = next(r for r in rules if r["code"] == "fake-2020-r1")
    r1["items"][2]["verified"] = True
    report = sync_catalog(session, _catalog_with(rules=rules))
    assert (report.rule_sets, report.checklists) == ([("fake-2020-r1", 2)], [])
    revisions = session.scalars(select(StoredRuleSet).where(StoredRuleSet.code == "fake-2020-r1")
                                .order_by(StoredRuleSet.revision)).all()
    assert [[i.verified for i in r.items] for r in revisions] == [[True, True, False], [True, True, True]]


def test_sync_is_for_admins(app, session, world):
    with pytest.raises(PermissionDenied):
        sync_catalog(session, actor=world.user(session, "xa_reg"))


def test_cli_catalog_sync_prints_what_was_added(runner, session):
    """R-P2: ``anjian catalog sync`` lists what it stored; a second run stores nothing."""
    first = runner.invoke(args=["catalog", "sync"])
    assert first.exit_code == 0, first.output
    assert "新增判定标准 fake-2020-r1" in first.output and "新增检查表 fake-basic 版本 1.0" in first.output
    assert "新增 4 项，未变 0 项" in first.output
    second = runner.invoke(args=["catalog", "sync"])
    assert second.output.strip() == "判定标准/检查表入库：新增 0 项，未变 4 项"


def test_cli_catalog_sync_refuses_a_changed_version(runner, session, app, monkeypatch):
    runner.invoke(args=["catalog", "sync"])
    lists = _lists()
    _item(lists[0], "2.3")["question"] = "改"
    registry = app.extensions["anjian"]
    monkeypatch.setattr(registry, "catalog", _catalog_with(lists=lists))
    result = runner.invoke(args=["catalog", "sync"])
    assert result.exit_code == 1
    assert CHANGED_MESSAGE in result.output and "fake-basic 版本 1.0" in result.output


def test_scripts_run_syncs_after_migrating():
    from pathlib import Path

    script = (Path(__file__).resolve().parent.parent / "scripts" / "run").read_text()
    assert script.index("anjian\" db upgrade") < script.index("anjian\" catalog sync") < script.index("seed-demo")
