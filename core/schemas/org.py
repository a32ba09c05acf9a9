"""Jurisdiction and agency schemas."""

from __future__ import annotations

from marshmallow import ValidationError, validates

from core.models import JurisdictionLevel
from core.models.org import JURISDICTION_LEVEL_LABELS
from core.schemas.base import BaseSchema, Id, Int, Str, length, one_of

LEVELS = {lvl.value: JURISDICTION_LEVEL_LABELS[lvl] for lvl in JurisdictionLevel}


class JurisdictionIn(BaseSchema):
    parent_id = Id(allow_none=True)
    level = Str(required=True, validate=one_of(LEVELS, LEVELS.values()))
    name = Str(required=True, validate=length(100))
    code = Str(allow_none=True, validate=length(12), metadata={"pattern": r"^([0-9]{6}|[0-9]{9}|[0-9]{12})$"})
    version = Int(load_only=True)

    @validates("code")
    def _code(self, value: str | None, **kwargs) -> None:
        # 行政区划代码: 6 digits to county level, 9 for 乡镇/街道, 12 for 村/社区 (GB/T 2260, GB/T 10114).
        # isascii(): str.isdigit() also accepts full-width digits (３５０２１３) typed with a Chinese IME.
        if value is not None and (not (value.isascii() and value.isdigit()) or len(value) not in (6, 9, 12)):
            raise ValidationError("行政区划代码应为 6、9 或 12 位数字")


class JurisdictionOut(BaseSchema):
    id = Id()
    parent_id = Id(allow_none=True)
    level = Str()
    level_label = Str()
    name = Str()
    code = Str(allow_none=True)
    path = Str()
    version = Int()


class AgencyIn(BaseSchema):
    name = Str(required=True, validate=length(100))
    short_name = Str(required=True, validate=length(20))
    jurisdiction_id = Id(required=True)
    parent_id = Id(allow_none=True)
    people_government = Str(allow_none=True, validate=length(100))
    court = Str(allow_none=True, validate=length(100))
    version = Int(load_only=True)
