"""The R-N1 benchmark: the app under gunicorn (2 workers) against a generated city on PostgreSQL, every figure of
issue 8 measured beside a floor from the same run. Documented in docs/performance.md.

Usually run through ``scripts/bench`` (throw-away PostgreSQL, ``anjian bench-data``, then this)::

    .venv/bin/python bench/run.py --url postgresql+psycopg://anjian@127.0.0.1:5432/anjian_bench

The database must hold ``anjian bench-data`` output (users ``bench_city`` …). What is measured, and how:

* **list** (API ``/api/v1/hazards`` and page ``/hazards/``, first page and a deep keyset page, filtered by
  district + state + level, as the city regulator): p50/p95 of the time from opening the connection to the last
  byte, measured by the client over localhost (gunicorn's sync workers close every connection, so each request
  pays one local TCP handshake, ~0.1 ms). **Floor**: every SQL statement that request runs (captured in-process
  from the same app code), each run with ``EXPLAIN (ANALYZE)`` in PostgreSQL; the sum of their execution times.
* **detail** (hazard page, enterprise page, hazard API): requests/s with 8 concurrent client processes for a fixed
  time, over 200 different ids. **Floor**: ``/healthz`` of the same server measured the same way.
* **statistics** (``/stats/`` for the city and a district, the year so far, the enterprise table, the home
  dashboard): p50/p95 as for lists.
* **export** of 100,000 hazards (the newest, by a found-date filter) as CSV and Excel: rows/s, and the peak RSS of
  the gunicorn worker during the export (``VmHWM`` after resetting it through ``/proc/<pid>/clear_refs``).
* **document**: a 责令限期整改指令书 with 20 items rendered to PDF in-process (the issuing code path without storing),
  median of 5. **Floor**: a one-page WeasyPrint document with a title and a line of Chinese in the same fonts.
* **memory**: RSS of each gunicorn worker at the end.

Prints a table and writes JSON to ``artifacts/bench/`` (``bench-<hazards>-<time>.json`` and ``latest.json``).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGETS = {  # figure kind → (description, check)
    "list_api": "p95 ≤ 50 ms and ≤ 3× floor",
    "list_page": "p95 ≤ 100 ms",
    "detail": "≥ 60 % of /healthz req/s",
    "stats": "p95 ≤ 1 s",
    "export_csv": "≥ 50,000 rows/s, peak ≤ 300 MB",
    "export_xlsx": "≥ 10,000 rows/s, peak ≤ 300 MB",
    "document": "≤ 1 s and ≤ 2× floor",
    "memory": "≤ 250 MB per worker",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", required=True, help="PostgreSQL URL of a database filled by `anjian bench-data`")
    p.add_argument("--out", default=str(ROOT / "artifacts" / "bench"))
    p.add_argument("--repeat", type=int, default=40, help="timed requests per list/statistics figure")
    p.add_argument("--seconds", type=float, default=5.0, help="duration of each req/s measurement")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--export-rows", type=int, default=100_000)
    p.add_argument("--deep", type=int, default=20_000, help="rows skipped before the deep page")
    p.add_argument("--workers", type=int, default=2)
    return p.parse_args(argv)


# --- HTTP ------------------------------------------------------------------------------------------------------------

#: Flask-Login's session protection ties a session to the user agent: the same one for every request.
USER_AGENT = {"User-Agent": "anjian-bench"}


class Client:
    """A tiny HTTP client over localhost: one connection per request (what gunicorn's sync workers do anyway)."""

    def __init__(self, port: int, headers: dict[str, str] | None = None) -> None:
        self.port = port
        self.headers = {**USER_AGENT, **(headers or {})}

    def get(self, path: str, *, stream_to: Any = None) -> tuple[int, bytes, float]:
        start = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        try:
            conn.request("GET", path, headers=self.headers)
            resp = conn.getresponse()
            if stream_to is not None:
                size = 0
                while chunk := resp.read(256 * 1024):
                    size += len(chunk)
                    stream_to(chunk)
                body = b""
            else:
                body = resp.read()
            return resp.status, body, time.perf_counter() - start
        finally:
            conn.close()

    def post_form(self, path: str, data: dict[str, str]) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request("POST", path, body=urlencode(data),
                     headers={**self.headers, "Content-Type": "application/x-www-form-urlencoded"})
        resp = conn.getresponse()
        resp.read()
        conn.close()
        return resp


def login_cookie(port: int, username: str, password: str) -> str:
    """A session cookie from the real login form (CSRF token included)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/login", headers=USER_AGENT)
    resp = conn.getresponse()
    html = resp.read().decode()
    cookie = resp.getheader("Set-Cookie", "").split(";")[0]
    conn.close()
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    resp = Client(port, {"Cookie": cookie}).post_form("/login", {"csrf_token": token, "username": username,
                                                                 "password": password})
    if resp.status != 302:
        raise SystemExit(f"login as {username} failed: HTTP {resp.status}")
    return resp.getheader("Set-Cookie").split(";")[0]


def timed(client: Client, path: str, repeat: int, warm: int = 8) -> dict[str, Any]:
    for _ in range(warm):
        status, body, _ = client.get(path)
        if status != 200:
            raise SystemExit(f"GET {path}: HTTP {status}\n{body[:500]!r}")
    times = [client.get(path)[2] * 1000 for _ in range(repeat)]
    times.sort()
    return {"path": path, "n": repeat, "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[min(len(times) - 1, round(0.95 * len(times)) - 1)], 2),
            "max_ms": round(times[-1], 2)}


def _hammer(args: tuple[int, dict[str, str], list[str], float]) -> tuple[int, int]:
    port, headers, paths, seconds = args
    client = Client(port, headers)
    done = errors = 0
    i = os.getpid()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        status, _, _ = client.get(paths[i % len(paths)])
        i += 7
        done += 1
        errors += status != 200
    return done, errors


def throughput(port: int, headers: dict[str, str], paths: list[str], clients: int, seconds: float) -> dict[str, Any]:
    """Requests per second of ``clients`` processes requesting ``paths`` round robin for ``seconds``."""
    Client(port, headers).get(paths[0])
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        start = time.perf_counter()
        results = pool.map(_hammer, [(port, headers, paths, seconds)] * clients)
        elapsed = time.perf_counter() - start
    done = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    if errors:
        raise SystemExit(f"{errors} failed requests while measuring {paths[0]}")
    return {"path": paths[0], "requests": done, "seconds": round(elapsed, 2), "rps": round(done / elapsed, 1)}


# --- the server ------------------------------------------------------------------------------------------------------

class Server:
    def __init__(self, url: str, workers: int, upload_dir: str) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = {**os.environ, "ANJIAN_DATABASE_URL": url, "ANJIAN_SECRET_KEY": "bench-only-secret",
               "ANJIAN_UPLOAD_FOLDER": upload_dir}
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
             "--timeout", "600", "--log-level", "warning", "core.app:create_app()"],
            cwd=ROOT, env=env)
        deadline = time.time() + 60
        while time.time() < deadline:
            with contextlib.suppress(OSError):  # not listening yet
                if Client(self.port).get("/healthz")[0] == 200 and len(self.workers()) == workers:
                    return
            time.sleep(0.3)
        self.stop()
        raise SystemExit("gunicorn did not start")

    def workers(self) -> list[int]:
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(p) for p in path.read_text().split()] if path.exists() else []

    def rss_mb(self, field: str = "VmRSS") -> dict[int, float]:
        out = {}
        for pid in self.workers():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    out[pid] = round(int(line.split()[1]) / 1024, 1)
        return out

    def reset_peaks(self) -> bool:
        """Reset each worker's peak RSS (VmHWM) to its current RSS; False when the kernel refuses."""
        try:
            for pid in self.workers():
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            return True
        except OSError:
            return False

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# --- in-process: SQL floors, the document ---------------------------------------------------------------------------

def sql_floor(app: Any, headers: dict[str, str], path: str, repeat: int = 5) -> dict[str, Any]:
    """Capture the SQL of ``GET path`` (same app, in-process) and time each statement with EXPLAIN ANALYZE."""
    import sqlalchemy as sa

    from core.extensions import db

    captured: list[tuple[str, Any]] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    client = app.test_client()
    headers = dict(headers)
    if "Cookie" in headers:  # Werkzeug's test client sends its own cookie jar, not a Cookie header
        name, _, value = headers.pop("Cookie").partition("=")
        client.set_cookie(name, value)
    with app.app_context():
        client.get(path, headers=headers)  # warm caches (plugin registry, templates)
        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            resp = client.get(path, headers=headers)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
        assert resp.status_code == 200, (path, resp.status_code)
        statements = [(s, p) for s, p in captured if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE"))]
        runs = []
        plans = []
        with db.engine.connect() as conn:
            for _ in range(repeat):
                total = planning = 0.0
                plans = []
                for statement, params in statements:
                    row = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, params).scalar()
                    plan = row[0] if isinstance(row, list) else json.loads(row)[0]
                    total += plan["Execution Time"]
                    planning += plan["Planning Time"]
                    plans.append({"sql": statement[:300], "execution_ms": plan["Execution Time"],
                                  "top_node": plan["Plan"]["Node Type"]})
                runs.append((total, planning))
                conn.rollback()  # the token check updates last_used_at: leave nothing behind
    runs.sort()
    return {"statements": len(statements), "execution_ms": round(statistics.median(r[0] for r in runs), 2),
            "planning_ms": round(statistics.median(r[1] for r in runs), 2), "plans": plans}


def document_times(app: Any, repeat: int = 5) -> dict[str, Any]:
    """A 责令限期整改指令书 with 20 items vs a minimal one-page document in the same fonts (WeasyPrint)."""
    from sqlalchemy import select
    from weasyprint import HTML

    from core.extensions import db
    from core.models import Document
    from core.pdf import CJK_FAMILIES, render_pdf

    with app.app_context():
        doc = db.session.scalar(select(Document).where(Document.doc_type == "rectification_order")
                                .order_by(Document.id.desc()).limit(1))
        data = json.loads(json.dumps(doc.data))
        first = data["problems"][0]
        data["problems"] = [{**first, "no": i, "description": f"{first['description']}（第{i}项）"}
                            for i in range(1, 21)]
        # The faces the document uses (templates/pdf/layout.html): Sans bold headings, Serif body, Sans footer.
        serif = ", ".join(f'"{f}"' for f in CJK_FAMILIES)
        sans = ", ".join(f'"{f}"' for f in reversed(CJK_FAMILIES))
        minimal = (f'<html lang="zh-CN"><body style="font-family: {serif}">'
                   f'<h1 style="font-family: {sans}; font-weight: bold">责令限期整改指令书</h1>'
                   f'<p>厦门市应急管理局</p><p style="font-family: {sans}; font-size: 8pt">第 1 页 共 1 页</p>'
                   f"</body></html>")

        def median_ms(fn: Any) -> tuple[float, int]:
            fn()
            times, size = [], 0
            for _ in range(repeat):
                start = time.perf_counter()
                size = len(fn())
                times.append((time.perf_counter() - start) * 1000)
            return round(statistics.median(times), 1), size

        with app.test_request_context():
            order_ms, order_bytes = median_ms(lambda: render_pdf("pdf/doc_rectification_order.html", doc=data))
        floor_ms, _ = median_ms(lambda: HTML(string=minimal).write_pdf())
    return {"items": 20, "ms": order_ms, "bytes": order_bytes, "floor_ms": floor_ms,
            "ratio": round(order_ms / floor_ms, 2)}


# --- the run ---------------------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    from sqlalchemy import func, select

    from core.app import create_app
    from core.benchdata import BENCH_PASSWORD
    from core.extensions import db
    from core.models import Enterprise, Hazard, Jurisdiction, User
    from core.services import users
    from core.services.actors import SYSTEM
    from core.services.hazards import CHINA

    upload_dir = tempfile.mkdtemp(prefix="anjian-bench-uploads-")
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.url, "SECRET_KEY": "bench-only-secret",
                      "UPLOAD_FOLDER": upload_dir})
    with app.app_context():
        city_user = db.session.scalar(select(User).where(User.username == "bench_city"))
        if city_user is None:
            raise SystemExit("no bench data: run `anjian bench-data` first (scripts/bench does)")
        token, _ = users.create_token(db.session, SYSTEM, city_user, "bench", days=1)
        db.session.commit()
        n_hazards = db.session.scalar(select(func.count()).select_from(Hazard))
        n_enterprises = db.session.scalar(select(func.count()).select_from(Enterprise))
        # The district with the most hidden dangers, and the filter the list figures use.
        district = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == "350211"))
        filters = {"jurisdiction_id": district.id, "state": "closed", "level": "general"}
        base = (select(Hazard.id).where(Hazard.scope_path.like(district.path + "%"), Hazard.state == "closed",
                                        Hazard.level == "general").order_by(Hazard.id.desc()))
        deep_after = db.session.scalar(base.offset(min(args.deep, max(0, n_hazards // 20))).limit(1))
        detail_ids = list(db.session.scalars(select(Hazard.id).order_by(Hazard.id.desc())
                                             .offset(n_hazards // 3).limit(200)))
        enterprise_ids = list(db.session.scalars(select(Enterprise.id).order_by(Enterprise.id)
                                                 .offset(n_enterprises // 3).limit(200)))
        # The newest ``export_rows`` hidden dangers: the found date of the n-th newest as the lower bound.
        nth = db.session.scalar(select(Hazard.found_at).order_by(Hazard.found_at.desc())
                                .offset(min(args.export_rows, n_hazards) - 1).limit(1))
        found_from = nth.astimezone(CHINA).date()
        export_count = db.session.scalar(select(func.count()).select_from(Hazard).where(
            Hazard.found_at >= datetime.combine(found_from, datetime.min.time(), CHINA).astimezone(UTC)))
    bearer = {"Authorization": f"Bearer {token}"}
    q_first = urlencode(filters)
    q_deep = urlencode({**filters, "after": deep_after})
    result: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "cpu": _cpu_name(), "memory_gb": _mem_gb(),
                    # Other work on the machine skews every figure: the 1-minute load average before and after.
                    "load_before": round(os.getloadavg()[0], 2)},
        "data": {"hazards": n_hazards, "enterprises": n_enterprises, "district": district.name,
                 "filters": filters, "deep_after": deep_after},
        "figures": [],
    }
    print(f"benchmark: {n_hazards:,} hazards, {n_enterprises:,} enterprises; gunicorn {args.workers} workers",
          flush=True)
    server = Server(args.url, args.workers, upload_dir)
    try:
        cookie = {"Cookie": login_cookie(server.port, "bench_city", BENCH_PASSWORD), **USER_AGENT}
        api, web = Client(server.port, bearer), Client(server.port, cookie)
        figs = result["figures"]

        def add(fig: dict[str, Any]) -> None:
            figs.append(fig)
            print(_line(fig), flush=True)

        # Lists: API and page, first and deep page; floor = the same SQL in PostgreSQL.
        for kind, client, headers, path in (
                ("list_api", api, bearer, f"/api/v1/hazards?{q_first}"),
                ("list_api", api, bearer, f"/api/v1/hazards?{q_deep}"),
                ("list_api", api, bearer, "/api/v1/hazards"),
                ("list_page", web, cookie, f"/hazards/?{q_first}"),
                ("list_page", web, cookie, f"/hazards/?{q_deep}"),
                ("list_page", web, cookie, "/hazards/"),
                ("list_page", web, cookie, "/enterprises/"),
                ("list_page", web, cookie, "/inspections/"),
                ("list_page", web, cookie, "/documents/"),
                ("list_page", web, cookie, "/risks/")):
            t = timed(client, path, args.repeat)
            floor = sql_floor(app, headers, path) if kind == "list_api" or "hazards" in path else None
            fig = {"kind": kind, "name": f"{'API' if kind == 'list_api' else '页面'} {path}", **t}
            if floor:
                fig.update(floor_ms=floor["execution_ms"], floor_statements=floor["statements"],
                           ratio=round(t["p95_ms"] / max(floor["execution_ms"], 0.01), 1), plans=floor["plans"])
            fig["met"] = _met(fig)
            add(fig)

        # Detail pages: req/s at 8 concurrent clients vs /healthz of the same server.
        health = throughput(server.port, {}, ["/healthz"], args.clients, args.seconds)
        add({"kind": "floor", "name": "/healthz req/s", "rps": health["rps"], "met": None})
        for name, headers, paths in (
                ("隐患详情页 /hazards/<id>", cookie, [f"/hazards/{i}" for i in detail_ids]),
                ("企业详情页 /enterprises/<id>", cookie, [f"/enterprises/{i}" for i in enterprise_ids]),
                ("隐患详情 API /api/v1/hazards/<id>", bearer, [f"/api/v1/hazards/{i}" for i in detail_ids])):
            r = throughput(server.port, headers, paths, args.clients, args.seconds)
            fig = {"kind": "detail", "name": name, "rps": r["rps"], "floor_rps": health["rps"],
                   "ratio": round(r["rps"] / health["rps"], 2)}
            fig["met"] = _met(fig)
            add(fig)

        # Statistics and the dashboard.
        year = datetime.now(CHINA).year
        for path in ("/stats/", f"/stats/?node={district.id}", f"/stats/?node={district.id}&period={year}",
                     f"/stats/enterprises?node={district.id}", "/"):
            t = timed(web, path, max(5, args.repeat // 4), warm=1)
            fig = {"kind": "stats", "name": f"页面 {path}", **t}
            fig["met"] = _met(fig)
            add(fig)

        # Exports of the newest ~100,000 hazards: rows/s and the worker's peak memory.
        for fmt in ("csv", "xlsx"):
            path = f"/hazards/export.{fmt}?found_from={found_from.isoformat()}"
            before = server.rss_mb()
            peaks_ok = server.reset_peaks()
            received = [0]

            def count_bytes(chunk: bytes, received: list[int] = received) -> None:
                received[0] += len(chunk)

            status, _, seconds = web.get(path, stream_to=count_bytes)
            if status != 200:
                raise SystemExit(f"export {fmt}: HTTP {status}")
            peak = server.rss_mb("VmHWM") if peaks_ok else {}
            fig = {"kind": f"export_{fmt}", "name": f"导出 {fmt.upper()} {export_count:,} 行", "rows": export_count,
                   "seconds": round(seconds, 2), "rows_per_s": round(export_count / seconds), "bytes": received[0],
                   "rss_before_mb": max(before.values()), "peak_mb": max(peak.values()) if peak else None}
            fig["met"] = _met(fig)
            add(fig)

        doc = document_times(app)
        fig = {"kind": "document", "name": "责令限期整改指令书（20 项）PDF", **doc}
        fig["met"] = _met(fig)
        add(fig)

        rss = server.rss_mb()
        fig = {"kind": "memory", "name": "worker RSS after the run", "rss_mb": rss, "max_mb": max(rss.values())}
        fig["met"] = _met(fig)
        add(fig)
    finally:
        server.stop()

    result["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["machine"]["load_after"] = round(os.getloadavg()[0], 2)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = out / f"bench-{n_hazards}-{stamp}.json"
    text = json.dumps(result, ensure_ascii=False, indent=2, default=str)
    path.write_text(text)
    (out / "latest.json").write_text(text)
    print()
    print(table(result))
    print(f"\nwritten {path}")
    return result


def _met(fig: dict[str, Any]) -> bool:
    kind = fig["kind"]
    if kind == "list_api":
        return fig["p95_ms"] <= 50 and fig.get("ratio", 0) <= 3
    if kind == "list_page":
        return fig["p95_ms"] <= 100
    if kind == "detail":
        return fig["ratio"] >= 0.6
    if kind == "stats":
        return fig["p95_ms"] <= 1000
    if kind == "export_csv":
        return fig["rows_per_s"] >= 50_000 and (fig["peak_mb"] or 0) <= 300
    if kind == "export_xlsx":
        return fig["rows_per_s"] >= 10_000 and (fig["peak_mb"] or 0) <= 300
    if kind == "document":
        return fig["ms"] <= 1000 and fig["ratio"] <= 2
    if kind == "memory":
        return fig["max_mb"] <= 250
    raise ValueError(kind)


def _value(fig: dict[str, Any]) -> tuple[str, str, str]:
    """(value, floor, ratio) as printed."""
    kind = fig["kind"]
    if kind in ("list_api", "list_page", "stats"):
        floor = f"SQL {fig['floor_ms']:.2f} ms ({fig['floor_statements']} q)" if "floor_ms" in fig else ""
        return (f"p50 {fig['p50_ms']:.1f} / p95 {fig['p95_ms']:.1f} ms", floor,
                f"{fig['ratio']:.1f}×" if "ratio" in fig else "")
    if kind == "floor":
        return f"{fig['rps']:.0f} req/s", "", ""
    if kind == "detail":
        return f"{fig['rps']:.0f} req/s", f"/healthz {fig['floor_rps']:.0f} req/s", f"{fig['ratio'] * 100:.0f} %"
    if kind.startswith("export"):
        return (f"{fig['rows_per_s']:,} rows/s ({fig['seconds']:.1f} s)",
                f"peak {fig['peak_mb']} MB (before {fig['rss_before_mb']} MB)", "")
    if kind == "document":
        return f"{fig['ms']:.0f} ms", f"minimal page {fig['floor_ms']:.0f} ms", f"{fig['ratio']:.1f}×"
    if kind == "memory":
        return " / ".join(f"{v:.0f} MB" for v in fig["rss_mb"].values()), "", ""
    return "", "", ""


def _line(fig: dict[str, Any]) -> str:
    value, floor, ratio = _value(fig)
    mark = {True: "ok", False: "MISSED", None: ""}[fig["met"]]
    return f"  {fig['name'][:58]:58} {value:34} {floor:36} {ratio:7} {mark}"


def table(result: dict[str, Any]) -> str:
    d, m = result["data"], result["machine"]
    head = (f"anjian benchmark {result['started']} — {d['hazards']:,} hazards, {d['enterprises']:,} enterprises; "
            f"{m['cpus']} CPUs ({m['cpu']}), {m['memory_gb']} GB, load {m['load_before']} → {m.get('load_after')}\n"
            f"  {'figure':58} {'value':34} {'floor':36} {'ratio':7} target")
    lines = [head]
    for kind, target in TARGETS.items():
        rows = [f for f in result["figures"] if f["kind"] == kind or (kind == "detail" and f["kind"] == "floor")]
        if rows:
            lines.append(f"-- {kind}: {target}")
            lines += [_line(f) for f in rows]
    return "\n".join(lines)


def _cpu_name() -> str:
    with contextlib.suppress(OSError):  # no /proc: fall back to what platform knows
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def _mem_gb() -> float:
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        return round(kb / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        return 0.0


if __name__ == "__main__":
    main()
