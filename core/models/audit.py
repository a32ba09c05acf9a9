"""The audit log: one row per change made through a service (R-A5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_object", "object_type", "object_id"),
        # Login throttling counts recent failures per address (core.services.logins).
        Index("ix_audit_log_action_ip_at", "action", "ip", "at"),
        {"comment": "审计日志（只增不改）"},
    )

    # BIGINT on PostgreSQL; SQLite only autoincrements an INTEGER PRIMARY KEY.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True, comment="时间")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True, comment="操作人")
    actor_name: Mapped[str] = mapped_column(String(64), comment="操作人登录名（快照；系统任务为 system）")
    action: Mapped[str] = mapped_column(String(40), comment="动作，如 create/update/login")
    object_type: Mapped[str] = mapped_column(String(40), comment="对象类型")
    object_id: Mapped[str | None] = mapped_column(String(64), comment="对象标识")
    summary: Mapped[str | None] = mapped_column(String(300), comment="摘要")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, comment="变更前")
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, comment="变更后")
    ip: Mapped[str | None] = mapped_column(String(45), comment="来源地址")
