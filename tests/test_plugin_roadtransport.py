"""道路运输 plugin: rule sets with the verified legal text, checklists, classification, sector fields, dated items
and the enterprise-page section (R-P1, R-P2, R-P3)."""

from __future__ import annotations

from datetime import date

import pytest
from flask import render_template
from marshmallow import ValidationError

from core.app import create_app
from core.plugin_types import Classification, DatedItem, Finding
from plugins.roadtransport import classify, fields, objects, plugin, rules
from tests.conftest import base_config

MOT = "roadtransport-2023-mot"
DGR = "roadtransport-2019-dgr"


def _rule_set(code):
    return next(rs for rs in rules.rule_sets() if rs["code"] == code)


def _items(code):
    return {it["number"]: it for it in _rule_set(code)["items"]}


def _checklist(code):
    return next(c for c in rules.checklists() if c["code"] == code)


def _checklist_items(code):
    return [it for s in _checklist(code)["sections"] for it in s["items"]]


# --- rule sets -------------------------------------------------------------------------------------------------


def test_mot_rule_set_identity():
    """R-P2: the 2023 判定标准 is versioned with 文号, issuer, effective date and a partial text status."""
    rs = _rule_set(MOT)
    assert rs["title"] == "道路运输企业和城市客运企业安全生产重大事故隐患判定标准（试行）"
    assert rs["document_number"] == "交办运〔2023〕52号"
    assert rs["issuer"] == "交通运输部"
    assert rs["kind"] == "major_hazard"
    assert rs["effective_from"] == date(2023, 10, 1)
    assert rs["superseded_by"] is None
    assert rs["text_status"] == "partial"
    assert "http://www.ysfeather.com/content/detail/655aadbe2b56e0a4418b4580.html" in rs["source_urls"]
    assert rs["_file"] == "plugins/roadtransport/rules/roadtransport-2023-mot.yaml"


def test_mot_items_quote_the_verified_text_exactly():
    """R-P2: 第三条(一)–(五) and 第四条(一) are verified and character for character the legal text."""
    items = _items(MOT)
    assert list(items) == ["第三条(一)", "第三条(二)", "第三条(三)", "第三条(四)", "第三条(五)", "第四条(一)", "第六条(二)"]
    assert items["第三条(一)"]["text"] == "未取得经营许可或未按规定进行备案从事经营活动，或超出许可（备案）事项和有效期经营的；"
    assert items["第三条(三)"]["text"] == (
        '所属经营性驾驶员和车辆存在长期"三超一疲劳"（超速、超员、超载、疲劳驾驶）且运输过程中未及时提醒纠正、'
        "运输行为结束后一个月内未严肃处理，或所属经营性驾驶员存在一次计10分及以上诚信考核计分情形且未严肃处理仍继续安排上岗作业的；")
    assert items["第三条(四)"]["text"] == (
        "经营地或运营线路途经地已发布台风橙色及以上预警，暴雨、暴雪、冰雹、大雾、沙尘暴、大风、道路结冰红色预警，"
        "或地质灾害气象风险红色预警等不具备安全通行条件时，未执行政府部门停运指令或企业应急预案要求仍擅自安排运输作业的；")
    assert items["第三条(五)"]["text"] == "按法律法规和规章规定，其他应当判定为重大事故隐患的。"
    assert items["第四条(一)"]["text"] == (
        "800公里以上道路客运班线未按规定开展安全风险评估，或所属客运车辆未按规定执行凌晨2时至5时停车休息或接驳运输的")
    assert all(items[n]["verified"] is True for n in list(items)[:6])
    # The 第六条(二) fragment has one source and an inferred number: kept, but not verified.
    assert items["第六条(二)"]["verified"] is False
    assert items["第六条(二)"]["text"] == "所属常压液体罐车罐体运输介质超出适装介质范围，或超过核定载质量载运危险货物的"


def test_mot_lead_ins_are_quoted_in_the_notes():
    notes = _rule_set(MOT)["notes"]
    assert "「第三条 道路运输企业和城市客运企业存在下列情形之一的，应当判定为重大事故隐患：」" in notes
    assert "「第四条 道路旅客运输企业存在本标准第三条规定的情形或下列情形之一的，应当判定为重大事故隐患：」" in notes


def test_dangerous_goods_duty_rule_set():
    """R-P2: 《道路危险货物运输管理规定》 as a duty set; ✅ rows verified, ◐ rows not."""
    rs = _rule_set(DGR)
    assert (rs["kind"], rs["document_number"], rs["text_status"]) == ("duty", "交通运输部令2019年第42号", "partial")
    items = _items(DGR)
    assert items["押运人员"]["text"] == (
        "在道路危险货物运输过程中，除驾驶人员外，还应当在专用车辆上配备押运人员，确保危险货物处于押运人员监管之下。")
    assert items["随身携带从业资格证"]["text"] == "驾驶人员、装卸管理人员和押运人员上岗时应当随身携带从业资格证。"
    assert items["年度审验"]["text"].endswith("（三）具有行驶记录功能的卫星定位装置的配备情况。")
    verified = sorted(n for n, it in items.items() if it["verified"])
    assert verified == sorted(["押运人员", "随身携带从业资格证", "年度审验"])
    assert len(items) == 10


def test_rule_items_are_unique_and_texts_non_empty():
    for rs in rules.rule_sets():
        numbers = [it["number"] for it in rs["items"]]
        assert len(numbers) == len(set(numbers)), rs["code"]
        assert all(isinstance(it["text"], str) and it["text"].strip() for it in rs["items"])


# --- checklists ------------------------------------------------------------------------------------------------


def test_basic_checklist_size_and_bases():
    """R-P2: a real checklist of 25+ items, each citing a basis; every rule basis names a shipped rule item."""
    known = {f"{rs['code']}#{it['number']}" for rs in rules.rule_sets() for it in rs["items"]}
    majors = {f"{MOT}#{it['number']}" for it in _rule_set(MOT)["items"]}
    basic = _checklist_items("roadtransport-basic")
    assert len(basic) == 28
    assert len(_checklist_items("roadtransport-dangerous-goods")) == 13
    for code in ("roadtransport-basic", "roadtransport-dangerous-goods"):
        items = _checklist_items(code)
        assert len({it["code"] for it in items}) == len(items)
        for it in items:
            assert it["basis"], it["code"]
            for b in it["basis"]:
                assert set(b) <= {"rule", "law"}
                if "rule" in b:
                    assert b["rule"] in known, (code, it["code"], b["rule"])
            if it["on_fail"]["level"] == "major":
                assert it["on_fail"]["rule"] in majors
                assert _items(MOT)[it["on_fail"]["rule"].split("#")[1]]["verified"] is True


def test_every_verified_major_item_has_a_major_failing_question():
    """第三条(一)–(五) and 第四条(一) each drive at least one major-failing question."""
    used = {it["on_fail"].get("rule") for it in _checklist_items("roadtransport-basic") if it["on_fail"]["level"] == "major"}
    assert used == {f"{MOT}#第三条(一)", f"{MOT}#第三条(二)", f"{MOT}#第三条(三)", f"{MOT}#第三条(四)",
                    f"{MOT}#第三条(五)", f"{MOT}#第四条(一)"}
    by_code = {it["code"]: it for it in _checklist_items("roadtransport-basic")}
    assert by_code["7.2"]["answer"] == "yes_no_na"
    assert by_code["7.2"]["basis"] == [{"rule": f"{MOT}#第四条(一)"}]


def test_dangerous_goods_checklist_applies_to_dg_enterprises_and_vehicles():
    dg = _checklist("roadtransport-dangerous-goods")
    assert dg["applies_to"] == {"activities": ["道路危险货物运输"], "object_types": ["roadtransport_dg_vehicle"]}
    assert {ot.code for ot in objects.OBJECT_TYPES} >= set(dg["applies_to"]["object_types"])
    assert set(dg["applies_to"]["activities"]) <= set(plugin.SECTOR.activities)


def test_catalog_validates_the_plugin_data():
    """R-P2: the core schemas and whole-catalog checks accept both rule sets and both checklists as shipped."""
    from core.catalog.registry import validate_catalog

    catalog = validate_catalog(rules.rule_sets(), rules.checklists())
    assert sorted(catalog.rule_sets) == [DGR, MOT]
    item, rule_set = catalog.rule_item(f"{MOT}#第三条(二)")
    assert (rule_set.kind, item.verified) == ("major_hazard", True)
    basic = catalog.checklist("roadtransport-basic")
    assert (basic.version, len(basic.items)) == ("2026.1", 28)
    assert basic.item("4.3").on_fail["category"] == "human"  # "behaviour" is stored as the core's "human"


# --- classification --------------------------------------------------------------------------------------------


def _finding(rule_item, sector="roadtransport", **facts):
    return Finding(sector=sector, description="检查发现", rule_item=rule_item, suggested_level="general", facts=facts)


def test_classify_verified_item_is_major():
    c = plugin.classify_hazard(finding=_finding(f"{MOT}#第四条(一)"))
    assert c == Classification(
        level="major", rule_item=f"{MOT}#第四条(一)", decided_by="roadtransport",
        reason="交办运〔2023〕52号《道路运输企业和城市客运企业安全生产重大事故隐患判定标准（试行）》第四条(一)："
               "800公里以上班线风险评估；凌晨2时至5时停车休息或接驳运输")
    # deterministic
    assert plugin.classify_hazard(finding=_finding(f"{MOT}#第四条(一)")) == c


def test_classify_accepts_full_width_parentheses():
    c = classify.classify(_finding(f"{MOT}#第三条（二）"), rules.loaded_rule_sets())
    assert (c.level, c.rule_item) == ("major", f"{MOT}#第三条(二)")


@pytest.mark.parametrize("finding", [
    _finding(f"{MOT}#第六条(二)"),                       # unverified fragment: core keeps the suggested level
    _finding(f"{DGR}#押运人员"),                          # duty set, not a major-hazard set
    _finding(f"{MOT}#第九条(九)"),                        # no such item
    _finding(None),                                      # free-text finding
    _finding("hazchem-2017-121#5"),                       # another sector's rule in our sector
    _finding(f"{MOT}#第三条(一)", sector="hazchem"),      # never claim another sector's finding
    _finding(f"{MOT}#第三条(一)", sector=None),
    _finding(f"{MOT}#第三条(一)", found_on="2023-09-30"),  # before the standard took effect
])
def test_classify_returns_none_when_not_ours_to_decide(finding):
    assert plugin.classify_hazard(finding=finding) is None


def test_classify_by_date_of_finding():
    assert plugin.classify_hazard(finding=_finding(f"{MOT}#第三条(一)", found_on=date(2023, 10, 1))).level == "major"
    assert plugin.classify_hazard(finding=_finding(f"{MOT}#第三条(一)", found_on="不是日期")).level == "major"


def test_applicable_rule_set_skips_pending_and_future_editions():
    sets = [
        {"code": "a", "sector": "roadtransport", "kind": "major_hazard", "text_status": "verified",
         "effective_from": date(2023, 10, 1)},
        {"code": "b", "sector": "roadtransport", "kind": "major_hazard", "text_status": "pending",
         "effective_from": date(2025, 1, 1)},
        {"code": "c", "sector": "roadtransport", "kind": "major_hazard", "text_status": "partial",
         "effective_from": "2027-01-01"},
        {"code": "d", "sector": "roadtransport", "kind": "duty", "text_status": "partial",
         "effective_from": date(2024, 1, 1)},
    ]
    assert classify.applicable_rule_set(sets, date(2026, 6, 1))["code"] == "a"
    assert classify.applicable_rule_set(sets, date(2027, 1, 1))["code"] == "c"
    assert classify.applicable_rule_set(sets, None)["code"] == "c"
    assert classify.applicable_rule_set(sets, date(2020, 1, 1)) is None


# --- enterprise fields -----------------------------------------------------------------------------------------


def _load(data):
    return fields.RoadTransportFields().load(data)


def test_example_loads_and_dumps_iso_dates():
    schema = fields.RoadTransportFields()
    dumped = schema.dump(schema.load(fields.EXAMPLE))
    assert dumped == fields.EXAMPLE


@pytest.mark.parametrize("plate", ["闽D12345", "京A8B9C7", "闽DD12345", "闽DF12345", "粤B12345D",
                                   "闽D1234挂", "沪A·12345", "闽d 12345"])
def test_plate_formats_accepted(plate):
    v = _load({"vehicles": [{"plate": plate, "vehicle_type": "重型货车"}]})["vehicles"][0]
    assert v["plate"] == plate.replace("·", "").replace(" ", "").upper()
    assert v["dangerous_goods"] is False and v["gps_installed"] is False


@pytest.mark.parametrize("plate", ["D12345", "闽I12345", "闽D1234", "闽D123456", "闽DO1234", "A闽12345", "台D12345"])
def test_plate_formats_refused(plate):
    with pytest.raises(ValidationError) as exc:
        _load({"vehicles": [{"plate": plate, "vehicle_type": "重型货车"}]})
    assert exc.value.messages == {"vehicles": {0: {"plate": [fields.PLATE_MESSAGE]}}}
    assert fields.PLATE_MESSAGE == "车牌号格式不正确（如 闽D12345、闽DD12345、闽D1234挂）"


def test_field_messages_in_chinese():
    with pytest.raises(ValidationError) as exc:
        _load({"licence_valid_until": "2028-02-30", "vehicles": [
            {"plate": "闽D12345", "vehicle_type": "飞机", "dangerous_goods": "也许", "inspection_valid_until": "明年"}],
            "colour": "红"})
    m = exc.value.messages
    assert m["licence_valid_until"] == ["应为日期（格式 YYYY-MM-DD）"]
    assert m["colour"] == ["未知字段"]
    v = m["vehicles"][0]
    assert v["vehicle_type"][0].startswith("取值应为以下之一：大型客车、")
    assert v["dangerous_goods"] == ["应为是/否"]
    assert v["inspection_valid_until"] == ["应为日期（格式 YYYY-MM-DD）"]
    with pytest.raises(ValidationError) as exc:
        _load({"vehicles": [{"vehicle_type": "挂车"}]})
    assert exc.value.messages == {"vehicles": {0: {"plate": ["必填项"]}}}


def test_duplicate_plates_and_licence_without_number_refused():
    with pytest.raises(ValidationError) as exc:
        _load({"vehicles": [{"plate": "闽D12345", "vehicle_type": "挂车"}, {"plate": "闽D·12345", "vehicle_type": "挂车"}]})
    assert exc.value.messages == {"vehicles": ["车牌号 闽D12345 重复"]}
    with pytest.raises(ValidationError) as exc:
        _load({"licence_valid_until": "2028-06-30"})
    assert exc.value.messages == {"licence_no": ["填写有效期时请同时填写许可证编号"]}


def test_field_spec():
    spec = plugin.register_enterprise_fields()
    assert (spec.sector, spec.schema, spec.template) == (
        "roadtransport", fields.RoadTransportFields, "roadtransport/enterprise_section.html")


# --- dated items -----------------------------------------------------------------------------------------------


def test_dated_items_for_licence_and_each_vehicle():
    """Expiry reminders: the licence and each vehicle's 年审/检验 validity, from stored (ISO string) data."""
    stored = fields.RoadTransportFields().dump(_load(fields.EXAMPLE))
    stored["vehicles"].append({"plate": "闽D00001", "vehicle_type": "挂车", "dangerous_goods": False,
                               "inspection_valid_until": None, "gps_installed": False})
    assert plugin.register_dated_items(sector="roadtransport", data=stored) == [
        DatedItem(label="道路运输经营许可证（闽交运管许可厦字350200001234号）", due=date(2028, 6, 30), key="licence"),
        DatedItem(label="危货车辆 闽D12345 年审/检验有效期", due=date(2027, 9, 30), key="vehicle:闽D12345:inspection"),
        DatedItem(label="营运车辆 闽DF12345 年审/检验有效期", due=date(2027, 3, 31), key="vehicle:闽DF12345:inspection"),
    ]


def test_dated_items_other_sector_or_empty():
    assert plugin.register_dated_items(sector="hazchem", data=fields.EXAMPLE) == []
    assert plugin.register_dated_items(sector="roadtransport", data={}) == []
    loaded = _load({"licence_valid_until": "2027-01-31", "licence_no": "X-1"})
    assert fields.dated_items("roadtransport", loaded) == [
        DatedItem(label="道路运输经营许可证（X-1）", due=date(2027, 1, 31), key="licence")]


# --- the plugin in an app --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rt_app(tmp_path_factory):
    url = "sqlite:///" + str(tmp_path_factory.mktemp("rt") / "rt.db")
    return create_app(base_config(url, ENABLED_PLUGINS=["roadtransport"], EXTRA_PLUGINS=[]))


def test_plugin_registers_through_the_entry_point(rt_app):
    registry = rt_app.extensions["anjian"]
    assert registry.sectors["roadtransport"].name == "道路运输"
    assert registry.enterprise_fields["roadtransport"].schema is fields.RoadTransportFields
    assert {c: o.name for c, o in registry.object_types.items()} == {
        "roadtransport_vehicle": "营运车辆", "roadtransport_dg_vehicle": "危货车辆"}
    assert [rs["code"] for sets in registry.hook.register_rule_sets() for rs in sets] == [DGR, MOT]
    c = registry.classify(_finding(f"{MOT}#第三条(四)"))
    assert (c.level, c.rule_item, c.decided_by) == ("major", f"{MOT}#第三条(四)", "roadtransport")
    assert registry.classify(_finding(f"{DGR}#押运人员")).level == "general"  # core default keeps the suggestion


def test_core_validates_enterprise_data_with_the_plugin_schema(rt_app):
    from core.services.enterprises import validate_sectors

    with rt_app.app_context():
        cleaned, errors = validate_sectors([{"sector": "roadtransport", "activities": ["道路危险货物运输"],
                                             "data": {**fields.EXAMPLE, "licence_valid_until": "2028-06-30"}}])
        assert errors == {} and cleaned[0]["data"] == fields.EXAMPLE
        _, errors = validate_sectors([{"sector": "roadtransport", "activities": [],
                                       "data": {"vehicles": [{"plate": "闽D1", "vehicle_type": "挂车"}]}}])
        assert errors == {0: {"data": {"vehicles": {0: {"plate": [fields.PLATE_MESSAGE]}}}}}


def test_section_template_renders(rt_app):
    future = [{**v, "inspection_valid_until": "2099-12-31"} for v in fields.EXAMPLE["vehicles"]]
    data = fields.RoadTransportFields().dump(_load({**fields.EXAMPLE, "licence_valid_until": "2099-12-31", "vehicles": [
        *future,
        {"plate": "闽D54321", "vehicle_type": "半挂牵引车", "dangerous_goods": True, "transport_cert_no": None,
         "inspection_valid_until": "2020-01-31", "gps_installed": False}]}))
    with rt_app.test_request_context("/"):
        html = render_template("roadtransport/enterprise_section.html", data=data, enterprise=None)
    assert "闽交运管许可厦字350200001234号" in html
    assert "道路普通货物运输；道路危险货物运输（2类1项、3类）" in html
    assert "3 辆，其中危货车辆 2 辆" in html
    assert '<td data-label="车牌号"><b>闽D54321</b></td>' in html
    assert html.count("已过期") == 1  # only the 2020-01-31 inspection
    assert "2020-01-31 <span class=\"tag red\">已过期</span>" in html
    assert html.count('<span class="tag red">未安装</span>') == 1
    with rt_app.test_request_context("/"):
        empty = render_template("roadtransport/enterprise_section.html", data={}, enterprise=None)
    assert "尚未登记营运车辆" in empty and "0 辆" in empty
