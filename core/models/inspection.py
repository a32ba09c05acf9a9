"""Inspection runs (检查记录): one checklist-driven check of an enterprise (or one of its objects) by whoever performs
it — the enterprise itself (自查), an inspector (执法检查) or a grid worker (网格巡查) — with its answers (R-P2, R-H1).

A run links the stored checklist *versions* it was made against (never the YAML), so a newer checklist version
never rewrites an old run. Answer photos are :class:`~core.models.hazard.Attachment` rows with owner_type
``inspection_answer``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, TimestampMixin, VersionedMixin, utcnow
from core.models.catalog import StoredChecklist, StoredChecklistItem
from core.models.org import Enterprise


class RunStatus(StrEnum):
    DRAFT = "draft"
    COMPLETED = "completed"


RUN_STATUS_LABELS = {RunStatus.DRAFT: "进行中", RunStatus.COMPLETED: "已完成"}
#: Who performs a run; the hazard source its failing answers are registered under.
RUN_KINDS = {"self_check": "企业自查", "enforcement": "执法检查", "grid_patrol": "网格巡查"}


class InspectionRun(VersionedMixin, TimestampMixin, Base):
    __tablename__ = "inspection_runs"
    __table_args__ = (
        Index("ix_inspection_runs_scope_path", "scope_path", postgresql_ops={"scope_path": "varchar_pattern_ops"}),
        {"comment": "检查记录（按检查表进行的一次检查）"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True, comment="被检查企业")
    scope_path: Mapped[str] = mapped_column(String(255), comment="数据权限路径（企业的 scope_path）")
    kind: Mapped[str] = mapped_column(String(20), comment="类型：企业自查/执法检查/网格巡查")
    object_type: Mapped[str | None] = mapped_column(String(80), comment="检查对象类型（插件定义）")
    object_ref: Mapped[str | None] = mapped_column(String(100), comment="检查对象标识（如车牌、注册代码）")
    task_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_tasks.id"), comment="来源排查任务")
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="检查人")
    started_by_name: Mapped[str] = mapped_column(String(50), comment="检查人姓名")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, comment="开始时间")
    status: Mapped[str] = mapped_column(String(20), default=RunStatus.DRAFT.value, comment="状态：进行中/已完成")
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), comment="完成时间")
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="完成人")
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, comment="结果汇总（计数、得分、隐患数）")

    enterprise: Mapped[Enterprise] = relationship()
    checklists: Mapped[list[InspectionRunChecklist]] = relationship(
        back_populates="run", order_by="InspectionRunChecklist.position", cascade="all, delete-orphan")

    @property
    def status_label(self) -> str:
        return RUN_STATUS_LABELS[RunStatus(self.status)]

    @property
    def kind_label(self) -> str:
        return RUN_KINDS.get(self.kind, self.kind)

    @property
    def is_completed(self) -> bool:
        return self.status == RunStatus.COMPLETED.value


class InspectionRunChecklist(Base):
    __tablename__ = "inspection_run_checklists"
    __table_args__ = {"comment": "检查记录采用的检查表版本"}

    run_id: Mapped[int] = mapped_column(ForeignKey("inspection_runs.id", ondelete="CASCADE"), primary_key=True)
    checklist_id: Mapped[int] = mapped_column(ForeignKey("checklists.id"), primary_key=True,
                                              comment="检查表版本（入库行）")
    position: Mapped[int] = mapped_column(Integer, default=0, comment="顺序")

    run: Mapped[InspectionRun] = relationship(back_populates="checklists")
    checklist: Mapped[StoredChecklist] = relationship()


class InspectionAnswer(VersionedMixin, Base):
    __tablename__ = "inspection_answers"
    __table_args__ = (UniqueConstraint("run_id", "item_id", name="uq_inspection_answers_run_id_item_id"),
                      {"comment": "检查记录的逐条答案"})

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("inspection_runs.id", ondelete="CASCADE"), comment="检查记录")
    item_id: Mapped[int] = mapped_column(ForeignKey("checklist_items.id"), comment="检查表条目（入库版本）")
    value: Mapped[str | None] = mapped_column(String(2000), comment="答案：yes/no/na、数值或文字")
    passed: Mapped[bool | None] = mapped_column(Boolean, comment="是否合格（按合格条件计算；不适用或无条件为空）")
    comment: Mapped[str | None] = mapped_column(Text, comment="说明")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="作答人")
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, comment="作答时间")
    hazard_id: Mapped[int | None] = mapped_column(ForeignKey("hazards.id"), comment="由此条生成的隐患")

    item: Mapped[StoredChecklistItem] = relationship()
