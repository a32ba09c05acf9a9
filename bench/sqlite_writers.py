"""Concurrent writers on the embedded default: gunicorn (2 workers, as ``scripts/run`` serves) over a SQLite file
holding the test world, N API clients registering hidden dangers at once while 2 clients read the ledger, then
6 clients sending the same transition at once. Prints, per N, the failed writes (%), the statuses and the p95.

    .venv/bin/python bench/sqlite_writers.py --writers 4 8 --per-writer 25

Uses the real-concurrency harness of the test suite (tests/live_gunicorn.py; tests/test_concurrency.py asserts
0 errors). Run it from the repository root.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.services import hazards, users
from core.services.actors import SYSTEM
from tests.live_gunicorn import in_parallel, request, serve_gunicorn


def _setup(writers: int):
    def setup(session, world):
        mgr, reg = world.user(session, "ent1_mgr"), world.user(session, "xa_reg")
        h = hazards.register_hazard(session, mgr, {"enterprise_id": world.enterprises["E1"],
                                                   "description": "并发下达整改", "category": "thing"})
        session.flush()
        return {"ent": world.enterprises["E1"], "hazard": h.id, "version": h.version,
                "writers": [users.create_token(session, SYSTEM, mgr, f"w{i}")[0] for i in range(max(writers, 6))],
                "readers": [users.create_token(session, SYSTEM, reg, f"r{i}")[0] for i in range(2)]}
    return setup


def measure(writers: int, per_writer: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp, serve_gunicorn(Path(tmp), _setup(writers)) as (base, data, _):
        def timed(method: str, url: str, token: str, body: dict | None = None) -> tuple[int, float]:
            start = time.perf_counter()
            status, _ = request(method, url, token, body)
            return status, (time.perf_counter() - start) * 1000

        def writer(w: int):
            return [timed("POST", base + "/api/v1/hazards", data["writers"][w], {
                "enterprise_id": data["ent"], "description": f"并发登记 {w}-{i}", "category": "thing"})
                for i in range(per_writer)]

        def reader(r: int):
            return [timed("GET", base + "/api/v1/hazards?size=20", data["readers"][r]) for _ in range(per_writer)]

        results = in_parallel([lambda w=w: writer(w) for w in range(writers)]
                              + [lambda r=r: reader(r) for r in range(2)])
        writes = [x for rs in results[:writers] for x in rs]
        reads = [x for rs in results[writers:] for x in rs]
        target = f"{base}/api/v1/hazards/{data['hazard']}/actions/assign"
        race = in_parallel([lambda t=t: request("POST", target, t, {
            "version": data["version"], "responsible_name": "王五", "days": 10})[0] for t in data["writers"][:6]])
    failed = sum(1 for s, _ in writes if s != 201)
    return {"writers": writers, "writes": len(writes), "failed": failed, "failed_pct": 100 * failed / len(writes),
            "write_statuses": dict(Counter(s for s, _ in writes)), "read_statuses": dict(Counter(s for s, _ in reads)),
            "write_p95_ms": statistics.quantiles([ms for _, ms in writes], n=20)[-1],
            "same_transition_x6": dict(Counter(race))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, nargs="+", default=[4, 8])
    parser.add_argument("--per-writer", type=int, default=25)
    args = parser.parse_args()
    for n in args.writers:
        r = measure(n, args.per_writer)
        print(f"{r['writers']} writers: {r['failed']}/{r['writes']} failed ({r['failed_pct']:.1f} %), "
              f"writes {r['write_statuses']}, reads {r['read_statuses']}, write p95 {r['write_p95_ms']:.0f} ms, "
              f"same transition ×6 {r['same_transition_x6']}")


if __name__ == "__main__":
    main()
