"""A realistic city for the benchmark (R-N1): ``anjian bench-data``.

:func:`generate` fills a database with a city the size of 厦门市 at full scale (50,000 enterprises, 1,000,000 hidden
dangers over five years with their timelines, 20,000 risk points, 30,000 inspection runs and 60,000 enforcement
documents' rows), deterministic for a seed and a reference day. The jurisdiction tree, agencies and users go
through the services (a few hundred rows); the bulk tables are loaded with PostgreSQL ``COPY`` (psycopg), or with
batched ``executemany`` on SQLite, on the caller's connection and transaction, with explicit ids (the sequences are
moved past them afterwards) so that children reference their parents without reading anything back.

Distributions (per hazard unless said otherwise; see docs/performance.md):

* enterprises over the six districts (weights), their towns and grid cells; one or two of the four sectors each;
  hidden dangers per enterprise heavy-tailed (Pareto), so a few enterprises hold many;
* found dates over five years, more recent years busier; state by age (almost all older than a quarter are struck
  off, recent ones are open); about 0.2 % major, each with a 治理方案 and 40 % of them 挂牌督办 at county level;
* sources 70 % 企业自查, 15 % 执法检查, 10 % 网格巡查, 3 % 专项行动, 2 % 举报; deadlines 7–60 days (major 90), about
  8 % struck off late, open ones past their deadline are overdue;
* a timeline per hazard: 登记 and every step that led to its state (立即整改 for 30 % of the closed general ones, a
  failed 复查 for 10 % of the others);
* documents: 责令限期整改指令书 over 1–4 inspection hazards of one enterprise, and 整改复查意见书 for a third of
  them; their PDFs are NOT rendered: ``pdf_sha256`` is the hash of a fixed placeholder (downloading such a PDF
  fails), the rows are what lists, details and counts need.

Bench rows are recognised by an audit entry (action ``bench_data``) that the run records; a database holding other
data (enterprises, hazards, users) is refused unless ``force``.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any

from sqlalchemy import JSON, Table, func, select, text
from sqlalchemy.orm import Session
from stdnum.cn import uscc as stdnum_uscc

from core.demo import USCC_ALPHABET
from core.models import (
    Agency,
    AuditEntry,
    ControlMeasure,
    Document,
    DocumentCounter,
    DocumentHazard,
    Enterprise,
    EnterpriseSector,
    Hazard,
    HazardPlan,
    HazardSupervision,
    HazardTransition,
    InspectionRun,
    InspectionRunChecklist,
    Jurisdiction,
    RiskPoint,
    StoredChecklist,
    User,
)
from core.services import audit, jurisdictions, users
from core.services.actors import SYSTEM
from core.services.document_texts import appeal_clause
from core.services.documents import ORDER, REVIEW, VERIFY_ALPHABET, format_number, type_config
from core.services.errors import ValidationFailed
from core.services.hazards import CHINA

BENCH_PASSWORD = "anjian-bench-2026"
#: What ``pdf_sha256`` of a generated document points to: the hash of this text, no stored file.
PLACEHOLDER_PDF = b"anjian bench-data: document row without a rendered PDF"
PLACEHOLDER_SHA256 = hashlib.sha256(PLACEHOLDER_PDF).hexdigest()
AUDIT_ACTION = "bench_data"

# (district, GB/T 2260 code, share of the enterprises, towns/streets)
DISTRICTS = [
    ("思明区", "350203", 0.12, ["厦港街道", "中华街道", "滨海街道", "鹭江街道", "开元街道", "梧村街道", "筼筜街道",
                               "莲前街道", "嘉莲街道", "鼓浪屿街道"]),
    ("海沧区", "350205", 0.14, ["海沧街道", "新阳街道", "嵩屿街道", "东孚街道"]),
    ("湖里区", "350206", 0.16, ["湖里街道", "殿前街道", "禾山街道", "江头街道", "金山街道"]),
    ("集美区", "350211", 0.20, ["集美街道", "侨英街道", "杏林街道", "杏滨街道", "灌口镇", "后溪镇"]),
    ("同安区", "350212", 0.20, ["大同街道", "祥平街道", "西柯街道", "新民街道", "五显镇", "洪塘镇", "汀溪镇", "莲花镇"]),
    ("翔安区", "350213", 0.18, ["新店街道", "香山街道", "金海街道", "民安街道", "大嶝街道", "马巷街道", "内厝镇",
                               "新圩镇"]),
]
GRIDS_PER_TOWN = 8
# (sector, weight, industry name, GB/T 4754 code, name suffix, activities)
PROFILES = [
    ("hazchem", 4, "有机化学原料制造", "C2614", "化工有限公司", ["生产"]),
    ("hazchem", 4, "危险化学品批发", "F5166", "化工贸易有限公司", ["经营"]),
    ("hazchem", 3, "涂料制造", "C2641", "涂料有限公司", ["生产", "使用"]),
    ("hazchem", 4, "机动车燃油零售", "F5265", "加油站有限公司", ["经营", "储存"]),
    ("fire", 18, "百货零售", "F5211", "商贸有限公司", ["人员密集场所"]),
    ("fire", 10, "旅游饭店", "H6110", "酒店管理有限公司", ["消防安全重点单位"]),
    ("fire", 17, "纺织服装制造", "C1811", "服饰有限公司", ["一般单位"]),
    ("roadtransport", 8, "道路货物运输", "G5430", "物流有限公司", ["道路货物运输"]),
    ("roadtransport", 3, "道路危险货物运输", "G5430", "危险品运输有限公司", ["道路危险货物运输"]),
    ("roadtransport", 4, "公路旅客运输", "G5420", "客运有限公司", ["道路旅客运输"]),
    ("specialequip", 9, "金属结构制造", "C3311", "机械有限公司", ["起重机械", "压力容器"]),
    ("specialequip", 9, "物业管理", "K7020", "物业管理有限公司", ["电梯"]),
    ("specialequip", 7, "热力生产和供应", "D4430", "热力有限公司", ["锅炉", "压力管道"]),
]
SECTORS = ["hazchem", "fire", "roadtransport", "specialequip"]
_HEADS = "鑫华恒翔海嘉宏盛联瑞腾金信达泰隆源兴丰安远明辉弘东力新祥和正"
_TAILS = "鑫华达通源盛泰远晟峰诚辉翔宇邦创"
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程苏魏吕丁任沈"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红斌海波辉鹏"
DESCRIPTIONS = {
    "hazchem": ["储罐区可燃气体报警器失效", "危化品仓库超量储存", "装卸区静电接地装置损坏", "动火作业未办理作业票",
                "重大危险源监测数据未接入", "操作人员未持证上岗", "安全阀超期未校验", "防爆电气设备密封不良"],
    "fire": ["消防通道堵塞", "灭火器压力不足", "疏散指示标志损坏", "消防控制室值班人员未持证", "防火门常闭失效",
             "自动喷水灭火系统末端试水压力不足", "电气线路私拉乱接", "安全出口上锁"],
    "roadtransport": ["车辆动态监控离线", "驾驶员超时驾驶", "车辆超期未年检", "危货车辆未配备应急器材",
                      "安全例会记录缺失", "车辆轮胎磨损超限", "驾驶员培训记录不全", "停车场消防器材缺失"],
    "specialequip": ["电梯超期未检验", "起重机限位器失效", "锅炉水位计损坏", "压力容器安全附件未校验",
                     "特种设备作业人员未持证", "叉车司机未持证上岗", "压力管道标识缺失", "维保记录不全"],
}
LOCATIONS = ["一号车间", "二号车间", "仓库", "配电房", "锅炉房", "装卸区", "办公楼", "停车场", "储罐区", "生产线",
             "楼梯间", "厨房", "机房", "门卫室", "宿舍楼"]
CATEGORIES = [("thing", 45), ("management", 30), ("human", 15), ("environment", 10)]
SOURCES = [("self_check", 70), ("inspection", 15), ("grid_patrol", 10), ("campaign", 3), ("report", 2)]
# State mix by age of the hazard (days since found): (upper bound in days, [(state, weight) …]); closed is the rest.
STATE_BY_AGE = [
    (7, [("registered", 25), ("rectifying", 45), ("pending_review", 15)]),
    (30, [("registered", 5), ("rectifying", 35), ("pending_review", 15)]),
    (90, [("registered", 1), ("rectifying", 12), ("pending_review", 5)]),
    (365, [("registered", 0.2), ("rectifying", 2), ("pending_review", 1)]),
    (10**6, [("registered", 0.02), ("rectifying", 0.3), ("pending_review", 0.1)]),
]
MAJOR_SHARE = 0.002
RISK_CATEGORIES = ["process", "equipment", "environment", "management"]
RISK_NAMES = ["反应釜", "储罐区", "配电室", "锅炉", "叉车作业", "有限空间", "动火作业", "高处作业", "粉尘区域",
              "危化品仓库", "厨房燃气", "电梯机房", "装卸平台", "喷涂线", "液氨制冷"]
RUN_KINDS = [("self_check", 50), ("enforcement", 30), ("grid_patrol", 20)]


@dataclass(frozen=True)
class Sizes:
    """How much to generate; the defaults are the full city of issue 8."""

    enterprises: int = 50_000
    hazards: int = 1_000_000
    risk_points: int = 20_000
    inspections: int = 30_000
    documents: int = 60_000


@dataclass
class Report:
    """Rows written per table and seconds per step (printed by the command, asserted by tests)."""

    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    total_seconds: float = 0.0


class BenchDataRefused(Exception):
    """The database holds other data (or an earlier run) and ``force`` was not given; the message says which."""


def existing_data(session: Session) -> str | None:
    """What stands in the way of a run (Chinese, for the command), or None for an empty database."""
    bench = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == AUDIT_ACTION))
    counts = {label: session.scalar(select(func.count()).select_from(model)) or 0
              for label, model in (("企业", Enterprise), ("隐患", Hazard), ("用户", User))}
    if not any(counts.values()):
        return None
    listed = "，".join(f"{label} {n} 条" for label, n in counts.items() if n)
    if bench:
        return f"数据库中已有基准数据（{listed}）"
    return f"数据库中已有非基准数据（{listed}）"


# --- bulk loading ---------------------------------------------------------------------------------------------------

#: Shared JSON values: the loader encodes each of these once (most timeline steps carry no data).
EMPTY: dict[str, Any] = {}
NO_ACTIVITIES: list[str] = []
_PG_TYPES = {"BIGINT": "int8", "INTEGER": "int4", "SMALLINT": "int2", "TEXT": "text", "DATE": "date",
             "BOOLEAN": "bool", "FLOAT": "float8", "DOUBLE PRECISION": "float8", "TIMESTAMP WITH TIME ZONE": "timestamptz",
             "JSON": "text", "JSONB": "text"}


class Loader:
    """Writes rows into a table on the session's connection: binary ``COPY … FROM STDIN`` on PostgreSQL, batched
    ``executemany`` elsewhere. Rows are tuples in ``columns`` order with Python values (dicts/lists for JSON)."""

    def __init__(self, session: Session, batch: int = 5000) -> None:
        self.session = session
        self.batch = batch
        self.dialect = session.connection().dialect
        self.postgresql = self.dialect.name == "postgresql"
        self._json_cache: dict[int, str] = {id(EMPTY): "{}", id(NO_ACTIVITIES): "[]"}

    def _pg_type(self, table: Table, column: str) -> str:
        name = str(table.c[column].type.compile(dialect=self.dialect)).upper()
        return "text" if name.startswith(("VARCHAR", "CHAR")) else _PG_TYPES[name]

    def _json(self, value: Any) -> str | None:
        if value is None:
            return None
        cached = self._json_cache.get(id(value))
        return cached if cached is not None else json.dumps(value, ensure_ascii=False)

    def shared_json(self, value: Any) -> Any:
        """Register a value that many rows share (kept alive here), so that it is encoded once."""
        self._json_cache.setdefault(id(value), json.dumps(value, ensure_ascii=False))
        self._keep = getattr(self, "_keep", []) + [value]
        return value

    def load(self, table: Table, columns: list[str], rows: Iterable[tuple]) -> int:
        json_at = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, JSON)]
        n = 0
        if self.postgresql:
            raw = self.session.connection().connection.driver_connection
            encode = self._json
            with raw.cursor(binary=True) as cur, \
                    cur.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types([self._pg_type(table, c) for c in columns])
                for row in rows:
                    if json_at:
                        row = list(row)
                        for i in json_at:
                            row[i] = encode(row[i])
                    copy.write_row(row)
                    n += 1
            return n
        buf: list[dict[str, Any]] = []
        for row in rows:
            buf.append(dict(zip(columns, row)))
            if len(buf) >= self.batch:
                self.session.execute(table.insert(), buf)
                n += len(buf)
                buf = []
        if buf:
            self.session.execute(table.insert(), buf)
            n += len(buf)
        return n

    def next_id(self, table: Table) -> int:
        return (self.session.scalar(select(func.max(table.c.id))) or 0) + 1

    def fix_sequence(self, table: Table) -> None:
        """Move the id sequence past the explicit ids (PostgreSQL; SQLite takes max(rowid) + 1 by itself)."""
        if self.postgresql:
            self.session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table.name}))"))

    @contextmanager
    def bulk(self, tables: list[Table]) -> Iterator[None]:
        """On PostgreSQL, load ``tables`` without their secondary indexes when they are empty (the indexes are
        built once afterwards, much faster than row by row) and, for a superuser, without per-row foreign-key
        triggers (``session_replication_role = replica``; the generator writes parents before children).
        Elsewhere, or when a table holds rows already, nothing changes."""
        if not self.postgresql:
            yield
            return
        conn = self.session.connection()
        dropped = []
        if all(self.session.execute(select(text("1")).select_from(t).limit(1)).first() is None for t in tables):
            for t in tables:
                for index in sorted(t.indexes, key=lambda i: i.name):
                    if not index.unique:
                        index.drop(conn)
                        dropped.append(index)
        superuser = self.session.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
        if superuser:
            self.session.execute(text("SET LOCAL session_replication_role = replica"))
        try:
            yield
        finally:
            if superuser:
                self.session.execute(text("SET LOCAL session_replication_role = origin"))
            for index in dropped:
                index.create(conn)


# --- helpers --------------------------------------------------------------------------------------------------------

def _cum(weights: list[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


class _Picker:
    """Fast weighted choice with a fixed random stream."""

    def __init__(self, rng: random.Random, items: list[Any], weights: list[float]) -> None:
        self.rng, self.items, self.cum = rng, items, _cum(weights)
        self.total = self.cum[-1]

    def __call__(self) -> Any:
        return self.items[bisect.bisect_right(self.cum, self.rng.random() * self.total)]


def _person(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(1 + (rng.random() < 0.6)))


def _unique_code(rng: random.Random, taken: set[str]) -> str:
    """A 10-character verification code like the issuing service's, not in ``taken`` (added to it)."""
    code = "".join(rng.choice(VERIFY_ALPHABET) for _ in range(10))
    while code in taken:
        code = "".join(rng.choice(VERIFY_ALPHABET) for _ in range(10))
    taken.add(code)
    return code


def _uscc(region: str, serial: int, rng: random.Random) -> str:
    body = "91" + region
    digits = []
    n = serial
    for _ in range(5):
        n, r = divmod(n, len(USCC_ALPHABET))
        digits.append(USCC_ALPHABET[r])
    body += "".join(rng.choice(USCC_ALPHABET) for _ in range(4)) + "".join(reversed(digits))
    return body + stdnum_uscc.calc_check_digit(body)


def _china(day: date, seconds: float) -> datetime:
    """``seconds`` after 00:00 of ``day`` in China, as an aware UTC datetime."""
    return (datetime.combine(day, dtime.min, CHINA) + timedelta(seconds=seconds)).astimezone(UTC)


# --- the run --------------------------------------------------------------------------------------------------------

@dataclass
class _City:
    districts: list[tuple[Jurisdiction, Agency, list[tuple[Jurisdiction, list[Jurisdiction]]]]]
    city: Jurisdiction
    city_agency: Agency
    inspectors: dict[int, list[User]]


def generate(session: Session, sizes: Sizes = Sizes(), seed: int = 1, today: date | None = None,
             force: bool = False, echo: Callable[[str], None] = lambda s: None) -> Report:
    """Generate the city into the session's database (flushes, the caller commits). Deterministic for ``seed``,
    ``sizes`` and ``today`` (default: today in China) on the same starting database.

    Raises :class:`BenchDataRefused` when the database holds data already and ``force`` is not set."""
    problem = existing_data(session)
    if problem and not force:
        raise BenchDataRefused(problem + "；基准数据只应生成在空数据库中（如确需追加，请加 --force）")
    from core.services.hazards import today as china_today

    today = today or china_today()
    rng = random.Random(seed)
    report = Report()
    started = time.perf_counter()
    loader = Loader(session)

    def step(name: str, fn: Callable[[], int]) -> None:
        t0 = time.perf_counter()
        report.counts[name] = fn()
        report.seconds[name] = round(time.perf_counter() - t0, 2)
        echo(f"  {name:24} {report.counts[name]:>10,} 行  {report.seconds[name]:7.1f} s")

    from core.services.catalog import sync_catalog

    sync_catalog(session)
    t0 = time.perf_counter()
    city = _city(session)
    report.seconds["jurisdictions/users"] = round(time.perf_counter() - t0, 2)
    ents = _Enterprises()
    step("enterprises", lambda: _enterprises(loader, rng, sizes.enterprises, city, ents))
    step("enterprise_sectors", lambda: loader.load(EnterpriseSector.__table__, ["enterprise_id", "sector",
                                                                                "activities", "data"],
                                                   ents.sector_rows))
    hz = _HazardState()
    with loader.bulk([Hazard.__table__, HazardTransition.__table__]):
        step("hazards", lambda: _hazards(loader, rng, sizes.hazards, ents, today, hz, city))
        t0 = time.perf_counter()
    report.seconds["hazard indexes"] = round(time.perf_counter() - t0, 2)
    echo(f"  {'(hazard indexes built)':24} {'':>10}     {report.seconds['hazard indexes']:7.1f} s")
    report.counts["hazard_transitions"] = hz.transitions
    report.counts["hazard_plans"] = hz.plans
    report.counts["hazard_supervisions"] = hz.supervisions
    step("risk_points", lambda: _risk_points(loader, rng, sizes.risk_points, ents))
    step("inspection_runs", lambda: _inspections(session, loader, rng, sizes.inspections, ents, today))
    step("documents", lambda: _documents(session, loader, rng, sizes.documents, ents, hz, city, today))
    report.counts["document_hazards"] = hz.document_links
    for model in (Enterprise, Hazard, HazardTransition, HazardPlan, HazardSupervision, RiskPoint, ControlMeasure,
                  InspectionRun, Document):
        loader.fix_sequence(model.__table__)
    report.total_seconds = round(time.perf_counter() - started, 1)
    audit.record(session, SYSTEM, AUDIT_ACTION, "database", None,
                 summary=f"生成基准数据：种子 {seed}，企业 {sizes.enterprises}，隐患 {sizes.hazards}",
                 after={"seed": seed, "today": today.isoformat(), "sizes": sizes.__dict__, "counts": report.counts})
    session.flush()
    return report


def _node(session: Session, name: str, level: str, parent: Jurisdiction | None, code: str | None = None) -> Jurisdiction:
    """An existing node (same name, level and parent, or same code) or a new one through the service."""
    stmt = select(Jurisdiction).where(Jurisdiction.name == name, Jurisdiction.level == level)
    stmt = stmt.where(Jurisdiction.parent_id == parent.id) if parent else stmt.where(Jurisdiction.parent_id.is_(None))
    node = session.scalar(stmt)
    if node is None and code and session.scalar(select(Jurisdiction.id).where(Jurisdiction.code == code)):
        code = None  # --force on another tree that uses the code elsewhere
    return node or jurisdictions.create_jurisdiction(
        session, SYSTEM, {"parent_id": parent.id if parent else None, "level": level, "name": name, "code": code})


def _agency(session: Session, name: str, short: str, area: Jurisdiction, parent: Agency | None) -> Agency:
    agency = session.scalar(select(Agency).where(Agency.name == name))
    return agency or jurisdictions.save_agency(session, SYSTEM, {
        "name": name, "short_name": short, "jurisdiction_id": area.id, "parent_id": parent.id if parent else None,
        "people_government": f"{area.name if area.level == 'city' else '厦门市' + area.name}人民政府",
        # A city department's case goes to a basic court too (行政诉讼法 第十四条); 思明 is the demo's choice.
        "court": f"厦门市{'思明区' if area.level == 'city' else area.name}人民法院"})


def _user(session: Session, username: str, display: str, roles: list[str], **extra: Any) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        try:
            user = users.save_user(session, SYSTEM, {"username": username, "display_name": display,
                                                     "password": BENCH_PASSWORD, "roles": roles, **extra})
        except ValidationFailed as exc:  # pragma: no cover - a misconfigured run; say which user
            raise BenchDataRefused(f"无法创建基准用户 {username}：{exc.errors}") from None
    return user


def _city(session: Session) -> _City:
    """The tree (province → city → 6 districts → towns → grid cells), the agencies and the bench users."""
    province = _node(session, "福建省", "province", None, "350000")
    city = _node(session, "厦门市", "city", province, "350200")
    city_agency = _agency(session, "厦门市应急管理局", "厦", city, None)
    valid = date.today() + timedelta(days=3650)
    out, inspectors = [], {}
    for d, (name, code, _, towns) in enumerate(DISTRICTS, start=1):
        district = _node(session, name, "county", city, code)
        agency = _agency(session, f"厦门市{name}应急管理局", name[0], district, city_agency)
        town_nodes = []
        for town_name in towns:
            town = _node(session, town_name, "township", district)
            grids = [_node(session, f"{town_name}第{g}网格", "grid", town) for g in range(1, GRIDS_PER_TOWN + 1)]
            town_nodes.append((town, grids))
        out.append((district, agency, town_nodes))
        _user(session, f"bench_reg{d}", f"{name}监管员", ["regulator"], jurisdiction_id=district.id,
              agency_id=agency.id)
        inspectors[agency.id] = [
            _user(session, f"bench_insp{d}_{i}", f"{name}执法员{i}", ["inspector"], jurisdiction_id=district.id,
                  agency_id=agency.id, cert_number=f"{code}BENCH{i}", cert_valid_until=valid) for i in (1, 2)]
    _user(session, "bench_admin", "基准管理员", ["admin"])
    _user(session, "bench_city", "基准市监管员", ["regulator"], jurisdiction_id=city.id, agency_id=city_agency.id)
    session.flush()
    return _City(out, city, city_agency, inspectors)


@dataclass
class _Enterprises:
    """What later tables need to know about the generated enterprises (parallel lists by position)."""

    ids: list[int] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    sectors: list[str] = field(default_factory=list)
    agencies: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    high_risk: list[bool] = field(default_factory=list)
    info: list[dict[str, str]] = field(default_factory=list)
    sector_rows: list[tuple] = field(default_factory=list)


def _enterprises(loader: Loader, rng: random.Random, n: int, city: _City, ents: _Enterprises) -> int:
    first = loader.next_id(Enterprise.__table__)
    district_pick = _Picker(rng, list(range(len(city.districts))), [d[2] for d in DISTRICTS])
    profile_pick = _Picker(rng, PROFILES, [p[1] for p in PROFILES])
    now = datetime.now(UTC)
    columns = ["id", "name", "uscc", "address", "longitude", "latitude", "jurisdiction_id", "grid_id", "scope_path",
               "industry_code", "industry_name", "legal_representative", "actual_controller", "principal_name",
               "principal_phone", "safety_manager_name", "safety_manager_phone", "employee_count", "is_high_risk",
               "is_above_scale", "is_key_industry", "is_small_micro", "supervising_agency_id", "supervision_level",
               "standardization_status", "credit_class", "is_active", "version", "created_at", "updated_at"]

    def rows() -> Iterator[tuple]:
        for i in range(n):
            eid = first + i
            d = district_pick()
            district, agency, towns = city.districts[d]
            town, grids = towns[int(rng.random() * len(towns))]
            grid = grids[int(rng.random() * len(grids))]
            sector, _, industry, icode, suffix, acts = profile_pick()
            name = "厦门" + rng.choice(_HEADS) + rng.choice(_HEADS) + rng.choice(_TAILS) + suffix
            employees = rng.choice((5, 8, 15, 30, 60, 120, 260, 480, 900))
            high = sector == "hazchem" or "危险" in suffix
            legal, principal, manager = _person(rng), _person(rng), _person(rng)
            address = f"厦门市{district.name}{town.name}{rng.choice(_HEADS)}{rng.choice('路街')}{rng.randint(1, 999)}号"
            ents.ids.append(eid)
            ents.paths.append(grid.path)
            ents.sectors.append(sector)
            ents.agencies.append(agency.id)
            ents.names.append(name)
            ents.high_risk.append(high)
            # Heavy tail: a few enterprises report hundreds of hidden dangers, most a handful.
            ents.weights.append(min(rng.paretovariate(1.6), 60.0) * (2.0 if high else 1.0))
            ents.info.append({"name": name, "address": address, "legal_representative": legal,
                              "principal_name": principal})
            ents.sector_rows.append((eid, sector, loader.shared_json(acts), EMPTY))
            if rng.random() < 0.15:  # a second sector (e.g. a 化工 plant is also a 消防安全重点单位)
                other = rng.choice([s for s in SECTORS if s != sector])
                ents.sector_rows.append((eid, other, NO_ACTIVITIES, EMPTY))
            yield (eid, name, _uscc(DISTRICTS[d][1], eid, rng), address, round(118.0 + rng.random() * 0.4, 6),
                   round(24.4 + rng.random() * 0.4, 6), town.id, grid.id, grid.path, icode, industry, legal, legal,
                   principal, f"13{rng.randint(100000000, 999999999)}", manager,
                   f"15{rng.randint(100000000, 999999999)}", employees, high, employees >= 120,
                   high or sector == "roadtransport" or rng.random() < 0.2, employees < 300, agency.id,
                   "county" if high else "township", rng.choice(("none", "in_progress", "graded")),
                   rng.choice("AABBC"), rng.random() > 0.02, 1, now, now)

    return loader.load(Enterprise.__table__, columns, rows())


@dataclass
class _HazardState:
    transitions: int = 0
    plans: int = 0
    supervisions: int = 0
    document_links: int = 0
    #: Inspection hazards that were ordered to be rectified: (hazard id, enterprise position, found day, state,
    #: deadline, description, location); the documents are made from them.
    inspected: list[tuple] = field(default_factory=list)


HAZARD_COLUMNS = ["id", "enterprise_id", "scope_path", "location", "description", "category", "level",
                  "classified_by", "sector", "source", "found_by_name", "found_at", "state", "responsible_name",
                  "measures", "deadline", "deadline_kind", "reported_at", "rectified_at", "closed_at",
                  "closed_on_spot", "version", "created_at", "updated_at"]
TRANSITION_COLUMNS = ["id", "hazard_id", "action", "from_state", "to_state", "actor_name", "at", "comment", "data"]


def _hazards(loader: Loader, rng: random.Random, n: int, ents: _Enterprises, today: date, hz: _HazardState,
             city: _City) -> int:
    if not ents.ids:
        return 0
    hid0 = loader.next_id(Hazard.__table__)
    tid = loader.next_id(HazardTransition.__table__)
    ent_pick = _Picker(rng, list(range(len(ents.ids))), ents.weights)
    cat_pick = _Picker(rng, [c for c, _ in CATEGORIES], [w for _, w in CATEGORIES])
    src_pick = _Picker(rng, [s for s, _ in SOURCES], [w for _, w in SOURCES])
    state_tables = [(bound, [s for s, _ in mix], _cum([w for _, w in mix])) for bound, mix in STATE_BY_AGE]
    now = datetime.now(UTC)
    agency_of_path = {d.path: a.id for d, a, _ in city.districts}
    plans: list[tuple] = []
    listings: list[tuple] = []
    reg_general, reg_major = loader.shared_json({"level": "general"}), loader.shared_json({"level": "major"})
    plan_done, listed_county = loader.shared_json({"complete": True}), loader.shared_json({"level": "county"})
    chunk = 50_000
    written = 0
    while written < n:
        size = min(chunk, n - written)
        hrows: list[tuple] = []
        trows: list[tuple] = []
        for k in range(size):
            hid = hid0 + written + k
            e = ent_pick()
            sector = ents.sectors[e]
            # Age: density grows towards the present (sqrt): more hazards found in recent years.
            age = int(1826 * (1 - math.sqrt(rng.random())))
            found_day = today - timedelta(days=age)
            found = _china(found_day, 8 * 3600 + rng.random() * 9 * 3600)
            if found > now:
                found = now - timedelta(minutes=1)
            major = rng.random() < MAJOR_SHARE
            source = src_pick()
            for bound, states, cum in state_tables:
                if age < bound:
                    r = rng.random() * 100
                    i = bisect.bisect_right(cum, r)
                    state = states[i] if i < len(states) else "closed"
                    break
            if major and state == "closed" and age < 120 and rng.random() < 0.3:
                state = "reviewed"  # struck off by the listing regulator later
            desc = rng.choice(DESCRIPTIONS[sector])
            location = rng.choice(LOCATIONS)
            person = _person(rng)
            responsible = deadline = kind = measures = reported = rectified = closed = None
            on_spot = False
            steps: list[tuple[str, str | None, str, dict]] = [("register", None, "registered", reg_major if major else reg_general)]
            t = found
            if major:
                reported = t + timedelta(hours=rng.randint(2, 72))
                steps.append(("plan", "registered", "registered", plan_done))
            if state != "registered":
                if not major and state == "closed" and rng.random() < 0.3:
                    on_spot = True
                    closed = rectified = found + timedelta(minutes=rng.randint(10, 240))
                    steps.append(("rectify_on_spot", "registered", "closed", EMPTY))
                else:
                    days = 90 if major else rng.choice((7, 15, 15, 30, 30, 60))
                    deadline = found_day + timedelta(days=days)
                    kind = "calendar"
                    responsible = _person(rng)
                    measures = "落实整改责任，限期整改到位"
                    steps.append(("assign", "registered", "rectifying",
                                  {"responsible_name": responsible, "deadline": deadline.isoformat(),
                                   "deadline_kind": kind}))
                    if major and rng.random() < 0.4:
                        steps.append(("list", "rectifying", "rectifying", listed_county))
                        listings.append((hid, found, deadline, ents.paths[e], state))
                    if state in ("pending_review", "reviewed", "closed"):
                        # Time to rectify: usually before the deadline, ~8 % late.
                        late = rng.random() < 0.08
                        span = days + rng.randint(1, 40) if late else max(1, int(days * rng.random()))
                        rectified = found + timedelta(days=span, hours=rng.randint(0, 8))
                        if rectified > now:
                            rectified = now - timedelta(hours=1)
                        steps.append(("request_review", "rectifying", "pending_review", EMPTY))
                        if state != "pending_review":
                            if rng.random() < 0.1:
                                steps.append(("review_fail", "pending_review", "rectifying", EMPTY))
                                steps.append(("request_review", "rectifying", "pending_review", EMPTY))
                            closed = rectified + timedelta(days=rng.randint(1, 5))
                            if closed > now:
                                closed = now - timedelta(minutes=30)
                            if major:
                                steps.append(("review_pass", "pending_review", "reviewed", EMPTY))
                                if state == "closed":
                                    steps.append(("close", "reviewed", "closed", EMPTY))
                                else:
                                    closed = None
                            else:
                                steps.append(("review_pass", "pending_review", "closed", EMPTY))
            if major:
                plans.append((hid,))
            end = closed or rectified or (found + timedelta(days=1) if state != "registered" else found)
            end = min(end, now)
            gap = (end - found) / max(1, len(steps) - 1)
            for j, (action, frm, to, data) in enumerate(steps):
                trows.append((tid, hid, action, frm, to, person if j == 0 else responsible or person,
                              found + gap * j, None, data))
                tid += 1
            if source in ("inspection", "campaign") and not on_spot and state != "registered":
                hz.inspected.append((hid, e, found_day, state, deadline, desc, location))
            hrows.append((hid, ents.ids[e], ents.paths[e], location, f"{desc}（{location}）", cat_pick(),
                          "major" if major else "general", "core", sector, source, person, found, state,
                          responsible, measures, deadline, kind, reported, rectified, closed, on_spot,
                          len(steps), found, end))
        loader.load(Hazard.__table__, HAZARD_COLUMNS, hrows)
        hz.transitions += loader.load(HazardTransition.__table__, TRANSITION_COLUMNS, trows)
        written += size
    hz.plans = loader.load(HazardPlan.__table__, ["hazard_id", "status_and_cause", "harm_analysis", "goals_tasks",
                                                  "methods_measures", "funds_materials", "funds_amount",
                                                  "organization_personnel", "time_requirements",
                                                  "safety_emergency", "approved_by_name", "version"],
                           ((h, "现状及原因（基准数据）", "危害程度较大，整改难度一般", "消除隐患", "停用整改、更换设备",
                             "资金已落实", 12.5, "安全管理部", "九十日内完成", "落实监护与应急预案", "主要负责人", 1)
                            for (h,) in plans))
    sid = loader.next_id(HazardSupervision.__table__)

    def listing_rows() -> Iterator[tuple]:
        for i, (h, found, deadline, path, state) in enumerate(listings):
            district_path = "/".join(path.split("/")[:4]) + "/"  # /province/city/district/
            listed = found + timedelta(days=2)
            lifted = None if state != "closed" else min(now, found + timedelta(days=120))
            yield (sid + i, h, "county", agency_of_path.get(district_path), listed, deadline, "区应急管理局分管领导",
                   "按期完成整改并书面报告", lifted, listed, listed)

    hz.supervisions = loader.load(HazardSupervision.__table__,
                                  ["id", "hazard_id", "level", "agency_id", "listed_at", "due_date", "leader_name",
                                   "requirements", "lifted_at", "created_at", "updated_at"], listing_rows())
    return n


def _risk_points(loader: Loader, rng: random.Random, n: int, ents: _Enterprises) -> int:
    """Risk points on the high-risk enterprises first (they must keep a register), then on others."""
    if not ents.ids or not n:
        return 0
    order = sorted(range(len(ents.ids)), key=lambda i: (not ents.high_risk[i], i))
    first = loader.next_id(RiskPoint.__table__)
    mid = loader.next_id(ControlMeasure.__table__)
    now = datetime.now(UTC)
    grades = [(20, "major"), (15, "large"), (9, "general"), (0, "low")]
    points, measures = [], []
    per = max(1, math.ceil(n / max(1, min(len(order), n // 4 or 1))))
    for i in range(n):
        e = order[(i // per) % len(order)]
        lv, sv = rng.choice((1, 2, 2, 3, 3, 4, 5)), rng.choice((1, 2, 3, 3, 4, 5))
        score = lv * sv
        grade = next(g for bound, g in grades if score >= bound)
        pid = first + i
        points.append((pid, ents.ids[e], ents.paths[e], rng.choice(RISK_NAMES), rng.choice(RISK_CATEGORIES),
                       rng.choice(LOCATIONS), "火灾、爆炸、中毒", "火灾、其他爆炸", "LS", {"L": lv, "S": sv},
                       float(score), grade, _person(rng), _person(rng), _person(rng), _person(rng),
                       round(rng.random(), 3), round(rng.random(), 3), True, 1, now, now))
        measures.append((mid + i, pid, rng.choice(("engineering", "management", "training", "ppe", "emergency")),
                         "定期检查，落实岗位责任", rng.choice(("company", "workshop", "team", "post")), now, now))
    count = loader.load(RiskPoint.__table__, ["id", "enterprise_id", "scope_path", "name", "category", "location",
                                              "hazard_identification", "possible_accidents", "method", "inputs",
                                              "score", "grade", "responsible_company", "responsible_workshop",
                                              "responsible_team", "responsible_post", "plan_x", "plan_y",
                                              "is_active", "version", "created_at", "updated_at"], points)
    loader.load(ControlMeasure.__table__, ["id", "risk_point_id", "kind", "description", "level", "created_at",
                                           "updated_at"], measures)
    return count


def _inspections(session: Session, loader: Loader, rng: random.Random, n: int, ents: _Enterprises,
                 today: date) -> int:
    if not ents.ids or not n:
        return 0
    checklists: dict[str, list[int]] = {}
    for cid, sector in session.execute(select(StoredChecklist.id, StoredChecklist.sector).order_by(StoredChecklist.id)):
        checklists.setdefault(sector, []).append(cid)
    ent_pick = _Picker(rng, list(range(len(ents.ids))), ents.weights)
    kind_pick = _Picker(rng, [k for k, _ in RUN_KINDS], [w for _, w in RUN_KINDS])
    first = loader.next_id(InspectionRun.__table__)
    now = datetime.now(UTC)
    runs, links = [], []
    for i in range(n):
        e = ent_pick()
        rid = first + i
        day = today - timedelta(days=int(1095 * (1 - math.sqrt(rng.random()))))
        started = min(now, _china(day, 9 * 3600 + rng.random() * 7 * 3600))
        done = rng.random() < 0.97 or day < today - timedelta(days=7)
        total = rng.randint(12, 60)
        failed = min(total, int(rng.expovariate(0.5)))
        na = rng.randint(0, 3)
        summary = {"total": total, "answered": total, "passed": total - failed - na, "failed": failed, "na": na,
                   "checklists": [], "score": None,
                   "hazards": {"general": failed, "major": 0, "ids": []}} if done else None
        runs.append((rid, ents.ids[e], ents.paths[e], kind_pick(), _person(rng), started,
                     "completed" if done else "draft", min(now, started + timedelta(hours=2)) if done else None,
                     summary, 1 + done, started, started))
        ids = checklists.get(ents.sectors[e])
        if ids:
            links.append((rid, ids[int(rng.random() * len(ids))], 0))
    count = loader.load(InspectionRun.__table__, ["id", "enterprise_id", "scope_path", "kind", "started_by_name",
                                                  "started_at", "status", "completed_at", "summary", "version",
                                                  "created_at", "updated_at"], runs)
    loader.load(InspectionRunChecklist.__table__, ["run_id", "checklist_id", "position"], links)
    return count


def _documents(session: Session, loader: Loader, rng: random.Random, n: int, ents: _Enterprises,
               hz: _HazardState, city: _City, today: date) -> int:
    """责令限期整改指令书 over groups of an enterprise's inspection hazards, 整改复查意见书 for a third of them."""
    if not n or not hz.inspected:
        return 0
    agencies = {a.id: a for _, a, _ in city.districts}
    by_ent: dict[int, list[tuple]] = {}
    for h in hz.inspected:
        by_ent.setdefault(h[1], []).append(h)
    groups: list[list[tuple]] = []
    for e in sorted(by_ent):
        items = sorted(by_ent[e], key=lambda h: (h[2], h[0]))
        while items:
            k = rng.choice((1, 1, 2, 2, 3, 4))
            groups.append(items[:k])
            items = items[k:]
    rng.shuffle(groups)
    n_orders = min(len(groups), n - n // 3)
    docs: list[dict[str, Any]] = []
    for group in groups[:n_orders]:
        e = group[0][1]
        agency = agencies[ents.agencies[e]]
        on = max(h[2] for h in group)
        signers = city.inspectors[agency.id]
        base = {"agency_id": agency.id, "e": e, "signers": [u.id for u in signers],
                "signer_data": [{"name": u.display_name, "cert_number": u.cert_number or ""} for u in signers]}
        docs.append({**base, "type": ORDER, "on": on, "group": group})
        if len(docs) < n and all(h[3] in ("closed", "reviewed") for h in group) and rng.random() < 0.55:
            review_on = min(today, on + timedelta(days=rng.randint(15, 45)))
            docs.append({**base, "type": REVIEW, "on": review_on, "group": group, "order": docs[-1]})
    docs = docs[:n]
    docs.sort(key=lambda d: (d["on"], d["type"] != ORDER))
    first = loader.next_id(Document.__table__)
    # Numbers continue after the existing counters (a --force run on a database with issued documents).
    existing = {(c.agency_id, c.doc_type, c.year): c for c in session.scalars(select(DocumentCounter))}
    sequences: dict[tuple[int, str, int], int] = {k: c.last_sequence for k, c in existing.items()}
    codes: set[str] = set()
    rows, links = [], []
    for i, d in enumerate(docs):
        d["id"] = first + i
        key = (d["agency_id"], d["type"], d["on"].year)
        sequences[key] = seq = sequences.get(key, 0) + 1
        agency = agencies[d["agency_id"]]
        d["number"] = number = format_number(agency, d["type"], d["on"].year, seq)
        code = _unique_code(rng, codes)
        e = d["e"]
        data: dict[str, Any] = {
            "agency": {"name": agency.name, "people_government": agency.people_government or "",
                       "court": agency.court or "", "parent_name": city.city_agency.name},
            "enterprise": ents.info[e], "signers": d["signer_data"], "number": number, "verify_code": code,
            "date": d["on"].isoformat(), "type_name": type_config(d["type"])["name"]}
        if d["type"] == ORDER:
            data["problems"] = [{"no": p, "hazard_id": h[0], "location": h[6], "description": f"{h[5]}（{h[6]}）",
                                 "deadline": (h[4] or d["on"]).isoformat()} for p, h in enumerate(d["group"], 1)]
            data["supersedes_number"] = None
            data["appeal"] = appeal_clause(data["agency"], d["on"])
            links += [(d["id"], h[0], p, h[4], None) for p, h in enumerate(d["group"], 1)]
            related = None
        else:
            order = d["order"]
            data["order"] = {"number": order["number"], "date": order["on"].isoformat(),
                             "type_name": type_config(ORDER)["name"]}
            data["passed"] = [{"no": p, "description": f"{h[5]}（{h[6]}）"} for p, h in enumerate(d["group"], 1)]
            data["failed"], data["opinion"] = [], "经复查，上述隐患已整改合格。"
            links += [(d["id"], h[0], p, None, "passed") for p, h in enumerate(d["group"], 1)]
            related = order["id"]
        issued = _china(d["on"], 10 * 3600 + rng.random() * 6 * 3600)
        rows.append((d["id"], d["agency_id"], ents.ids[e], ents.paths[e], d["type"], number, d["on"].year, seq,
                     "issued", issued, d["on"], d["signers"][0], d["signers"], data, PLACEHOLDER_SHA256, code,
                     related, issued if rng.random() < 0.7 else None))
    count = loader.load(Document.__table__, ["id", "agency_id", "enterprise_id", "scope_path", "doc_type", "number",
                                             "year", "sequence", "status", "issued_at", "issued_on", "issued_by_id",
                                             "signer_ids", "data", "pdf_sha256", "verify_code", "related_id",
                                             "received_at"], rows)
    hz.document_links = loader.load(DocumentHazard.__table__, ["document_id", "hazard_id", "position", "deadline",
                                                               "result"], links)
    # The counters continue after the generated numbers, so that a document issued later is numbered on.
    for key, last in sorted(sequences.items()):
        if key in existing:
            existing[key].last_sequence = last
        else:
            session.add(DocumentCounter(agency_id=key[0], doc_type=key[1], year=key[2], last_sequence=last))
    session.flush()
    return count
