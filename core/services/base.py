"""Small helpers shared by services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from core.services.errors import Conflict

T = TypeVar("T")


def check_version(obj: Any, expected: int | None, what: str = "该记录") -> None:
    """Refuse with 409 when the client edited another version than the current one.

    ``expected`` None means the caller did not send a version: for updates that is refused as well, because a
    blind overwrite is exactly what optimistic locking is there to prevent.
    """
    if expected is None:
        raise Conflict(f"{what}缺少版本号，无法确认您修改的是最新数据，请刷新后重试")
    if obj.version != expected:
        raise Conflict(f"{what}已被他人修改（当前版本 {obj.version}，您修改的是版本 {expected}），请刷新后重试")


@dataclass
class Page(Generic[T]):
    """One page of a keyset-paginated list, newest first (``id`` descending).

    ``next_after`` is the cursor for the following page (None on the last page); ``total`` is exact up to
    ``total_cap`` and then reported as the cap with ``total_capped`` set, so that a count never scans a
    million rows just to print a number.
    """

    items: list[T]
    next_after: int | None
    total: int
    total_capped: bool = False
    after: int | None = None


def keyset_page(
    session: Session, stmt: Select, id_column: Any, *, after: int | None, size: int, total_cap: int = 100_000
) -> Page:
    """Run ``stmt`` (already filtered) as one page ordered by ``id_column`` descending after the cursor."""
    count_stmt = select(func.count()).select_from(stmt.with_only_columns(id_column).limit(total_cap + 1).subquery())
    total = session.scalar(count_stmt) or 0
    page_stmt = stmt.order_by(id_column.desc())
    if after is not None:
        page_stmt = page_stmt.where(id_column < after)
    rows = list(session.scalars(page_stmt.limit(size + 1)))
    has_more = len(rows) > size
    rows = rows[:size]
    return Page(
        items=rows,
        next_after=rows[-1].id if has_more and rows else None,
        total=min(total, total_cap),
        total_capped=total > total_cap,
        after=after,
    )
