"""Safety-production standardization (安全生产标准化): annual self-assessments and the lifecycle per enterprise
(R-S1…R-S4).

An assessment copies the items it is built from (core edition + the enterprise's sector criteria), so a later
change of the criteria data never rewrites it; it records the edition it used. Workflow: draft → submitted (signed
by the 主要负责人) → accepted or returned (then edited and submitted again); accepted is final.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, TimestampMixin, VersionedMixin, utcnow
from core.models.org import Enterprise


class AssessmentStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    ACCEPTED = "accepted"

    @property
    def label(self) -> str:
        return {"draft": "草稿", "submitted": "已提交待审核", "returned": "已退回修改", "accepted": "审核通过"}[self.value]


class ItemResult(StrEnum):
    PENDING = "pending"
    SCORED = "scored"
    NOT_APPLICABLE = "not_applicable"

    @property
    def label(self) -> str:
        return {"pending": "未评", "scored": "已评", "not_applicable": "不适用"}[self.value]


class LifecycleStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    CERTIFIED = "certified"
    REVIEW = "review"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return {"in_progress": "创建中", "certified": "达标", "review": "复评中", "withdrawn": "已退出"}[self.value]


class Assessment(VersionedMixin, TimestampMixin, Base):
    __tablename__ = "assessments"
    __table_args__ = (
        Index("ix_assessments_enterprise_id_year", "enterprise_id", "year", unique=True),
        Index("ix_assessments_year_scope_path", "year", "scope_path",
              postgresql_ops={"scope_path": "varchar_pattern_ops"}),
        {"comment": "安全生产标准化自评"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), comment="企业")
    scope_path: Mapped[str] = mapped_column(String(255), comment="数据权限路径（企业的 scope_path）")
    year: Mapped[int] = mapped_column(Integer, comment="自评年度")
    criteria_code: Mapped[str] = mapped_column(String(60), comment="评分标准版本代码，如 gbt33000-2016")
    criteria_standard: Mapped[str] = mapped_column(String(60), comment="评分标准编号，如 GB/T 33000-2016")
    criteria_title: Mapped[str] = mapped_column(String(200), comment="评分标准名称")
    sector_criteria: Mapped[list[str]] = mapped_column(JSON, default=list, comment="采用的行业评分细则代码")
    edition_note: Mapped[str | None] = mapped_column(Text, comment="版本说明（如新版已实施但条文未载入）")
    status: Mapped[str] = mapped_column(String(20), default=AssessmentStatus.DRAFT, comment="状态")
    team_leader: Mapped[str | None] = mapped_column(String(50), comment="自评组组长")
    team_members: Mapped[list[str]] = mapped_column(JSON, default=list, comment="自评组成员")
    deaths_in_window: Mapped[int] = mapped_column(Integer, default=0, comment="定级事故条件期内生产安全事故死亡人数")
    score: Mapped[float | None] = mapped_column(Float, comment="最终得分（百分制，按适用项折算）")
    earned_total: Mapped[float | None] = mapped_column(Float, comment="实得分合计")
    applicable_total: Mapped[float | None] = mapped_column(Float, comment="适用项标准分合计")
    grade: Mapped[str | None] = mapped_column(String(20), comment="计算等级：level1/level2/level3/none")
    grade_reason: Mapped[str | None] = mapped_column(Text, comment="等级判定说明")
    grade_rules: Mapped[dict[str, Any] | None] = mapped_column(JSON, comment="判定时使用的定级条件（快照）")
    signer_name: Mapped[str | None] = mapped_column(String(50), comment="主要负责人（签字）")
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), comment="提交时间")
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="提交人")
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), comment="审核时间")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="审核人")
    reviewer_name: Mapped[str | None] = mapped_column(String(50), comment="审核人姓名")
    review_comment: Mapped[str | None] = mapped_column(Text, comment="审核意见")
    returned_count: Mapped[int] = mapped_column(Integer, default=0, comment="退回次数")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="创建人")

    enterprise: Mapped[Enterprise] = relationship()
    items: Mapped[list[AssessmentItem]] = relationship(
        back_populates="assessment", order_by="AssessmentItem.position", cascade="all, delete-orphan")

    @property
    def status_label(self) -> str:
        return AssessmentStatus(self.status).label

    @property
    def is_editable(self) -> bool:
        return self.status in (AssessmentStatus.DRAFT, AssessmentStatus.RETURNED)


class AssessmentItem(Base):
    __tablename__ = "assessment_items"
    __table_args__ = (
        Index("ix_assessment_items_assessment_id_position", "assessment_id", "position"),
        {"comment": "安全生产标准化自评评分项（自评时复制的评分标准条目及其结果）"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"), comment="自评")
    position: Mapped[int] = mapped_column(Integer, comment="顺序")
    element_code: Mapped[str] = mapped_column(String(20), comment="一级要素代码")
    element_name: Mapped[str] = mapped_column(String(60), comment="一级要素名称")
    code: Mapped[str] = mapped_column(String(40), comment="评分项代码")
    text: Mapped[str] = mapped_column(Text, comment="评分项内容")
    source: Mapped[str] = mapped_column(String(60), comment="来源评分标准代码（核心版本或行业细则）")
    sector: Mapped[str | None] = mapped_column(String(40), comment="行业评分项的领域代码")
    standard_score: Mapped[float] = mapped_column(Float, comment="标准分")
    is_veto: Mapped[bool] = mapped_column(Boolean, default=False, comment="否决项")
    verified: Mapped[bool] = mapped_column(Boolean, default=False, comment="条文已核实")
    evidence_required: Mapped[str | None] = mapped_column(Text, comment="应提供的证据")
    deduction_rules: Mapped[str | None] = mapped_column(Text, comment="扣分规则")
    result: Mapped[str] = mapped_column(String(20), default=ItemResult.PENDING, comment="评定状态")
    deduction: Mapped[float] = mapped_column(Float, default=0, comment="扣分")
    score: Mapped[float | None] = mapped_column(Float, comment="实得分")
    reason: Mapped[str | None] = mapped_column(Text, comment="扣分理由")
    vetoed: Mapped[bool] = mapped_column(Boolean, default=False, comment="否决项不符合")
    comment: Mapped[str | None] = mapped_column(Text, comment="备注")
    na_reason: Mapped[str | None] = mapped_column(Text, comment="不适用理由")
    hazard_id: Mapped[int | None] = mapped_column(ForeignKey("hazards.id"), comment="据此登记的隐患")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="最后评定人")
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), comment="最后评定时间")

    assessment: Mapped[Assessment] = relationship(back_populates="items")

    @property
    def result_label(self) -> str:
        return ItemResult(self.result).label

    @property
    def is_deducted(self) -> bool:
        return self.result == ItemResult.SCORED and (self.deduction > 0 or self.vetoed)


class StandardizationLifecycle(VersionedMixin, TimestampMixin, Base):
    """The enterprise's standardization state (one row per enterprise); ``Enterprise.standardization_status`` and
    ``standardization_grade`` mirror it for lists and filters."""

    __tablename__ = "standardization_lifecycles"
    __table_args__ = (
        Index("ix_standardization_lifecycles_scope_path", "scope_path",
              postgresql_ops={"scope_path": "varchar_pattern_ops"}),
        Index("ix_standardization_lifecycles_valid_until", "valid_until"),
        {"comment": "企业安全生产标准化达标状态"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), unique=True, comment="企业")
    scope_path: Mapped[str] = mapped_column(String(255), comment="数据权限路径（企业的 scope_path）")
    status: Mapped[str] = mapped_column(String(20), default=LifecycleStatus.IN_PROGRESS, comment="状态")
    grade: Mapped[str | None] = mapped_column(String(20), comment="达标等级")
    certificate_no: Mapped[str | None] = mapped_column(String(60), comment="证书（公告）编号")
    certified_on: Mapped[date | None] = mapped_column(Date, comment="达标日期")
    valid_until: Mapped[date | None] = mapped_column(Date, comment="有效期至")
    withdrawn_reason: Mapped[str | None] = mapped_column(Text, comment="退出原因")
    withdrawn_on: Mapped[date | None] = mapped_column(Date, comment="退出日期")
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"), comment="依据的自评")

    enterprise: Mapped[Enterprise] = relationship()
    events: Mapped[list[StandardizationEvent]] = relationship(
        back_populates="lifecycle", order_by="StandardizationEvent.id", cascade="all, delete-orphan")

    @property
    def status_label(self) -> str:
        return LifecycleStatus(self.status).label


class StandardizationEvent(Base):
    __tablename__ = "standardization_events"
    __table_args__ = ({"comment": "安全生产标准化达标状态变更记录"},)

    id: Mapped[int] = mapped_column(primary_key=True)
    lifecycle_id: Mapped[int] = mapped_column(ForeignKey("standardization_lifecycles.id", ondelete="CASCADE"),
                                              index=True, comment="达标状态")
    action: Mapped[str] = mapped_column(String(20), comment="动作：create/certify/review/withdraw")
    from_status: Mapped[str | None] = mapped_column(String(20), comment="原状态")
    to_status: Mapped[str] = mapped_column(String(20), comment="新状态")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, comment="等级、证书编号、原因等")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="操作人")
    actor_name: Mapped[str | None] = mapped_column(String(50), comment="操作人姓名")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, comment="时间")

    lifecycle: Mapped[StandardizationLifecycle] = relationship(back_populates="events")
