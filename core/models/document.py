"""Enforcement documents (执法文书, R-E3…R-E5, R-O2): 现场检查记录, 责令限期整改指令书, 整改复查意见书, 挂牌督办通知书
and the document types of plugins.

A document is issued once and never changed (R-E4): its filled fields (``data``) and its PDF (stored in the
content-addressed attachment store, owner_type ``document``, SHA-256 in ``pdf_sha256``) are fixed at issue. A
correction is a new document that ``supersedes`` the old one; both are kept. Numbers come from
:class:`DocumentCounter`, one row per (agency, type, year), so that numbering is gap-free per agency and year.

A type that needs 法制审核 (R-E5) is not issued on request: a :class:`LegalReview` keeps the validated request and
who made it; a reviewer approves it (the document is issued and numbered then, and points back to the review) or
returns it with reasons. :class:`DocumentSigner` repeats ``signer_ids`` as rows so that lists filter by inspector.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, TimestampMixin, VersionedMixin, utcnow
from core.models.hazard import BigId
from core.models.org import Agency, Enterprise
from core.models.user import User


class DocumentStatus(StrEnum):
    ISSUED = "issued"
    SUPERSEDED = "superseded"


DOCUMENT_STATUS_LABELS = {DocumentStatus.ISSUED: "有效", DocumentStatus.SUPERSEDED: "已被更正文书替代"}


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("agency_id", "doc_type", "year", "sequence", name="uq_documents_agency_type_year_seq"),
        Index("ix_documents_scope_path", "scope_path", postgresql_ops={"scope_path": "varchar_pattern_ops"}),
        {"comment": "执法文书（签发后不可修改）"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True, comment="制作文书的执法机关")
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True, comment="被检查（送达）单位")
    scope_path: Mapped[str] = mapped_column(String(255), comment="数据权限路径（企业的 scope_path）")
    doc_type: Mapped[str] = mapped_column(String(30), comment="文书种类（配置 DOCUMENT_TYPES 的代码）")
    number: Mapped[str] = mapped_column(String(60), unique=True, comment="文书编号，如（翔）应急责改〔2026〕12号")
    year: Mapped[int] = mapped_column(Integer, comment="编号年度")
    sequence: Mapped[int] = mapped_column(Integer, comment="年度内顺序号")
    status: Mapped[str] = mapped_column(String(20), default=DocumentStatus.ISSUED.value, comment="状态：有效/已被替代")
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, comment="签发时间")
    issued_on: Mapped[date] = mapped_column(Date, comment="文书日期")
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="签发人")
    signer_ids: Mapped[list[int]] = mapped_column(JSON, comment="签名执法人员（至少两名，持有效执法证）")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, comment="文书填写内容（签发时固定）")
    pdf_sha256: Mapped[str] = mapped_column(String(64), comment="PDF 的 SHA-256（附件存储）")
    verify_code: Mapped[str] = mapped_column(String(16), unique=True, comment="核验码（印在 PDF 上）")
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), comment="更正的原文书")
    related_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), comment="关联文书（复查意见书 → 指令书）")
    inspection_run_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_runs.id"), comment="来源执法检查")
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), comment="企业签收时间")
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="签收人")
    legal_review_id: Mapped[int | None] = mapped_column(ForeignKey("document_legal_reviews.id"),
                                                        comment="法制审核（经审核后签发的文书）")

    agency: Mapped[Agency] = relationship()
    enterprise: Mapped[Enterprise] = relationship()
    supersedes: Mapped[Document | None] = relationship(remote_side=[id], foreign_keys=[supersedes_id])
    related: Mapped[Document | None] = relationship(remote_side=[id], foreign_keys=[related_id])
    hazard_links: Mapped[list[DocumentHazard]] = relationship(
        back_populates="document", order_by="DocumentHazard.position", cascade="all, delete-orphan")
    signer_rows: Mapped[list[DocumentSigner]] = relationship(
        back_populates="document", order_by="DocumentSigner.position", cascade="all, delete-orphan")
    legal_review: Mapped[LegalReview | None] = relationship(foreign_keys=[legal_review_id])

    @property
    def status_label(self) -> str:
        return DOCUMENT_STATUS_LABELS[DocumentStatus(self.status)]


class DocumentHazard(Base):
    __tablename__ = "document_hazards"
    __table_args__ = ({"comment": "文书涉及的隐患（指令书的问题、复查意见书的复查结果）"},)

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    hazard_id: Mapped[int] = mapped_column(BigId, ForeignKey("hazards.id"),
                                           primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, comment="在文书中的序号")
    deadline: Mapped[date | None] = mapped_column(Date, comment="整改期限（指令书；复查不合格的新期限）")
    result: Mapped[str | None] = mapped_column(String(20), comment="复查结果：passed 已整改合格 / failed 未整改合格")

    document: Mapped[Document] = relationship(back_populates="hazard_links")


class DocumentCounter(Base):
    __tablename__ = "document_counters"
    __table_args__ = ({"comment": "文书编号计数器（每机关、每文书种类、每年一行）"},)

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    doc_type: Mapped[str] = mapped_column(String(30), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_sequence: Mapped[int] = mapped_column(Integer, default=0, comment="已用的最大顺序号")


class DocumentSigner(Base):
    __tablename__ = "document_signers"
    __table_args__ = ({"comment": "文书签名执法人员（按执法人员筛选文书）"},)

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, comment="签名顺序")

    document: Mapped[Document] = relationship(back_populates="signer_rows")


class LegalReviewStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    RETURNED = "returned"


LEGAL_REVIEW_STATUS_LABELS = {LegalReviewStatus.PENDING: "待法制审核", LegalReviewStatus.APPROVED: "审核通过，已签发",
                              LegalReviewStatus.RETURNED: "已退回"}


class LegalReview(VersionedMixin, TimestampMixin, Base):
    """法制审核 of a document before it is issued (R-E5): the request as validated, and the reviewer's decision."""

    __tablename__ = "document_legal_reviews"
    __table_args__ = (
        Index("ix_document_legal_reviews_scope_path", "scope_path",
              postgresql_ops={"scope_path": "varchar_pattern_ops"}),
        {"comment": "文书法制审核（重大执法决定法制审核）"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True, comment="制作文书的执法机关")
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True, comment="文书对象单位")
    scope_path: Mapped[str] = mapped_column(String(255), comment="数据权限路径（企业的 scope_path）")
    doc_type: Mapped[str] = mapped_column(String(30), comment="文书种类")
    request: Mapped[dict[str, Any]] = mapped_column(JSON, comment="送审的文书内容（签发时据此制作）")
    summary: Mapped[str] = mapped_column(String(500), comment="送审摘要")
    status: Mapped[str] = mapped_column(String(20), default=LegalReviewStatus.PENDING.value, index=True,
                                        comment="状态：pending 待审核 / approved 通过 / returned 退回")
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), comment="送审人")
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, comment="送审时间")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), comment="审核人")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), comment="审核时间")
    opinion: Mapped[str | None] = mapped_column(Text, comment="审核意见（退回的理由）")

    agency: Mapped[Agency] = relationship()
    enterprise: Mapped[Enterprise] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    #: The document issued when the review was approved (it points here with ``legal_review_id``).
    document: Mapped[Document | None] = relationship(
        primaryjoin="Document.legal_review_id == LegalReview.id", viewonly=True, uselist=False)

    @property
    def status_label(self) -> str:
        return LEGAL_REVIEW_STATUS_LABELS[LegalReviewStatus(self.status)]
