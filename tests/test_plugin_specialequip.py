"""The 特种设备 plugin's content (R-P1…R-P3): GB 45067-2024 and the 2014 《特种设备目录》 as versioned data with the
texts as the verification file gives them, the basic checklist, classify_hazard, the equipment register fields,
their validity dates, and the enterprise-page section."""

from __future__ import annotations

from datetime import date

import pytest
from jinja2 import ChoiceLoader, FileSystemLoader
from marshmallow import ValidationError

from core.catalog.registry import validate_catalog
from core.plugin_types import Classification, DatedItem, Finding
from core.plugins import build_plugin_manager
from plugins.specialequip import classify, data, dated, fields, plugin

GB = "specialequip-2024-gb45067"


def _rule_set(code: str) -> dict:
    return next(rs for rs in plugin.register_rule_sets() if rs["code"] == code)


def _items(code: str) -> dict[str, dict]:
    return {it["number"]: it for it in _rule_set(code)["items"]}


def _checklist() -> dict:
    (cl,) = plugin.register_checklists()
    return cl


def _checklist_items() -> list[dict]:
    return [it for s in _checklist()["sections"] for it in s["items"]]


# --- rule sets (R-P2) ------------------------------------------------------------------------------------------

def test_gb45067_is_a_partial_major_hazard_set_with_47_lettered_items_all_unverified():
    """R-P2: GB 45067-2024 4.1–4.10: 10 lead-ins + 47 lettered items, one source only → all verified: false."""
    rs = _rule_set(GB)
    assert (rs["kind"], rs["text_status"], rs["document_number"]) == ("major_hazard", "partial", "GB 45067-2024")
    assert (rs["published_on"], rs["effective_from"], rs["superseded_by"]) == (date(2024, 11, 28), date(2024, 12, 1), None)
    items = _items(GB)
    assert len(items) == 57
    lettered = [n for n in items if n.endswith(")")]
    assert len(lettered) == 47
    per_clause = {c: sum(1 for n in lettered if n[: -2] == c) for c in [f"4.{i}" for i in range(1, 11)]}
    assert per_clause == {"4.1": 4, "4.2": 7, "4.3": 6, "4.4": 2, "4.5": 3, "4.6": 5, "4.7": 5, "4.8": 5, "4.9": 5,
                          "4.10": 5}
    assert not any(it["verified"] for it in items.values())
    assert "openstd.samr.gov.cn" in rs["source_urls"][0]


def test_gb45067_texts_are_exactly_as_the_verification_file_gives_them():
    """R-P2: spot-check texts character by character (half-width brackets, Chinese quotes, the 400mm spacing)."""
    items = _items(GB)
    assert items["4.1"]["text"] == "特种设备有下列情形之一仍继续使用的，应判定为重大事故隐患。"
    assert items["4.1a)"]["text"] == "特种设备未取得许可生产、因安全问题国家明令淘汰、已经报废或者达到报废条件。"
    assert items["4.1d)"]["text"] == "有 4.2～4.10 中规定的超过规定参数、使用范围的情形。"
    assert items["4.2a)"]["text"] == "定期检验的检验结论为“不符合要求”。"
    assert items["4.2b)"]["text"] == "热工仪表失效或控制电(气)源中断，导致无法监视、调整主要运行参数。"
    assert items["4.3b)"]["text"] == "固定式压力容器改做移动式压力容器使用。"
    assert "改作" in items["4.3b)"]["interpretation"]
    assert items["4.4a)"]["text"] == "定期检验的检验结论为“不符合要求”或“不允许使用”。"
    assert items["4.5"]["text"] == "移动式压力容器或者气瓶充装有下列情形之一的，应判定为重大事故隐患。"
    assert items["4.6b)"]["text"] == "乘客与载货电梯门锁安全回路被短接。"
    assert items["4.6e)"]["text"] == ("自动扶梯、自动人行道扶手带外缘与任何障碍物之间距离小于 400mm 时，"
                                      "未按要求装设防护挡板。")
    assert items["4.7b)"]["text"] == "定期检验(含首次检验)的检验结论为“不合格”。"
    assert items["4.8e)"]["text"] == "电气系统安全回路发生故障后采用短接方法继续运营。"
    assert items["4.10"]["text"] == "场(厂)内专用机动车辆有下列情形之一仍继续使用的，应判定为重大事故隐患。"
    assert items["4.10c)"]["text"] == "制动(包括行车、驻车)装置缺失或失效。"


def test_gb45067_does_not_carry_the_paraphrased_general_items():
    """R-P2 / verification §1.4: the often-quoted 'general items' are not 4.1's text and must not appear."""
    texts = " ".join(it["text"] for it in _items(GB).values())
    assert "未经检验或者检验不合格" not in texts
    assert "安全附件" not in texts
    assert "超过规定参数、使用范围使用" not in texts


def test_catalogue_codes_names_and_marks():
    """R-P2: 《特种设备目录》2014: 种类/类别/品种 codes with names; A-only rows unverified; the suspect 7210–7230 left out."""
    rs = _rule_set("specialequip-2014-catalogue")
    assert (rs["kind"], rs["text_status"], rs["document_number"]) == ("catalogue", "partial", "质检总局2014年第114号公告")
    items = _items("specialequip-2014-catalogue")
    codes = data.catalogue_codes()
    assert len(codes) == 154
    assert {c: codes[c] for c in data.KINDS} == {
        "1000": "锅炉", "2000": "压力容器", "8000": "压力管道", "3000": "电梯", "4000": "起重机械", "9000": "客运索道",
        "6000": "大型游乐设施", "5000": "场（厂）内专用机动车辆"}
    assert codes["4230"] == "轨道式集装箱门式起重机" and items["4230"]["verified"] is True
    assert codes["23T0"] == "特种气瓶（内装填料气瓶、纤维缠绕气瓶、低温绝热气瓶）"
    assert codes["9310"] == "低位客运拖牵索道"
    assert codes["7310"] == "安全阀" and items["7310"]["verified"] is True and "F000" in items["7310"]["tags"]
    assert items["F220"]["verified"] is False and items["71F0"]["verified"] is False
    assert items["7100"]["verified"] is True
    assert not {"7210", "7220", "7230", "4B00", "5220"} & set(codes)


def test_catalogue_definitions_keep_the_marks_and_exact_text():
    """R-P2: 2014 definitions: 压力容器/压力管道/场车 ✅ verbatim; 锅炉/电梯/起重机械/游乐设施 unverified; 索道 (truncated) left out."""
    items = _items("specialequip-2014-catalogue")
    pv = items["2000-定义"]
    assert pv["verified"] is True
    assert pv["text"].startswith("压力容器,是指盛装气体或者液体,承载一定压力的密闭设备,其范围规定为最高工作压力大于或者等于0.1MPa(表压)")
    assert "乘积大于或者等于1.0MPa•L的气体" in pv["text"] and pv["text"].endswith("的气瓶;氧舱。")
    assert "公称直径小于150mm,且其最高工作压力小于1.6MPa(表压)的输送无毒、不可燃、无腐蚀性气体的管道和设备本体所属管道除外。" \
        in items["8000-定义"]["text"]
    assert items["5000-定义"]["text"] == ("是指除道路交通、农用车辆以外仅在工厂厂区、旅游景区、游乐场所等特定区域使用的专用机动车辆。"
                                        "包括:机动工业车辆(叉车),非公路用旅游观光车辆两类")
    assert [n for n in ("1000-定义", "3000-定义", "4000-定义", "6000-定义") if items[n]["verified"]] == []
    assert "30L" in items["1000-定义"]["interpretation"] and "0.1MPa" in items["1000-定义"]["interpretation"]
    assert "9000-定义" not in items


def test_catalog_validates_with_the_core_schemas():
    """R-P2: the core accepts the plugin's YAML (schemas and cross-references) and picks GB 45067 by date."""
    catalog = validate_catalog(plugin.register_rule_sets(), plugin.register_checklists(), ["specialequip"])
    assert catalog.applicable_rule_set(GB, date(2025, 3, 1)).rule_set.code == GB
    assert catalog.applicable_rule_set(GB, date(2024, 11, 30)) is None


# --- checklist (R-P2) ------------------------------------------------------------------------------------------

def test_basic_checklist_covers_duties_and_every_gb45067_item():
    """R-P2: 25+ items, each with a basis; every lettered GB 45067 item is the major rule of exactly one question."""
    cl = _checklist()
    assert (cl["code"], cl["version"], cl["sector"]) == ("specialequip-basic", "2026.1", "specialequip")
    items = _checklist_items()
    assert len(items) == 70
    assert all(it["basis"] for it in items)
    majors = [it["on_fail"]["rule"] for it in items if it["on_fail"]["level"] == "major"]
    lettered = sorted(f"{GB}#{n}" for n in _items(GB) if n.endswith(")"))
    assert sorted(majors) == lettered
    for it in items:
        if it["on_fail"]["level"] == "major":
            assert {"rule": it["on_fail"]["rule"]} in it["basis"] and it["on_fail"]["comment_required"] is True
    by_code = {it["code"]: it for it in items}
    assert by_code["1.1"]["basis"] == [{"law": "《特种设备安全法》第三十三条"}]
    assert by_code["8.2"]["on_fail"] == {"hazard": True, "level": "major", "category": "human",
                                         "rule": f"{GB}#4.6b)", "photo_required": False, "comment_required": True}
    assert by_code["8.7"]["basis"][0] == {"law": "《电梯维护保养规则》（TSG T5002-2017）"}


def test_law_citations_are_limited_to_known_articles():
    """R-P2: law bases cite 《特种设备安全法》 articles we are sure of, or a regulation by name without an article."""
    allowed = {f"《特种设备安全法》第{n}条" for n in ("十三", "十四", "三十二", "三十三", "三十四", "三十五", "三十六", "三十九",
                                                   "四十", "四十一", "四十二", "四十三", "四十四", "四十五", "四十八",
                                                   "四十九", "六十九")}
    allowed |= {"《特种设备使用管理规则》（TSG 08-2017）", "《电梯维护保养规则》（TSG T5002-2017）", "《特种设备安全监察条例》"}
    laws = {b["law"] for it in _checklist_items() for b in it["basis"] if "law" in b}
    assert laws <= allowed and "《特种设备安全法》第四十条" in laws


# --- classify_hazard (R-P3) -------------------------------------------------------------------------------------

def _finding(rule: str | None, sector: str | None = "specialequip", **facts) -> Finding:
    return Finding(sector=sector, description="电梯门锁回路被短接", checklist_item="specialequip-basic/8.2",
                   rule_item=rule, suggested_level="general", facts=facts)


def test_classify_gb45067_item_is_major_with_that_item():
    """R-P3: a finding citing a GB 45067 item is 重大 and names the item; the reason says the text is unverified."""
    result = plugin.classify_hazard(finding=_finding(f"{GB}#4.6b)"))
    assert isinstance(result, Classification)
    assert (result.level, result.rule_item, result.decided_by) == ("major", f"{GB}#4.6b)", "specialequip")
    assert "乘客与载货电梯门锁安全回路被短接。" in result.reason and "verified: false" in result.reason
    assert plugin.classify_hazard(finding=_finding(f"{GB}#4.6b)")) == result


def test_classify_leaves_other_findings_to_the_core():
    """R-P3: no rule, a catalogue item, an unknown item or another sector's finding → None (core keeps the level)."""
    assert classify.classify(_finding(None)) is None
    assert classify.classify(_finding("specialequip-2014-catalogue#3110")) is None
    assert classify.classify(_finding(f"{GB}#4.11a)")) is None
    assert classify.classify(_finding(f"{GB}#4.6b)", sector="hazchem")) is None
    assert classify.classify(_finding("hazchem-2017-121#5", sector="hazchem")) is None


def test_classify_respects_the_effective_date():
    """R-P3: GB 45067 applies from 2024-12-01; a finding dated before it is not classified by it."""
    assert classify.classify(_finding(f"{GB}#4.7c)", found_on="2024-11-30")) is None
    assert classify.classify(_finding(f"{GB}#4.7c)", found_on=date(2024, 11, 30))) is None
    assert classify.classify(_finding(f"{GB}#4.7c)", found_on="2024-12-01")).level == "major"
    assert classify.classify(_finding(f"{GB}#4.7c)", found_on="不是日期")).level == "major"


def test_plugin_manager_wires_the_hooks():
    """R-P1: loaded through its entry point: sector, 8 object types, fields with the template, classify decision."""
    registry = build_plugin_manager(["specialequip"])
    assert registry.sectors["specialequip"].name == "特种设备"
    types = {code: ot.name for code, ot in registry.object_types.items() if ot.sector == "specialequip"}
    assert len(types) == 8 and types["specialequip_elevator"] == "电梯"
    assert types["specialequip_vehicle"] == "场（厂）内专用机动车辆"
    spec = registry.enterprise_fields["specialequip"]
    assert spec.template == "specialequip/enterprise_section.html" and spec.example
    assert registry.classify(_finding(f"{GB}#4.2c)")).level == "major"
    assert registry.classify(_finding("specialequip-2014-catalogue#1000")).level == "general"


# --- enterprise fields (R-P1) -----------------------------------------------------------------------------------

def _equipment(**kw) -> dict:
    row = {"category_code": "3110", "name": "1号客梯", "registration_code": "31103502112019060001",
           "use_certificate_no": "梯11闽B00123(19)", "next_inspection_date": "2026-06-30"}
    row.update(kw)
    return row


def _errors(payload: dict) -> dict:
    with pytest.raises(ValidationError) as excinfo:
        fields.SpecialEquipFields().load(payload)
    return excinfo.value.messages


def test_fields_load_and_dump_round_trip_with_category_names():
    """R-P1: stored data (dump) carries the 目录 name for display and loads again unchanged."""
    schema = fields.SpecialEquipFields()
    stored = schema.dump(schema.load(fields.EXAMPLE))
    assert stored["equipment"][0]["category_name"] == "3110 曳引驱动乘客电梯（电梯）"
    assert stored["equipment"][1]["category_name"] == "5110 叉车（场（厂）内专用机动车辆）"
    assert stored["equipment"][0]["next_inspection_date"] == "2026-06-30"
    assert schema.dump(schema.load(stored)) == stored
    assert schema.load({}) == {"equipment": [], "certificates": []}


def test_fields_category_must_be_an_equipment_code_of_the_catalogue():
    """R-P1: 类别 is validated against the 2014 目录 codes; 元件 (7000) and 安全附件 (F000) are not equipment."""
    msg = "设备类别应为《特种设备目录》（2014）中设备的种类、类别或品种代码，如 3110（曳引驱动乘客电梯）"
    for code in ("9999", "7110", "F220", "31100"):
        assert _errors({"equipment": [_equipment(category_code=code)]}) == {"equipment": {0: {"category_code": [msg]}}}
    ok = fields.SpecialEquipFields().load({"equipment": [_equipment(category_code="4D00")]})
    assert ok["equipment"][0]["category_code"] == "4D00"


def test_fields_messages_in_chinese():
    """R-P1: required fields, dates, statuses, registration code format, duplicates — Chinese messages."""
    assert _errors({"equipment": [{"category_code": "3110"}]}) == {"equipment": {0: {"name": ["必填项"]}}}
    assert _errors({"equipment": [_equipment(next_inspection_date=None)]}) == {
        "equipment": {0: {"next_inspection_date": ["在用设备应填写下次检验日期"]}}}
    assert _errors({"equipment": [_equipment(next_inspection_date="2026/06/30")]}) == {
        "equipment": {0: {"next_inspection_date": ["应为日期（格式 YYYY-MM-DD）"]}}}
    assert _errors({"equipment": [_equipment(status="报废中")]}) == {"equipment": {0: {"status": ["取值应为以下之一：在用、停用"]}}}
    assert _errors({"equipment": [_equipment(registration_code="31103502 1120")]}) == {
        "equipment": {0: {"registration_code": ["注册代码应为 1 到 40 位数字、字母或连字符"]}}}
    assert _errors({"equipment": [_equipment(), _equipment(name="2号客梯")]}) == {
        "equipment": {1: {"registration_code": ["注册代码 31103502112019060001 重复"]}}}
    cert = {"role": "司机", "name": "林海峰", "certificate_no": "X1", "valid_until": "2026-09-30"}
    assert _errors({"certificates": [cert]}) == {"certificates": {0: {"role": ["取值应为以下之一：安全管理人员、作业人员"]}}}
    assert _errors({"certificates": [{"role": "作业人员", "name": "林海峰", "certificate_no": "X1"}]}) == {
        "certificates": {0: {"valid_until": ["必填项"]}}}
    assert _errors({"plate": "闽D"}) == {"plate": ["未知字段"]}
    stopped = fields.SpecialEquipFields().load({"equipment": [_equipment(status="停用", next_inspection_date="")]})
    assert stopped["equipment"][0]["next_inspection_date"] is None


# --- dated items (R-P3) -----------------------------------------------------------------------------------------

def test_dated_items_per_equipment_in_use_and_per_certificate():
    """R-P3: 下次检验日期 of each equipment in use and each certificate's validity are reminded; 停用 is not."""
    schema = fields.SpecialEquipFields()
    stored = schema.dump(schema.load({**fields.EXAMPLE, "equipment": [
        *fields.EXAMPLE["equipment"],
        _equipment(name="旧货梯", category_code="3120", registration_code="31203502112010010009", status="停用")]}))
    items = plugin.register_dated_items(sector="specialequip", data=stored)
    assert items == [
        DatedItem(label="电梯“1号客梯”（注册代码 31103502112019060001）定期检验", due=date(2026, 6, 30),
                  key="equipment:31103502112019060001:inspection"),
        DatedItem(label="场（厂）内专用机动车辆“3吨内燃叉车”（注册代码 51103502112020070002）定期检验", due=date(2026, 3, 15),
                  key="equipment:51103502112020070002:inspection"),
        DatedItem(label="特种设备安全管理人员证（陈志明，350203198001011234）", due=date(2027, 5, 31),
                  key="certificate:350203198001011234"),
        DatedItem(label="特种设备作业人员证（林海峰，350211199002023456）", due=date(2026, 9, 30),
                  key="certificate:350211199002023456"),
    ]
    assert plugin.register_dated_items(sector="hazchem", data=stored) == []
    assert dated.dated_items("specialequip", {}) == []


def test_dated_item_key_falls_back_to_factory_number():
    """R-P3: equipment without 注册代码 (e.g. not yet registered) is keyed by 出厂编号."""
    row = _equipment(registration_code=None, factory_no="NE2019-0456", next_inspection_date=date(2026, 1, 5))
    (item,) = dated.dated_items("specialequip", {"equipment": [row]})
    assert item.key == "equipment:NE2019-0456:inspection" and item.due == date(2026, 1, 5)


# --- enterprise section template (R-P1) -------------------------------------------------------------------------

def _render(app, stored: dict, **context) -> str:
    env = app.jinja_env.overlay(loader=ChoiceLoader([app.jinja_loader,
                                                     FileSystemLoader(plugin.register_template_dirs())]))
    with app.test_request_context("/"):
        return env.get_template(fields.TEMPLATE).render(data=stored, enterprise=None, **context)


def test_enterprise_section_renders_register_and_certificates(app):
    """R-P1: the section lists equipment with 目录 names, 注册代码, 使用登记证编号, dates; overdue ones marked."""
    schema = fields.SpecialEquipFields()
    stored = schema.dump(schema.load(fields.EXAMPLE))
    html = _render(app, stored, today=date(2026, 4, 1))
    for text in ("设备台账", "1号客梯", "3110 曳引驱动乘客电梯（电梯）", "31103502112019060001", "梯11闽B00123(19)",
                 "2026-06-30", "陈志明", "350211199002023456", "（2 台）", "（2 本）"):
        assert text in html, text
    assert html.count("已超期") == 1  # the forklift (2026-03-15), not the lift (2026-06-30)
    assert "已过期" not in html
    assert "已超期" not in _render(app, stored)  # no `today` in the context: no marks rather than wrong ones


def test_enterprise_section_renders_empty_data(app):
    """R-P1: an enterprise with the sector but no data yet."""
    html = _render(app, {})
    assert "尚未登记特种设备" in html and "尚未登记证书" in html
