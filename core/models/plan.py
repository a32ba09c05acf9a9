"""Inspection planning (R-E1, R-E2): an agency's annual plan (年度执法计划), its 双随机一公开 draws and special
campaigns (专项行动).

A draw keeps everything needed to compute it again: the seed (text) and the full inputs (the ordered candidate
population with each enterprise's weight and risk class, the certified inspectors, the algorithm and its
version), so :func:`core.services.plans.recompute` can show that the stored list is the one the seed gives.
Plans, draws and campaigns copy the materialised path of their agency's jurisdiction into ``scope_path`` so that
the scope filter is a prefix match on the table alone (decision 1).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, TimestampMixin, VersionedMixin
from core.models.org import Agency, Enterprise


class PlanStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"


PLAN_STATUS_LABELS = {PlanStatus.DRAFT: "草稿", PlanStatus.APPROVED: "已批准"}


class DrawStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    VOID = "void"


DRAW_STATUS_LABELS = {DrawStatus.DRAFT: "待公布", DrawStatus.PUBLISHED: "已公布", DrawStatus.VOID: "已作废"}


class ItemStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


ITEM_STATUS_LABELS = {ItemStatus.OPEN: "待检查", ItemStatus.DONE: "已检查"}


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    CLOSED = "closed"


CAMPAIGN_STATUS_LABELS = {CampaignStatus.DRAFT: "筹备中", CampaignStatus.ACTIVE: "进行中",
                          CampaignStatus.CLOSED: "已结束"}
CAMPAIGN_KINDS = {"holiday": "节假日", "flood": "汛期", "big_check": "大排查大整治", "three_year": "三年行动",
                  "other": "其他"}


#: 企业类别 of plan targets and draw filters; an enterprise may be in several (一般: in none of the other three).
ENTERPRISE_CLASSES = {"high_risk": "高危行业", "above_scale": "规模以上", "key_industry": "重点行业领域",
                      "general": "一般企业"}


class InspectionPlan(VersionedMixin, TimestampMixin, Base):
    """年度执法计划: one per agency and year, with target numbers of checks (``targets``)."""

    __tablename__ = "inspection_plans"
    __table_args__ = (
        UniqueConstraint("agency_id", "year", name="uq_inspection_plans_agency_id_year"),
        Index("ix_inspection_plans_scope_path", "scope_path", postgresql_ops={"scope_path": "varchar_pattern_ops"}),
        {"comment": "年度执法计划"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), comment="执法机关")
    scope_path: Mapped[str] = mapped_column(String(255), comment="数据权限路径（机关辖区的物化路径）")
    year: Mapped[int] = mapped_column(Integer, comment="计划年度")
    title: Mapped[str] = mapped_column(String(200), comment="计划名称")
    targets: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, comment="目标检查家次：total 合计、sectors 按领域、classes 按企业类别、levels 按监管层级")
    note: Mapped[str | None] = mapped_column(Text, comment="说明（重点、方式、保障）")
    status: Mapped[str] = mapped_column(String(20), default=PlanStatus.DRAFT.value, comment="状态：草稿/已批准")
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="批准人")
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), comment="批准时间")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="制定人")

    agency: Mapped[Agency] = relationship()

    @property
    def status_label(self) -> str:
        return PLAN_STATUS_LABELS[PlanStatus(self.status)]


class InspectionDraw(VersionedMixin, TimestampMixin, Base):
    """双随机 draw: enterprises drawn at random (weighted by risk class) with two certified inspectors each."""

    __tablename__ = "inspection_draws"
    __table_args__ = (
        Index("ix_inspection_draws_scope_path", "scope_path", postgresql_ops={"scope_path": "varchar_pattern_ops"}),
        {"comment": "双随机抽查（抽取记录与公示）"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True, comment="执法机关")
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_plans.id"), index=True, comment="所属年度计划")
    scope_path: Mapped[str] = mapped_column(String(255), comment="数据权限路径（机关辖区的物化路径）")
    title: Mapped[str] = mapped_column(String(200), comment="名称，如 2026年11月双随机抽查")
    period_start: Mapped[date] = mapped_column(Date, comment="检查期间起")
    period_end: Mapped[date] = mapped_column(Date, comment="检查期间止")
    requested_count: Mapped[int] = mapped_column(Integer, comment="抽取企业数")
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, comment="抽取范围条件（领域、类别、监管层级）")
    seed: Mapped[str] = mapped_column(String(64), comment="随机种子（文本）")
    algorithm: Mapped[str] = mapped_column(String(60), comment="抽取算法及版本")
    inputs: Mapped[dict[str, Any]] = mapped_column(
        JSON, comment="抽取的全部输入：候选企业（顺序、权重、风险类别）、持证执法人员、算法；据此可复算")
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="抽取人")
    drawn_by_name: Mapped[str] = mapped_column(String(50), comment="抽取人姓名")
    drawn_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), comment="抽取时间")
    status: Mapped[str] = mapped_column(String(20), default=DrawStatus.DRAFT.value, comment="状态：待公布/已公布/已作废")
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), comment="公布时间")
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="公布人")
    public_token: Mapped[str | None] = mapped_column(String(32), unique=True, comment="公示页地址令牌")

    agency: Mapped[Agency] = relationship()
    plan: Mapped[InspectionPlan | None] = relationship()
    items: Mapped[list[DrawItem]] = relationship(
        back_populates="draw", order_by="DrawItem.position", cascade="all, delete-orphan")

    @property
    def status_label(self) -> str:
        return DRAW_STATUS_LABELS[DrawStatus(self.status)]

    @property
    def is_published(self) -> bool:
        return self.status == DrawStatus.PUBLISHED.value


class DrawItem(Base):
    """One drawn enterprise with its two inspectors; ``inspection_run_id`` once the check was made."""

    __tablename__ = "inspection_draw_items"
    __table_args__ = (
        UniqueConstraint("draw_id", "position", name="uq_inspection_draw_items_draw_id_position"),
        UniqueConstraint("draw_id", "enterprise_id", name="uq_inspection_draw_items_draw_id_enterprise_id"),
        {"comment": "双随机抽查名单（企业与两名执法人员）"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("inspection_draws.id", ondelete="CASCADE"), comment="抽查")
    position: Mapped[int] = mapped_column(Integer, comment="抽中顺序（从 1 起）")
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True, comment="抽中企业")
    inspector1_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, comment="执法人员一")
    inspector2_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, comment="执法人员二")
    status: Mapped[str] = mapped_column(String(20), default=ItemStatus.OPEN.value, comment="状态：待检查/已检查")
    inspection_run_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_runs.id"), comment="对应检查记录")
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), comment="关联检查记录的时间")

    draw: Mapped[InspectionDraw] = relationship(back_populates="items")
    enterprise: Mapped[Enterprise] = relationship()

    @property
    def status_label(self) -> str:
        return ITEM_STATUS_LABELS[ItemStatus(self.status)]

    @property
    def inspector_ids(self) -> tuple[int, int]:
        return (self.inspector1_id, self.inspector2_id)


class Campaign(VersionedMixin, TimestampMixin, Base):
    """专项行动: a themed campaign over some sectors and jurisdictions for a period, with its checklists."""

    __tablename__ = "campaigns"
    __table_args__ = (
        Index("ix_campaigns_scope_path", "scope_path", postgresql_ops={"scope_path": "varchar_pattern_ops"}),
        {"comment": "专项行动"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True, comment="组织机关")
    scope_path: Mapped[str] = mapped_column(String(255), comment="数据权限路径（机关辖区的物化路径）")
    name: Mapped[str] = mapped_column(String(200), comment="行动名称")
    kind: Mapped[str] = mapped_column(String(20), comment="类型：节假日/汛期/大排查大整治/三年行动/其他")
    sectors: Mapped[list[str]] = mapped_column(JSON, default=list, comment="涉及领域（插件代码；空为全部）")
    jurisdiction_ids: Mapped[list[int]] = mapped_column(JSON, default=list, comment="涉及辖区（空为机关全辖区）")
    starts_on: Mapped[date] = mapped_column(Date, comment="开始日期")
    ends_on: Mapped[date] = mapped_column(Date, comment="结束日期")
    checklist_codes: Mapped[list[str]] = mapped_column(JSON, default=list, comment="采用的检查表代码")
    description: Mapped[str | None] = mapped_column(Text, comment="行动内容与要求")
    status: Mapped[str] = mapped_column(String(20), default=CampaignStatus.DRAFT.value, comment="状态：筹备中/进行中/已结束")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="创建人")

    agency: Mapped[Agency] = relationship()

    @property
    def status_label(self) -> str:
        return CAMPAIGN_STATUS_LABELS[CampaignStatus(self.status)]

    @property
    def kind_label(self) -> str:
        return CAMPAIGN_KINDS.get(self.kind, self.kind)
