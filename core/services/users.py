"""User accounts, passwords, sessions ending (R-A5) and API tokens. Password login: core.services.logins."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from core.models import Agency, ApiToken, Enterprise, Jurisdiction, Role, User, UserRole
from core.models.base import utcnow
from core.models.user import ENTERPRISE_ROLES
from core.services import audit
from core.services.actors import Actor
from core.services.base import Page, check_version, keyset_page
from core.services.errors import NotFound, ValidationFailed
from core.services.permissions import require

_FIELDS = ["username", "display_name", "phone", "enterprise_id", "jurisdiction_id", "agency_id", "cert_number",
           "cert_valid_until", "is_active"]


def _as_utc(value: datetime | None) -> datetime | None:
    # SQLite returns naive datetimes even for timezone-aware columns; they were stored as UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def end_sessions(session: Session, user: User) -> None:
    """End every session and remember cookie of ``user`` on every device: they carry the old
    ``session_epoch`` (:meth:`User.get_id`), which the user loader then refuses. One UPDATE that adds one, so that
    two logouts at once cannot both write the same value, and that leaves the row's optimistic-lock version alone
    (an admin editing the user while the user logs out must not get a conflict)."""
    session.execute(update(User).where(User.id == user.id).values(session_epoch=User.session_epoch + 1)
                    .execution_options(synchronize_session=False))
    session.refresh(user, ["session_epoch"])


def _revoke_all_tokens(session: Session, actor: Actor, user: User, reason: str) -> int:
    tokens = list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))))
    now = utcnow()
    for token in tokens:
        token.revoked_at = now
        audit.record(session, actor, "revoke", "api_token", token.id, summary=f"{reason}，吊销 API 令牌 {token.name}")
    return len(tokens)


def _password_changed(session: Session, actor: Actor, user: User, reason: str) -> None:
    """After a new password: every session, remember cookie and API token of the user ends (whoever knew the old
    password may hold one of them)."""
    end_sessions(session, user)
    _revoke_all_tokens(session, actor, user, reason)


def change_password(session: Session, user: User, current: str, new: str, repeat: str) -> User:
    """The user's own password change: the current password, the new one twice (same rules as an admin reset).
    Ends all of the user's sessions and API tokens; the caller logs the current session in again."""
    from core.schemas.user import password_problem

    errors: dict[str, list[str]] = {}
    if not check_password_hash(user.password_hash, current or ""):
        errors["current_password"] = ["当前密码不正确"]
    problem = password_problem(new or "")
    if problem:
        errors["new_password"] = [problem]
    elif new == current:
        errors["new_password"] = ["新密码不能与当前密码相同"]
    if not errors.get("new_password") and new != repeat:
        errors["repeat_password"] = ["两次输入的新密码不一致"]
    if errors:
        raise ValidationFailed(errors)
    user.password_hash = generate_password_hash(new, method=current_app.config["PASSWORD_HASH_METHOD"])
    session.flush()
    _password_changed(session, user, user, "修改密码")
    audit.record(session, user, "password_change", "user", user.id, summary="本人修改密码（其他会话与 API 令牌已失效）")
    session.flush()
    return user


def list_users(session: Session, actor: Actor, q: str | None = None, role: str | None = None,
               *, after: int | None = None, size: int = 50) -> Page[User]:
    require(actor, "user.manage")
    stmt = select(User)
    if q:
        stmt = stmt.where(or_(User.username.contains(q, autoescape=True), User.display_name.contains(q, autoescape=True)))
    if role:
        stmt = stmt.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    return keyset_page(session, stmt, User.id, after=after, size=size)


def get_user(session: Session, actor: Actor, user_id: int) -> User:
    require(actor, "user.manage")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound()
    return user


def _check(session: Session, user: User, roles: set[Role], errors: dict[str, list[str]]) -> None:
    if roles & ENTERPRISE_ROLES and roles - ENTERPRISE_ROLES:
        # Also checked by UserIn; repeated here because an enterprise user holding a government role would get
        # that role's permissions (e.g. change its own supervision fields) whatever the caller validated.
        errors.setdefault("roles", []).append("企业角色不能与政府或管理员角色同时授予")
    if roles & ENTERPRISE_ROLES:
        if not user.enterprise_id or session.get(Enterprise, user.enterprise_id) is None:
            errors.setdefault("enterprise_id", []).append("企业用户必须选择所属企业")
        user.jurisdiction_id = user.agency_id = None
    elif roles - {Role.ADMIN}:
        user.enterprise_id = None
        if not user.jurisdiction_id or session.get(Jurisdiction, user.jurisdiction_id) is None:
            errors.setdefault("jurisdiction_id", []).append("政府用户必须选择所属辖区")
        if roles & {Role.INSPECTOR, Role.REGULATOR}:
            if not user.agency_id or session.get(Agency, user.agency_id) is None:
                errors.setdefault("agency_id", []).append("执法人员和监管人员必须选择所属执法机关")
    if bool(user.cert_number) != bool(user.cert_valid_until):
        errors.setdefault("cert_valid_until", []).append("执法证号和有效期须同时填写")
    clash = session.scalar(select(User.id).where(User.username == user.username, User.id != user.id))
    if clash is not None:
        errors.setdefault("username", []).append("该登录名已被使用")


def save_user(session: Session, actor: Actor, data: dict[str, Any], user_id: int | None = None) -> User:
    """Create (``user_id`` None; ``password`` required) or update a user (``version`` required)."""
    require(actor, "user.manage")
    creating = user_id is None
    if creating:
        if not data.get("password"):
            raise ValidationFailed({"password": ["新用户必须设置初始密码"]})
        user, before = User(), None
    else:
        user = get_user(session, actor, user_id)
        check_version(user, data.get("version"), "该用户")
        before = {**audit.snapshot(user, _FIELDS), "roles": sorted(user.roles)}
    roles = {Role(r) for r in data.get("roles", [r.value for r in user.roles])}
    errors: dict[str, list[str]] = {}
    with session.no_autoflush:
        for key in _FIELDS:
            if key in data:
                setattr(user, key, data[key])
        _check(session, user, roles, errors)
        if errors:
            if not creating:
                session.expire(user)
            raise ValidationFailed(errors)
        if data.get("password"):
            user.password_hash = generate_password_hash(data["password"], method=current_app.config["PASSWORD_HASH_METHOD"])
        current = {r.role for r in user.role_rows}
        user.role_rows = [r for r in user.role_rows if r.role in roles] + [
            UserRole(role=r.value) for r in sorted(roles) if r.value not in current
        ]
    session.add(user)
    session.flush()
    if not creating and data.get("password"):
        _password_changed(session, actor, user, "管理员重置密码")
    after = {**audit.snapshot(user, _FIELDS), "roles": sorted(r.value for r in roles)}
    if creating:
        audit.record(session, actor, "create", "user", user.id, summary=f"新增用户 {user.username}", after=after)
    else:
        b, a = audit.diff(before, after)
        if data.get("password"):
            a["password"] = "（已重置）"
        if a:
            audit.record(session, actor, "update", "user", user.id, summary=f"修改用户 {user.username}", before=b, after=a)
    return user


# --- API tokens -------------------------------------------------------------------------------------------

TOKEN_PREFIX = "aj_"


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(session: Session, actor: Actor, user: User, name: str, days: int | None = 365) -> tuple[str, ApiToken]:
    """Create a token for ``user`` (the actor themself, or any user for an admin). Returns the plain token,
    which is never stored and cannot be shown again."""
    if actor.id != user.id:
        require(actor, "user.manage")
    if not name or len(name) > 100:
        raise ValidationFailed({"name": ["请填写用途说明（不超过 100 字）"]})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=_hash_token(raw), prefix=raw[:10],
                     expires_at=utcnow() + timedelta(days=days) if days else None)
    session.add(token)
    session.flush()
    audit.record(session, actor, "create", "api_token", token.id, summary=f"为 {user.username} 创建 API 令牌 {name}",
                 after={"user_id": user.id, "name": name, "prefix": token.prefix, "expires_at": token.expires_at})
    return raw, token


#: How often a token's last-use time is saved: a busy API client must not turn reads into writes.
TOKEN_USE_INTERVAL = timedelta(minutes=1)


def user_for_token(session: Session, raw: str) -> User | None:
    """The active user owning an unexpired, unrevoked token, or None."""
    token = token_for(session, raw)
    return token.user if token is not None else None


def token_use_due(token: ApiToken) -> bool:
    """Whether the token's last use is older than :data:`TOKEN_USE_INTERVAL` (see :func:`record_token_use`)."""
    last = _as_utc(token.last_used_at)
    return last is None or utcnow() - last > TOKEN_USE_INTERVAL


def record_token_use(session: Session, token_id: int) -> None:
    """Save that the token was used now, unless a concurrent request just did. Flushes nothing else; the caller
    commits it in a transaction of its own on read requests (which never commit theirs)."""
    now = utcnow()
    session.execute(update(ApiToken).where(
        ApiToken.id == token_id,
        or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - TOKEN_USE_INTERVAL),
    ).values(last_used_at=now).execution_options(synchronize_session=False))


def token_for(session: Session, raw: str) -> ApiToken | None:
    """The unexpired, unrevoked token of an active user, or None. Writes nothing."""
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(raw)))
    now = utcnow()
    if token is None or token.revoked_at is not None:
        return None
    expires = _as_utc(token.expires_at)
    if expires is not None and expires < now:
        return None
    return token if token.user.is_active else None


def list_tokens(session: Session, actor: Actor, user: User) -> list[ApiToken]:
    if actor.id != user.id:
        require(actor, "user.manage")
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))


def revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != actor.id and not actor.has_role(Role.ADMIN)):
        raise NotFound()
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(session, actor, "revoke", "api_token", token.id, summary=f"吊销 API 令牌 {token.name}",
                     before={"revoked_at": None}, after={"revoked_at": token.revoked_at})
        session.flush()
    return token
