"""Idempotent writes: a double tap, a retry after a lost answer or a second tab never writes twice (issue 14 item 3).

A client names a writing request with a key it generated — web forms carry a hidden ``_idempotency_key`` field
(every form rendered with ``{{ form_keys() }}`` gets a fresh one), scripts and the API send an ``Idempotency-Key``
header. The contract, per user and key, for 24 hours:

* the first request runs as usual; its key row is inserted **in the request's own transaction**, so the key is
  stored exactly when the request's writes are committed (a refused request — validation error, 409, rollback —
  leaves no key and may be corrected and sent again with it);
* the same key with the same content (method, path, fields, files, body) gets the first answer again, without
  running anything: the same status, ``Location`` and body, with ``Idempotent-Replayed: true``; a web form's
  redirect is replayed with a notice that nothing was done twice;
* the same key with other content is refused (API 422, web 409): a key names one request, not one form;
* while the first is still running, a duplicate waits for its answer (a few seconds) and gets it, else 409.

Two simultaneous duplicates both try to insert the key; the unique constraint lets one commit and the other, on
conflict, reads and replays the winner's answer. Requests without a key behave as before; one-shot services also
check state under a row lock (hazard transitions, 指令书 items), so a keyless double submit is a clear 409.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from datetime import timedelta

from flask import Flask, Response, flash, g, redirect, request
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import delete, inspect, select
from sqlalchemy.exc import IntegrityError

from core.extensions import READ_METHODS, db
from core.models.base import utcnow
from core.models.idempotency import IdempotencyRecord

FIELD = "_idempotency_key"
HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
#: How long a key is remembered; a retry later than this runs again (and meets the services' state checks).
TTL = timedelta(hours=24)
#: Keys are opaque to the server; this keeps them printable and bounded (a UUID fits).
KEY_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{8,64}")
#: Answers longer than this are not kept (a replay then says the request was done, without the body).
MAX_BODY = 256 * 1024
#: How long a duplicate waits for the first request's answer before giving up with 409.
WAIT_SECONDS = 5.0
#: Form fields that differ between two renders of the same form and so are not part of its content.
VOLATILE_FIELDS = frozenset({FIELD, "csrf_token"})

KEY_INVALID = "幂等键格式无效：应为 8–64 个字母、数字或 _ . : - 字符（例如一个 UUID）"
KEY_REUSED = "该幂等键已用于内容不同的另一次提交：同一键只能重发同一请求"
FORM_REUSED = "此表单已提交并处理过，内容与当时不同：请重新打开页面后再填写提交"
IN_PROGRESS = "同一操作的上一次提交仍在处理，请稍后刷新页面查看结果"
ALREADY_DONE = "该操作已处理过（未重复执行），请刷新页面查看结果"
REPLAY_NOTICE = "该操作已完成，重复的提交未再次执行"


def form_keys() -> Markup:
    """The hidden inputs every POST form carries: the CSRF token and a fresh idempotency key (Jinja global)."""
    from flask_wtf.csrf import generate_csrf

    return Markup('<input type="hidden" name="csrf_token" value="{}">'
                  '<input type="hidden" name="{}" value="{}">').format(generate_csrf(), FIELD, uuid.uuid4().hex)


def requested_key() -> str | None:
    """The key the request carries (header first, then the form field), or None."""
    return request.headers.get(HEADER) or request.form.get(FIELD) or None


def fingerprint() -> str:
    """SHA-256 of what the request asks for: method, path with query, and its content (form fields except the
    per-render ones, uploaded files by content, or the raw body)."""
    digest = hashlib.sha256(f"{request.method} {request.full_path}\n".encode())
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        for name, value in sorted(request.form.items(multi=True)):
            if name not in VOLATILE_FIELDS:
                digest.update(f"{name}={value}\n".encode())
        for name, upload in sorted(request.files.items(multi=True), key=lambda item: (item[0], item[1].filename or "")):
            content = upload.stream.read()
            upload.stream.seek(0)
            digest.update(f"{name}:{upload.filename}:{hashlib.sha256(content).hexdigest()}\n".encode())
    else:
        digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _refuse(status: int, message: str) -> Response:
    if request.path.startswith("/api/"):
        from core.views.api import error_response

        body, code = error_response(status, message)
        return Response(body.get_data(), code, content_type="application/json")
    from flask import render_template

    return Response(render_template("errors/error.html", code=status, message=message), status)


def _find(user_id: int, key: str) -> IdempotencyRecord | None:
    return db.session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id,
                                                             IdempotencyRecord.key == key))


def _replay(record: IdempotencyRecord, print_: str) -> Response:
    """The first request's answer, or why there is none."""
    if record.fingerprint != print_:
        return _refuse(422 if request.path.startswith("/api/") else 409,
                       KEY_REUSED if request.path.startswith("/api/") else FORM_REUSED)
    if record.status_code is None:
        return _refuse(409, ALREADY_DONE)
    if record.location and 300 <= record.status_code < 400 and not request.path.startswith("/api/"):
        flash(REPLAY_NOTICE, "info")
        response = redirect(record.location, code=record.status_code)
    elif record.body is None and record.status_code not in (204, 304) and not 300 <= record.status_code < 400:
        return _refuse(409, ALREADY_DONE)
    else:
        response = Response(record.body or "", record.status_code, content_type=record.content_type)
        if record.location:
            response.headers["Location"] = record.location
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _wait_for_answer(user_id: int, key: str, print_: str) -> Response:
    """A duplicate of a request still being answered: poll (outside any transaction, so that on SQLite the
    first request can write its answer) until it is there."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        db.session.rollback()
        record = _find(user_id, key)
        if record is not None and (record.status_code is not None or record.fingerprint != print_):
            return _replay(record, print_)
        if time.monotonic() >= deadline:
            db.session.rollback()
            return _refuse(409, IN_PROGRESS)
        time.sleep(0.1)


def begin(user_id: int) -> Response | None:
    """``before_request`` part: replay a known key, refuse a bad one, or insert the key in this request's
    transaction and let the view run (None). Called once the user is known (web: session; API: token)."""
    if request.method in READ_METHODS:
        return None
    key = requested_key()
    if key is None:
        return None
    if not KEY_PATTERN.fullmatch(key):
        return _refuse(400, KEY_INVALID)
    print_ = fingerprint()
    db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id,
                                                       IdempotencyRecord.created_at < utcnow() - TTL))
    record = _find(user_id, key)
    if record is not None:
        if record.status_code is None and record.fingerprint == print_:
            return _wait_for_answer(user_id, key, print_)
        return _replay(record, print_)
    record = IdempotencyRecord(user_id=user_id, key=key, method=request.method, path=request.full_path[:500],
                               fingerprint=print_)
    try:
        with db.session.begin_nested():
            db.session.add(record)
    except IntegrityError:  # the same key committed by a simultaneous duplicate a moment ago
        return _wait_for_answer(user_id, key, print_)
    g.idempotency = (record, db.session().get_transaction())
    return None


def finish(response: Response) -> Response:
    """``after_request`` part: when the request's transaction was committed with its key, keep the answer."""
    state = g.pop("idempotency", None)
    if state is None:
        return response
    record, transaction = state
    committed = inspect(record).persistent and db.session().get_transaction() is not transaction
    if not committed:
        return response  # rolled back or never committed: the key goes with the request's writes
    try:
        record.status_code = response.status_code
        record.location = (response.headers.get("Location") or "")[:500] or None
        record.content_type = (response.content_type or "")[:100] or None
        if not response.is_streamed and (response.content_length or 0) <= MAX_BODY:
            record.body = response.get_data(as_text=True)
        db.session.commit()
    except Exception:  # noqa: BLE001 - the write is done; a lost answer only makes a replay say "done" (409)
        db.session.rollback()
    return response


def _web_begin() -> Response | None:
    if request.path.startswith("/api/") or not current_user.is_authenticated:
        return None  # the API starts after token authentication (core.views.api.authenticate)
    return begin(current_user.id)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["form_keys"] = form_keys
    app.before_request(_web_begin)
    app.after_request(finish)
