"""Demo hidden dangers: every state of the closed loop, on the demo enterprise and spread over the demo city.

Everything goes through the services (registration, :func:`core.services.hazard_flow.perform`), so the demo
timelines, audit entries and evidence files are exactly what users would produce; only the timestamps of the
steps are moved back to the day each step "happened" (``perform(on=…)`` decides deadlines from that day), so
that the ledger, the overdue flags and the quarterly statistics have a history to show.

Enterprises other than the demo enterprise get a staff account each (login not enabled: no usable password) to
act as their 安全管理人员, since only an enterprise's own people report their rectification done.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Agency, Enterprise, Hazard, HazardTransition, Jurisdiction, Role, User, UserRole
from core.plugins import plugins
from core.services import enterprises, hazard_flow, risks, self_reports
from core.services.attachments import Upload
from core.services.hazard_flow import PLAN_FIELDS
from core.services.hazards import CHINA, register_hazard, today
from core.services.stats import Period

#: (description, location, category) of common findings; categories as in R-H1.
FINDINGS: list[tuple[str, str, str]] = [
    ("配电箱未接地，箱门未上锁", "二号车间", "thing"),
    ("可燃气体报警器未定期检定", "罐区", "thing"),
    ("消防通道被成品货架占用", "成品仓库", "environment"),
    ("灭火器压力不足，未按月检查", "办公楼一层", "thing"),
    ("叉车司机未持证上岗", "装卸区", "human"),
    ("动火作业未办理作业票", "维修车间", "human"),
    ("安全教育培训记录不全", "安全管理部", "management"),
    ("应急预案未按规定组织演练", "安全管理部", "management"),
    ("砂轮机防护罩缺失", "机加工车间", "thing"),
    ("有限空间作业未先通风检测", "污水池", "human"),
    ("危险化学品仓库通风设施损坏", "甲类仓库", "thing"),
    ("安全警示标志缺失", "配电房", "environment"),
    ("员工未佩戴安全帽进入作业区", "钢结构车间", "human"),
    ("安全生产责任制未更新到岗位", "企业", "management"),
    ("疏散指示标志不亮", "宿舍楼", "thing"),
    ("压力表超过检定有效期", "空压机房", "thing"),
    ("厂区照明不足，夜间作业区域昏暗", "堆场", "environment"),
    ("隐患排查记录未按周期填写", "生产部", "management"),
]
MAJOR_FINDINGS: list[tuple[str, str, str]] = [
    ("涉及重点监管危险化工工艺的装置未实现自动化控制", "合成车间", "thing"),
    ("储罐区可燃气体检测报警装置整体失效", "储罐区", "thing"),
    ("特种作业人员未持证上岗从事危险化学品操作", "装置区", "human"),
]
PLAN = {
    "status_and_cause": "现状：{d}。原因：设备老化、日常检查不到位。",
    "harm_analysis": "可能引发火灾、爆炸事故；需停产改造，整改难度较大。",
    "goals_tasks": "目标：消除隐患并通过复查；任务：完成改造、验收和人员培训。",
    "methods_measures": "委托有资质单位设计改造方案，施工期间停用相关装置并加强巡查。",
    "funds_materials": "企业自筹资金，物资由设备部负责采购。",
    "organization_personnel": "成立治理领导小组，由主要负责人任组长，设备部、安全部具体落实。",
    "time_requirements": "按期完成改造并申请复查，每周报告进度。",
    "safety_emergency": "施工期间落实动火、临时用电管理；修订专项应急预案并组织演练。",
}
#: How the spread hazards end up (state scenario, weight).
SCENARIOS = [("registered", 2), ("rectifying", 4), ("overdue", 2), ("pending", 2), ("closed", 8), ("spot", 3),
             ("refailed", 1)]


@dataclass
class HazardSeedResult:
    created: int = 0
    by_state: dict[str, int] | None = None


def evidence_photo(seed: int) -> Upload:
    """A small, real PNG (a coloured "site photo"), so evidence thumbnails and downloads have something to show."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    img = Image.new("RGB", (320, 240), (rng.randrange(150, 230), rng.randrange(150, 230), rng.randrange(150, 230)))
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x, y = rng.randrange(0, 280), rng.randrange(0, 200)
        draw.rectangle((x, y, x + rng.randrange(20, 90), y + rng.randrange(20, 70)),
                       fill=(rng.randrange(40, 200), rng.randrange(40, 200), rng.randrange(40, 200)))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return Upload(data=buf.getvalue(), content_type="image/png", filename=f"现场照片{seed}.png")


def site_plan() -> Upload:
    """A drawn 厂区平面图 (buildings, tank farm, roads) for the four-colour map of the demo enterprise."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (900, 560), (246, 244, 236))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 250, 900, 290), fill=(205, 205, 200))  # main road
    draw.rectangle((600, 0, 640, 560), fill=(205, 205, 200))
    for box in ((90, 60, 330, 220), (420, 90, 580, 230), (660, 330, 860, 500), (60, 340, 220, 500),
                (300, 420, 520, 520), (680, 40, 860, 200)):
        draw.rectangle(box, fill=(222, 226, 232), outline=(120, 130, 140), width=3)
    for cx, cy in ((150, 130), (210, 130), (270, 130), (150, 185), (210, 185)):  # tanks
        draw.ellipse((cx - 22, cy - 22, cx + 22, cy + 22), outline=(110, 120, 130), width=3)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return Upload(data=buf.getvalue(), content_type="image/png", filename="厂区平面图.png")


class _Seeder:
    def __init__(self, session: Session, rng: random.Random, end: date):
        self.session, self.rng, self.end = session, rng, end
        self.photo_seed = 0

    def photo(self) -> list[Upload]:
        self.photo_seed += 1
        return [evidence_photo(self.photo_seed)]

    def backdate(self, hazard: Hazard, day: date) -> None:
        """Move the newest step (and the close/rectify stamps it set) back to ``day``."""
        when = datetime.combine(day, time(10, self.rng.randrange(0, 60)), CHINA).astimezone(UTC)
        step = self.session.scalar(select(HazardTransition).where(HazardTransition.hazard_id == hazard.id)
                                   .order_by(HazardTransition.id.desc()).limit(1))
        step.at = when
        for stamp in ("closed_at", "rectified_at", "reported_at"):
            value = getattr(hazard, stamp)
            # SQLite gives back naive UTC datetimes once the row was re-read (perform() refreshes it under lock).
            if value is not None and (value if value.tzinfo else value.replace(tzinfo=UTC)) > when:
                setattr(hazard, stamp, when)

    def act(self, actor: User, hazard: Hazard, code: str, day: date, photos: bool = False, **data: Any) -> None:
        # The previous step's backdating is pending on the hazard; flush it first so that the version we send is
        # the one perform() checks (it flushes and re-reads the row under lock).
        self.session.flush()
        hazard_flow.perform(self.session, actor, hazard.id, code, {"version": hazard.version, **data},
                            uploads=self.photo() if photos else None, on=day)
        self.backdate(hazard, day)

    def register(self, actor: User, ent: Enterprise, finding: tuple[str, str, str], day: date,
                 level: str = "general", photos: bool = True) -> Hazard:
        description, location, category = finding
        hazard = register_hazard(self.session, actor, {
            "enterprise_id": ent.id, "description": description, "location": location, "category": category,
            "level": level, "found_on": day}, uploads=self.photo() if photos else None)
        self.backdate(hazard, day)
        return hazard

    def later(self, day: date, lo: int, hi: int) -> date:
        return min(day + timedelta(days=self.rng.randint(lo, hi)), self.end)

    def run_general(self, scenario: str, finder: User, staff: User, reviewer: User, ent: Enterprise,
                    finding: tuple[str, str, str], found: date) -> Hazard:
        """Take one 一般 hazard to the state named by ``scenario``."""
        h = self.register(finder, ent, finding, found)
        if scenario == "registered":
            return h
        if scenario == "spot":
            self.act(staff, h, "rectify_on_spot", found, photos=True, comment="现场立即整改完毕")
            return h
        assigned = self.later(found, 0, 2)
        days = 30 if scenario == "overdue" else self.rng.choice((7, 10, 15))
        if scenario == "rectifying":
            assigned = max(assigned, self.end - timedelta(days=3))  # deadline still ahead
        self.act(staff, h, "assign", assigned, responsible_name=staff.display_name, days=days,
                 deadline_kind="calendar", measures="落实整改措施，完成后拍照留证")
        if scenario in ("rectifying", "overdue"):
            return h
        done = self.later(assigned, 1, days)
        self.act(staff, h, "request_review", done, photos=True, comment="已按要求整改完毕，申请复查")
        if scenario == "pending":
            return h
        if scenario == "refailed":
            checked = self.later(done, 1, 3)
            self.act(reviewer, h, "review_fail", checked, comment="整改不彻底，请重新整改",
                     deadline=checked + timedelta(days=7))
            done = self.later(checked, 1, 6)
            self.act(staff, h, "request_review", done, photos=True, comment="已重新整改")
        self.act(reviewer, h, "review_pass", self.later(done, 0, 3), comment="复查合格")
        return h


def _staff_account(session: Session, ent: Enterprise) -> User:
    """The enterprise's 安全管理人员 as a user without a usable password (an administrator enables the login)."""
    username = f"qy{ent.id:05d}"
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username, display_name=ent.safety_manager_name or "安全管理员", password_hash="!",
                    enterprise_id=ent.id, is_active=False)
        user.role_rows.append(UserRole(role=Role.ENTERPRISE_MANAGER.value))
        session.add(user)
        session.flush()
    return user


def seed_demo_hazards(session: Session, per_district: int = 70) -> HazardSeedResult:
    """Add the demo hidden dangers unless some exist already (then nothing: idempotent). The caller commits."""
    result = HazardSeedResult()
    if session.scalar(select(func.count()).select_from(Hazard)):
        return result
    rng = random.Random(4)
    end = today()
    seeder = _Seeder(session, rng, end)
    by_name = {u.username: u for u in session.scalars(select(User).where(User.username.in_(
        ["ent_manager", "ent_principal", "xa_regulator", "xa_inspector1", "xd_grid1", "city_regulator"])))}
    manager, principal = by_name["ent_manager"], by_name["ent_principal"]
    xa_reg, xa_insp, grid = by_name["xa_regulator"], by_name["xa_inspector1"], by_name["xd_grid1"]
    demo_ent = session.get(Enterprise, manager.enterprise_id)

    # 1. The demo enterprise: one hazard in each situation a user should see.
    for scenario, (finding, ago) in {
        "registered": (FINDINGS[0], 1), "rectifying": (FINDINGS[1], 4), "overdue": (FINDINGS[2], 45),
        "pending": (FINDINGS[3], 12), "refailed": (FINDINGS[4], 40), "spot": (FINDINGS[5], 20),
        "closed": (FINDINGS[6], 70),
    }.items():
        finder = xa_insp if scenario in ("overdue", "refailed") else manager
        seeder.run_general(scenario, finder, manager, principal if finder is manager else xa_insp, demo_ent,
                           finding, end - timedelta(days=ago))
    _majors(seeder, demo_ent, manager, principal, xa_reg, xa_insp, end)
    _self_reports(session, demo_ent, manager, principal, end)
    _risk_register(session, demo_ent, manager, end)
    _sector_data(session, demo_ent, manager)

    # 2. The rest of the city: inspections in 翔安区 and grid patrols, enterprises' own checks in 同安区.
    districts = {d.code: d for d in session.scalars(select(Jurisdiction).where(Jurisdiction.level == "county"))}
    weights = [w for _, w in SCENARIOS]
    start = end - timedelta(days=420)
    for code, district in districts.items():
        ents = list(session.scalars(select(Enterprise).where(Enterprise.scope_path.like(district.path + "%"),
                                                             Enterprise.id != demo_ent.id).order_by(Enterprise.id)))
        agency = session.scalar(select(Agency).where(Agency.jurisdiction_id == district.id))
        gov = session.scalar(select(User).join(UserRole).where(
            User.agency_id == agency.id, UserRole.role == Role.INSPECTOR.value).order_by(User.id).limit(1))
        for _ in range(per_district):
            ent = rng.choice(ents[: max(1, len(ents) // 2)])  # half the enterprises carry the findings
            staff = _staff_account(session, ent)
            scenario = rng.choices([s for s, _ in SCENARIOS], weights)[0]
            found = start + timedelta(days=rng.randrange(0, (end - start).days - 2))
            if scenario in ("rectifying", "registered"):
                found = end - timedelta(days=rng.randint(1, 6))
            finder = gov if gov is not None and rng.random() < 0.6 else staff
            if finder is staff and grid.jurisdiction.path.startswith(district.path) and rng.random() < 0.3 \
                    and ent.grid_id == grid.jurisdiction_id:
                finder = grid
            reviewer = gov if gov is not None and finder is not staff else staff
            if reviewer is staff and scenario in ("closed", "refailed", "pending"):
                reviewer = gov or staff
            seeder.run_general(scenario, finder, staff, reviewer, ent, rng.choice(FINDINGS), found)

    result.by_state = dict(session.execute(select(Hazard.state, func.count()).group_by(Hazard.state)).all())
    result.created = sum(result.by_state.values())
    return result


#: The demo enterprise's risk register (一企一清单): name, category, location, LEC inputs, plan position, measure,
#: inspection task and its period. Conventional LEC values (see docs/risk_methods.md).
RISK_POINTS = [
    ("甲类储罐区", "equipment", "罐区", {"L": 3, "E": 6, "C": 40}, (0.22, 0.30),
     ("engineering", "可燃气体检测报警装置在线监测，每日巡检"), ("检查报警器显示和联锁状态", "daily")),
    ("合成反应釜", "process", "合成车间", {"L": 1, "E": 6, "C": 40}, (0.55, 0.35),
     ("engineering", "温度、压力自动联锁，超限紧急切断"), ("核对联锁投用记录", "weekly")),
    ("装卸作业区", "environment", "装卸区", {"L": 3, "E": 6, "C": 7}, (0.78, 0.70),
     ("management", "装卸作业专人监护，静电接地"), ("检查静电接地和监护记录", "daily")),
    ("配电房", "equipment", "配电房", {"L": 1, "E": 6, "C": 7}, (0.15, 0.75),
     ("management", "持证电工定期巡检"), ("检查配电柜和绝缘用具", "monthly")),
    ("安全培训", "management", "企业", {"L": 1, "E": 3, "C": 7}, (0.45, 0.85),
     ("training", "新员工三级安全教育"), ("抽查培训档案", "quarterly")),
]


def _risk_register(session: Session, ent: Enterprise, manager: User, end: date) -> None:
    """A site plan, risk points on it with measures and inspection tasks, and a demo hazard linked to one."""
    risks.upload_site_plan(session, manager, ent.id, site_plan())
    first = None
    for name, category, location, inputs, (x, y), (kind, measure), (content, period) in RISK_POINTS:
        point = risks.create_risk_point(session, manager, {
            "name": name, "category": category, "location": location, "method": "LEC", "inputs": inputs,
            "plan_x": x, "plan_y": y,
            "responsible_company": ent.principal_name, "responsible_post": manager.display_name})
        m = risks.add_measure(session, manager, point.id, {"kind": kind, "description": measure, "level": "workshop"})
        risks.add_task(session, manager, point.id, {"measure_id": m.id, "content": content, "period": period,
                                                     "assignee_name": manager.display_name, "next_due": end})
        first = first or (point, m)
    point, measure = first
    linked = session.scalar(select(Hazard).where(Hazard.enterprise_id == ent.id,
                                                 Hazard.description == MAJOR_FINDINGS[1][0]))
    linked.risk_point_id, linked.control_measure_id = point.id, measure.id


def _sector_data(session: Session, ent: Enterprise, manager: User) -> None:
    """The demo enterprise's sector data (licences, 重大危险源 …) from each enabled plugin's example, so the
    enterprise page shows the sector sections and the reminders have validity dates to watch."""
    fields = plugins().enterprise_fields
    sectors = [{"sector": row.sector, "activities": list(row.activities or []),
                "data": fields[row.sector].example if row.sector in fields and fields[row.sector].example else row.data}
               for row in ent.sectors]
    if sectors and any(item["data"] for item in sectors):
        enterprises.update_enterprise(session, manager, ent.id, {"version": ent.version, "sectors": sectors})


def _self_reports(session: Session, ent: Enterprise, manager: User, principal: User, end: date) -> None:
    """自查自报 of the demo enterprise: the quarter before last reported on time, the last one late (R-H5)."""
    last = Period.last_completed_quarter(end)
    for period, when in ((last.previous(), last.previous().due_date - timedelta(days=5)),
                         (last, last.due_date + timedelta(days=3))):
        if when > end:
            continue
        now = datetime.combine(when, time(16), CHINA).astimezone(UTC)
        draft = self_reports.create_draft(session, manager, ent.id, period, {
            "analysis": f"{period.label}本企业开展隐患自查，发现的一般隐患均已按期整改；重大隐患按治理方案推进。"}, now=now)
        self_reports.submit(session, principal, draft.id, {"version": draft.version}, now=now)


def _majors(seeder: _Seeder, ent: Enterprise, manager: User, principal: User, regulator: User, inspector: User,
            end: date) -> None:
    """重大事故隐患 of the demo enterprise: one just reported, one listed with an extension pending, one reviewed
    and awaiting 销号, one struck off."""
    plan = {key: text.format(d="见隐患描述") for key, text in PLAN.items()}
    assert set(plan) == set(PLAN_FIELDS)
    # Reported, plan not yet complete.
    h = seeder.register(inspector, ent, MAJOR_FINDINGS[0], end - timedelta(days=3), level="major")
    seeder.act(manager, h, "plan", end - timedelta(days=2), status_and_cause=plan["status_and_cause"],
               harm_analysis=plan["harm_analysis"], comment="先报告现状及原因")

    def planned(finding: tuple[str, str, str], found: date) -> Hazard:
        hz = seeder.register(inspector, ent, finding, found, level="major")
        seeder.act(manager, hz, "plan", found + timedelta(days=2), funds_amount=350000.0,
                   approved_by_name=principal.display_name, comment="报告并提交治理方案", **plan)
        seeder.act(regulator, hz, "list", found + timedelta(days=5), level="county",
                   due_date=found + timedelta(days=95), leader_name="林科长", requirements="按治理方案限期完成，每月报告进度")
        seeder.act(manager, hz, "assign", found + timedelta(days=6), responsible_name=principal.display_name,
                   days=90, deadline_kind="calendar", measures="按治理方案实施")
        return hz

    # Listed, rectifying, extension requested.
    h = planned(MAJOR_FINDINGS[1], end - timedelta(days=80))
    seeder.act(manager, h, "request_extension", end - timedelta(days=5), new_deadline=end + timedelta(days=40),
               reason="改造设备到货延迟，申请延期 30 日")
    # Reviewed by the district, awaiting 销号 by the listing regulator.
    h = planned(MAJOR_FINDINGS[2], end - timedelta(days=150))
    seeder.act(manager, h, "request_review", end - timedelta(days=20), photos=True, comment="治理完成，申请复查")
    seeder.act(inspector, h, "review_pass", end - timedelta(days=12), comment="现场复查合格")
    # Struck off last year.
    h = planned(MAJOR_FINDINGS[0], end - timedelta(days=330))
    seeder.act(manager, h, "request_review", end - timedelta(days=250), photos=True, comment="治理完成，申请复查")
    seeder.act(inspector, h, "review_pass", end - timedelta(days=244), comment="现场复查合格")
    seeder.act(regulator, h, "close", end - timedelta(days=240), comment="经复查合格，同意销号")
