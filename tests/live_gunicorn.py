"""The production server for real-concurrency tests: gunicorn with several worker processes, as ``scripts/run``
serves, over a database of its own (a SQLite file in the test's folder, or a throw-away database on the test
PostgreSQL server) holding the test world.

:func:`serve_gunicorn` builds the database in-process, then starts ``gunicorn -w N`` on a free port with
``wsgi_app`` below (which rebuilds the same configuration from ``ANJIAN_LIVE_CONFIG``) and stops it afterwards.
:func:`in_parallel` fires requests from threads released by one barrier, so that they really overlap.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_migrate import upgrade

from core.app import create_app
from core.extensions import db
from tests import factories
from tests.conftest import TEST_DB_URL, base_config

ROOT = Path(__file__).resolve().parent.parent


def _config(url: str, uploads: str) -> dict[str, Any]:
    # Production behaviour (no TESTING: errors are handled as users get them), the fake sector plugin.
    return base_config(url, TESTING=False, UPLOAD_FOLDER=uploads)


def wsgi_app():
    """gunicorn's entry point in the worker processes (``tests.live_gunicorn:wsgi_app()``)."""
    live = json.loads(os.environ["ANJIAN_LIVE_CONFIG"])
    return create_app(_config(live["url"], live["uploads"]))


@contextmanager
def live_database(tmp: Path) -> Iterator[str]:
    """A fresh, empty database: ``tmp/live.db``, or a new database beside the test PostgreSQL one (dropped after)."""
    if not TEST_DB_URL or not TEST_DB_URL.startswith("postgresql"):
        yield "sqlite:///" + str(tmp / "live.db")
        return
    server = sa.make_url(TEST_DB_URL)
    name = f"{server.database}_live_{os.getpid()}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(base: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz in time")


@contextmanager
def serve_gunicorn(tmp: Path, setup: Callable[[Any, factories.World], Any] | None = None,
                   workers: int = 2) -> Iterator[tuple[str, Any, str]]:
    """Serve the test world with gunicorn (``workers`` processes); yields (base URL, what ``setup`` returned,
    database URL). ``setup(session, world)`` adds data before serving and is committed."""
    with live_database(tmp) as url:
        uploads = str(tmp / "uploads")
        app = create_app(_config(url, uploads))
        with app.app_context():
            upgrade()
            world = factories.build_world(db.session)
            extra = setup(db.session, world) if setup else None
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
        port = _free_port()
        env = {**os.environ, "ANJIAN_LIVE_CONFIG": json.dumps({"url": url, "uploads": uploads})}
        log = open(tmp / "gunicorn.log", "wb")  # noqa: SIM115 - closed in the finally below
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "--timeout", "60",
             "tests.live_gunicorn:wsgi_app()"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(base, proc)
            yield base, extra, url
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


def request(method: str, url: str, token: str, body: dict | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict]:
    """One JSON API request with a bearer token → (status, JSON body); HTTP errors are returned, not raised."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, {"raw": raw.decode(errors="replace")[:500]}


def in_parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in one thread each, released together by a barrier; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:  # noqa: BLE001 - a client failure is a result the test reports
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
