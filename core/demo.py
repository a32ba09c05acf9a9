"""Demo data: one city, two districts with towns and grid cells, agencies, ~200 enterprises, a user per role.

Deterministic (fixed random seed) and idempotent: everything is looked up by a natural key (行政区划代码 or
name, agency name, USCC, username) and only created when missing, so running it twice changes nothing.
Region codes down to district level are the real GB/T 2260 codes; towns carry no code (we do not invent them).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import uscc as stdnum_uscc

from core.models import Agency, Enterprise, Jurisdiction, Role, User
from core.plugins import plugins
from core.services import enterprises, jurisdictions, users
from core.services.actors import SYSTEM

DEMO_PASSWORD = "anjian2026"

CITY = ("福建省", "350000", "厦门市", "350200")
DISTRICTS = {
    ("翔安区", "350213"): ["新店街道", "马巷街道", "内厝镇", "新圩镇", "大嶝街道"],
    ("同安区", "350212"): ["大同街道", "祥平街道", "西柯街道", "五显镇", "洪塘镇"],
}
GRIDS_PER_TOWN = 2
#: Schematic map extent of the demo (west, south, east, north; WGS-84): each district a vertical strip, each town a
#: band of it. These outlines are NOT the real administrative boundaries (the demo marks them 示意边界); the demo's
#: enterprises are placed inside their town's band so that the map reads correctly.
DEMO_EXTENT = (118.05, 24.60, 118.35, 24.78)


def demo_cells() -> dict[str, tuple[float, float, float, float]]:
    """(west, south, east, north) of every demo district and town, by name."""
    west, south, east, north = DEMO_EXTENT
    cells: dict[str, tuple[float, float, float, float]] = {}
    # 同安区 lies west of 翔安区: the strips are laid out west to east in that order.
    order = sorted(DISTRICTS, key=lambda d: d[0] != "同安区")
    width = (east - west) / len(order)
    for i, key in enumerate(order):
        w, e = round(west + i * width, 6), round(west + (i + 1) * width, 6)
        cells[key[0]] = (w, south, e, north)
        towns = DISTRICTS[key]
        height = (north - south) / len(towns)
        for j, town in enumerate(towns):
            cells[town] = (w, round(north - (j + 1) * height, 6), e, round(north - j * height, 6))
    return cells


def _rectangle(cell: tuple[float, float, float, float]) -> dict:
    w, s, e, n = cell
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

_NAME_HEADS = ["鑫", "华", "恒", "翔", "海", "嘉", "宏", "盛", "联", "瑞", "腾", "金", "信", "达", "泰", "隆", "源",
               "兴", "丰", "安", "远", "明", "辉", "弘", "东", "力", "新", "祥", "和", "正"]
_NAME_TAILS = ["鑫", "华", "达", "通", "源", "盛", "泰", "远", "晟", "峰", "诚", "辉", "翔", "宇", "邦", "创"]
# (sector, industry name, GB/T 4754 code, name suffix, activities)
_PROFILES = [
    ("hazchem", "有机化学原料制造", "C2614", "化工有限公司", ["生产"]),
    ("hazchem", "危险化学品批发", "F5166", "化工贸易有限公司", ["经营"]),
    ("hazchem", "涂料制造", "C2641", "涂料有限公司", ["生产", "使用"]),
    ("hazchem", "机动车燃油零售", "F5265", "加油站有限公司", ["经营", "储存"]),
    ("fire", "百货零售", "F5211", "商贸有限公司", ["人员密集场所"]),
    ("fire", "旅游饭店", "H6110", "酒店管理有限公司", ["消防安全重点单位"]),
    ("fire", "纺织服装制造", "C1811", "服饰有限公司", ["一般单位"]),
    ("roadtransport", "道路货物运输", "G5430", "物流有限公司", ["道路货物运输"]),
    ("roadtransport", "道路危险货物运输", "G5430", "危险品运输有限公司", ["道路危险货物运输"]),
    ("roadtransport", "公路旅客运输", "G5420", "客运有限公司", ["道路旅客运输"]),
    ("specialequip", "金属结构制造", "C3311", "机械有限公司", ["起重机械", "压力容器"]),
    ("specialequip", "物业管理", "K7020", "物业管理有限公司", ["电梯"]),
    ("specialequip", "热力生产和供应", "D4430", "热力有限公司", ["锅炉", "压力管道"]),
]
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程苏魏吕丁任沈"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红斌海波辉鹏"


@dataclass
class SeedResult:
    jurisdictions: int = 0
    agencies: int = 0
    enterprises: int = 0
    created_enterprises: int = 0
    #: Hidden dangers added by this run, per state (empty when the demo already had hazards).
    hazards_by_state: dict[str, int] = field(default_factory=dict)
    #: 安全生产标准化 self-assessments added by this run.
    assessments: int = 0
    logins: list[tuple[str, str]] = field(default_factory=list)


def make_uscc(rng: random.Random, region: str) -> str:
    """A well-formed 统一社会信用代码 (9 = 工商, 1 = 企业, region, 9-char body) with the right check digit."""
    body = "91" + region + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    return body + stdnum_uscc.calc_check_digit(body)


def _node(session: Session, name: str, level: str, parent: Jurisdiction | None, code: str | None = None) -> Jurisdiction:
    stmt = select(Jurisdiction).where(Jurisdiction.name == name, Jurisdiction.level == level)
    stmt = stmt.where(Jurisdiction.parent_id == parent.id) if parent else stmt.where(Jurisdiction.parent_id.is_(None))
    node = session.scalar(stmt)
    if node is None:
        node = jurisdictions.create_jurisdiction(
            session, SYSTEM, {"parent_id": parent.id if parent else None, "level": level, "name": name, "code": code}
        )
    return node


def _agency(session: Session, name: str, short: str, area: Jurisdiction, parent: Agency | None, court: str) -> Agency:
    agency = session.scalar(select(Agency).where(Agency.name == name))
    if agency is None:
        gov = area.name if area.level == "city" else f"厦门市{area.name}"
        agency = jurisdictions.save_agency(session, SYSTEM, {
            "name": name, "short_name": short, "jurisdiction_id": area.id, "parent_id": parent.id if parent else None,
            "people_government": f"{gov}人民政府", "court": court,
        })
    return agency


def _user(session: Session, result: SeedResult, username: str, display: str, roles: list[Role], label: str, **extra) -> None:
    if session.scalar(select(User).where(User.username == username)) is None:
        users.save_user(session, SYSTEM, {"username": username, "display_name": display, "password": DEMO_PASSWORD,
                                          "roles": [r.value for r in roles], **extra})
    result.logins.append((username, label))


def _person(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))


def seed_demo(session: Session, enterprises_per_town: int = 20) -> SeedResult:
    """Create whatever of the demo data is missing; returns counts and the logins. The caller commits."""
    rng = random.Random(2026)
    result = SeedResult()
    from core.services.catalog import sync_catalog

    sync_catalog(session)  # the plugins' rule sets and checklists (idempotent; refuses a rewritten version)
    province = _node(session, CITY[0], "province", None, CITY[1])
    city = _node(session, CITY[2], "city", province, CITY[3])
    # Demo data: a first-instance suit against a city department goes to a 基层人民法院 (issue 15).
    city_agency = _agency(session, "厦门市应急管理局", "厦", city, None, "厦门市思明区人民法院")
    enabled = plugins().sectors
    towns: list[tuple[Jurisdiction, Agency, str]] = []
    for (district_name, code), town_names in DISTRICTS.items():
        district = _node(session, district_name, "county", city, code)
        agency = _agency(session, f"厦门市{district_name}应急管理局", district_name[0], district, city_agency,
                         f"厦门市{district_name}人民法院")
        for town_name in town_names:
            town = _node(session, town_name, "township", district)
            for g in range(1, GRIDS_PER_TOWN + 1):
                _node(session, f"{town_name}第{g}网格", "grid", town)
            towns.append((town, agency, code))
    _node(session, "厦门火炬高新区（翔安）产业区", "zone", city)

    from core.services.boundaries import set_boundary

    cells = demo_cells()
    for node in [t[0] for t in towns] + list({t[0].parent_id: t[0].parent for t in towns}.values()):
        if node.boundary is None:
            set_boundary(session, SYSTEM, node, _rectangle(cells[node.name]), schematic=True)

    existing = set(session.scalars(select(Enterprise.uscc)))
    for town, agency, region in towns:
        tw, ts, te, tn = cells[town.name]
        grids = [c for c in town.children if c.level == "grid"]
        for _ in range(enterprises_per_town):
            sector, industry, icode, suffix, acts = rng.choice(_PROFILES)
            name = "厦门" + rng.choice(_NAME_HEADS) + rng.choice(_NAME_TAILS) + suffix
            uscc = make_uscc(rng, region)
            legal, principal, manager = _person(rng), _person(rng), _person(rng)
            employees = rng.choice((8, 15, 30, 60, 120, 260, 480, 900))
            flags = {"is_high_risk": sector == "hazchem" or "危险" in suffix, "is_above_scale": employees >= 120,
                     "is_key_industry": sector in ("hazchem", "roadtransport") or rng.random() < 0.2,
                     "is_small_micro": employees < 300}
            grid = rng.choice(grids)
            start = date(2026, 1, 1) + timedelta(days=rng.randrange(0, 300))
            payload = {
                "name": name, "uscc": uscc, "address": f"厦门市{town.parent.name}{town.name}{rng.choice(_NAME_HEADS)}"
                f"{rng.choice(('路', '街', '大道'))}{rng.randint(1, 999)}号",
                "jurisdiction_id": town.id, "grid_id": grid.id, "industry_code": icode, "industry_name": industry,
                "legal_representative": legal, "actual_controller": legal, "principal_name": principal,
                "principal_phone": f"13{rng.randint(100000000, 999999999)}", "safety_manager_name": manager,
                "safety_manager_phone": f"15{rng.randint(100000000, 999999999)}", "employee_count": employees,
                "supervising_agency_id": agency.id, "supervision_level": "county" if flags["is_high_risk"] else "township",
                "longitude": round(tw + (0.08 + 0.84 * rng.random()) * (te - tw), 6),
                "latitude": round(ts + (0.08 + 0.84 * rng.random()) * (tn - ts), 6),
                "standardization_status": rng.choice(("none", "in_progress", "graded")),
                "insurance_company": rng.choice(("中国人民财产保险", "中国平安财产保险", "太平洋财产保险")) if flags["is_high_risk"] else None,
                "insurance_start": start if flags["is_high_risk"] else None,
                "insurance_end": start + timedelta(days=364) if flags["is_high_risk"] else None,
                "credit_class": rng.choice(("A", "A", "B", "B", "C")),
                "sectors": [{"sector": sector, "activities": acts, "data": {}}] if sector in enabled else [],
                **flags,
            }
            # Every random draw is made before deciding to skip, so a re-run walks the same sequence.
            if uscc in existing or session.scalar(select(Enterprise.id).where(Enterprise.name == name)):
                continue
            enterprises.create_enterprise(session, SYSTEM, payload)
            existing.add(uscc)
            result.created_enterprises += 1
    session.flush()

    xiangan = session.scalar(select(Jurisdiction).where(Jurisdiction.code == "350213"))
    xa_agency = session.scalar(select(Agency).where(Agency.name == "厦门市翔安区应急管理局"))
    grid = session.scalar(select(Jurisdiction).where(Jurisdiction.name == "新店街道第1网格"))
    demo_ent = session.scalar(
        select(Enterprise).where(Enterprise.scope_path.like(xiangan.path + "%"), Enterprise.name.like("%化工有限公司"))
        .order_by(Enterprise.id)
    )
    valid = date.today() + timedelta(days=700)
    _user(session, result, "admin", "平台管理员", [Role.ADMIN], "平台管理员（全部数据）")
    _user(session, result, "city_regulator", "陈监管", [Role.REGULATOR], "厦门市应急管理局 监管人员（全市）",
          jurisdiction_id=city.id, agency_id=city_agency.id)
    _user(session, result, "xa_regulator", "林科长", [Role.REGULATOR], "翔安区应急管理局 监管人员（翔安区）",
          jurisdiction_id=xiangan.id, agency_id=xa_agency.id)
    _user(session, result, "xa_inspector1", "黄执法", [Role.INSPECTOR], "翔安区 执法人员（持证）",
          jurisdiction_id=xiangan.id, agency_id=xa_agency.id, cert_number="35021300101", cert_valid_until=valid)
    _user(session, result, "xa_inspector2", "郑执法", [Role.INSPECTOR], "翔安区 执法人员（持证）",
          jurisdiction_id=xiangan.id, agency_id=xa_agency.id, cert_number="35021300102", cert_valid_until=valid)
    _user(session, result, "xd_grid1", "吴网格", [Role.GRID_WORKER], "新店街道第1网格 网格员",
          jurisdiction_id=grid.id)
    _user(session, result, "ent_manager", "许安全", [Role.ENTERPRISE_MANAGER], f"{demo_ent.name} 安全管理人员",
          enterprise_id=demo_ent.id)
    _user(session, result, "ent_principal", "蔡总", [Role.ENTERPRISE_PRINCIPAL], f"{demo_ent.name} 主要负责人",
          enterprise_id=demo_ent.id)
    session.flush()

    from core.demo_hazards import seed_demo_hazards

    result.hazards_by_state = seed_demo_hazards(session).by_state or {}
    from core.demo_documents import seed_demo_documents

    seed_demo_documents(session)

    from core.demo_assessments import seed_demo_assessments

    def login(username: str) -> User:
        return session.scalar(select(User).where(User.username == username))

    result.assessments = seed_demo_assessments(session, demo_ent, login("ent_manager"), login("ent_principal"),
                                               login("xa_regulator"))
    from core.demo_plans import seed_demo_plans

    seed_demo_plans(session)  # 年度执法计划, this month's published 双随机 draw, a 专项行动
    from core.demo_field import seed_demo_field

    seed_demo_field(session, demo_ent)  # a completed 执法检查 with signatures and its 现场检查记录
    result.jurisdictions = len(list(session.scalars(select(Jurisdiction.id))))
    result.agencies = len(list(session.scalars(select(Agency.id))))
    result.enterprises = len(list(session.scalars(select(Enterprise.id))))
    return result
