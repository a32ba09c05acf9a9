"""Benchmark the hidden-danger ledger at scale (R-N1): API list pages, filters, detail and streamed export.

Usage (normally through ``scripts/bench``, which starts a throw-away PostgreSQL server)::

    .venv/bin/python scripts/bench_hazards.py --url postgresql+psycopg://… --hazards 1000000

The database is migrated, the demo city seeded, and ``--hazards`` rows are generated in SQL (states, levels,
deadlines and found dates spread like a district's real ledger: mostly closed, a few per cent open and overdue,
about 1 in 1,000 major). Requests go through the app in-process (Flask test client), so the times are the
server's own: routing, services, SQL, serialisation. Each scenario runs ``--repeat`` times warm; the median and
the worst are reported, and everything is written as JSON to ``artifacts/bench/``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GENERATE = """
WITH e AS (SELECT row_number() OVER (ORDER BY id) AS rn, id, scope_path FROM enterprises),
     c AS (SELECT count(*) AS n FROM e),
     g AS (SELECT i, ((i * 2654435761) % 4294967296) / 4294967296.0 AS r FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS i)
INSERT INTO hazards (enterprise_id, scope_path, description, location, category, level, source, found_by_name,
                     found_at, state, deadline, deadline_kind, responsible_name, closed_on_spot, version,
                     created_at, updated_at)
SELECT e.id, e.scope_path,
       (ARRAY['配电箱未接地','消防通道堵塞','灭火器压力不足','动火作业未办理作业票','安全培训记录不全',
              '可燃气体报警器失效','安全警示标志缺失','叉车司机未持证上岗'])[1 + g.i % 8] || '（批量' || g.i || '）',
       '车间' || (g.i % 20), (ARRAY['behaviour','thing','management','environment'])[1 + g.i % 4],
       CASE WHEN g.i % 1000 = 7 THEN 'major' ELSE 'general' END,
       (ARRAY['self_check','self_check','self_check','inspection','grid_patrol'])[1 + g.i % 5],
       '批量生成', :now - (g.r * interval '1825 days'),
       CASE WHEN g.r < 0.004 THEN 'registered' WHEN g.r < 0.03 THEN 'rectifying'
            WHEN g.r < 0.035 THEN 'pending_review' ELSE 'closed' END,
       CASE WHEN g.r < 0.004 THEN NULL
            ELSE (:now - (g.r * interval '1825 days') + interval '15 days')::date END,
       CASE WHEN g.r < 0.004 THEN NULL ELSE 'calendar' END,
       CASE WHEN g.r < 0.004 THEN NULL ELSE '责任人' || (g.i % 50) END,
       false, 1, :now, :now
FROM g CROSS JOIN c JOIN e ON e.rn = 1 + (g.i * 7919) % c.n
"""
TIMELINE = """
INSERT INTO hazard_transitions (hazard_id, action, from_state, to_state, actor_name, at, data)
SELECT id, 'register', NULL, 'registered', found_by_name, found_at, '{}' FROM hazards WHERE id BETWEEN :first AND :last
"""


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", required=True, help="database URL (PostgreSQL for the real measurement)")
    p.add_argument("--hazards", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--out", default=str(ROOT / "artifacts" / "bench"))
    return p.parse_args()


def build(app: Any, n: int) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from core.demo import seed_demo
    from core.extensions import db
    from core.models import Hazard
    from core.models.base import utcnow

    with app.app_context():
        upgrade()
        seed_demo(db.session)
        db.session.commit()
        have = db.session.scalar(select(func.count(Hazard.id)))
        start = time.perf_counter()
        first = (db.session.scalar(select(func.max(Hazard.id))) or 0) + 1
        batch = 200_000
        for lo in range(first, first + max(0, n - have), batch):
            hi = min(lo + batch - 1, first + n - have - 1)
            db.session.execute(text(GENERATE), {"first": lo, "last": hi, "now": utcnow()})
            db.session.execute(text(TIMELINE), {"first": lo, "last": hi})
            db.session.commit()
            print(f"  generated hazards up to id {hi}", flush=True)
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        total = db.session.scalar(select(func.count(Hazard.id)))
        print(f"hazards: {total} (generated in {time.perf_counter() - start:.1f} s)")


def tokens(app: Any) -> dict[str, str]:
    from sqlalchemy import select

    from core.extensions import db
    from core.models import User
    from core.services import users
    from core.services.actors import SYSTEM

    with app.app_context():
        out = {}
        for name in ("city_regulator", "xa_regulator", "ent_manager"):
            user = db.session.scalar(select(User).where(User.username == name))
            out[name], _ = users.create_token(db.session, SYSTEM, user, "bench", days=1)
        db.session.commit()
        return out


def time_it(fn: Any, repeat: int) -> dict[str, float]:
    fn()  # warm
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - start) * 1000)
    return {"median_ms": round(statistics.median(runs), 1), "max_ms": round(max(runs), 1)}


def scenarios(app: Any, tok: dict[str, str]) -> dict[str, Any]:
    from sqlalchemy import select

    from core.extensions import db
    from core.models import Hazard, Jurisdiction
    from core.services.hazards import today

    client = app.test_client()

    def get(user: str, url: str, **query: Any) -> Any:
        resp = client.get(url, query_string=query, headers={"Authorization": f"Bearer {tok[user]}"})
        assert resp.status_code == 200, (url, resp.status_code, resp.get_data(as_text=True)[:300])
        return resp

    with app.app_context():
        xiangan = db.session.scalar(select(Jurisdiction.id).where(Jurisdiction.code == "350213"))
        some = db.session.scalar(select(Hazard.id).order_by(Hazard.id.desc()).offset(5000).limit(1))
        some_ent = db.session.scalar(select(Hazard.enterprise_id).where(Hazard.id == some))
    api = "/api/v1/hazards"
    day = today()

    def page_50() -> None:
        after = None
        for _ in range(50):
            body = get("city_regulator", api, size=100, **({"after": after} if after else {})).get_json()
            after = body["next_after"]

    cases: dict[str, Any] = {
        "list: city, newest 20": lambda: get("city_regulator", api),
        "list: city, 100 per page": lambda: get("city_regulator", api, size=100),
        "list: city, 50 pages of 100 (keyset, total)": page_50,
        "list: district regulator": lambda: get("xa_regulator", api),
        "list: enterprise manager (own)": lambda: get("ent_manager", api),
        "filter: state=rectifying": lambda: get("city_regulator", api, state="rectifying"),
        "filter: overdue": lambda: get("city_regulator", api, overdue="true"),
        "filter: level=major": lambda: get("city_regulator", api, level="major"),
        "filter: supervised (挂牌督办)": lambda: get("city_regulator", api, supervised="true"),
        "filter: jurisdiction 翔安区": lambda: get("city_regulator", api, jurisdiction_id=xiangan),
        "filter: enterprise": lambda: get("city_regulator", api, enterprise_id=some_ent),
        "filter: found last quarter": lambda: get("city_regulator", api, found_from=str(day - timedelta(days=90)),
                                                  found_to=str(day)),
        "filter: text 配电箱": lambda: get("city_regulator", api, q="配电箱"),
        "filter: text + state + district": lambda: get("city_regulator", api, q="消防通道", state="closed",
                                                         jurisdiction_id=xiangan),
        "detail": lambda: get("city_regulator", f"{api}/{some}"),
    }
    results = {}
    for name, fn in cases.items():
        results[name] = time_it(fn, repeat=ARGS.repeat)
        print(f"{name:48} median {results[name]['median_ms']:9.1f} ms   max {results[name]['max_ms']:9.1f} ms",
              flush=True)
    return results


def export_timing(app: Any) -> dict[str, Any]:
    """Stream the whole city's ledger as CSV through the export service; report rows/s and peak memory."""
    import resource

    from sqlalchemy import select

    from core.extensions import db
    from core.models import User
    from core.services.hazard_export import export_hazards

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "city_regulator"))
        start = time.perf_counter()
        stream, _ = export_hazards(db.session, user, {}, "csv")
        first_byte = None
        size = rows = 0
        for chunk in stream:
            if first_byte is None:
                first_byte = time.perf_counter() - start
            size += len(chunk)
            rows += chunk.count(b"\n")
        total = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {"rows": rows - 1, "bytes": size, "first_byte_ms": round((first_byte or 0) * 1000, 1),
           "total_s": round(total, 1), "rows_per_s": round(rows / total), "peak_rss_mb": round(peak_mb)}
    print(f"export csv (whole city): {out}")
    return out


def main() -> None:
    from core.app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": ARGS.url, "SECRET_KEY": "bench-only", "TESTING": False})
    build(app, ARGS.hazards)
    tok = tokens(app)
    results = {"hazards": ARGS.hazards, "database": app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0],
               "scenarios": scenarios(app, tok), "export": export_timing(app)}
    out = Path(ARGS.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"hazards-{ARGS.hazards}.json"
    path.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(f"written {path}")


if __name__ == "__main__":
    ARGS = parse()
    main()
