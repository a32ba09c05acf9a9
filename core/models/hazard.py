"""Hidden dangers (事故隐患) and their closed loop (R-H1…R-H6).

A hidden danger belongs to an enterprise (or another inspectable object owned by one) and copies the
enterprise's ``scope_path`` so that every list is filtered on this table alone. Its state changes only through
:mod:`core.services.hazard_flow`, which records a :class:`HazardTransition` for every step.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, TimestampMixin, VersionedMixin, utcnow
from core.models.org import Agency, Enterprise

if TYPE_CHECKING:
    from core.models.risk import ControlMeasure, RiskPoint

# BIGINT ids on PostgreSQL (a city reaches millions of rows); SQLite only autoincrements INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer, "sqlite")


class HazardState(StrEnum):
    REGISTERED = "registered"
    RECTIFYING = "rectifying"
    PENDING_REVIEW = "pending_review"
    REVIEWED = "reviewed"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return HAZARD_STATE_LABELS[self]


HAZARD_STATE_LABELS = {
    HazardState.REGISTERED: "登记",
    HazardState.RECTIFYING: "整改中",
    HazardState.PENDING_REVIEW: "待复查",
    HazardState.REVIEWED: "已复查待销号",
    HazardState.CLOSED: "已销号",
}
#: States in which the rectification deadline runs (an overdue hazard is one of these past its deadline).
OPEN_STATES = (HazardState.REGISTERED, HazardState.RECTIFYING)

HAZARD_CATEGORIES = {
    "human": "人的不安全行为",
    "thing": "物的不安全状态",
    "management": "管理缺陷",
    "environment": "环境因素",
}
HAZARD_SOURCES = {
    "self_check": "企业自查",
    "inspection": "执法检查",
    "grid_patrol": "网格巡查",
    "report": "举报",
    "campaign": "专项行动",
}


class Hazard(VersionedMixin, TimestampMixin, Base):
    __tablename__ = "hazards"
    __table_args__ = (
        # The list pages: scope prefix + filters, newest first (keyset on id).
        Index("ix_hazards_scope_path_id", "scope_path", "id", postgresql_ops={"scope_path": "varchar_pattern_ops"}),
        Index("ix_hazards_enterprise_id_id", "enterprise_id", "id"),
        Index("ix_hazards_state_deadline", "state", "deadline"),
        # Capped counts of filtered lists as index-only scans; statistics by period (migration 0011, R-N1).
        Index("ix_hazards_scope_path_state_level", "scope_path", "state", "level",
              postgresql_ops={"scope_path": "varchar_pattern_ops"}),
        Index("ix_hazards_found_at", "found_at"),
        Index("ix_hazards_closed_at", "closed_at"),
        {"comment": "事故隐患"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), comment="所属生产经营单位")
    scope_path: Mapped[str] = mapped_column(String(255), comment="数据权限路径（企业的 scope_path）")
    object_type: Mapped[str | None] = mapped_column(String(40), comment="检查对象类型（插件登记；空为企业本身）")
    object_ref: Mapped[str | None] = mapped_column(String(100), comment="检查对象标识（如设备注册代码、车牌号）")
    location: Mapped[str | None] = mapped_column(String(200), comment="隐患部位")
    description: Mapped[str] = mapped_column(Text, comment="隐患描述")
    category: Mapped[str] = mapped_column(String(20), comment="类别：人的不安全行为/物的不安全状态/管理缺陷/环境")
    level: Mapped[str] = mapped_column(String(20), index=True, comment="等级：general 一般 / major 重大（可扩展）")
    rule_item: Mapped[str | None] = mapped_column(String(200), comment="判定为重大所依据的条款，如 hazchem/…#5")
    classified_by: Mapped[str | None] = mapped_column(String(40), comment="作出等级判定的插件（或 core）")
    sector: Mapped[str | None] = mapped_column(String(40), index=True, comment="专项领域（插件代码）")
    checklist_item: Mapped[str | None] = mapped_column(String(200), comment="发现该隐患的检查表条目")
    source: Mapped[str] = mapped_column(String(20), comment="来源：企业自查/执法检查/网格巡查/举报/专项行动")
    risk_point_id: Mapped[int | None] = mapped_column(ForeignKey("risk_points.id"), index=True, comment="所属风险点")
    control_measure_id: Mapped[int | None] = mapped_column(ForeignKey("control_measures.id"),
                                                           comment="失效的管控措施")
    found_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="发现人（平台用户）")
    found_by_name: Mapped[str] = mapped_column(String(50), comment="发现人姓名")
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), comment="发现时间")
    state: Mapped[str] = mapped_column(String(20), default=HazardState.REGISTERED, comment="状态")
    responsible_name: Mapped[str | None] = mapped_column(String(50), comment="整改责任人")
    responsible_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="整改责任人（平台用户）")
    measures: Mapped[str | None] = mapped_column(Text, comment="整改措施")
    deadline: Mapped[date | None] = mapped_column(Date, comment="整改期限")
    deadline_kind: Mapped[str | None] = mapped_column(String(10), comment="期限计法：calendar 自然日 / working 工作日")
    reported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), comment="重大隐患报告监管部门时间")
    rectified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), comment="报告整改完成时间")
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), comment="销号时间")
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="销号人")
    closed_on_spot: Mapped[bool] = mapped_column(Boolean, default=False, comment="立即整改（现场整改）销号")

    enterprise: Mapped[Enterprise] = relationship()
    risk_point: Mapped[RiskPoint | None] = relationship()
    control_measure: Mapped[ControlMeasure | None] = relationship()
    transitions: Mapped[list[HazardTransition]] = relationship(
        back_populates="hazard", order_by="HazardTransition.id", cascade="all, delete-orphan"
    )
    plan: Mapped[HazardPlan | None] = relationship(back_populates="hazard", cascade="all, delete-orphan")
    supervisions: Mapped[list[HazardSupervision]] = relationship(
        back_populates="hazard", order_by="HazardSupervision.id", cascade="all, delete-orphan"
    )
    extensions: Mapped[list[HazardExtension]] = relationship(
        back_populates="hazard", order_by="HazardExtension.id", cascade="all, delete-orphan"
    )

    @property
    def state_label(self) -> str:
        return HazardState(self.state).label

    def is_overdue(self, today: date) -> bool:
        """Python twin of :func:`core.services.hazards.overdue_clause`; tests keep the two equal."""
        return self.state in OPEN_STATES and self.deadline is not None and self.deadline < today

    @property
    def active_supervision(self) -> HazardSupervision | None:
        return next((s for s in reversed(self.supervisions) if s.lifted_at is None), None)


class HazardTransition(Base):
    """One step of a hidden danger's life: who did what, when, from which state to which, why, with evidence."""

    __tablename__ = "hazard_transitions"
    __table_args__ = {"comment": "隐患处置记录（时间线）"}

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(40), comment="动作")
    from_state: Mapped[str | None] = mapped_column(String(20), comment="原状态")
    to_state: Mapped[str] = mapped_column(String(20), comment="新状态")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="操作人")
    actor_name: Mapped[str] = mapped_column(String(50), comment="操作人姓名（快照）")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, comment="时间")
    comment: Mapped[str | None] = mapped_column(Text, comment="意见/说明")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, comment="本步骤的数据（期限、方案等）")

    hazard: Mapped[Hazard] = relationship(back_populates="transitions")
    attachments: Mapped[list[Attachment]] = relationship(
        primaryjoin="and_(foreign(Attachment.transition_id) == HazardTransition.id)", viewonly=True
    )


class HazardPlan(VersionedMixin, TimestampMixin, Base):
    """重大事故隐患: the report to the regulator (16号令 第十四条) and the 治理方案 (第十五条, six items)."""

    __tablename__ = "hazard_plans"
    __table_args__ = {"comment": "重大事故隐患报告与治理方案"}

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id", ondelete="CASCADE"), unique=True)
    status_and_cause: Mapped[str | None] = mapped_column(Text, comment="隐患的现状及其产生原因")
    harm_analysis: Mapped[str | None] = mapped_column(Text, comment="隐患的危害程度和整改难易程度分析")
    goals_tasks: Mapped[str | None] = mapped_column(Text, comment="（一）治理的目标和任务")
    methods_measures: Mapped[str | None] = mapped_column(Text, comment="（二）采取的方法和措施")
    funds_materials: Mapped[str | None] = mapped_column(Text, comment="（三）经费和物资的落实")
    funds_amount: Mapped[float | None] = mapped_column(comment="治理资金（万元）")
    organization_personnel: Mapped[str | None] = mapped_column(Text, comment="（四）负责治理的机构和人员")
    time_requirements: Mapped[str | None] = mapped_column(Text, comment="（五）治理的时限和要求")
    safety_emergency: Mapped[str | None] = mapped_column(Text, comment="（六）安全措施和应急预案")
    approved_by_name: Mapped[str | None] = mapped_column(String(50), comment="主要负责人（组织制定并实施）")

    hazard: Mapped[Hazard] = relationship(back_populates="plan")


class HazardSupervision(TimestampMixin, Base):
    """挂牌督办 of a major hidden danger by a regulator at a level; lifted when the hazard is struck off."""

    __tablename__ = "hazard_supervisions"
    __table_args__ = {"comment": "重大事故隐患挂牌督办"}

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(20), comment="督办层级：enterprise 企业 / county 县区 / city 市 / province 省")
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True, comment="挂牌督办机关")
    listed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="挂牌人")
    listed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, comment="挂牌时间")
    due_date: Mapped[date] = mapped_column(Date, comment="督办期限")
    leader_name: Mapped[str] = mapped_column(String(50), comment="督办责任领导")
    requirements: Mapped[str | None] = mapped_column(Text, comment="督办要求")
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), comment="摘牌（销号）时间")

    hazard: Mapped[Hazard] = relationship(back_populates="supervisions")
    agency: Mapped[Agency | None] = relationship()


class HazardExtension(TimestampMixin, Base):
    """延期申请: a request to move the rectification deadline, decided by whoever the flow names."""

    __tablename__ = "hazard_extensions"
    __table_args__ = {"comment": "整改延期申请"}

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    old_deadline: Mapped[date | None] = mapped_column(Date, comment="原期限")
    new_deadline: Mapped[date] = mapped_column(Date, comment="申请延至")
    reason: Mapped[str] = mapped_column(Text, comment="延期理由")
    status: Mapped[str] = mapped_column(String(20), default="pending", comment="pending 待审批/approved 批准/rejected 驳回")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_comment: Mapped[str | None] = mapped_column(Text, comment="审批意见")

    hazard: Mapped[Hazard] = relationship(back_populates="extensions")


class Attachment(Base):
    """An uploaded file (photo, PDF), stored outside the database under its SHA-256 (content-addressed)."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_owner", "owner_type", "owner_id"), {"comment": "附件"})

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    owner_type: Mapped[str] = mapped_column(String(40), comment="所属对象类型，如 hazard")
    owner_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), comment="所属对象 id")
    transition_id: Mapped[int | None] = mapped_column(ForeignKey("hazard_transitions.id"), comment="所属处置步骤")
    filename: Mapped[str] = mapped_column(String(200), comment="原文件名")
    content_type: Mapped[str] = mapped_column(String(100), comment="类型（按内容判定）")
    size: Mapped[int] = mapped_column(Integer, comment="字节数")
    sha256: Mapped[str] = mapped_column(String(64), index=True, comment="内容 SHA-256（存储键）")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: What the file said about itself, kept as data after its metadata was stripped (``{"gps": {lat, lon}}``).
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON, comment="文件自带信息（如照片 GPS 坐标）")


class Notification(Base):
    """An in-app notice (deadline reminder, overdue escalation, listing …). ``dedup_key`` makes the reminders
    job idempotent: running it twice on a day creates nothing new."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"), {"comment": "站内通知"})

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40), comment="类型：reminder/overdue/escalation/…")
    title: Mapped[str] = mapped_column(String(200), comment="标题")
    body: Mapped[str | None] = mapped_column(Text, comment="内容")
    link: Mapped[str | None] = mapped_column(String(300), comment="站内链接")
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True, comment="去重键")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), comment="已读时间")
