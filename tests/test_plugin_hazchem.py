"""The 危险化学品 plugin's data and logic (R-P1…R-P3): rule sets with the verified legal text, the checklist,
classify_hazard, the enterprise fields, dated items and the enterprise-page section.

The test app enables no real plugin, so these tests load the plugin's modules directly, or build an app with
``ENABLED_PLUGINS=["hazchem"]`` where Flask is needed.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import render_template
from marshmallow import ValidationError

from core.app import create_app
from core.catalog.registry import validate_catalog
from core.extensions import db
from core.plugin_types import DatedItem, Finding
from plugins.hazchem import catalog, classify, fields, objects, plugin
from tests.conftest import base_config

R121 = "hazchem-2017-121"


def _rule_set(code: str) -> dict:
    return next(rs for rs in catalog.rule_sets() if rs["code"] == code)


def _items(rs: dict) -> dict[str, dict]:
    return {i["number"]: i for i in rs["items"]}


def _checklist() -> dict:
    (cl,) = catalog.checklists()
    return cl


def _checklist_items() -> list[dict]:
    return [i for s in _checklist()["sections"] for i in s["items"]]


@pytest.fixture(scope="module")
def hazchem_app(tmp_path_factory):
    """An app with only this plugin enabled (no database use: templates and hooks only)."""
    tmp = tmp_path_factory.mktemp("hz")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("ANJIAN_ENABLED_PLUGINS", raising=False)
        mp.setenv("ANJIAN_INSTANCE_PATH", str(tmp / "instance"))
        app = create_app(base_config(f"sqlite:///{tmp / 'hz.db'}", ENABLED_PLUGINS=["hazchem"], EXTRA_PLUGINS=[]))
    yield app
    with app.app_context():
        db.engine.dispose()


# --- rule sets ----------------------------------------------------------------------------------------------------

def test_121_has_twenty_items_in_order_with_the_exact_verified_text():
    """R-P2: 安监总管三〔2017〕121号 items quoted character by character (items 1–14 from regulations.md C.4,
    15–20 from verified/hazchem-and-standardization.md §1.2)."""
    rs = _rule_set(R121)
    assert [i["number"] for i in rs["items"]] == [str(n) for n in range(1, 21)]
    items = _items(rs)
    assert items["1"]["text"] == "危险化学品生产、经营单位主要负责人和安全生产管理人员未依法经考核合格。"
    assert items["2"]["text"] == "特种作业人员未持证上岗。"
    assert items["3"]["text"] == '涉及"两重点一重大"的生产装置、储存设施外部安全防护距离不符合国家标准要求。'
    assert items["5"]["text"] == ("构成一级、二级重大危险源的危险化学品罐区未实现紧急切断功能；涉及毒性气体、液化气体、"
                                  "剧毒液体的一级、二级重大危险源的危险化学品罐区未配备独立的安全仪表系统。")
    assert items["8"]["text"] == "光气、氯气等剧毒气体及硫化氢气体管道穿越除厂区（包括化工园区、工业园区）外的公共区域。"
    assert items["12"]["text"] == ("涉及可燃和有毒有害气体泄漏的场所未按国家标准设置检测报警装置，"
                                   "爆炸危险场所未按国家标准安装使用防爆电气设备。")
    assert items["14"]["text"] == "化工生产装置未按国家标准要求设置双重电源供电，自动化控制系统未设置不间断电源。"
    assert items["15"]["text"] == "安全阀、爆破片等安全附件未正常投用。"
    assert items["16"]["text"] == "未建立与岗位相匹配的全员安全生产责任制或者未制定实施生产安全事故隐患排查治理制度。"
    assert items["19"]["text"] == (
        "新开发的危险化学品生产工艺未经小试、中试、工业化试验直接进行工业化生产；国内首次使用的化工工艺未经过省级人民政府"
        "有关部门组织的安全可靠性论证；新建装置未制定试生产方案投料开车；精细化工企业未按规范性文件要求开展反应安全风险评估。")
    assert items["20"]["text"] == "未按国家标准分区分类储存危险化学品，超量、超品种储存危险化学品，相互禁配物质混放混存。"


def test_121_verified_flags_and_edition_metadata():
    """R-P2: 1–15 verified; 16–20 text checked but numbered by position only (◐) → verified false, set partial."""
    rs = _rule_set(R121)
    items = _items(rs)
    assert [n for n, i in items.items() if i["verified"]] == [str(n) for n in range(1, 16)]
    for n in ("16", "17", "18", "19", "20"):
        assert "编号待" not in items[n]["text"] and "编号说明" in items[n]["interpretation"]
    assert rs["text_status"] == "partial"
    assert rs["document_number"] == "安监总管三〔2017〕121号"
    assert rs["kind"] == "major_hazard" and rs["effective_from"] == date(2017, 11, 13)
    # Formal repeal by AQ 3067-2026 is not confirmed: no superseded_by, the overlap is in the notes.
    assert rs["superseded_by"] is None and "AQ 3067-2026" in rs["notes"]
    assert "6个月" in items["1"]["interpretation"] and "30号" in items["2"]["interpretation"]
    assert "可接受风险" in items["3"]["interpretation"]
    assert all(i.get("interpretation") is None for n, i in items.items() if 4 <= int(n) <= 15)


def test_aq3067_is_a_pending_edition_without_items():
    """R-P2: AQ 3067-2026 is in force from 2026-09-30 but its clause text is not loaded (no third-party labels)."""
    rs = _rule_set("hazchem-2026-aq3067")
    assert rs["text_status"] == "pending" and rs["items"] == []
    assert rs["effective_from"] == date(2026, 9, 30)
    assert rs["document_number"] == "AQ 3067-2026" and rs["issuer"] == "应急管理部"
    assert rs["source_urls"][0] == "https://www.mem.gov.cn/fw/flfgbz/bz/bzwb/202603/t20260325_598035.shtml"
    # The third-party short labels of its clauses (e.g. 5.1.1 负责人考核) are not official text: not used.
    assert "负责人考核" not in str(rs) and "另有第三方为各条所作的简短检索标签" in rs["notes"]


def test_catalog_validates_with_the_core_schemas():
    """R-P1: the plugin's YAML passes core.catalog validation as a whole (rule references resolve)."""
    cat = validate_catalog(plugin.register_rule_sets(), plugin.register_checklists(), sectors=["hazchem"])
    assert set(cat.rule_sets) == {R121, "hazchem-2026-aq3067"}
    assert cat.checklist("hazchem-basic").version == "2026.1"
    item, rs = cat.rule_item(f"{R121}#5")
    assert rs.document_number == "安监总管三〔2017〕121号" and item.text.startswith("构成一级、二级重大危险源")
    applied = cat.applicable_rule_set(R121, date(2027, 1, 1))
    assert applied is not None


# --- checklist ----------------------------------------------------------------------------------------------------

def test_checklist_asks_every_121_item_as_a_major_question():
    """R-P2: 25+ items; section 1 has one item per 121号 item, failing = major with that rule item."""
    items = _checklist_items()
    assert len(items) == 45
    majors = [i for i in items if i["on_fail"]["level"] == "major"]
    assert sorted((i["on_fail"]["rule"] for i in majors), key=lambda r: int(r.split("#")[1])) == [
        f"{R121}#{n}" for n in range(1, 21)]
    for i in majors:
        assert {"rule": i["on_fail"]["rule"]} in i["basis"]
        assert i["on_fail"]["hazard"] is True and i["pass_when"] == "yes"
    codes = [i["code"] for i in items]
    assert len(set(codes)) == len(codes)


def test_basic_duty_items_cite_laws_and_never_a_121_item():
    """General items cite a law (so classify never escalates them); 《安全生产法》 articles only where sure."""
    general = [i for i in _checklist_items() if i["on_fail"]["level"] == "general"]
    assert len(general) == 25
    allowed_articles = {"第二十二条", "第二十四条", "第二十七条", "第二十八条", "第三十条", "第三十五条", "第三十六条",
                        "第四十条", "第四十一条", "第四十二条", "第四十三条", "第四十五条", "第五十一条", "第八十一条",
                        "第八十二条"}
    for i in general:
        assert all("rule" not in b for b in i["basis"]), i["code"]
        for b in i["basis"]:
            m = re.fullmatch(r"《安全生产法》(第.+条)", b["law"])
            if m:
                assert m.group(1) in allowed_articles
            else:
                assert re.fullmatch(r"《[^》]+》(（GB \d+）)?", b["law"]), b["law"]  # other regulations: name only
    questions = {i["code"]: i["question"] for i in _checklist_items()}
    assert "动火作业是否办理作业票" in questions["4.1"]
    assert "检测报警器是否按期检定或校准" in questions["6.1"]
    assert "应急预案演练" in questions["7.2"]


# --- classify_hazard ----------------------------------------------------------------------------------------------

def _finding(rule_item: str | None, sector: str | None = "hazchem", **facts) -> Finding:
    return Finding(sector=sector, description="罐区紧急切断阀未投用", rule_item=rule_item, suggested_level="general",
                   facts=facts)


RULES = catalog.loaded_rule_sets()


def test_classify_121_item_is_major_with_that_item():
    """R-P3: a hazchem finding citing a 121号 item is 重大 with the item and its text as the reason."""
    c = classify.classify(_finding(f"{R121}#5", found_on="2025-05-01"), RULES)
    assert (c.level, c.rule_item, c.decided_by) == ("major", f"{R121}#5", "hazchem")
    assert c.reason.startswith("安监总管三〔2017〕121号第5项：构成一级、二级重大危险源的危险化学品罐区")
    assert "AQ 3067" not in c.reason
    assert classify.classify(_finding(f"{R121}#5", found_on="2025-05-01"), RULES) == c  # pure


def test_classify_unconfirmed_number_and_pending_edition_are_said():
    c = classify.classify(_finding(f"{R121}#18", found_on=date(2026, 10, 8)), RULES)
    assert c.level == "major" and c.rule_item == f"{R121}#18"
    assert "第18项（条文已核对，条目编号待核）" in c.reason
    assert "另：AQ 3067-2026已于2026-09-30实施，其条文尚未载入，仍按安监总管三〔2017〕121号判定。" in c.reason


def test_classify_legacy_rule_item_spelling():
    c = classify.classify(_finding("hazchem/安监总管三〔2017〕121号#2"), RULES)
    assert (c.level, c.rule_item) == ("major", f"{R121}#2")


@pytest.mark.parametrize("finding", [
    _finding(None),                                   # free-text finding: the core keeps the suggested level
    _finding(f"{R121}#21"),                           # no such item
    _finding("hazchem-2026-aq3067#5.1.1"),            # pending edition has no items
    _finding("fire-2017-gb35181#6.1"),                # another plugin's rule item
    _finding(f"{R121}#5", found_on="2016-01-01"),     # before the standard took effect
    _finding(f"{R121}#5", sector="fire"),             # another sector's finding is never claimed
    _finding(f"{R121}#5", sector=None),
])
def test_classify_leaves_other_findings_to_the_core(finding):
    assert classify.classify(finding, RULES) is None


def test_applicable_edition_by_date():
    chosen, pending = classify.applicable_rule_set(RULES, date(2026, 9, 29))
    assert chosen["code"] == R121 and pending == []
    chosen, pending = classify.applicable_rule_set(RULES, date(2026, 9, 30))
    assert chosen["code"] == R121 and [p["code"] for p in pending] == ["hazchem-2026-aq3067"]
    assert classify.applicable_rule_set(RULES, date(2017, 11, 12)) == (None, [])


def test_classify_hook_through_the_app(hazchem_app):
    registry = hazchem_app.extensions["anjian"]
    c = registry.classify(_finding(f"{R121}#12"))
    assert (c.level, c.rule_item, c.decided_by) == ("major", f"{R121}#12", "hazchem")
    kept = registry.classify(_finding("hazchem-basic/2.1"))
    assert (kept.level, kept.decided_by) == ("general", "core")


# --- enterprise fields --------------------------------------------------------------------------------------------

def _load(data: dict) -> dict:
    return fields.HazchemFields().load(data)


def _errors(data: dict) -> dict:
    with pytest.raises(ValidationError) as exc:
        _load(data)
    return exc.value.messages


def test_fields_example_round_trips_and_empty_data_is_valid():
    schema = fields.HazchemFields()
    dumped = schema.dump(schema.load(fields.EXAMPLE))
    assert dumped["safety_licence_valid_until"] == "2027-02-28"
    assert dumped["major_hazard_sources"][0] == {"name": "液氨储罐区", "level": "三级", "substances": ["氨"]}
    assert _load({}) == {"major_hazard_sources": []}
    assert _load({"major_hazard_sources": [{"name": "罐区", "level": "一级"}]})["major_hazard_sources"][0][
        "substances"] == []


def test_fields_messages_are_chinese():
    assert _errors({"major_hazard_sources": [{"name": "罐区", "level": "五级"}, {"level": "二级"}]}) == {
        "major_hazard_sources": {0: {"level": ["取值应为以下之一：一级、二级、三级、四级"]}, 1: {"name": ["必填项"]}}}
    assert _errors({"safety_licence_no": "（闽）WH安许证字〔2024〕0012号"}) == {
        "safety_licence_valid_until": ["请填写安全生产许可证的有效期截止日期"]}
    assert _errors({"operating_licence_valid_until": "2028-06-09"}) == {
        "operating_licence_no": ["填写了有效期，请同时填写危险化学品经营许可证编号"]}
    assert _errors({"operating_licence_no": "闽厦危化经字〔2025〕1", "operating_licence_valid_from": "2028-01-01",
                    "operating_licence_valid_until": "2025-01-01"}) == {
        "operating_licence_valid_from": ["危险化学品经营许可证的有效期起始日期不能晚于截止日期"]}
    assert _errors({"major_hazard_sources": [{"name": "罐区", "level": "一级"}, {"name": "罐区", "level": "二级"}]}) == {
        "major_hazard_sources": ["重大危险源名称重复：罐区"]}
    assert _errors({"safety_licence_valid_until": "明年"}) == {"safety_licence_valid_until": ["应为日期（格式 YYYY-MM-DD）"]}
    assert _errors({"licence": "x"}) == {"licence": ["未知字段"]}


def test_field_spec_names_the_template_and_example():
    spec = plugin.register_enterprise_fields()
    assert (spec.sector, spec.schema, spec.template) == ("hazchem", fields.HazchemFields, "hazchem/enterprise_section.html")
    assert spec.example == fields.EXAMPLE


# --- dated items, object types ------------------------------------------------------------------------------------

def test_dated_items_for_both_licences():
    """R-P3: expiry reminders for the licences' validity dates (data as stored: ISO strings)."""
    data = fields.HazchemFields().dump(_load(fields.EXAMPLE))
    assert plugin.register_dated_items(sector="hazchem", data=data) == [
        DatedItem(label="安全生产许可证（（闽）WH安许证字〔2024〕0012号）有效期", due=date(2027, 2, 28), key="safety_licence"),
        DatedItem(label="危险化学品经营许可证（闽厦危化经字〔2025〕000123）有效期", due=date(2028, 6, 9),
                  key="operating_licence"),
    ]
    assert plugin.register_dated_items(sector="fire", data=data) == []
    assert plugin.register_dated_items(sector="hazchem", data={}) == []
    only = fields.dated_items("hazchem", {"operating_licence_no": "X", "operating_licence_valid_until": date(2026, 1, 2)})
    assert [(d.key, d.due) for d in only] == [("operating_licence", date(2026, 1, 2))]


def test_object_types():
    codes = {o.code: o.name for o in objects.object_types()}
    assert codes["hazchem_major_hazard_source"] == "危险化学品重大危险源"
    assert codes["hazchem_tank_farm"] == "危险化学品储罐区"
    assert all(code.startswith("hazchem_") for code in codes)


# --- the enterprise-page section ----------------------------------------------------------------------------------

def test_enterprise_section_renders_licences_and_sources(hazchem_app):
    data = fields.HazchemFields().dump(_load(fields.EXAMPLE))
    with hazchem_app.test_request_context():
        html = render_template("hazchem/enterprise_section.html", data=data, enterprise=None)
    assert "（闽）WH安许证字〔2024〕0012号" in html and "有效期 2024-03-01 至 2027-02-28" in html
    assert "闽厦危化经字〔2025〕000123" in html
    assert "<dt>重大危险源</dt><dd>2 处</dd>" in html
    assert '<td data-label="名称">液氨储罐区</td>' in html and '<span class="tag blue">三级</span>' in html
    assert '<td data-label="主要物质">甲醇</td>' in html


def test_enterprise_section_renders_empty_data(hazchem_app):
    with hazchem_app.test_request_context():
        html = render_template("hazchem/enterprise_section.html", data={}, enterprise=None)
    assert "未登记重大危险源" in html and "<dt>重大危险源</dt><dd>0 处</dd>" in html
    assert html.count("<dd>—</dd>") == 2
