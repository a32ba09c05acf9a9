"""The main menu as data (core.views.web.nav): groups, single-entry groups, audiences, permissions."""

from __future__ import annotations

import pytest

from core.views.web import nav


@pytest.fixture()
def items(monkeypatch):
    monkeypatch.setattr(nav, "ITEMS", [])
    nav.add("a.list", "台账", "p.view", 20, group="hazards")
    nav.add("a.stats", "统计", "p.stats", 21, group="hazards")
    nav.add("b.one", "风险清单", "p.view", 30, group="risks")
    nav.add("c.ent", "企业", None, 10, audience="government")
    nav.add("d.own", "自查", None, 15, audience="enterprise")
    nav.add("n.notes", "通知", None, 70)
    return nav.ITEMS


def labels(entries) -> list:
    return [(e.label, [i.label for i in e.items]) if isinstance(e, nav.MenuGroup) else e.label for e in entries]


def test_groups_in_their_order_and_a_single_entry_group_is_the_entry_itself(items):
    menu = nav.menu(lambda p: True, is_enterprise_user=False)
    assert labels(menu) == ["企业", ("隐患治理", ["台账", "统计"]), "风险清单", "通知"]


def test_permissions_and_audience_decide_what_is_shown(items):
    menu = nav.menu(lambda p: p == "p.view", is_enterprise_user=True)
    assert labels(menu) == ["自查", "台账", "风险清单", "通知"]  # 隐患治理 keeps one entry: shown flat


def test_unknown_group_is_a_programming_error(items):
    with pytest.raises(ValueError, match="unknown menu group"):
        nav.add("x.y", "X", None, 1, group="nope")
