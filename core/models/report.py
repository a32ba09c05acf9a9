"""The enterprise's self-report (自查自报) of its hidden-danger statistics (R-H5).

《安全生产事故隐患排查治理暂行规定》第十四条: every quarter and every year an enterprise sends its 统计分析表, signed by
its 主要负责人, to the supervising departments (by the 15th of the next quarter / by 31 January). A row here is one
such table: a draft while the enterprise prepares it, then a submission whose figures are frozen. A submission is
never changed; a correction is a new submission that names the one it supersedes.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, String, Text, event, inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, TimestampMixin, VersionedMixin
from core.models.org import Enterprise


class SelfReportStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"

    @property
    def label(self) -> str:
        return {"draft": "草稿", "submitted": "已报送"}[self.value]


class HazardSelfReport(VersionedMixin, TimestampMixin, Base):
    __tablename__ = "hazard_self_reports"
    __table_args__ = (
        # The regulator's status list: the submissions of one period under a scope prefix.
        Index("ix_hazard_self_reports_period_scope_path", "period", "scope_path",
              postgresql_ops={"scope_path": "varchar_pattern_ops"}),
        Index("ix_hazard_self_reports_enterprise_id_period", "enterprise_id", "period"),
        {"comment": "隐患排查治理情况统计分析表（企业自查自报）"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), comment="报送单位")
    scope_path: Mapped[str] = mapped_column(String(255), comment="数据权限路径（企业的 scope_path）")
    period: Mapped[str] = mapped_column(String(7), comment="统计期：2026Q1（季度）或 2026（年度）")
    status: Mapped[str] = mapped_column(String(20), default=SelfReportStatus.DRAFT, comment="状态：草稿/已报送")
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, comment="统计数据（报送时冻结的快照）")
    analysis: Mapped[str | None] = mapped_column(Text, comment="统计分析（主要问题、原因和下一步措施）")
    signer_name: Mapped[str | None] = mapped_column(String(50), comment="主要负责人（签字）")
    due_date: Mapped[date] = mapped_column(Date, comment="报送期限（下一季度15日前 / 次年1月31日前）")
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), comment="报送时间")
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="报送人（主要负责人账户）")
    is_late: Mapped[bool] = mapped_column(Boolean, default=False, comment="逾期报送")
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("hazard_self_reports.id"),
                                                      comment="本报送更正的前一份报送")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="起草人")

    enterprise: Mapped[Enterprise] = relationship()
    supersedes: Mapped[HazardSelfReport | None] = relationship(remote_side=[id])

    @property
    def status_label(self) -> str:
        return SelfReportStatus(self.status).label

    @property
    def is_submitted(self) -> bool:
        return self.status == SelfReportStatus.SUBMITTED


@event.listens_for(HazardSelfReport, "before_update")
def _submitted_is_final(mapper, connection, target: HazardSelfReport) -> None:
    """Last line of defence behind the service: a submitted 统计分析表 is never written again."""
    history = inspect(target).attrs.status.history
    was = (history.deleted or history.unchanged or [None])[0]
    if was == SelfReportStatus.SUBMITTED:
        raise ValueError(f"统计分析表 {target.id} 已报送，不可修改（更正须新建报送）")
