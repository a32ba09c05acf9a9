"""The 消防 plugin's content (R-P1…R-P3): GB 35181 rule sets, the basic checklist, classification, enterprise
fields, dated items and the enterprise-page section."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from jinja2 import ChoiceLoader, FileSystemLoader
from marshmallow import ValidationError

from core.app import create_app
from core.catalog.registry import validate_catalog
from core.extensions import db
from core.plugin_types import DatedItem, Finding
from plugins.fire import catalog, classify, fields, objects
from plugins.fire import plugin as fire_plugin
from tests.conftest import base_config, session_user_id

R17 = "fire-2017-gb35181"
R25 = "fire-2025-gb35181"


def _items(code: str) -> dict[str, dict]:
    return {i["number"]: i for i in catalog.rule_set(code)["items"]}


def _checklist() -> dict:
    (cl,) = [c for c in fire_plugin.register_checklists() if c["code"] == "fire-basic"]
    return cl


def _checklist_items() -> list[dict]:
    return [i for s in _checklist()["sections"] for i in s["items"]]


# --- rule sets ------------------------------------------------------------------------------------------------

def test_rule_sets_shipped_and_valid():
    """R-P2: two editions of GB 35181, both passing the core catalog checks, 2017 superseded by 2025."""
    sets = fire_plugin.register_rule_sets()
    assert sorted(s["code"] for s in sets) == [R17, R25]
    cat = validate_catalog(sets, fire_plugin.register_checklists())
    assert cat.rule_sets[R17].superseded_by == R25
    r17, r25 = catalog.rule_set(R17), catalog.rule_set(R25)
    assert (r17["document_number"], r17["title"], r17["text_status"]) == ("GB 35181-2017", "重大火灾隐患判定方法", "partial")
    assert (r25["document_number"], r25["title"], r25["text_status"]) == ("GB 35181-2025", "重大火灾隐患判定规则", "pending")
    assert (r25["published_on"], r25["effective_from"], r25["superseded_by"]) == (date(2025, 4, 25), date(2025, 11, 1), None)
    assert r25["issuer"] == "国家市场监督管理总局、国家标准化管理委员会"
    assert r25["items"] == []


def test_2017_direct_items_exact_text():
    """R-P2: clause 6 items 6.1–6.5 are the verified text, character by character; 6.6/6.7 are unverified."""
    items = _items(R17)
    assert items["6.1"]["text"] == "生产、储存和装卸易燃易爆危险品的工厂、仓库和专用车站、码头、储罐区，未设置在城市的边缘或相对独立的安全地带。"
    assert items["6.2"]["text"] == ("生产、储存、经营易燃易爆危险品的场所与人员密集场所、居住场所设置在同一建筑物内，"
                                    "或与人员密集场所、居住场所的防火间距小于国家工程建设消防技术标准规定值的75%。")
    assert items["6.3"]["text"] == "城市建成区内的加油站、天然气或液化石油气加气站、加油加气合建站的储量达到或超过一级站的规定。"
    assert items["6.4"]["text"] == "甲、乙类生产场所和仓库设置在建筑的地下室或半地下室。"
    assert items["6.5"]["text"] == ("公共娱乐场所、商店、地下人员密集场所的安全出口数量不足或其总净宽度小于国家工程建设消防技术标准"
                                    "规定值的80%。")
    assert items["6.7"]["text"] == ("易燃可燃液体、可燃气体储罐(区)未按工程建设消防技术标准的规定设置固定灭火、冷却、可燃气体浓度报警、"
                                    "火灾报警设施。")
    assert {n: items[n]["verified"] for n in ("6.1", "6.2", "6.3", "6.4", "6.5", "6.6", "6.7")} == {
        "6.1": True, "6.2": True, "6.3": True, "6.4": True, "6.5": True, "6.6": False, "6.7": False}
    # 6.8–6.10: only summaries or a cut-off copy were found, so they are not loaded as legal text.
    assert not {"6.8", "6.9", "6.10"} & set(items)
    assert all("直接判定要素" in items[n]["tags"] for n in items if n.startswith("6."))


def test_2017_comprehensive_items_exact_text_and_marks():
    """R-P2: clause 7 items only where text was found, with their marks; the exclusions are in the notes."""
    items = _items(R17)
    assert [n for n in items if n.startswith("7.")] == [
        "7.1.1", "7.1.2", "7.1.3", "7.1.4", "7.2.1", "7.2.2", "7.2.3", "7.3.1", "7.3.2", "7.3.3", "7.3.4", "7.3.5",
        "7.3.6", "7.3.7", "7.5", "7.7.2"]
    assert items["7.7.2"]["text"] == "火灾自动报警系统不能正常运行。"
    assert items["7.3.5"]["text"] == "商店营业厅内的疏散距离大于国家工程建设消防技术标准规定值的125%。"
    assert items["7.2.2"]["text"] == "防火门、防火卷帘等防火分隔设施损坏的数量大于该防火分区相应防火分隔设施总数的50%。"
    assert items["7.3.6"]["text"].endswith("其他建筑未按国家工程建设消防技术标准的规定设置疏散指示标志、应急照明，"
                                           "或所设置设施的损坏率大于标准规定要求设置数量的50%。")
    verified = {n for n, i in items.items() if n.startswith("7.") and i["verified"]}
    assert verified == {"7.2.1", "7.2.2", "7.3.1", "7.3.2", "7.3.3", "7.3.4", "7.3.5", "7.3.6", "7.7.2"}
    notes = catalog.rule_set(R17)["notes"]
    assert ("「下列情形不应判定为重大火灾隐患：a)依法进行了消防设计专家评审，并已采取相应技术措施的；b)单位、场所已停产停业或"
            "停止使用的；c)不足以导致重大、特别重大火灾事故或严重社会影响的。」") in notes


def test_2025_notes_quote_the_foreword_changes():
    """R-P2: the 2025 edition records its foreword's changes verbatim and that its clause text is not loaded."""
    notes = catalog.rule_set(R25)["notes"]
    assert "e)增加了火灾自动报警系统和固定灭火设施不能正常运行的判定规则(见附录A)。" in notes
    assert "b)删除了重大火灾隐患判定原则和程序(见2017年版的第4章);" in notes
    assert "「本文件代替GB 35181-2017《重大火灾隐患判定方法》」" in notes
    assert "尚未取得" in notes


def test_applicable_edition_by_date():
    """R-P2: before 2025-11-01 GB 35181-2017 applies; from then on 2025 is in force but pending, so 2017 is used and
    2025 is named; before 2017 took effect there is none."""
    assert catalog.applicable_edition(date(2025, 10, 31)) == (catalog.rule_set(R17), None)
    used, pending = catalog.applicable_edition(date(2025, 11, 1))
    assert (used["code"], pending["code"]) == (R17, R25)
    with pytest.raises(LookupError):
        catalog.applicable_edition(date(2018, 6, 30))


# --- checklist ------------------------------------------------------------------------------------------------

def test_checklist_size_bases_and_major_items():
    """R-P2: 25+ items, every one with a basis; each GB 35181-2017 direct item has a major-failing question."""
    items = _checklist_items()
    assert len(items) == 41
    assert all(i["basis"] for i in items)
    major = {i["code"]: i["on_fail"]["rule"] for i in items if i["on_fail"]["level"] == "major"}
    assert major == {f"2.{n}": f"{R17}#6.{n}" for n in range(1, 8)}
    assert set(major.values()) == set(catalog.direct_items())
    rule_refs = {b["rule"] for i in items for b in i["basis"] if "rule" in b}
    known = {f"{R17}#{n}" for n in _items(R17)}
    assert rule_refs <= known and f"{R17}#7.7.2" in rule_refs
    laws = {b["law"] for i in items for b in i["basis"] if "law" in b}
    assert "《中华人民共和国消防法》第二十八条" in laws and "《中华人民共和国消防法》第十七条" in laws


# --- classify -------------------------------------------------------------------------------------------------

def _finding(rule: str | None, sector: str | None = "fire", **facts) -> Finding:
    return Finding(sector=sector, description="测试", checklist_item="fire-basic/2.4", rule_item=rule,
                   suggested_level="general", facts=facts)


def test_classify_direct_item_is_major_with_its_rule():
    """R-P3: a fire finding citing a 6.x item is 重大 with that item, and the record says 2025 is not loaded."""
    c = classify.classify(_finding(f"{R17}#6.4", found_on="2026-03-02"))
    assert (c.level, c.rule_item, c.decided_by) == ("major", f"{R17}#6.4", "fire")
    assert c.reason == ("符合 GB 35181-2017《重大火灾隐患判定方法》直接判定要素第6.4条，应直接判定为重大火灾隐患；"
                        "GB 35181-2025《重大火灾隐患判定规则》已于2025-11-01实施，其条文尚未载入，暂按 GB 35181-2017 判定。")
    before = classify.classify(_finding(f"{R17}#6.4", found_on=date(2025, 6, 1)))
    assert before.reason == "符合 GB 35181-2017《重大火灾隐患判定方法》直接判定要素第6.4条，应直接判定为重大火灾隐患。"
    unverified = classify.classify(_finding(f"{R17}#6.6", found_on=date(2025, 6, 1)))
    assert unverified.level == "major" and "（该条原文待核实）" in unverified.reason
    no_day = classify.classify(_finding(f"{R17}#6.1"))
    assert "GB 35181-2025" in no_day.reason


def test_classify_leaves_other_findings_to_the_core():
    """R-P3: clause 7 items, free text, unknown refs and other sectors' findings → None (core keeps the suggestion)."""
    assert classify.classify(_finding(f"{R17}#7.7.2")) is None
    assert classify.classify(_finding(None)) is None
    assert classify.classify(_finding(f"{R17}#6.8")) is None
    assert classify.classify(_finding(f"{R17}#6.1", sector="hazchem")) is None
    assert classify.classify(_finding("hazchem-2017-121#1", sector="hazchem")) is None
    assert fire_plugin.classify_hazard(finding=_finding(f"{R17}#6.2")) == classify.classify(_finding(f"{R17}#6.2"))


def test_classify_through_the_plugin_manager(app):
    """R-P3: with the core default, a clause 7 finding keeps its suggested level; 6.x wins as 重大."""
    from core.plugins import build_plugin_manager

    registry = build_plugin_manager(["fire"])
    assert registry.classify(_finding(f"{R17}#7.3.3")).level == "general"
    assert registry.classify(_finding(f"{R17}#7.3.3")).decided_by == "core"
    major = registry.classify(_finding(f"{R17}#6.5"))
    assert (major.level, major.rule_item, major.decided_by) == ("major", f"{R17}#6.5", "fire")
    assert {"fire_building", "fire_venue"} <= set(registry.object_types)
    assert registry.enterprise_fields["fire"].schema is fields.FireFields


# --- enterprise fields ------------------------------------------------------------------------------------------

def _errors(data: dict) -> dict:
    with pytest.raises(ValidationError) as exc:
        fields.FireFields().load(data)
    return exc.value.messages


def test_fields_load_and_dump():
    """R-P1: the example loads; empty data (a spreadsheet import) gets the defaults; dates dump as ISO text."""
    schema = fields.FireFields()
    dumped = schema.dump(schema.load(fields.EXAMPLE))
    assert dumped["maintenance_contract_until"] == "2026-12-31" and dumped["micro_station_members"] == 6
    assert schema.load({}) == {"key_unit": False, "micro_station": False}
    assert schema.load({"key_unit": "是", "micro_station": "否"}) == {"key_unit": True, "micro_station": False}


def test_field_messages():
    """R-P1: validation messages are Chinese and name the field."""
    assert _errors({"micro_station": True}) == {"micro_station_members": ["已建微型消防站时应填写队员人数"]}
    assert _errors({"micro_station": False, "micro_station_members": 5}) == {
        "micro_station_members": ["未建微型消防站时不应填写队员人数"]}
    assert _errors({"micro_station": True, "micro_station_members": 0}) == {"micro_station_members": ["应在 1 到 200 之间"]}
    assert _errors({"occupancy_type": "bar"})["occupancy_type"][0].startswith("取值应为以下之一：entertainment、")
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    assert _errors({"last_facility_test_on": tomorrow}) == {"last_facility_test_on": ["检测日期不能晚于今天"]}
    assert _errors({"maintenance_contract_until": "2026-13-01"}) == {
        "maintenance_contract_until": ["应为日期（格式 YYYY-MM-DD）"]}
    assert _errors({"fire_station": True}) == {"fire_station": ["未知字段"]}


# --- dated items ------------------------------------------------------------------------------------------------

def test_dated_items():
    """R-P3: the 维保 contract's end and the next annual 检测 (one year after the last) are reminded."""
    data = fields.FireFields().dump(fields.FireFields().load(fields.EXAMPLE))
    assert fire_plugin.register_dated_items(sector="fire", data=data) == [
        DatedItem(label="消防设施维护保养合同到期（厦门安消消防技术服务有限公司）", due=date(2026, 12, 31),
                  key="fire_maintenance_contract"),
        DatedItem(label="建筑消防设施年度全面检测（上次检测 2025-09-18）", due=date(2026, 9, 18), key="fire_annual_test"),
    ]
    leap = fields.dated_items("fire", {"last_facility_test_on": "2024-02-29"})
    assert [(i.due, i.key) for i in leap] == [(date(2025, 2, 28), "fire_annual_test")]
    assert fields.dated_items("fire", {"maintenance_contract_until": date(2027, 1, 5)})[0].label == "消防设施维护保养合同到期"
    assert fields.dated_items("hazchem", data) == []
    assert fields.dated_items("fire", {}) == []


def test_object_types():
    """R-A3: 建筑 and 场所 are the fire sector's inspectable objects."""
    assert [(o.code, o.name, o.sector) for o in objects.OBJECT_TYPES] == [
        ("fire_building", "建筑", "fire"), ("fire_venue", "场所", "fire")]


# --- the enterprise-page section ------------------------------------------------------------------------------------

def _render(app, data: dict) -> str:
    dirs = fire_plugin.register_template_dirs()
    env = app.jinja_env.overlay(loader=ChoiceLoader([app.jinja_loader, FileSystemLoader(dirs)]))
    with app.test_request_context("/"):
        app.update_template_context(ctx := {})
        return env.get_template(fields.TEMPLATE).render(data=data, enterprise=None, **ctx)


def test_template_renders_the_data(app):
    """R-P1: the section shows the flag, the occupancy label, the micro station, 维保 and the next 检测 date."""
    html = _render(app, fields.FireFields().dump(fields.FireFields().load(fields.EXAMPLE)))
    assert '<span class="tag orange">消防安全重点单位</span>' in html
    assert "商店、市场" in html and "陈志强" in html and "已建（队员 6 人）" in html
    assert "<dd>厦门安消消防技术服务有限公司</dd>" in html and ">2026年12月31日</span>" in html
    assert ">2025年9月18日</span>" in html and ">2026年9月18日 前</span>" in html
    past = (date.today() - timedelta(days=400)).isoformat()
    html = _render(app, {"key_unit": False, "micro_station": False, "maintenance_contract_until": past,
                         "last_facility_test_on": past})
    assert html.count("已过期") == 2 and "未建" in html and "<dt>重点单位</dt><dd>否</dd>" in html
    html = _render(app, {})
    assert "未填写" in html and "已过期" not in html


def test_enterprise_page_with_the_fire_plugin(tmp_path, monkeypatch):
    """R-P1: in an app with the fire plugin enabled, the service refuses bad fire data with the schema's message and
    the detail page shows the fire section from the plugin's template."""
    from flask_migrate import upgrade

    from core.services import enterprises, jurisdictions, users
    from core.services.actors import SYSTEM
    from core.services.errors import ValidationFailed
    from tests.factories import uscc

    monkeypatch.delenv("ANJIAN_ENABLED_PLUGINS", raising=False)
    monkeypatch.setenv("ANJIAN_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(base_config(f"sqlite:///{tmp_path / 'fire.db'}", ENABLED_PLUGINS=["fire"], EXTRA_PLUGINS=[]))
    try:
        with app.app_context():
            upgrade()
            area = jurisdictions.create_jurisdiction(db.session, SYSTEM, {"parent_id": None, "level": "county",
                                                                          "name": "思明区", "code": "350203"})
            base = {"name": "厦门某商业广场有限公司", "uscc": uscc(7, "350203"), "jurisdiction_id": area.id}
            with pytest.raises(ValidationFailed) as bad:
                enterprises.create_enterprise(db.session, SYSTEM, {**base, "sectors": [
                    {"sector": "fire", "activities": ["人员密集场所"], "data": {"micro_station": True}}]})
            assert bad.value.errors["sectors"][0]["data"] == {"micro_station_members": ["已建微型消防站时应填写队员人数"]}
            db.session.rollback()
            area = jurisdictions.create_jurisdiction(db.session, SYSTEM, {"parent_id": None, "level": "county",
                                                                          "name": "思明区", "code": "350203"})
            ent = enterprises.create_enterprise(db.session, SYSTEM, {**base, "jurisdiction_id": area.id, "sectors": [
                {"sector": "fire", "activities": ["消防安全重点单位"], "data": fields.EXAMPLE}]})
            admin = users.save_user(db.session, SYSTEM, {"username": "admin", "display_name": "管理员",
                                                         "password": "fire-pass-1", "roles": ["admin"]})
            db.session.commit()
            ent_id, admin_id = ent.id, admin.id
            db.session.remove()
        client = app.test_client()
        with client.session_transaction() as s:
            s["_user_id"] = session_user_id(admin_id)
            s["_fresh"] = True
        html = client.get(f"/enterprises/{ent_id}").get_data(as_text=True)
        assert "消防<small>（消防安全重点单位）</small>" in html
        assert "已建（队员 6 人）" in html and ">2026年12月31日</span>" in html
    finally:
        with app.app_context():
            db.engine.dispose()


def test_template_dir_exists():
    """R-P1: the registered template folder holds the section template (packaged via setup.cfg package_data)."""
    (folder,) = fire_plugin.register_template_dirs()
    assert (Path(folder) / fields.TEMPLATE).is_file()
