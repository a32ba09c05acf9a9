"""Jurisdiction edits never leave enterprises inconsistent (R-A1, R-N3)."""

from __future__ import annotations

import pytest

from core.services import enterprises, jurisdictions
from core.services.actors import SYSTEM
from core.services.errors import ValidationFailed
from tests.factories import uscc


def test_node_that_enterprises_belong_to_cannot_become_a_grid(session, world):
    leaf = jurisdictions.create_jurisdiction(session, SYSTEM, {
        "parent_id": world.nodes["翔安区"], "level": "township", "name": "测试镇"})  # no children
    enterprises.create_enterprise(session, SYSTEM, {"name": "测试镇企业有限公司", "uscc": uscc(900),
                                                    "jurisdiction_id": leaf.id})
    with pytest.raises(ValidationFailed) as exc:
        jurisdictions.update_jurisdiction(session, SYSTEM, leaf.id, {"level": "grid", "version": leaf.version})
    assert exc.value.errors["level"] == ["有 1 家企业以“测试镇”为所属辖区，不能改为网格"]
    assert session.get(type(leaf), leaf.id).level == "township"


def test_moving_a_grid_away_from_its_enterprises_jurisdiction_is_refused(session, world):
    grid = world.node(session, "新店1网格")  # E1: jurisdiction 新店街道, grid 新店1网格
    target = world.node(session, "马巷街道")
    with pytest.raises(ValidationFailed) as exc:
        jurisdictions.update_jurisdiction(session, SYSTEM, grid.id, {"parent_id": target.id, "version": grid.version})
    assert "不在其所属辖区内" in exc.value.errors["parent_id"][0]
    assert world.node(session, "新店1网格").parent_id == world.nodes["新店街道"]


def test_moving_a_town_takes_its_grids_and_enterprises_along(session, world):
    town = world.node(session, "新店街道")
    tongan = world.node(session, "同安区")
    moved = jurisdictions.update_jurisdiction(session, SYSTEM, town.id, {"parent_id": tongan.id, "version": town.version})
    assert moved.path == tongan.path + f"{town.id}/"
    e1 = world.ent(session, "E1")
    assert e1.scope_path.startswith(moved.path)
    assert world.node(session, "新店1网格").path.startswith(moved.path)


def test_search_by_uscc_is_normalised(session, world):
    e2 = world.ent(session, "E2")
    spaced = " ".join([e2.uscc[:6], e2.uscc[6:12], e2.uscc[12:]]).lower()
    stmt = enterprises.enterprise_query(session, SYSTEM, {"q": spaced})
    assert [e.id for e in session.scalars(stmt)] == [e2.id]
