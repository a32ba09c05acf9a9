"""Password login with throttling that cannot lock a real user out (R-A5; issue 14 item 6).

The old lockout (5 failures lock the account 15 minutes, counted on the account alone) let anyone who knew a
user name lock that user out, and its message (「再失败 N 次」) told whether the account existed. Throttling now
counts failures where they come from, in the audit log, so a flood from one address slows that address only.

Contract of :func:`authenticate` (``session`` is the request's; nothing is committed here, the caller commits
whatever the outcome, since the audit entries are the throttle's memory):

* Every failed password check appends an audit entry ``login_failed`` with ``object_type="login"``,
  ``object_id`` = the user name as typed (known or not) and ``ip`` = the client address; a success appends
  ``login`` (``object_type="user"``, the user's id, the address).
* Before the password is checked, two counts are made over the last :data:`LOGIN_FAILURE_WINDOW_MINUTES`:

  - *pair*: failures for this user name from this address, since that account's last success from it;
  - *address*: failures from this address for any user name.

  A count ``n`` at or above its free allowance ``free`` (``LOGIN_FREE_FAILURES``, default 5, per pair;
  ``LOGIN_ADDRESS_FREE_FAILURES``, default 20, per address) means waiting ``min(2 ** (n - free + 1),
  LOGIN_MAX_DELAY_SECONDS)`` seconds (2 s, 4 s, 8 s … at most 15 minutes) after the latest of those failures.
  While either wait runs, :class:`LoginThrottled` (HTTP 429, ``retry_after`` in whole seconds) is raised without
  checking the password — the right password is refused too, *from that address*: from any other address the
  same account logs in at once. The refusal is audited as ``login_throttled`` and does not extend the wait.
* A wrong password and an unknown user name both raise :class:`LoginRefused` 「用户名或密码错误」 and cost one
  password hash each (an unknown name is checked against a dummy hash), so neither the message, the status nor
  the time tells whether an account exists. A disabled account is named as such only after the right password.
* The password change page (:func:`core.services.users.change_password`) passes through :func:`throttle` and
  records a wrong current password with :func:`record_failure`, so a borrowed session cannot guess the password.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from flask import current_app, has_request_context, request
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from core.models import AuditEntry, User
from core.models.base import utcnow
from core.services import audit
from core.services.errors import ServiceError

FAILED = "login_failed"
THROTTLED = "login_throttled"
SUCCEEDED = "login"
WRONG_CREDENTIALS = "用户名或密码错误"
# A hash computed once so that a login for an unknown user costs as much as one for a known user.
_DUMMY_HASH = generate_password_hash("anjian-timing-equaliser")


class LoginRefused(ServiceError):
    """Wrong credentials or a disabled account."""

    status = 401


class LoginThrottled(ServiceError):
    """Too many recent failures for this user name from this address, or from this address: wait ``retry_after``
    seconds. The message names the wait only, never whether the account exists."""

    status = 429

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"登录尝试过于频繁，请 {_wait_text(retry_after)}后再试")


class _Anonymous:
    """The actor of an attempt that did not log in: nobody is known yet (the typed name is the entry's object)."""

    id = None
    username = "anonymous"


ANONYMOUS = _Anonymous()


def _wait_text(seconds: int) -> str:
    return f"{seconds} 秒" if seconds < 60 else f"{math.ceil(seconds / 60)} 分钟"


def _as_utc(value: datetime | None) -> datetime | None:
    # SQLite returns naive datetimes even for timezone-aware columns; they were stored as UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _delay(failures: int, free: int) -> int:
    """Seconds to wait after the latest failure: none below the allowance, then doubling up to the cap."""
    if failures < free:
        return 0
    return min(2 ** min(failures - free + 1, 30), int(current_app.config["LOGIN_MAX_DELAY_SECONDS"]))


def _ip_is(address: str | None):
    return AuditEntry.ip == address if address else AuditEntry.ip.is_(None)


def retry_after(session: Session, username: str, address: str | None, user: User | None = None,
                now: datetime | None = None) -> int:
    """Seconds the next attempt for ``username`` from ``address`` must wait (0: may try now). Reads only."""
    cfg = current_app.config
    now = now or utcnow()
    since = now - timedelta(minutes=cfg["LOGIN_FAILURE_WINDOW_MINUTES"])
    pair_since = since
    if user is not None:
        last_ok = _as_utc(session.scalar(select(func.max(AuditEntry.at)).where(
            AuditEntry.action == SUCCEEDED, AuditEntry.actor_id == user.id, _ip_is(address))))
        if last_ok is not None and last_ok > pair_since:
            pair_since = last_ok
    wait = 0
    checks = (
        (select(func.count(AuditEntry.id), func.max(AuditEntry.at)).where(
            AuditEntry.action == FAILED, _ip_is(address), AuditEntry.at >= since), cfg["LOGIN_ADDRESS_FREE_FAILURES"]),
        (select(func.count(AuditEntry.id), func.max(AuditEntry.at)).where(
            AuditEntry.action == FAILED, _ip_is(address), AuditEntry.object_type == "login",
            AuditEntry.object_id == username[:64], AuditEntry.at > pair_since), cfg["LOGIN_FREE_FAILURES"]),
    )
    for stmt, free in checks:
        count, latest = session.execute(stmt).one()
        delay = _delay(count or 0, free)
        if delay and latest is not None:
            left = (_as_utc(latest) + timedelta(seconds=delay) - now).total_seconds()
            wait = max(wait, math.ceil(left))
    return wait


def _record(session: Session, actor, action: str, object_type: str, object_id, summary: str,
            address: str | None) -> None:
    entry = audit.record(session, actor, action, object_type, object_id, summary=summary)
    entry.ip = address


def throttle(session: Session, username: str, address: str | None, user: User | None = None,
             now: datetime | None = None) -> None:
    """Raise :class:`LoginThrottled` (after auditing ``login_throttled``) while ``username`` from ``address`` must
    wait; else nothing."""
    wait = retry_after(session, username[:64], address, user, now)
    if wait > 0:
        _record(session, ANONYMOUS, THROTTLED, "login", username[:64], f"登录尝试过于频繁，须等待 {wait} 秒", address)
        session.flush()
        raise LoginThrottled(wait)


def record_failure(session: Session, username: str, address: str | None,
                   summary: str = "登录失败：用户名或密码错误") -> None:
    """Audit a failed password check for ``username`` from ``address``: what the throttle counts. Also used by
    the password change page for a wrong current password (a stolen session must not guess the password)."""
    _record(session, ANONYMOUS, FAILED, "login", username[:64], summary, address)
    session.flush()


def authenticate(session: Session, username: str, password: str, address: str | None = None) -> User:
    """Check a password login for ``username`` from ``address`` (default: the request's client address); see the
    module's contract. Returns the user, whose last login time is set."""
    if address is None and has_request_context():
        address = request.remote_addr
    name = username[:64]
    user = session.scalar(select(User).where(User.username == name)) if name else None
    now = utcnow()
    throttle(session, name, address, user, now)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        ok = False
    else:
        ok = check_password_hash(user.password_hash, password)
    if not ok:
        record_failure(session, name, address)
        raise LoginRefused(WRONG_CREDENTIALS)
    if not user.is_active:
        raise LoginRefused("该账户已停用，请联系管理员")
    # A plain UPDATE, outside the row's optimistic lock: two devices logging in at once must not make one of them
    # fail on a version clash, and a login must not turn an admin's open edit form stale.
    session.execute(update(User).where(User.id == user.id).values(last_login_at=now)
                    .execution_options(synchronize_session=False))
    session.refresh(user, ["last_login_at"])
    _record(session, user, SUCCEEDED, "user", user.id, "登录", address)
    session.flush()
    return user
