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

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
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
#: Why a step has no position (the browser's answer to navigator.geolocation), stored as the code.
GPS_MISSING = {"denied": "未授权定位", "unsupported": "设备或浏览器不支持定位", "timeout": "定位超时",
               "unavailable": "无法获取位置"}
#: Who signs an enforcement run (现场检查记录): the two inspectors and the enterprise's on-site person.
SIGNATURE_ROLES = {"inspector": "检查人员", "enterprise": "被检查单位现场负责人"}


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
    # 执法检查 on site (R-E3): where it started and ended (or why the browser gave no position), the second
    # inspector, the place inspected and the enterprise's on-site person.
    start_lat: Mapped[float | None] = mapped_column(Float, comment="开始位置纬度（WGS-84）")
    start_lng: Mapped[float | None] = mapped_column(Float, comment="开始位置经度（WGS-84）")
    start_accuracy_m: Mapped[float | None] = mapped_column(Float, comment="开始位置精度（米）")
    start_gps_missing: Mapped[str | None] = mapped_column(String(20), comment="开始时未获取定位的原因代码")
    end_lat: Mapped[float | None] = mapped_column(Float, comment="结束位置纬度（WGS-84）")
    end_lng: Mapped[float | None] = mapped_column(Float, comment="结束位置经度（WGS-84）")
    end_accuracy_m: Mapped[float | None] = mapped_column(Float, comment="结束位置精度（米）")
    end_gps_missing: Mapped[str | None] = mapped_column(String(20), comment="结束时未获取定位的原因代码")
    co_inspector_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True,
                                                        comment="第二名执法人员")
    place: Mapped[str | None] = mapped_column(String(200), comment="检查场所")
    onsite_name: Mapped[str | None] = mapped_column(String(50), comment="被检查单位现场负责人姓名")
    onsite_title: Mapped[str | None] = mapped_column(String(50), comment="被检查单位现场负责人职务")

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


class InspectionSignature(Base):
    __tablename__ = "inspection_signatures"
    __table_args__ = ({"comment": "检查记录的手写签名（执法人员、被检查单位现场负责人）"},)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("inspection_runs.id", ondelete="CASCADE"), index=True,
                                        comment="检查记录")
    role: Mapped[str] = mapped_column(String(20), comment="签名人身份：inspector 执法人员 / enterprise 现场负责人")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="签名的执法人员（用户）")
    name: Mapped[str] = mapped_column(String(50), comment="签名人姓名")
    title: Mapped[str | None] = mapped_column(String(50), comment="职务（现场负责人）")
    cert_number: Mapped[str | None] = mapped_column(String(40), comment="签名时的执法证号")
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, comment="签名时间")
    sha256: Mapped[str] = mapped_column(String(64), comment="签名图片（PNG）的 SHA-256（附件存储）")
    lat: Mapped[float | None] = mapped_column(Float, comment="签名位置纬度")
    lng: Mapped[float | None] = mapped_column(Float, comment="签名位置经度")
    accuracy_m: Mapped[float | None] = mapped_column(Float, comment="签名位置精度（米）")

    @property
    def role_label(self) -> str:
        return SIGNATURE_ROLES.get(self.role, self.role)


class InspectionEvent(Base):
    """One step of the full-process record (执法全过程记录, R-E5): who, when, where and the evidence."""

    __tablename__ = "inspection_events"
    __table_args__ = ({"comment": "执法全过程记录（检查的每一步）"},)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("inspection_runs.id", ondelete="CASCADE"), index=True,
                                        comment="检查记录")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, comment="时间")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="操作人")
    actor_name: Mapped[str] = mapped_column(String(50), comment="操作人姓名")
    action: Mapped[str] = mapped_column(String(40), comment="步骤代码（见 field.EVENT_LABELS）")
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, comment="步骤内容")
    lat: Mapped[float | None] = mapped_column(Float, comment="位置纬度")
    lng: Mapped[float | None] = mapped_column(Float, comment="位置经度")
    accuracy_m: Mapped[float | None] = mapped_column(Float, comment="位置精度（米）")
    gps_missing: Mapped[str | None] = mapped_column(String(20), comment="未获取定位的原因代码")
    attachment_shas: Mapped[list[str] | None] = mapped_column(JSON, comment="证据文件（照片、签名、文书）SHA-256")

    @property
    def gps_missing_label(self) -> str | None:
        return GPS_MISSING.get(self.gps_missing or "", self.gps_missing)
