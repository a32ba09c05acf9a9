"""Audit trail: services call :func:`record` for every change they make (R-A5, "nothing is ever lost")."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import has_request_context, request
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from core.models import AuditEntry
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
