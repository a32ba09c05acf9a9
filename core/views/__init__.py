"""HTTP layer: web pages (``views.web``) and the JSON API (``views.api``).

Views parse input, call one service, commit, and render or dump. They hold no business rules.
"""

from __future__ import annotations

import sqlite3

from flask import Flask, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError

from core.extensions import db

#: PostgreSQL errors that mean "another transaction got there first": serialization failure, deadlock, lock not
#: available. The transaction is rolled back whole, so the client may simply retry.
PG_CONFLICT_STATES = frozenset({"40001", "40P01", "55P03"})
BUSY_MESSAGE = "系统正忙（数据库正在处理其他人的保存），您的操作未保存，请稍后重试"
CONFLICT_MESSAGE = "该记录正被他人同时处理，您的操作未保存，请刷新后重试"


def concurrency_status(exc: DBAPIError) -> int | None:
    """503 for SQLite's "database is locked"/"busy" (the busy timeout ran out), 409 for PostgreSQL's
    serialization, deadlock and lock errors; None for every other database error (a real 500)."""
    orig = exc.orig
    if isinstance(orig, sqlite3.OperationalError):
        text = str(orig).lower()
        return 503 if "locked" in text or "busy" in text else None
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return 409 if state in PG_CONFLICT_STATES else None


DATA_MESSAGE = "提交的数据无法保存或查询：含有数据库不接受的字符（如 \\u0000）或超出范围的数值"


def is_data_error(exc: DBAPIError) -> bool:
    """A value the database refuses as data (SQLSTATE class 22, or psycopg's own check, e.g. a NUL character in
    text on PostgreSQL): the request's fault, a 422 — the schemas catch these first; this is the safety net for
    values that reach a query another way (a path segment, a JSON document)."""
    from sqlalchemy.exc import DataError

    if isinstance(exc, DataError):
        return True
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None) or ""
    return state.startswith("22")


def register_views(app: Flask) -> None:
    from core.views import api, idempotency, web

    web.init_app(app)
    api.init_app(app)
    idempotency.init_app(app)

    @app.errorhandler(DBAPIError)
    def _database_conflict(exc: DBAPIError):
        status = concurrency_status(exc)
        if status is None and is_data_error(exc):
            status = 422
        if status is None:
            raise exc
        db.session.rollback()
        message = {503: BUSY_MESSAGE, 409: CONFLICT_MESSAGE}.get(status, DATA_MESSAGE)
        if request.path.startswith("/api/"):
            from core.views.api import error_response

            resp = error_response(status, message)
        else:
            resp = render_template("errors/error.html", code=status, message=message), status
        headers = {"Retry-After": "1"} if status == 503 else {}
        return (*resp, headers)

    @app.get("/healthz")
    def healthz():
        """Liveness probe; also the floor of the detail-page benchmark (bench/run.py)."""
        return jsonify(status="ok")
