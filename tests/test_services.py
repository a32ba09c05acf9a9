"""The service layer called directly (R-A1, R-A2, R-A4, R-A5, R-N3, R-P3): enterprises, jurisdictions, users.

Services flush and never commit; each test runs in the rolled-back transaction of the ``session`` fixture.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from marshmallow import ValidationError
from sqlalchemy import func, select

from core.models import AuditEntry, Enterprise, EnterpriseSector, Jurisdiction, Role, User
from core.models.base import utcnow
from core.schemas.org import JurisdictionIn
from core.schemas.user import UserIn
from core.services import enterprises, jurisdictions, users
from core.services.actors import SYSTEM
from core.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests.factories import PASSWORD, uscc


def audit_entries(session, object_type: str, object_id) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.object_type == object_type,
                                                         AuditEntry.object_id == str(object_id))
                                .order_by(AuditEntry.id)))


def audit_total(session) -> int:
    return session.scalar(select(func.count(AuditEntry.id)))


def new_ent(world, seq: int = 801, **extra) -> dict:
    return {"name": f"服务测试{seq}有限公司", "uscc": uscc(seq), "jurisdiction_id": world.nodes["新店街道"],
            "grid_id": world.nodes["新店2网格"], **extra}


# --- enterprises: create ---------------------------------------------------------------------------------------------


def test_create_enterprise_sets_scope_version_and_audit(session, world):
    actor = world.user(session, "xa_reg")
    ent = enterprises.create_enterprise(session, actor, new_ent(world, is_high_risk=True, sectors=[
        {"sector": "fake", "activities": ["经营"], "data": {"licence_no": "FK-77"}}]))
    assert ent.id is not None and ent.version == 1
    assert ent.scope_path == world.node(session, "新店2网格").path
    assert ent.sector_codes == ["fake"] and ent.sectors[0].data == {"licence_no": "FK-77"}
    (entry,) = audit_entries(session, "enterprise", ent.id)
    assert (entry.action, entry.actor_id, entry.actor_name) == ("create", actor.id, "xa_reg")
    assert entry.before is None
    assert entry.after["uscc"] == uscc(801) and entry.after["is_high_risk"] is True
    assert entry.after["sectors"] == [{"sector": "fake", "activities": ["经营"], "data": {"licence_no": "FK-77"}}]


def test_create_without_grid_scopes_to_the_jurisdiction(session, world):
    ent = enterprises.create_enterprise(session, SYSTEM, new_ent(world, grid_id=None,
                                                                 jurisdiction_id=world.nodes["翔安区"]))
    assert ent.scope_path == world.node(session, "翔安区").path
    assert audit_entries(session, "enterprise", ent.id)[0].actor_name == "system"


@pytest.mark.parametrize("username", ["ent1_mgr", "ent1_principal", "xa_insp", "grid1"])
def test_create_refused_without_permission(session, world, username):
    before = session.scalar(select(func.count(Enterprise.id)))
    with pytest.raises(PermissionDenied) as exc:
        enterprises.create_enterprise(session, world.user(session, username), new_ent(world))
    assert exc.value.message == "只有监管人员或管理员可以新增企业"
    assert session.scalar(select(func.count(Enterprise.id))) == before


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"jurisdiction_id": "同安区", "grid_id": None}, "jurisdiction_id", "所属辖区不在您的管辖范围内"),
    ({"jurisdiction_id": "新店1网格", "grid_id": None}, "jurisdiction_id", "所属辖区不能是网格，请在“所在网格”中选择网格"),
    ({"jurisdiction_id": 999_999, "grid_id": None}, "jurisdiction_id", "所属辖区不存在"),
    ({"grid_id": "马巷1网格"}, "grid_id", "所选网格不属于所属辖区"),
    ({"grid_id": "马巷街道"}, "grid_id", "所选网格不存在"),
    ({"supervising_agency_id": 999_999}, "supervising_agency_id", "监管主体不存在"),
    ({"uscc": uscc(2)}, "uscc", "该统一社会信用代码已登记"),  # E2's
])
def test_create_reference_errors(session, world, change, field, message):
    change = {k: world.nodes[v] if isinstance(v, str) and k != "uscc" else v for k, v in change.items()}
    before = (session.scalar(select(func.count(Enterprise.id))), audit_total(session))
    with pytest.raises(ValidationFailed) as exc:
        enterprises.create_enterprise(session, world.user(session, "xa_reg"), new_ent(world, **change))
    assert exc.value.errors == {field: [message]}
    assert exc.value.status == 422
    assert (session.scalar(select(func.count(Enterprise.id))), audit_total(session)) == before


def test_create_reports_all_errors_at_once(session, world):
    data = new_ent(world, jurisdiction_id=world.nodes["同安区"], grid_id=world.nodes["马巷1网格"], uscc=uscc(3),
                   sectors=[{"sector": "gone", "activities": [], "data": {}},
                            {"sector": "fake", "activities": [], "data": {"licence_no": "XX-1"}}])
    with pytest.raises(ValidationFailed) as exc:
        enterprises.create_enterprise(session, world.user(session, "xa_reg"), data)
    assert exc.value.errors == {
        "jurisdiction_id": ["所属辖区不在您的管辖范围内"],
        "grid_id": ["所选网格不属于所属辖区"],
        "uscc": ["该统一社会信用代码已登记"],
        "sectors": {0: {"sector": ["领域 gone 未启用"]},
                    1: {"data": {"licence_no": ["许可证编号应以 FK- 开头"]}}},
    }


@pytest.mark.parametrize(("item", "errors"), [
    ({"sector": "fake", "activities": ["运输"], "data": {"licence_no": "FK-1"}},
     {"activities": ["测试领域领域的类别应为：生产、经营"]}),
    ({"sector": "fake", "activities": [], "data": {}}, {"data": {"licence_no": ["必填项"]}}),
    ({"sector": "fake", "activities": [], "data": {"licence_no": "FK-1", "extra": 1}}, {"data": {"extra": ["未知字段"]}}),
])
def test_sector_items_are_validated_by_the_plugin(session, world, item, errors):
    with pytest.raises(ValidationFailed) as exc:
        enterprises.create_enterprise(session, SYSTEM, new_ent(world, sectors=[item]))
    assert exc.value.errors == {"sectors": {0: errors}}


def test_duplicate_sector_is_refused(session, world):
    item = {"sector": "fake", "activities": [], "data": {"licence_no": "FK-1"}}
    with pytest.raises(ValidationFailed) as exc:
        enterprises.create_enterprise(session, SYSTEM, new_ent(world, sectors=[item, dict(item)]))
    assert exc.value.errors == {"sectors": {1: {"sector": ["领域 测试领域 重复"]}}}


# --- enterprises: read and update --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("username", "visible"), [
    ("admin", {"E1", "E2", "E3", "E4"}), ("city_reg", {"E1", "E2", "E3", "E4"}), ("xa_reg", {"E1", "E2", "E3"}),
    ("ta_reg", {"E4"}), ("xa_insp", {"E1", "E2", "E3"}), ("grid1", {"E1"}), ("ent1_mgr", {"E1"}),
    ("ent4_mgr", {"E4"}),
])
def test_get_enterprise_is_scoped(session, world, username, visible):
    actor = world.user(session, username)
    for key in ("E1", "E2", "E3", "E4"):
        if key in visible:
            assert enterprises.get_enterprise(session, actor, world.enterprises[key]).id == world.enterprises[key]
        else:
            with pytest.raises(NotFound):
                enterprises.get_enterprise(session, actor, world.enterprises[key])
    listed = {e.name for e in session.scalars(enterprises.enterprise_query(session, actor, {}))}
    assert listed == {f"测试{k}有限公司" for k in visible}


def test_update_bumps_version_and_audits_the_diff(session, world):
    e2 = world.ent(session, "E2")
    actor = world.user(session, "xa_reg")
    old_address = e2.address
    enterprises.update_enterprise(session, actor, e2.id, {
        "version": 1, "address": "新店街道新路9号", "is_high_risk": True, "is_small_micro": True})
    assert e2.version == 2
    (create, update) = audit_entries(session, "enterprise", e2.id)
    assert create.action == "create" and update.action == "update"
    assert update.actor_name == "xa_reg" and update.summary == "修改企业 测试E2有限公司"
    assert update.before == {"address": old_address, "is_high_risk": False}
    assert update.after == {"address": "新店街道新路9号", "is_high_risk": True}


def test_update_without_changes_writes_no_audit_and_keeps_version(session, world):
    e3 = world.ent(session, "E3")
    before = audit_total(session)
    enterprises.update_enterprise(session, SYSTEM, e3.id, {"version": e3.version, "name": e3.name})
    assert e3.version == 1 and audit_total(session) == before


def test_update_with_stale_version_is_a_conflict(session, world):
    e1 = world.ent(session, "E1")
    enterprises.update_enterprise(session, SYSTEM, e1.id, {"version": 1, "address": "第一次修改"})
    assert e1.version == 2
    before = audit_total(session)
    with pytest.raises(Conflict) as exc:
        enterprises.update_enterprise(session, SYSTEM, e1.id, {"version": 1, "address": "基于旧版本的修改"})
    assert exc.value.status == 409
    assert exc.value.message == "该企业信息已被他人修改（当前版本 2，您修改的是版本 1），请刷新后重试"
    assert e1.address == "第一次修改" and e1.version == 2 and audit_total(session) == before
    with pytest.raises(Conflict, match="缺少版本号"):
        enterprises.update_enterprise(session, SYSTEM, e1.id, {"address": "没有版本号"})
    assert e1.address == "第一次修改"


def test_update_validation_error_leaves_nothing_half_applied(session, world):
    e1 = world.ent(session, "E1")
    with pytest.raises(ValidationFailed) as exc:
        enterprises.update_enterprise(session, SYSTEM, e1.id, {
            "version": 1, "address": "不应保存", "grid_id": world.nodes["马巷1网格"]})
    assert exc.value.errors == {"grid_id": ["所选网格不属于所属辖区"]}
    assert e1.address == "新店街道测试路1号" and e1.grid_id == world.nodes["新店1网格"] and e1.version == 1


def test_enterprise_user_updates_own_record_but_not_supervision_fields(session, world):
    mgr = world.user(session, "ent1_mgr")
    e1 = world.ent(session, "E1")
    enterprises.update_enterprise(session, mgr, e1.id, {
        "version": 1, "principal_phone": "13900001111", "employee_count": 88,
        "name": e1.name, "is_high_risk": True})  # unchanged supervision values are fine
    assert (e1.principal_phone, e1.employee_count, e1.version) == ("13900001111", 88, 2)
    with pytest.raises(PermissionDenied) as exc:
        enterprises.update_enterprise(session, mgr, e1.id, {
            "version": 2, "name": "自己改的名字", "is_high_risk": False, "credit_class": "A", "address": "x"})
    assert exc.value.message == "以下信息只能由监管部门修改：credit_class、is_high_risk、name"
    assert (e1.name, e1.is_high_risk, e1.credit_class, e1.version) == ("测试E1有限公司", True, None, 2)
    # The regulator may change them.
    enterprises.update_enterprise(session, world.user(session, "xa_reg"), e1.id, {"version": 2, "credit_class": "A"})
    assert e1.credit_class == "A"


@pytest.mark.parametrize(("username", "key", "error"), [
    ("ent1_mgr", "E2", NotFound), ("xa_reg", "E4", NotFound), ("ta_reg", "E1", NotFound),
    ("xa_insp", "E1", PermissionDenied), ("grid1", "E1", PermissionDenied),
])
def test_update_refused_outside_scope_or_without_permission(session, world, username, key, error):
    ent = world.ent(session, key)
    with pytest.raises(error):
        enterprises.update_enterprise(session, world.user(session, username), ent.id,
                                      {"version": ent.version, "address": "x"})
    assert ent.address != "x"


def test_sector_rows_of_a_disabled_plugin_are_kept(session, world):
    """R-P3: a row of sector "gone" (its plugin is not enabled) survives any update of the enabled sectors."""
    e2 = world.ent(session, "E2")
    session.add(EnterpriseSector(enterprise_id=e2.id, sector="gone", activities=["旧类别"], data={"k": "v"}))
    session.flush()
    session.expire(e2)
    assert e2.sector_codes == ["gone"]

    enterprises.update_enterprise(session, SYSTEM, e2.id, {"version": e2.version, "sectors": [
        {"sector": "fake", "activities": ["生产"], "data": {"licence_no": "FK-2"}}]})
    assert sorted(e2.sector_codes) == ["fake", "gone"]
    gone = next(s for s in e2.sectors if s.sector == "gone")
    assert (gone.activities, gone.data) == (["旧类别"], {"k": "v"})
    entry = audit_entries(session, "enterprise", e2.id)[-1]
    assert entry.before["sectors"] == [{"sector": "gone", "activities": ["旧类别"], "data": {"k": "v"}}]
    assert sorted(s["sector"] for s in entry.after["sectors"]) == ["fake", "gone"]

    enterprises.update_enterprise(session, SYSTEM, e2.id, {"version": e2.version, "sectors": []})
    session.expire(e2)
    assert e2.sector_codes == ["gone"]
    assert session.scalar(select(func.count()).select_from(EnterpriseSector)
                          .where(EnterpriseSector.enterprise_id == e2.id)) == 1


def test_update_of_other_fields_leaves_sectors_alone(session, world):
    e1 = world.ent(session, "E1")
    enterprises.update_enterprise(session, SYSTEM, e1.id, {"version": 1, "address": "只改地址"})
    assert e1.sector_codes == ["fake"] and e1.sectors[0].data == {"licence_no": "FK-001"}


def test_an_edit_of_only_the_sector_data_moves_the_version_on(session, world):
    """R-N4: sector data lives in child rows; editing only it must still bump the enterprise's version, so a
    second edit based on the old version is refused."""
    e1 = world.ent(session, "E1")
    sectors = [{"sector": "fake", "activities": ["生产"], "data": {"licence_no": "FK-002"}}]
    enterprises.update_enterprise(session, SYSTEM, e1.id, {"version": 1, "sectors": sectors})
    session.flush()
    assert e1.version == 2
    with pytest.raises(Conflict):
        enterprises.update_enterprise(session, SYSTEM, e1.id, {"version": 1, "sectors": sectors})


# --- enterprises: bulk (used by the import) ----------------------------------------------------------------------------


def test_create_enterprises_in_batches_validates_and_audits_each(session, world):
    actor = world.user(session, "xa_reg")
    items = [new_ent(world, 811), new_ent(world, 812, grid_id=world.nodes["马巷1网格"]),
             new_ent(world, 813), new_ent(world, 811), new_ent(world, 814, uscc=uscc(1)),
             new_ent(world, 815, jurisdiction_id=world.nodes["同安区"], grid_id=None), new_ent(world, 816)]
    audits = audit_total(session)
    created, errors = enterprises.create_enterprises(session, actor, items, batch_size=2)
    assert [e.uscc for e in created] == [uscc(811), uscc(813), uscc(816)]
    assert errors == {1: {"grid_id": ["所选网格不属于所属辖区"]}, 3: {"uscc": ["该统一社会信用代码已登记"]},
                      4: {"uscc": ["该统一社会信用代码已登记"]},
                      5: {"jurisdiction_id": ["所属辖区不在您的管辖范围内"]}}
    assert audit_total(session) == audits + 3
    for ent in created:
        (entry,) = audit_entries(session, "enterprise", ent.id)
        assert entry.action == "create" and entry.actor_name == "xa_reg" and entry.after["sectors"] == []
        assert ent.scope_path == world.node(session, "新店2网格").path
    with pytest.raises(PermissionDenied):
        enterprises.create_enterprises(session, world.user(session, "ent1_mgr"), [new_ent(world, 817)])


def test_update_enterprises_in_batches(session, world):
    e1, e2, e3 = (world.ent(session, k) for k in ("E1", "E2", "E3"))
    audits = audit_total(session)
    updated, errors = enterprises.update_enterprises(session, SYSTEM, [
        (e1.id, {"version": 1, "address": "批量1"}),
        (e2.id, {"version": 1, "grid_id": world.nodes["马巷1网格"]}),
        (e3.id, {"version": 1, "uscc": e1.uscc}),
        (e3.id, {"version": 1, "employee_count": 5}),
    ], batch_size=2)
    assert updated == [e1, e3]
    assert errors == {1: {"grid_id": ["所选网格不属于所属辖区"]}, 2: {"uscc": ["该统一社会信用代码已登记"]}}
    assert (e1.address, e1.version, e3.employee_count, e3.version) == ("批量1", 2, 5, 2)
    assert e2.grid_id == world.nodes["新店2网格"] and e2.version == 1
    assert audit_total(session) == audits + 2
    with pytest.raises(Conflict):
        enterprises.update_enterprises(session, SYSTEM, [(e1.id, {"version": 1, "address": "旧版本"})])
    with pytest.raises(NotFound):
        enterprises.update_enterprises(session, world.user(session, "xa_reg"),
                                       [(world.enterprises["E4"], {"version": 1, "address": "越权"})])


# --- jurisdictions -----------------------------------------------------------------------------------------------------


def node_data(world, parent: str | None, level: str, name: str, code: str | None = None) -> dict:
    return {"parent_id": world.nodes[parent] if parent else None, "level": level, "name": name, "code": code}


def test_create_jurisdiction_builds_the_path_and_audits(session, world):
    node = jurisdictions.create_jurisdiction(session, SYSTEM, node_data(world, "翔安区", "township", "内厝镇",
                                                                        "350213104"))
    assert node.path == world.node(session, "翔安区").path + f"{node.id}/"
    assert node.ancestor_ids == [world.nodes["福建省"], world.nodes["厦门市"], world.nodes["翔安区"], node.id]
    (entry,) = audit_entries(session, "jurisdiction", node.id)
    assert entry.action == "create" and entry.after == {
        "parent_id": world.nodes["翔安区"], "level": "township", "name": "内厝镇", "code": "350213104",
        "path": node.path}
    zone = jurisdictions.create_jurisdiction(session, SYSTEM, node_data(world, "厦门市", "zone", "火炬高新区"))
    grid = jurisdictions.create_jurisdiction(session, SYSTEM, {"parent_id": zone.id, "level": "grid", "name": "园区网格"})
    assert grid.path == zone.path + f"{grid.id}/"


@pytest.mark.parametrize(("parent", "level", "field", "message"), [
    ("新店街道", "county", "level", "县/区不能设在乡镇/街道“新店街道”之下"),
    ("新店街道", "township", "level", "乡镇/街道不能设在乡镇/街道“新店街道”之下"),
    ("翔安区", "zone", "level", "功能区不能设在县/区“翔安区”之下"),
    ("新店1网格", "grid", "level", "网格不能设在网格“新店1网格”之下"),
    ("厦门市", "province", "level", "省不能设在市“厦门市”之下"),
    (None, "city", "parent_id", "除省级外，辖区必须有上级"),
])
def test_create_jurisdiction_level_rules(session, world, parent, level, field, message):
    count = session.scalar(select(func.count(Jurisdiction.id)))
    with pytest.raises(ValidationFailed) as exc:
        jurisdictions.create_jurisdiction(session, SYSTEM, node_data(world, parent, level, "新节点"))
    assert exc.value.errors == {field: [message]}
    assert session.scalar(select(func.count(Jurisdiction.id))) == count


def test_create_jurisdiction_unknown_parent_and_duplicate_code(session, world):
    with pytest.raises(ValidationFailed) as exc:
        jurisdictions.create_jurisdiction(session, SYSTEM, {"parent_id": 999_999, "level": "grid", "name": "x"})
    assert exc.value.errors == {"parent_id": ["上级辖区不存在"]}
    with pytest.raises(ValidationFailed) as exc:
        jurisdictions.create_jurisdiction(session, SYSTEM, node_data(world, "厦门市", "county", "重复区", "350213"))
    assert exc.value.errors == {"code": ["该行政区划代码已被使用"]}


@pytest.mark.parametrize(("code", "ok"), [
    ("350203", True), ("350213104", True), ("350213104001", True), (None, True),
    ("35021", False), ("3502131", False), ("35021a", False), ("３５０２１３", False), ("3502131040011", False),
])
def test_jurisdiction_code_format(code, ok):
    data = {"parent_id": 1, "level": "county", "name": "某区", "code": code}
    if ok:
        assert JurisdictionIn().load(data)["code"] == code
    else:
        with pytest.raises(ValidationError) as exc:
            JurisdictionIn().load(data)
        assert exc.value.messages["code"][0] in ("行政区划代码应为 6、9 或 12 位数字", "不能超过 12 个字符")


def test_jurisdiction_level_must_be_known():
    with pytest.raises(ValidationError) as exc:
        JurisdictionIn().load({"level": "town", "name": "x"})
    assert exc.value.messages["level"][0].startswith("取值应为以下之一：province、city、county")


def test_only_admins_manage_jurisdictions(session, world):
    for username in ("xa_reg", "city_reg", "ent1_mgr"):
        with pytest.raises(PermissionDenied, match="只有平台管理员可以维护辖区"):
            jurisdictions.create_jurisdiction(session, world.user(session, username),
                                              node_data(world, "翔安区", "township", "x"))


def test_move_rewrites_descendant_paths_and_enterprise_scope(session, world):
    town = world.node(session, "新店街道")
    old_path, old_version = town.path, town.version
    tongan = world.node(session, "同安区")
    xa_reg, ta_reg = world.user(session, "xa_reg"), world.user(session, "ta_reg")
    e3_path = world.ent(session, "E3").scope_path
    jurisdictions.update_jurisdiction(session, SYSTEM, town.id, {"parent_id": tongan.id, "version": town.version})
    town = world.node(session, "新店街道")
    new_path = tongan.path + f"{town.id}/"
    assert town.path == new_path and town.parent_id == tongan.id and town.version == old_version + 1
    for grid in ("新店1网格", "新店2网格"):
        assert world.node(session, grid).path == new_path + f"{world.nodes[grid]}/"
    assert world.ent(session, "E1").scope_path == new_path + f"{world.nodes['新店1网格']}/"
    assert world.ent(session, "E2").scope_path == new_path + f"{world.nodes['新店2网格']}/"
    assert world.ent(session, "E3").scope_path == e3_path  # 马巷街道 untouched
    # Scope follows: 翔安区's regulator loses E1/E2, 同安区's gains them; the grid worker still sees E1.
    assert {e.name for e in session.scalars(enterprises.enterprise_query(session, xa_reg, {}))} == {"测试E3有限公司"}
    assert {e.name for e in session.scalars(enterprises.enterprise_query(session, ta_reg, {}))} == {
        "测试E1有限公司", "测试E2有限公司", "测试E4有限公司"}
    assert [e.name for e in session.scalars(enterprises.enterprise_query(session, world.user(session, "grid1"), {}))] \
        == ["测试E1有限公司"]
    entry = audit_entries(session, "jurisdiction", town.id)[-1]
    assert entry.action == "update" and entry.summary == "修改辖区 新店街道"
    assert entry.before == {"parent_id": world.nodes["翔安区"], "path": old_path}
    assert entry.after == {"parent_id": tongan.id, "path": new_path}


def test_rename_keeps_paths(session, world):
    town = world.node(session, "马巷街道")
    path = town.path
    jurisdictions.update_jurisdiction(session, SYSTEM, town.id, {"name": "马巷镇", "version": town.version})
    town = world.node(session, "马巷街道")
    assert (town.name, town.path) == ("马巷镇", path)
    assert world.node(session, "马巷1网格").path.startswith(path)
    assert audit_entries(session, "jurisdiction", town.id)[-1].after == {"name": "马巷镇"}


def test_move_into_own_subtree_and_stale_version_are_refused(session, world):
    xa = world.node(session, "翔安区")
    with pytest.raises(ValidationFailed) as exc:
        jurisdictions.update_jurisdiction(session, SYSTEM, xa.id, {"parent_id": world.nodes["新店街道"],
                                                                   "version": xa.version})
    assert exc.value.errors["parent_id"] == ["不能把辖区移到它自己的下级"]
    assert world.node(session, "翔安区").parent_id == world.nodes["厦门市"]
    with pytest.raises(Conflict, match="该辖区已被他人修改"):
        jurisdictions.update_jurisdiction(session, SYSTEM, xa.id, {"name": "x", "version": xa.version + 1})


@pytest.mark.parametrize(("name", "message"), [
    ("新店街道", "辖区“新店街道”仍有2 个下级辖区、2 个企业，不能删除"),
    ("新店1网格", "辖区“新店1网格”仍有1 个企业、1 个用户，不能删除"),
    ("翔安区", "辖区“翔安区”仍有2 个下级辖区、3 个用户、1 个执法机关，不能删除"),
])
def test_delete_refused_while_in_use(session, world, name, message):
    node = world.node(session, name)
    with pytest.raises(Conflict) as exc:
        jurisdictions.delete_jurisdiction(session, SYSTEM, node.id, node.version)
    assert exc.value.message == message and exc.value.status == 409
    assert session.get(Jurisdiction, node.id) is not None


def test_delete_empty_leaf(session, world):
    leaf = jurisdictions.create_jurisdiction(session, SYSTEM, {"parent_id": world.nodes["马巷街道"], "level": "grid",
                                                               "name": "待删网格"})
    leaf_id, path = leaf.id, leaf.path
    with pytest.raises(Conflict, match="缺少版本号"):
        jurisdictions.delete_jurisdiction(session, SYSTEM, leaf_id, None)
    jurisdictions.delete_jurisdiction(session, SYSTEM, leaf_id, leaf.version)
    assert session.get(Jurisdiction, leaf_id) is None
    entry = audit_entries(session, "jurisdiction", leaf_id)[-1]
    assert entry.action == "delete" and entry.before["name"] == "待删网格" and entry.before["path"] == path
    with pytest.raises(NotFound):
        jurisdictions.delete_jurisdiction(session, SYSTEM, leaf_id, 1)


# --- users -------------------------------------------------------------------------------------------------------------


def user_data(**extra) -> dict:
    return {"username": "new_user", "display_name": "新用户", "password": "abc12345", **extra}


@pytest.mark.parametrize(("roles", "extra", "errors"), [
    (["enterprise_manager"], {}, {"enterprise_id": ["企业用户必须选择所属企业"]}),
    (["enterprise_principal"], {"enterprise_id": 999_999}, {"enterprise_id": ["企业用户必须选择所属企业"]}),
    (["grid_worker"], {}, {"jurisdiction_id": ["政府用户必须选择所属辖区"]}),
    (["inspector"], {"jurisdiction": "翔安区"}, {"agency_id": ["执法人员和监管人员必须选择所属执法机关"]}),
    (["regulator"], {}, {"jurisdiction_id": ["政府用户必须选择所属辖区"],
                         "agency_id": ["执法人员和监管人员必须选择所属执法机关"]}),
    (["inspector"], {"jurisdiction": "翔安区", "agency": "翔安局", "cert_number": "XA-9"},
     {"cert_valid_until": ["执法证号和有效期须同时填写"]}),
    (["admin"], {"username": "xa_reg"}, {"username": ["该登录名已被使用"]}),
    (["enterprise_manager", "regulator"], {"enterprise": "E1"}, {"roles": ["企业角色不能与政府或管理员角色同时授予"]}),
    (["enterprise_manager", "admin"], {"enterprise": "E1"}, {"roles": ["企业角色不能与政府或管理员角色同时授予"]}),
])
def test_save_user_validation(session, world, roles, extra, errors):
    refs = {"jurisdiction": ("jurisdiction_id", world.nodes), "agency": ("agency_id", world.agencies),
            "enterprise": ("enterprise_id", world.enterprises)}
    data = user_data(roles=roles)
    for key, value in extra.items():
        if key in refs:
            field, table = refs[key]
            data[field] = table[value]
        else:
            data[key] = value
    count = session.scalar(select(func.count(User.id)))
    with pytest.raises(ValidationFailed) as exc:
        users.save_user(session, SYSTEM, data)
    assert exc.value.errors == errors
    assert session.scalar(select(func.count(User.id))) == count


def test_schema_refuses_mixed_roles_and_bad_usernames():
    with pytest.raises(ValidationError) as exc:
        UserIn().load(user_data(roles=["enterprise_manager", "inspector"], enterprise_id=1))
    assert exc.value.messages == {"roles": ["企业角色不能与政府或管理员角色同时授予"]}
    with pytest.raises(ValidationError) as exc:
        UserIn().load(user_data(roles=[]))
    assert exc.value.messages == {"roles": ["至少选择一个角色"]}
    with pytest.raises(ValidationError) as exc:
        UserIn().load(user_data(roles=["admin"], username="张三丰"))
    assert exc.value.messages == {"username": ["登录名只能包含英文字母、数字和 . _ -"]}
    with pytest.raises(ValidationError) as exc:
        UserIn().load(user_data(roles=["superuser"]))
    assert list(exc.value.messages) == ["roles"]


@pytest.mark.parametrize("password", ["abcdefgh", "12345678", "abc1234", "", "ABCDEFGHIJ"])
def test_schema_rejects_weak_passwords(password):
    with pytest.raises(ValidationError) as exc:
        UserIn().load(user_data(roles=["admin"], password=password))
    assert exc.value.messages == {"password": ["密码至少 8 位，且须同时包含字母和数字"]} or (
        password == "" and "password" in exc.value.messages)


@pytest.mark.parametrize("password", ["abc12345", "Passw0rd!", "测试密码abc123"])
def test_schema_accepts_passwords_with_letters_and_digits(password):
    assert UserIn().load(user_data(roles=["admin"], password=password))["password"] == password


def test_new_user_needs_a_password(session):
    with pytest.raises(ValidationFailed) as exc:
        users.save_user(session, SYSTEM, {"username": "nopw", "display_name": "x", "roles": ["admin"]})
    assert exc.value.errors == {"password": ["新用户必须设置初始密码"]}


def test_save_user_creates_hashes_and_audits(session, world):
    data = UserIn().load(user_data(roles=["inspector", "regulator"], jurisdiction_id=world.nodes["翔安区"],
                                   agency_id=world.agencies["翔安局"], cert_number="XA-100",
                                   cert_valid_until="2030-12-31"))
    user = users.save_user(session, SYSTEM, data)
    assert user.roles == {Role.INSPECTOR, Role.REGULATOR}
    assert user.password_hash != "abc12345" and user.password_hash.startswith("pbkdf2:sha256:")
    (entry,) = audit_entries(session, "user", user.id)
    assert entry.action == "create" and entry.after["roles"] == ["inspector", "regulator"]
    assert entry.after["cert_valid_until"] == "2030-12-31"
    assert "password" not in entry.after and "password_hash" not in entry.after
    assert all("abc12345" not in str(v) for v in entry.after.values())


def test_update_user_roles_password_and_version(session, world):
    user = world.user(session, "xa_insp")
    old_hash = user.password_hash
    with pytest.raises(Conflict):
        users.save_user(session, SYSTEM, {"roles": ["inspector"]}, user.id)
    users.save_user(session, SYSTEM, {"version": user.version, "roles": ["inspector", "regulator"],
                                      "password": "new-pass-99"}, user.id)
    assert user.roles == {Role.INSPECTOR, Role.REGULATOR}
    assert user.password_hash != old_hash
    entry = audit_entries(session, "user", user.id)[-1]
    assert entry.before == {"roles": ["inspector"]}
    assert entry.after == {"roles": ["inspector", "regulator"], "password": "（已重置）"}
    # Becoming an enterprise user drops the government attachments.
    users.save_user(session, SYSTEM, {"version": user.version, "roles": ["enterprise_manager"],
                                      "enterprise_id": world.enterprises["E3"]}, user.id)
    assert (user.enterprise_id, user.jurisdiction_id, user.agency_id) == (world.enterprises["E3"], None, None)


def test_only_admins_manage_users(session, world):
    for username in ("xa_reg", "ent1_mgr"):
        with pytest.raises(PermissionDenied, match="只有平台管理员可以管理用户"):
            users.save_user(session, world.user(session, username), user_data(roles=["admin"]))
    admin = world.user(session, "admin")
    assert users.save_user(session, admin, user_data(roles=["admin"])).username == "new_user"


def test_admin_password_reset_ends_sessions_and_tokens(session, world):
    """R-A5: whoever knew the old password loses every session and API token with it."""
    user = world.user(session, "xa_reg")
    epoch, version = user.session_epoch, user.version
    raw, token = users.create_token(session, user, user, "对接")
    users.save_user(session, world.user(session, "admin"), {"version": version, "password": "newpass123"}, user.id)
    assert user.session_epoch == epoch + 1 and token.revoked_at is not None
    assert users.user_for_token(session, raw) is None
    actions = [e.action for e in audit_entries(session, "user", user.id)]
    assert actions[-1] == "update"
    assert audit_entries(session, "api_token", token.id)[-1].action == "revoke"


def test_cert_valid_on(session, world):
    today = date.today()
    valid = world.user(session, "xa_insp")
    expired = world.user(session, "xa_insp_expired")
    assert valid.cert_valid_on(today) is True
    assert valid.cert_valid_on(valid.cert_valid_until) is True  # valid through the last day
    assert valid.cert_valid_on(valid.cert_valid_until + timedelta(days=1)) is False
    assert expired.cert_valid_on(today) is False
    assert expired.cert_valid_on(expired.cert_valid_until) is True  # (relative: the world may predate midnight)
    assert world.user(session, "xa_reg").cert_valid_on(today) is False  # no certificate at all
    assert User(cert_number="X-1", cert_valid_until=None).cert_valid_on(today) is False
    assert User(cert_number=None, cert_valid_until=today).cert_valid_on(today) is False


def test_world_password_is_not_stored_plain(session, world):
    user = world.user(session, "xa_reg")
    assert PASSWORD not in user.password_hash
