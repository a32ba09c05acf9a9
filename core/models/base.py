"""Declarative base, naming convention and the mixins every aggregate shares."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

# Named constraints make Alembic migrations reproducible and portable between SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Timezone-aware now in UTC; every stored timestamp is UTC, shown in Asia/Shanghai."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now(), comment="创建时间"
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, server_default=func.now(), comment="更新时间"
    )


class VersionedMixin:
    """Optimistic locking: an UPDATE that finds another version raises StaleDataError.

    Services additionally compare the version a client edited against the current one before changing
    anything (see :func:`core.services.base.check_version`), so a stale form is refused with 409 even when
    the two edits did not overlap in time.
    """

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, comment="版本号（乐观锁）")

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.version}
