"""Flask extensions, created unbound and initialised in :func:`core.app.create_app`."""

from __future__ import annotations

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


def configure_sqlite(engine: Engine) -> None:
    """Make SQLite behave like the server database the same code targets.

    pysqlite opens transactions lazily and never for SAVEPOINT, which breaks nested transactions (used by the
    tests' rollback-per-test and by services that try a write and roll back); the documented SQLAlchemy recipe
    is to disable its handling and emit BEGIN ourselves. Foreign keys are off by default in SQLite.
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
        conn.exec_driver_sql("BEGIN")
