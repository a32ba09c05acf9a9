"""工贸 data on the enterprise record (``enterprise_sectors.data``), validated by the core with this schema."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validates_schema

from core.schemas.base import BaseSchema, Bool, Float, Int, in_range


class GongmaoFields(BaseSchema):
    #: 存在粉尘爆炸危险场所（涉爆粉尘）
    dust_explosion = Bool(load_default=False)
    #: 涉氨制冷
    ammonia_refrigeration = Bool(load_default=False)
    #: 液氨储存量（吨）；涉氨制冷企业必填
    liquid_ammonia_tonnes = Float(allow_none=True, validate=in_range(min=0))
    #: 有限空间作业点数量
    confined_spaces = Int(load_default=0, validate=in_range(min=0))

    # Also runs when another field is invalid, so that every message is shown at once; an invalid amount
    # already has its own message, hence the look at the original input.
    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _ammonia(self, data: dict[str, Any], original: dict[str, Any], **kwargs: Any) -> None:
        given = original.get("liquid_ammonia_tonnes") if isinstance(original, dict) else None
        if data.get("ammonia_refrigeration") and given in (None, ""):
            raise ValidationError("涉氨制冷企业应填写液氨储存量", "liquid_ammonia_tonnes")
