"""Users, roles and API tokens (R-A4, R-A5)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, TimestampMixin, VersionedMixin, utcnow
from core.models.org import Agency, Enterprise, Jurisdiction


class Role(StrEnum):
    ENTERPRISE_MANAGER = "enterprise_manager"
    ENTERPRISE_PRINCIPAL = "enterprise_principal"
    INSPECTOR = "inspector"
    REGULATOR = "regulator"
    GRID_WORKER = "grid_worker"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def is_enterprise_role(self) -> bool:
        return self in ENTERPRISE_ROLES


ROLE_LABELS = {
    Role.ENTERPRISE_MANAGER: "企业安全管理人员",
    Role.ENTERPRISE_PRINCIPAL: "企业主要负责人",
    Role.INSPECTOR: "执法人员",
    Role.REGULATOR: "监管人员",
    Role.GRID_WORKER: "网格员",
    Role.ADMIN: "平台管理员",
}
ENTERPRISE_ROLES = frozenset({Role.ENTERPRISE_MANAGER, Role.ENTERPRISE_PRINCIPAL})
GOVERNMENT_ROLES = frozenset({Role.INSPECTOR, Role.REGULATOR, Role.GRID_WORKER})


class User(UserMixin, VersionedMixin, TimestampMixin, Base):
    """A person who logs in. Enterprise users belong to one enterprise; government users to a jurisdiction node
    (and, for inspectors and regulators, an agency). Roles are a set: district staff often both inspect and
    supervise."""

    __tablename__ = "users"
    __table_args__ = {"comment": "用户"}

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, comment="登录名")
    display_name: Mapped[str] = mapped_column(String(50), comment="姓名")
    password_hash: Mapped[str] = mapped_column(String(255), comment="密码哈希")
    phone: Mapped[str | None] = mapped_column(String(30), comment="手机号")
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True, comment="所属企业")
    jurisdiction_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id"), index=True, comment="所属辖区")
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True, comment="所属执法机关")
    cert_number: Mapped[str | None] = mapped_column(String(40), comment="执法证号")
    cert_valid_until: Mapped[date | None] = mapped_column(Date, comment="执法证有效期至")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, comment="启用")
    #: Bumped by logout, a password change and an admin password reset: every session and remember cookie carries
    #: the epoch it was issued under (:meth:`get_id`), and the user loader refuses an older one, so that all of the
    #: user's sessions on every device end at once (issue 14: a cookie saved before logout still worked).
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0",
                                               comment="会话代次（退出或改密后递增，旧会话失效）")
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), comment="最近登录时间")

    enterprise: Mapped[Enterprise | None] = relationship()
    jurisdiction: Mapped[Jurisdiction | None] = relationship()
    agency: Mapped[Agency | None] = relationship()
    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(r.role) for r in self.role_rows)

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and the remember cookie: ``"<id>:<session_epoch>"``."""
        return f"{self.id}:{self.session_epoch or 0}"

    @property
    def role_labels(self) -> list[str]:
        return [r.label for r in sorted(self.roles)]

    def cert_valid_on(self, day: date) -> bool:
        """True when the user holds a 执法证 valid on ``day`` (R-A4: 持证上岗)."""
        return bool(self.cert_number) and self.cert_valid_until is not None and self.cert_valid_until >= day

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class UserRole(Base):
    __tablename__ = "user_roles"
    __table_args__ = {"comment": "用户角色"}

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(30), primary_key=True, index=True, comment="角色")

    user: Mapped[User] = relationship(back_populates="role_rows")


class ApiToken(Base):
    """A bearer token for the JSON API. Only its SHA-256 is stored; the token is shown once at creation."""

    __tablename__ = "api_tokens"
    __table_args__ = {"comment": "API 令牌"}

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), comment="用途说明")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, comment="令牌 SHA-256")
    prefix: Mapped[str] = mapped_column(String(12), comment="令牌前缀（便于识别）")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), comment="过期时间")
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), comment="吊销时间")

    user: Mapped[User] = relationship()
