"""The stored catalog: every version of the plugins' rule sets and checklists ever synced (R-P2).

Rows are written once by ``anjian catalog sync`` (:func:`core.services.catalog.sync_catalog`) and never changed,
so an answer keeps the checklist version it was made against. A checklist version is (code, version); a rule set
has no version of its own in the YAML, so each change of its content is stored as a new ``revision``.
``content`` is the validated mapping as shipped and ``sha256`` the hash of its canonical JSON.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, utcnow


class StoredRuleSet(Base):
    __tablename__ = "rule_sets"
    __table_args__ = (UniqueConstraint("code", "revision", name="uq_rule_sets_code_revision"),
                      {"comment": "判定标准（重大事故隐患判定标准等）各版本"})

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(80), index=True, comment="判定标准代码，如 hazchem-2017-121")
    revision: Mapped[int] = mapped_column(Integer, default=1, comment="内容修订序号（内容每变化一次加一）")
    sector: Mapped[str] = mapped_column(String(40), comment="领域代码")
    title: Mapped[str] = mapped_column(String(300), comment="标题")
    document_number: Mapped[str] = mapped_column(String(200), comment="文号或标准号")
    issuer: Mapped[str] = mapped_column(String(200), comment="发布机关")
    kind: Mapped[str] = mapped_column(String(20), comment="类型：重大事故隐患判定/法定义务/目录")
    effective_from: Mapped[date] = mapped_column(Date, comment="施行日期")
    superseded_by: Mapped[str | None] = mapped_column(String(80), comment="被哪个判定标准代码替代")
    text_status: Mapped[str] = mapped_column(String(20), comment="条文状态：已核实/部分/待录入")
    content: Mapped[dict[str, Any]] = mapped_column(JSON, comment="校验后的完整内容")
    sha256: Mapped[str] = mapped_column(String(64), comment="规范化内容的 SHA-256")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, server_default=func.now(),
                                                 comment="入库时间")

    items: Mapped[list[StoredRuleItem]] = relationship(back_populates="rule_set", order_by="StoredRuleItem.position")


class StoredRuleItem(Base):
    __tablename__ = "rule_items"
    __table_args__ = (UniqueConstraint("rule_set_id", "number", name="uq_rule_items_rule_set_id_number"),
                      {"comment": "判定标准条目（条文原文）"})

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_set_id: Mapped[int] = mapped_column(ForeignKey("rule_sets.id"), comment="所属判定标准版本")
    number: Mapped[str] = mapped_column(String(40), comment="条目编号（按原文）")
    ref: Mapped[str] = mapped_column(String(130), index=True, comment="引用：<判定标准代码>#<编号>")
    position: Mapped[int] = mapped_column(Integer, comment="顺序")
    text: Mapped[str] = mapped_column(Text, comment="条文原文")
    verified: Mapped[bool] = mapped_column(Boolean, comment="条文已核实")
    title: Mapped[str | None] = mapped_column(String(100), comment="简称（非法规原文）")

    rule_set: Mapped[StoredRuleSet] = relationship(back_populates="items")


class StoredChecklist(Base):
    __tablename__ = "checklists"
    __table_args__ = (UniqueConstraint("code", "version", name="uq_checklists_code_version"),
                      {"comment": "检查表各版本（已发布版本不可修改）"})

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(80), comment="检查表代码，如 hazchem-basic")
    version: Mapped[str] = mapped_column(String(40), comment="版本号")
    sector: Mapped[str] = mapped_column(String(40), index=True, comment="领域代码")
    title: Mapped[str] = mapped_column(String(300), comment="标题")
    content: Mapped[dict[str, Any]] = mapped_column(JSON, comment="校验后的完整内容")
    sha256: Mapped[str] = mapped_column(String(64), comment="规范化内容的 SHA-256")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, server_default=func.now(),
                                                 comment="入库时间")

    items: Mapped[list[StoredChecklistItem]] = relationship(back_populates="checklist",
                                                            order_by="StoredChecklistItem.position")


class StoredChecklistItem(Base):
    __tablename__ = "checklist_items"
    __table_args__ = (UniqueConstraint("checklist_id", "code", name="uq_checklist_items_checklist_id_code"),
                      {"comment": "检查表条目"})

    id: Mapped[int] = mapped_column(primary_key=True)
    checklist_id: Mapped[int] = mapped_column(ForeignKey("checklists.id"), comment="所属检查表版本")
    code: Mapped[str] = mapped_column(String(40), comment="条目编号")
    section: Mapped[str] = mapped_column(String(40), comment="所属分组编号")
    position: Mapped[int] = mapped_column(Integer, comment="顺序")
    question: Mapped[str] = mapped_column(Text, comment="检查内容")
    answer_type: Mapped[str] = mapped_column(String(20), comment="答题类型：是否/是否不适用/数值/文字/照片")
    pass_when: Mapped[Any | None] = mapped_column(JSON, comment="合格条件")
    on_fail: Mapped[dict[str, Any] | None] = mapped_column(JSON, comment="不合格时的处理（隐患、等级、依据）")
    basis: Mapped[list[dict[str, str]]] = mapped_column(JSON, comment="检查依据")
    points: Mapped[int] = mapped_column(Integer, default=0, comment="分值")

    checklist: Mapped[StoredChecklist] = relationship(back_populates="items")
