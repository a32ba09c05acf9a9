"""Catalog pages and API (R-P2): rule sets with 文号, issuer, effective date, text status and their exact text
(unverified items flagged); checklist versions with sections, items and basis links to the rule items."""

from __future__ import annotations

import re

import pytest

from core.catalog import load_yaml_files
from core.catalog.registry import validate_catalog
from core.services.catalog import sync_catalog


@pytest.fixture()
def synced(app, session):
    return sync_catalog(session)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_index_lists_rule_sets_and_checklists_per_sector(synced, login):
    """R-P2: every logged-in user sees the catalog: 文号, issuer, effective date, status badge, superseded mark."""
    resp = login("ent1_mgr").get("/catalog/")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    text = _text(html)
    assert "测试领域" in text
    assert "测规〔2020〕1号 测试发布机关 2020年3月1日 部分 3 条" in text
    assert "测规〔2026〕2号 测试发布机关 2026年6月1日 待录入 0 条" in text
    assert "测令第9号 测试发布机关 2019年5月1日 已核实 1 条" in text
    # fake-2020-r1 is superseded (by the pending 2026 edition), the others are not.
    row = re.search(r"<tr>(?:(?!</tr>).)*测规〔2020〕1号(?:(?!</tr>).)*</tr>", html, re.DOTALL).group(0)
    assert "已被替代" in row
    assert html.count("已被替代") == 1
    assert 'href="/catalog/rules/fake-2020-r1"' in html
    assert 'href="/catalog/checklists/fake-basic/1.0"' in html and "测试领域基础检查表" in text
    assert 'href="/catalog/"' in html  # nav entry


def test_index_without_synced_data_says_how_to_sync(login):
    text = _text(login("xa_reg").get("/catalog/").get_data(as_text=True))
    assert "尚未入库任何判定标准或检查表" in text and "anjian catalog sync" in text


def test_rule_set_page_shows_exact_text_and_flags_unverified_items(synced, login):
    """R-P2: the legal text as shipped; an unverified item is clearly flagged; the successor is linked."""
    html = login("grid1").get("/catalog/rules/fake-2020-r1").get_data(as_text=True)
    text = _text(html)
    assert "测试领域重大事故隐患判定标准（测试用）" in text
    assert "储罐区未设置泄漏检测报警装置。" in text and "主要负责人未经考核合格。" in text
    items = re.findall(r'<li class="card cat-item( cat-unverified)?" id="item-(\d)">', html)
    assert items == [("", "1"), ("", "2"), (" cat-unverified", "3")]
    third = html[html.index('id="item-3"'):]
    assert "未核实：以官方文本为准" in third[:600]
    assert "释义：测试用解释：查看考核合格证。" in text
    assert 'href="/catalog/rules/fake-2026-r2"' in html and "已被替代" in text
    assert "https://example.invalid/fake-2020-r1" in html


def test_pending_rule_set_page_says_the_text_is_missing(synced, login):
    text = _text(login("ent4_mgr").get("/catalog/rules/fake-2026-r2").get_data(as_text=True))
    assert "待录入" in text and "本标准条文尚未录入" in text
    assert "替代 测规〔2020〕1号" in text


def test_checklist_page_shows_items_with_basis_links(synced, login):
    """R-P2: sections and items with answer type, pass condition, hazard level and each basis linked to the rule
    item with its text."""
    html = login("xa_insp").get("/catalog/checklists/fake-basic/1.0").get_data(as_text=True)
    text = _text(html)
    assert "1 设备设施" in text and "2 安全管理" in text
    assert "1.1 储罐区是否设置泄漏检测报警装置？" in text
    assert "合格答案：是" in text and "合格：≥ 0，≤ 1.6" in text
    assert "不合格：重大隐患（物的不安全状态）" in text and "须拍照" in text and "须说明" in text
    assert 'href="/catalog/rules/fake-2020-r1#item-1"' in html
    assert "测规〔2020〕1号 第 1 项 “储罐区未设置泄漏检测报警装置。”" in text
    assert "测令第9号 第五条 “生产经营单位应当建立测试台账。”" in text
    assert 'href="/catalog/rules/fake-2019-duty#item-第五条"' in html
    assert "依据：《测试安全法》第十一条" in text
    assert "检查方法：现场查看报警装置并试验。" in text
    assert "计分（满分 20）" in text


def test_unknown_checklist_version_is_404(synced, login):
    assert login("admin").get("/catalog/checklists/fake-basic/7.0").status_code == 404
    assert login("admin").get("/catalog/rules/nothing-2000-x").status_code == 404


def test_checklist_page_links_other_versions(synced, session, login, app):
    """A new version is a new row: both are listed, each page links the other."""
    lists = load_yaml_files("tests.plugins", "fake_data/checklists")
    lists[0]["version"] = "1.1"
    lists[0]["title"] = "测试领域基础检查表（第二版）"
    sync_catalog(session, validate_catalog(load_yaml_files("tests.plugins", "fake_data/rules"), lists))
    html = login("ent1_mgr").get("/catalog/checklists/fake-basic/1.0").get_data(as_text=True)
    assert 'href="/catalog/checklists/fake-basic/1.1"' in html
    index = login("ent1_mgr").get("/catalog/").get_data(as_text=True)
    assert "测试领域基础检查表（第二版）" in index


def test_index_query_count_does_not_grow_with_versions(synced, session, login, queries):
    """R-N1: no query per checklist on the index."""
    client = login("xa_reg")
    before = queries.of(lambda: client.get("/catalog/"))
    rules = load_yaml_files("tests.plugins", "fake_data/rules")
    for v in ("1.1", "1.2", "1.3"):
        lists = load_yaml_files("tests.plugins", "fake_data/checklists")
        lists[0]["version"] = v
        sync_catalog(session, validate_catalog(rules, lists))
    assert queries.of(lambda: client.get("/catalog/")) == before


def test_api_lists_and_reads_the_catalog(synced, api):
    """R-P2: read-only API under /api/v1/catalog."""
    client = api("ent1_mgr")
    sets = client.get("/api/v1/catalog/rule-sets").get_json()
    assert [(s["code"], s["text_status"], s["effective_from"]) for s in sets] == [
        ("fake-2019-duty", "verified", "2019-05-01"), ("fake-2020-r1", "partial", "2020-03-01"),
        ("fake-2026-r2", "pending", "2026-06-01")]
    one = client.get("/api/v1/catalog/rule-sets/fake-2020-r1").get_json()
    assert one["content"]["items"][2] == {"number": "3", "text": "未按规定进行测试演练。", "verified": False,
                                          "title": None, "interpretation": None, "tags": []}
    lists = client.get("/api/v1/catalog/checklists").get_json()
    assert [(c["code"], c["version"]) for c in lists] == [("fake-basic", "1.0")]
    cl = client.get("/api/v1/catalog/checklists/fake-basic/1.0").get_json()
    assert cl["content"]["sections"][0]["items"][1]["pass_when"] == {"min": 0, "max": 1.6}
    missing = client.get("/api/v1/catalog/checklists/fake-basic/0.1")
    assert missing.status_code == 404 and missing.get_json()["message"] == "检查表不存在"
