"""Flask extensions, created unbound and initialised in :func:`core.app.create_app`."""

from __future__ import annotations

from flask import has_request_context, request
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine

from core.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()


#: Requests that only read: their transactions stay deferred (see :func:`begins_write`).
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def begins_write() -> bool:
    """Whether a transaction starting now on SQLite should take the write lock at once (``BEGIN IMMEDIATE``).

    A deferred transaction that has read and then writes must upgrade its lock; when another connection wrote in
    between, SQLite refuses the upgrade with "database is locked" at once — the busy timeout does not apply, since
    waiting cannot help a transaction whose snapshot is already stale (46 % of concurrent registrations failed so
    under gunicorn). ``BEGIN IMMEDIATE`` takes the write lock before the first read, so writers queue on the busy
    timeout instead. Every transaction of a request that may write (any method but GET/HEAD/OPTIONS) and of
    everything outside a request (CLI commands, scripts, start-up) is therefore immediate; those of reading requests
    stay deferred so that WAL readers never wait for writers or for each other (docs/decisions.md).
    """
    return not has_request_context() or request.method not in READ_METHODS


def configure_sqlite(engine: Engine) -> None:
    """Make SQLite behave like the server database the same code targets.

    pysqlite opens transactions lazily and never for SAVEPOINT, which breaks nested transactions (used by the
    tests' rollback-per-test and by services that try a write and roll back); the documented SQLAlchemy recipe
    is to disable its handling and emit BEGIN ourselves — deferred or immediate as :func:`begins_write` decides.
    Writers wait up to ``busy_timeout`` for the write lock (SQLite's own bounded retry); one still refused then
    answers 503 with a Chinese message (:mod:`core.views`), never 500. Foreign keys are off by default in SQLite.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if begins_write() else "BEGIN")
