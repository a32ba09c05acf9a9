"""User schemas."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validates, validates_schema

from core.models import Role
from core.models.user import ENTERPRISE_ROLES, ROLE_LABELS, User
from core.schemas.base import BaseSchema, Bool, Date, Id, Int, List, Str, length, nullable_as, one_of

ROLE_CHOICES = {r.value: ROLE_LABELS[r] for r in Role}


#: The password rule, for an admin reset and the user's own change alike (shown on the forms too).
PASSWORD_RULE = "密码至少 8 位，且须同时包含字母和数字"


def password_problem(value: str) -> str | None:
    """The rule's message when ``value`` breaks it, else None."""
    if len(value) < 8 or value.isdigit() or value.isalpha():
        return PASSWORD_RULE
    return None


def validate_password(value: str) -> None:
    problem = password_problem(value)
    if problem:
        raise ValidationError(problem)


class UserIn(BaseSchema):
    username = Str(required=True, validate=length(64, min=3))
    display_name = Str(required=True, validate=length(50))
    password = Str(load_only=True, validate=validate_password)
    phone = Str(allow_none=True, validate=length(30))
    roles = List(Str(validate=one_of(ROLE_CHOICES, ROLE_CHOICES.values())), required=True)
    enterprise_id = Id(allow_none=True)
    jurisdiction_id = Id(allow_none=True)
    agency_id = Id(allow_none=True)
    cert_number = Str(allow_none=True, validate=length(40))
    cert_valid_until = Date(allow_none=True)
    is_active = Bool(load_default=True)
    version = Int(load_only=True)

    @validates("username")
    def _username(self, value: str, **kwargs: Any) -> None:
        if not all(c.isascii() and (c.isalnum() or c in "._-") for c in value):
            raise ValidationError("登录名只能包含英文字母、数字和 . _ -")

    @validates_schema
    def _roles(self, data: dict[str, Any], partial: bool = False, **kwargs: Any) -> None:
        if "roles" not in data:
            return
        roles = {Role(r) for r in data["roles"]}
        if not roles:
            raise ValidationError("至少选择一个角色", field_name="roles")
        if roles & ENTERPRISE_ROLES and roles - ENTERPRISE_ROLES:
            raise ValidationError("企业角色不能与政府或管理员角色同时授予", field_name="roles")


@nullable_as(User)
class UserOut(BaseSchema):
    id = Id()
    username = Str()
    display_name = Str()
    phone = Str()
    roles = List(Str())
    enterprise_id = Id()
    jurisdiction_id = Id()
    agency_id = Id()
    cert_number = Str()
    cert_valid_until = Date()
    is_active = Bool()
    version = Int()
