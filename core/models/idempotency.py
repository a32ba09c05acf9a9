"""Idempotency keys: what a one-shot request answered, so that a retry gets that answer instead of a second write."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, utcnow


class IdempotencyRecord(Base):
    """One key a user sent with a writing request (form field or ``Idempotency-Key`` header).

    The row is inserted in the request's own transaction, so it exists exactly when the request's writes were
    committed; the answer (``status_code`` …) is filled in right after. ``status_code`` NULL means committed but
    not yet answered (or the answer could not be kept). See :mod:`core.views.idempotency`.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_id_key"),
        {"comment": "幂等键（防止重复提交）"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), comment="提交人")
    key: Mapped[str] = mapped_column(String(64), comment="客户端生成的幂等键")
    method: Mapped[str] = mapped_column(String(8), comment="请求方法")
    path: Mapped[str] = mapped_column(String(500), comment="请求路径（含查询串）")
    fingerprint: Mapped[str] = mapped_column(String(64), comment="请求内容 SHA-256（同一键换了内容即拒绝）")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True,
                                                 comment="首次提交时间")
    status_code: Mapped[int | None] = mapped_column(Integer, comment="当时的应答状态码")
    location: Mapped[str | None] = mapped_column(String(500), comment="当时应答的 Location")
    content_type: Mapped[str | None] = mapped_column(String(100), comment="当时应答的 Content-Type")
    body: Mapped[str | None] = mapped_column(Text, comment="当时的应答正文（不超过上限时保存）")
