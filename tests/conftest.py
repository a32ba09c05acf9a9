"""Test fixtures (after flaskr and Warehouse).

* The database is the one in ``ANJIAN_TEST_DATABASE_URL`` (CI sets a PostgreSQL URL) or a fresh SQLite file.
  The schema is built by running the Alembic migrations, never ``create_all()``.
* The test world of :mod:`tests.factories` is built once per session and committed.
* Every test runs inside a transaction that is rolled back afterwards (SQLAlchemy's "joining a Session into an
  external transaction" recipe): services and views commit freely, nothing leaks into the next test.
* The app loads only the fake sector plugin (``tests/plugins/fake_sector.py``); tests of the real plugins build
  their own app.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, g
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session as FlaskSession

from core.app import create_app
from core.extensions import db
from tests import factories
from tests.plugins import fake_sector

TEST_DB_URL = os.environ.get("ANJIAN_TEST_DATABASE_URL")


def base_config(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "ENABLED_PLUGINS": [],
        "EXTRA_PLUGINS": [fake_sector],
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        **extra,
    }


def reset_database(url: str) -> None:
    """Drop everything in the target database so that the migrations start from empty."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        else:
            meta = sa.MetaData()
            meta.reflect(conn)
            meta.drop_all(conn)
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    engine.dispose()


def worker_database(url: str, worker: str | None) -> str:
    """The database of one pytest-xdist worker: ``<name>_<worker>`` beside the given PostgreSQL database.

    Each worker migrates and rolls back in its own database, so workers never see each other's rows; the
    database is created (empty) on the same server the first time and dropped and re-created on every run.
    Without xdist, or for SQLite (each worker has its own temporary folder), the URL is used as it is.
    """
    if not worker or not url.startswith("postgresql"):
        return url
    base = sa.engine.make_url(url)
    name = f"{base.database}_{worker}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if TEST_DB_URL:
        return worker_database(TEST_DB_URL, os.environ.get("PYTEST_XDIST_WORKER"))
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "anjian-test.db")


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory) -> Iterator[Flask]:
    reset_database(database_url)
    # Uploaded files go to a throw-away folder, never into the checkout's instance folder.
    app = create_app(base_config(database_url, UPLOAD_FOLDER=str(tmp_path_factory.mktemp("uploads"))))

    @app.before_request
    def _forget_cached_user() -> None:
        # Test requests run inside the test's app context (see ``session``), where Flask-Login caches the
        # first loaded user in ``g``; each request must load its own client's user, as in production.
        g.pop("_login_user", None)
    with app.app_context():
        upgrade()
        app.config["WORLD"] = factories.build_world(db.session)
        db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


class _JoinedSession(FlaskSession):
    """Flask-SQLAlchemy's session always picks the engine; in tests it must use the outer connection."""

    def get_bind(self, *args: Any, **kwargs: Any):
        return self.bind if self.bind is not None else super().get_bind(*args, **kwargs)


@pytest.fixture()
def session(app: Flask) -> Iterator[Any]:
    """The scoped session, joined to an outer transaction that is rolled back after the test."""
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {"bind": connection, "join_transaction_mode": "create_savepoint", "class_": _JoinedSession}
        )
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


class QueryCounter:
    """SQL statements sent to the database while active (savepoint bookkeeping excluded)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


class Queries:
    """The ``queries`` fixture: ``with queries() as q: …`` then ``q.count``, or ``queries.of(fn)``."""

    @contextlib.contextmanager
    def __call__(self) -> Iterator[QueryCounter]:
        counter = QueryCounter()
        sa.event.listen(db.engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", counter)

    def of(self, fn: Callable[[], Any]) -> int:
        """Statements of ``fn()`` (a request) once warm and with nothing loaded in the session.

        The first call fills per-process caches (Flask-Login's user, the plugin registry …); tests share one
        session with the requests they make, so the identity map is emptied to start as a real request does."""
        fn()
        db.session.expunge_all()
        with self() as counter:
            fn()
        return counter.count


@pytest.fixture()
def queries(app: Flask, session) -> Queries:
    """Guards list pages and APIs against N+1 queries (R-N1). Tests compare counts for small and larger data
    rather than pinning a number, so they fail exactly when a query per row sneaks in."""
    return Queries()


@pytest.fixture()
def world(app: Flask) -> factories.World:
    return app.config["WORLD"]


@pytest.fixture()
def client(app: Flask, session) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def runner(app: Flask, session):
    return app.test_cli_runner()


@pytest.fixture()
def login(app: Flask, session, world):
    """``login("xa_reg")`` → a test client logged in as that world user (session cookie set directly)."""

    def _login(username: str) -> FlaskClient:
        c = app.test_client()
        with c.session_transaction() as s:
            s["_user_id"] = world.user(session, username).get_id()
            s["_fresh"] = True
        return c

    return _login


@pytest.fixture()
def api(app: Flask, session, world):
    """``api("xa_reg")`` → a client whose requests carry a fresh API token of that user."""
    from core.services.actors import SYSTEM
    from core.services.users import create_token

    def _api(username: str) -> FlaskClient:
        user = world.user(session, username)
        raw, _ = create_token(session, SYSTEM, user, "tests")
        # Commit (into the test's savepoint) so that an error response's rollback keeps the token.
        session.commit()
        c = app.test_client()
        c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
        return c

    return _api


def session_user_id(user_id: int, epoch: int = 0) -> str:
    """What a session holds for a logged-in user (``User.get_id``: id and session epoch; 0 until the user first
    logs out or changes password), for tests that put a user into a test client's session directly."""
    return f"{user_id}:{epoch}"


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in page"
    return match.group(1)
