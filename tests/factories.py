"""The test world: a small jurisdiction tree, agencies, enterprises and one user per role, built through the
real services (so building it exercises them) and committed once per test session.

Layout (names are what tests refer to)::

    福建省 350000
      厦门市 350200                     agency 市局 (厦)      city_reg
        翔安区 350213                   agency 翔安局 (翔)    xa_reg, xa_insp, xa_insp_expired
          新店街道 ─ 新店1网格 (E1 hazchem-ish "fake" sector), 新店2网格 (E2)    grid1 → 新店1网格
          马巷街道 ─ 马巷1网格 (E3)
        同安区 350212                   agency 同安局 (同)    ta_reg
          大同街道 ─ 大同1网格 (E4)
    admin: everything; ent1_mgr, ent1_principal → E1; ent4_mgr → E4
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from stdnum.cn import uscc as stdnum_uscc

from core.models import Agency, Enterprise, Jurisdiction, User
from core.services import documents, enterprises, hazard_flow, hazards, jurisdictions, users
from core.services.actors import SYSTEM

PASSWORD = "test-pass-123"


def uscc(seq: int, region: str = "350213") -> str:
    """A valid 统一社会信用代码 built from a sequence number."""
    body = "91" + region + f"TEAM{seq:05d}"
    return body + stdnum_uscc.calc_check_digit(body)


@dataclass
class World:
    nodes: dict[str, int] = field(default_factory=dict)
    agencies: dict[str, int] = field(default_factory=dict)
    enterprises: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)

    def node(self, session, name: str) -> Jurisdiction:
        return session.get(Jurisdiction, self.nodes[name])

    def ent(self, session, name: str) -> Enterprise:
        return session.get(Enterprise, self.enterprises[name])

    def user(self, session, name: str) -> User:
        return session.get(User, self.users[name])

    def agency(self, session, name: str) -> Agency:
        return session.get(Agency, self.agencies[name])


def build_world(session) -> World:
    w = World()

    def node(name, level, parent=None, code=None):
        n = jurisdictions.create_jurisdiction(session, SYSTEM, {
            "parent_id": w.nodes[parent] if parent else None, "level": level, "name": name, "code": code})
        w.nodes[name] = n.id

    node("福建省", "province", None, "350000")
    node("厦门市", "city", "福建省", "350200")
    node("翔安区", "county", "厦门市", "350213")
    node("同安区", "county", "厦门市", "350212")
    node("新店街道", "township", "翔安区")
    node("马巷街道", "township", "翔安区")
    node("大同街道", "township", "同安区")
    for grid, town in (("新店1网格", "新店街道"), ("新店2网格", "新店街道"), ("马巷1网格", "马巷街道"),
                       ("大同1网格", "大同街道")):
        node(grid, "grid", town)

    def agency(key, name, short, area, parent=None):
        a = jurisdictions.save_agency(session, SYSTEM, {
            "name": name, "short_name": short, "jurisdiction_id": w.nodes[area],
            "parent_id": w.agencies[parent] if parent else None,
            "people_government": f"{area}人民政府", "court": f"{area}人民法院"})
        w.agencies[key] = a.id

    agency("市局", "厦门市应急管理局", "厦", "厦门市")
    agency("翔安局", "厦门市翔安区应急管理局", "翔", "翔安区", "市局")
    agency("同安局", "厦门市同安区应急管理局", "同", "同安区", "市局")

    def ent(key, seq, town, grid, region="350213", **extra):
        e = enterprises.create_enterprise(session, SYSTEM, {
            "name": f"测试{key}有限公司", "uscc": uscc(seq, region), "jurisdiction_id": w.nodes[town],
            "grid_id": w.nodes[grid], "address": f"{town}测试路{seq}号", **extra})
        w.enterprises[key] = e.id

    ent("E1", 1, "新店街道", "新店1网格", is_high_risk=True, is_above_scale=True,
        supervising_agency_id=w.agencies["翔安局"], sectors=[{"sector": "fake", "activities": ["生产"],
                                                             "data": {"licence_no": "FK-001"}}])
    ent("E2", 2, "新店街道", "新店2网格", is_small_micro=True)
    ent("E3", 3, "马巷街道", "马巷1网格", is_key_industry=True)
    ent("E4", 4, "大同街道", "大同1网格", region="350212", is_high_risk=True)

    valid = date.today() + timedelta(days=365)

    def user(key, roles, **extra):
        u = users.save_user(session, SYSTEM, {"username": key, "display_name": key, "password": PASSWORD,
                                              "roles": roles, **extra})
        w.users[key] = u.id

    user("admin", ["admin"])
    user("city_reg", ["regulator"], jurisdiction_id=w.nodes["厦门市"], agency_id=w.agencies["市局"])
    user("xa_reg", ["regulator"], jurisdiction_id=w.nodes["翔安区"], agency_id=w.agencies["翔安局"])
    user("ta_reg", ["regulator"], jurisdiction_id=w.nodes["同安区"], agency_id=w.agencies["同安局"])
    user("xa_insp", ["inspector"], jurisdiction_id=w.nodes["翔安区"], agency_id=w.agencies["翔安局"],
         cert_number="XA-001", cert_valid_until=valid)
    user("xa_insp_expired", ["inspector"], jurisdiction_id=w.nodes["翔安区"], agency_id=w.agencies["翔安局"],
         cert_number="XA-002", cert_valid_until=date.today() - timedelta(days=1))
    user("grid1", ["grid_worker"], jurisdiction_id=w.nodes["新店1网格"])
    user("ent1_mgr", ["enterprise_manager"], enterprise_id=w.enterprises["E1"])
    user("ent1_principal", ["enterprise_principal"], enterprise_id=w.enterprises["E1"])
    user("ent4_mgr", ["enterprise_manager"], enterprise_id=w.enterprises["E4"])
    session.flush()
    return w


def fill_work_queues(session, world: World) -> dict[str, Any]:
    """Something in every queue: a 重大 hazard listed for 督办 whose 督办 deadline has passed (rectification not
    yet due), a general hazard past its rectification deadline, one awaiting 复查, and an unreceived 指令书."""
    reg, insp = world.user(session, "xa_reg"), world.user(session, "xa_insp")
    insp2 = users.save_user(session, SYSTEM, {
        "username": "xa_insp2", "display_name": "李执法", "password": PASSWORD, "roles": ["inspector"],
        "jurisdiction_id": world.nodes["翔安区"], "agency_id": world.agencies["翔安局"], "cert_number": "XA-003",
        "cert_valid_until": date.today() + timedelta(days=365)})
    on = hazards.today()

    def register(description, level="general", enterprise="E1", by=reg):
        return hazards.register_hazard(session, by, {"enterprise_id": world.enterprises[enterprise],
                                                      "description": description, "category": "thing", "level": level})

    listed = register("液氨储罐区未设置紧急切断装置", "major")
    hazard_flow.perform(session, reg, listed.id, "list", {
        "version": listed.version, "level": "county", "due_date": on + timedelta(days=30), "leader_name": "林副局长"})
    listed.supervisions[-1].due_date = on - timedelta(days=3)  # the listing's own deadline has passed
    late = register("消防通道被货物堵塞")
    order = documents.issue_order(session, insp, {
        "enterprise_id": world.enterprises["E1"], "deadline": on, "items": [{"hazard_id": late.id}],
        "signer_ids": [insp.id, insp2.id], "on": on - timedelta(days=10)})
    late.deadline = on - timedelta(days=2)  # 整改逾期 since two days
    waiting = register("配电箱未接地")
    documents.issue_order(session, insp, {"enterprise_id": world.enterprises["E1"], "deadline": on + timedelta(days=5),
                                          "items": [{"hazard_id": waiting.id}], "signer_ids": [insp.id, insp2.id]})
    hazard_flow.perform(session, world.user(session, "ent1_mgr"), waiting.id, "request_review",
                        {"version": waiting.version, "comment": "已整改"})
    register("同安区的隐患", enterprise="E4", by=world.user(session, "ta_reg"))
    session.flush()
    return {"listed": listed, "late": late, "waiting": waiting, "order": order, "insp2": insp2}


def report_rectified(session, world: World, found: list[Any], manager: str = "ent1_mgr") -> None:
    """The enterprise's side of a 指令书: a 治理方案 for each 重大 hazard, then 申请复查 for every one."""
    mgr = world.user(session, manager)
    plan = {k: f"{label}：按方案落实" for k, label in hazard_flow.PLAN_FIELDS.items()}
    for h in found:
        if h.level == "major":
            hazard_flow.perform(session, mgr, h.id, "plan", {"version": h.version, "funds_amount": 8.0,
                                                             "approved_by_name": "张主要", **plan})
        hazard_flow.perform(session, mgr, h.id, "request_review", {"version": h.version, "comment": "已整改"})
