"""Audit trail: services call :func:`record` for every change they make (R-A5, "nothing is ever lost")."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import has_request_context, request
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from core.models import AuditEntry
from core.models.base import utcnow
from core.services.actors import Actor


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    return value


def snapshot(obj: Any, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The column values of a mapped object as JSON-ready data (all columns when ``fields`` is None)."""
    names = fields if fields is not None else [c.key for c in inspect(obj).mapper.column_attrs]
    return {name: _jsonable(getattr(obj, name)) for name in names}


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose values differ, as (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: Any,
    *,
    summary: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one audit entry in the current transaction (so it commits or rolls back with the change)."""
    entry = AuditEntry(
        actor_id=actor.id,
        actor_name=actor.username,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        summary=(summary or "")[:300] or None,
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        ip=request.remote_addr if has_request_context() else None,
    )
    session.add(entry)
    return entry


#: A refused request is recorded once per user, request and this window: a scanner walking ids fills no disk,
#: and a reviewer still sees who probed what and when.
REFUSAL_WINDOW = timedelta(minutes=10)
REFUSED = "refused"


def record_refusal(session: Session, actor: Actor, status: int, method: str, path: str) -> AuditEntry | None:
    """Record that ``actor`` was refused ``method path`` — 403 (not permitted) or 404 (missing *or outside the
    actor's scope*; the answer never tells the two apart, the audit log does not need to either). None when the
    same refusal was recorded within :data:`REFUSAL_WINDOW`. The caller commits, after rolling back the refused
    request's own work."""
    summary = f"{method} {path} → {status}"[:300]
    recent = session.scalar(select(AuditEntry.id).where(
        AuditEntry.actor_id == actor.id, AuditEntry.action == REFUSED, AuditEntry.summary == summary,
        AuditEntry.at >= utcnow() - REFUSAL_WINDOW).limit(1))
    if recent is not None:
        return None
    return record(session, actor, REFUSED, "request", status, summary=summary)
