"""Base schema and fields with Chinese error messages, and shared validators."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength

_COMMON = {"required": "必填项", "null": "不能为空", "validator_failed": "取值无效"}


class Str(fields.String):
    default_error_messages = {**_COMMON, "invalid": "应为文本", "invalid_utf8": "不是有效的 UTF-8 文本"}


class Int(fields.Integer):
    default_error_messages = {**_COMMON, "invalid": "应为整数", "too_large": "数值过大"}


class Float(fields.Float):
    default_error_messages = {**_COMMON, "invalid": "应为数字", "too_large": "数值过大", "special": "不允许 NaN 或无穷大"}


class Bool(fields.Boolean):
    default_error_messages = {**_COMMON, "invalid": "应为是/否"}
    # Forms and spreadsheets say 是/否 too.
    truthy = fields.Boolean.truthy | {"是", "Y", "y"}
    falsy = fields.Boolean.falsy | {"否", "N", "n"}


class Date(fields.Date):
    default_error_messages = {**_COMMON, "invalid": "应为日期（格式 YYYY-MM-DD）", "format": "无法格式化为日期"}


class List(fields.List):
    default_error_messages = {**_COMMON, "invalid": "应为列表"}


class Nested(fields.Nested):
    default_error_messages = {**_COMMON, "type": "格式无效"}


class Dict(fields.Dict):
    default_error_messages = {**_COMMON, "invalid": "应为键值对象"}


def length(max: int, min: int | None = None) -> validate.Length:
    if min:
        return validate.Length(min=min, max=max, error=f"长度应在 {min} 到 {max} 个字符之间")
    return validate.Length(max=max, error=f"不能超过 {max} 个字符")


def one_of(choices: Any, labels: Any = None) -> validate.OneOf:
    """Validator whose message lists the accepted values as the API spells them (code, then its
    label in brackets), so a client can copy one; apispec renders the same list as ``enum``."""
    codes = [str(c) for c in choices]
    names = [str(x) for x in labels] if labels is not None else []
    shown = "、".join(f"{c}（{n}）" if n and n != c else c for c, n in zip(codes, names + [""] * len(codes)))
    return validate.OneOf(codes, error=f"应为以下之一：{shown}")


def in_range(min: float | None = None, max: float | None = None) -> validate.Range:
    if min is not None and max is not None:
        msg = f"应在 {min} 到 {max} 之间"
    elif min is not None:
        msg = f"不能小于 {min}"
    else:
        msg = f"不能大于 {max}"
    return validate.Range(min=min, max=max, error=msg)


def validate_uscc(value: str) -> None:
    """统一社会信用代码 (GB 32100-2015): 18 characters with a check digit, via ``stdnum.cn.uscc``."""
    try:
        stdnum_uscc.validate(value)
    except InvalidLength:
        raise ValidationError("统一社会信用代码应为 18 位") from None
    except InvalidChecksum:
        raise ValidationError("统一社会信用代码校验位错误，请核对") from None
    except (InvalidFormat, Exception):
        raise ValidationError("统一社会信用代码格式错误（应为 18 位数字或大写字母，不含 I、O、S、V、Z）") from None


class BaseSchema(Schema):
    """Unknown fields are errors; blank strings count as absent values (forms and spreadsheets send "")."""

    class Meta:
        unknown = RAISE

    error_messages = {"unknown": "未知字段", "type": "数据格式无效"}

    @pre_load
    def _blank_to_none(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {k: (None if isinstance(v, str) and not v.strip() else v.strip() if isinstance(v, str) else v)
                for k, v in data.items()}
