"""The risk register of dual prevention (双重预防, R-R1, R-R2): risk points, their control measures and the
periodic inspection tasks that check those measures."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, TimestampMixin, VersionedMixin
from core.models.org import Enterprise


class RiskGrade(StrEnum):
    """Four risk grades, high to low, with their mandated colours (重大红、较大橙、一般黄、低蓝)."""

    MAJOR = "major"
    LARGE = "large"
    GENERAL = "general"
    LOW = "low"

    @property
    def label(self) -> str:
        return RISK_GRADE_LABELS[self][0]

    @property
    def colour(self) -> str:
        return RISK_GRADE_LABELS[self][1]


RISK_GRADE_LABELS = {
    RiskGrade.MAJOR: ("重大风险", "red"),
    RiskGrade.LARGE: ("较大风险", "orange"),
    RiskGrade.GENERAL: ("一般风险", "yellow"),
    RiskGrade.LOW: ("低风险", "blue"),
}
RISK_CATEGORIES = {"process": "生产工艺", "equipment": "设备设施", "environment": "作业环境", "management": "管理体系"}


class RiskPoint(VersionedMixin, TimestampMixin, Base):
    __tablename__ = "risk_points"
    __table_args__ = (
        Index("ix_risk_points_scope_path", "scope_path", postgresql_ops={"scope_path": "varchar_pattern_ops"}),
        {"comment": "安全风险点（风险分析单元）"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True, comment="所属企业")
    scope_path: Mapped[str] = mapped_column(String(255), comment="数据权限路径（企业的 scope_path）")
    name: Mapped[str] = mapped_column(String(100), comment="风险点名称")
    category: Mapped[str] = mapped_column(String(20), comment="类别：生产工艺/设备设施/作业环境/管理体系")
    location: Mapped[str | None] = mapped_column(String(200), comment="位置")
    hazard_identification: Mapped[str | None] = mapped_column(Text, comment="危险有害因素辨识")
    possible_accidents: Mapped[str | None] = mapped_column(String(200), comment="可能导致的事故类型")
    method: Mapped[str] = mapped_column(String(20), comment="评价方法代码，如 LEC、LS")
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, comment="评价输入（如 L/E/C 取值）")
    score: Mapped[float] = mapped_column(Float, comment="风险值（D 或 R）")
    grade: Mapped[str] = mapped_column(String(20), index=True, comment="风险等级：重大/较大/一般/低")
    responsible_company: Mapped[str | None] = mapped_column(String(50), comment="公司级管控责任人")
    responsible_workshop: Mapped[str | None] = mapped_column(String(50), comment="车间（部门）级管控责任人")
    responsible_team: Mapped[str | None] = mapped_column(String(50), comment="班组级管控责任人")
    responsible_post: Mapped[str | None] = mapped_column(String(50), comment="岗位级管控责任人")
    plan_x: Mapped[float | None] = mapped_column(Float, comment="平面图横坐标（0–1，相对宽度）")
    plan_y: Mapped[float | None] = mapped_column(Float, comment="平面图纵坐标（0–1，相对高度）")
    longitude: Mapped[float | None] = mapped_column(Float, comment="经度")
    latitude: Mapped[float | None] = mapped_column(Float, comment="纬度")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, comment="在用")

    enterprise: Mapped[Enterprise] = relationship()
    measures: Mapped[list[ControlMeasure]] = relationship(
        back_populates="risk_point", order_by="ControlMeasure.id", cascade="all, delete-orphan"
    )

    @property
    def grade_label(self) -> str:
        return RiskGrade(self.grade).label

    @property
    def colour(self) -> str:
        return RiskGrade(self.grade).colour


class ControlMeasure(TimestampMixin, Base):
    __tablename__ = "control_measures"
    __table_args__ = {"comment": "风险管控措施"}

    id: Mapped[int] = mapped_column(primary_key=True)
    risk_point_id: Mapped[int] = mapped_column(ForeignKey("risk_points.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), comment="类型：工程技术/管理/培训教育/个体防护/应急处置")
    description: Mapped[str] = mapped_column(Text, comment="措施内容")
    level: Mapped[str | None] = mapped_column(String(20), comment="管控层级：公司/车间/班组/岗位")

    risk_point: Mapped[RiskPoint] = relationship(back_populates="measures")
    tasks: Mapped[list[InspectionTask]] = relationship(
        back_populates="measure", order_by="InspectionTask.id", cascade="all, delete-orphan"
    )


class InspectionTask(VersionedMixin, TimestampMixin, Base):
    """隐患排查任务: who checks a control measure, what, how often; ``next_due`` drives the due checks."""

    __tablename__ = "inspection_tasks"
    __table_args__ = (Index("ix_inspection_tasks_due", "enterprise_id", "next_due"), {"comment": "隐患排查任务"})

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("control_measures.id", ondelete="CASCADE"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), comment="所属企业")
    content: Mapped[str] = mapped_column(Text, comment="排查内容")
    assignee_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="排查人（平台用户）")
    assignee_name: Mapped[str | None] = mapped_column(String(50), comment="排查人/岗位")
    period: Mapped[str] = mapped_column(String(20), comment="周期：shift/daily/weekly/monthly/quarterly/yearly")
    next_due: Mapped[date] = mapped_column(Date, comment="下次应排查日期")
    last_done: Mapped[date | None] = mapped_column(Date, comment="上次排查日期")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    checklist_code: Mapped[str | None] = mapped_column(String(80), comment="按此检查表排查（检查表代码，用最新版本）")

    measure: Mapped[ControlMeasure] = relationship(back_populates="tasks")


class TaskCheck(Base):
    """One performed check of an inspection task: passed, or failed with the hidden danger it produced."""

    __tablename__ = "task_checks"
    __table_args__ = {"comment": "排查记录"}

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("inspection_tasks.id", ondelete="CASCADE"), index=True)
    due_date: Mapped[date] = mapped_column(Date, comment="本次应排查日期")
    done_on: Mapped[date] = mapped_column(Date, comment="实际排查日期")
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    passed: Mapped[bool] = mapped_column(Boolean, comment="管控措施有效")
    note: Mapped[str | None] = mapped_column(Text, comment="说明")
    hazard_id: Mapped[int | None] = mapped_column(ForeignKey("hazards.id"), comment="发现的隐患")
