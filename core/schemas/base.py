"""Base schema and fields with Chinese error messages, and shared validators."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength

_COMMON = {"required": "必填项", "null": "不能为空", "validator_failed": "取值无效"}


class Str(fields.String):
    """Text; blank text counts as absent (:class:`BaseSchema`), so a required one is documented as holding a
    non-space character (``pattern: \\S``) — an empty ``name`` was a "valid" body the server refused."""

    default_error_messages = {**_COMMON, "invalid": "应为文本", "invalid_utf8": "不是有效的 UTF-8 文本",
                              "nul": "不能包含空字符（\\u0000）"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.required and "pattern" not in self.metadata:
            self.metadata = {"pattern": r"\S", **self.metadata}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        # PostgreSQL text cannot hold NUL: psycopg refused it, even in a search term, with a 500 (schemathesis).
        if "\x00" in text:
            raise self.make_error("nul")
        return text


#: The largest value of an integer column on both databases: the models' ``Integer`` is 32-bit on PostgreSQL
#: (``integer out of range``) and SQLite raised ``OverflowError`` above 2^63 — either a 500 (issue 14).
INT_MAX = 2**31 - 1


class Int(fields.Integer):
    """An integer of a database column (at most :data:`INT_MAX` either way). JSON ``true``/``false`` and
    fractions are refused (marshmallow would read ``1.5`` as 1 and ``true`` as 1: a float was accepted as
    ``version``, issue 14); ``3.0`` and ``"3"`` (query strings, forms) are integers."""

    default_error_messages = {**_COMMON, "invalid": "应为整数", "too_large": "数值过大"}
    range_error = f"应在 {-INT_MAX} 到 {INT_MAX} 之间"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.validators.append(validate.Range(min=-INT_MAX, max=INT_MAX, error=self.range_error))

    def _validated(self, value: Any) -> Any:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise self.make_error("invalid")
        return super()._validated(value)


class Id(Int):
    """The id of a stored object: 1 to 2^31-1 (the same range as the ``<int:…>`` URL converter)."""

    range_error = f"应为 1 到 {INT_MAX} 之间的编号"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        fields.Integer.__init__(self, *args, **kwargs)
        self.validators.append(validate.Range(min=1, max=INT_MAX, error=self.range_error))


class Float(fields.Float):
    default_error_messages = {**_COMMON, "invalid": "应为数字", "too_large": "数值过大", "special": "不允许 NaN 或无穷大"}


class Bool(fields.Boolean):
    default_error_messages = {**_COMMON, "invalid": "应为是/否"}
    # Forms and spreadsheets say 是/否 too.
    truthy = fields.Boolean.truthy | {"是", "Y", "y"}
    falsy = fields.Boolean.falsy | {"否", "N", "n"}


#: Dates outside this range are typing errors here (a founding year 0001, a deadline in 9999); refusing them keeps
#: date arithmetic (``+ timedelta``) from overflowing into a 500 (issue 14: campaign dates like 0001-01-01).
DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2200, 12, 31)
#: The years 1900–2200 as a JSON Schema pattern (search semantics, so anchored).
DATE_PATTERN = r"^(19[0-9]{2}|2[01][0-9]{2}|2200)-"


class Date(fields.Date):
    """A calendar date between 1900-01-01 and 2200-12-31."""

    default_error_messages = {**_COMMON, "invalid": "应为日期（格式 YYYY-MM-DD）", "format": "无法格式化为日期",
                              "out_of_range": f"日期应在 {DATE_MIN.isoformat()} 到 {DATE_MAX.isoformat()} 之间"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The range in the OpenAPI document too (JSON Schema has no minimum for dates; a pattern on the year
        # states it, so generated clients and fuzzers know what is accepted).
        self.metadata = {"pattern": DATE_PATTERN, **self.metadata}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        day = super()._deserialize(value, attr, data, **kwargs)
        if not DATE_MIN <= day <= DATE_MAX:
            raise self.make_error("out_of_range")
        return day


def parse_date(value: Any) -> dt.date | None:
    """A date from a query string or form (``YYYY-MM-DD``) in the accepted range, or None (absent, malformed or out
    of range) — for views that read a date outside a schema."""
    try:
        day = dt.date.fromisoformat(str(value).strip())
    except (TypeError, ValueError):
        return None
    return day if DATE_MIN <= day <= DATE_MAX else None


class UtcDateTime(fields.DateTime):
    """An aware ISO 8601 timestamp, always with its UTC offset. SQLite hands back naive datetimes, which are UTC
    here (see ``utcnow``); a naive value in an answer broke the documented ``date-time`` format (issue 14)."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return super()._serialize(value, attr, obj, **kwargs)


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


CHOICES_MESSAGE = "取值应为以下之一："


def choices_message(values: Iterable[str]) -> str:
    """「取值应为以下之一：a、b、c」 with the values exactly as the API spells them (codes, not labels: issue 14
    — the message listed Chinese labels that the field then refused)."""
    return CHOICES_MESSAGE + "、".join(values)


class Choices(validate.OneOf):
    """The one validator of every enum-like field. Its message lists the accepted codes (:func:`choices_message`)
    and apispec renders ``choices`` as the field's OpenAPI ``enum``, so the two cannot disagree.

    ``provider`` (a callable giving the codes) makes the set dynamic — values that plugins or the configuration
    contribute (sector codes, risk methods, hazard levels), read when validating; the field carries
    ``x-choices: <name>`` in the OpenAPI document until it is served, when the ``enum`` is filled in
    (:func:`core.views.api.fill_dynamic_enums`)."""

    def __init__(self, choices: Iterable[Any] = (), labels: Iterable[Any] | None = None, *,
                 provider: Callable[[], Iterable[str]] | None = None, name: str | None = None) -> None:
        self.provider = provider
        self.name = name
        self.labels_given = list(labels) if labels is not None else None
        super().__init__([str(c) for c in choices], error="{message}")

    def accepted_values(self) -> list[str]:
        if self.provider is not None:
            return [str(c) for c in self.provider()]
        return list(self.choices)

    def __call__(self, value: Any) -> Any:
        accepted = self.accepted_values()
        try:
            ok = value in accepted
        except TypeError:
            ok = False
        if not ok:
            raise ValidationError(choices_message(accepted))
        return value


#: Dynamic choice sets by name (the ``x-choices`` of the OpenAPI document), filled by :func:`dynamic_choices`.
DYNAMIC_CHOICES: dict[str, Callable[[], Iterable[str]]] = {}


def dynamic_choices(name: str, provider: Callable[[], Iterable[str]]) -> Choices:
    DYNAMIC_CHOICES[name] = provider
    return Choices(provider=provider, name=name)


def one_of(choices: Any, labels: Any = None) -> Choices:
    """A fixed :class:`Choices` (``labels`` are for forms, never shown in the API message)."""
    return Choices(choices, labels)


def accepted_values(field: fields.Field) -> list[str] | None:
    """The accepted values of a field validated by :class:`Choices` (for lists and dict keys: of their items)."""
    for validator in field.validators:
        if isinstance(validator, Choices):
            return validator.accepted_values()
    return None


def _sectors() -> list[str]:
    from core.plugins import plugins

    return list(plugins().sectors)


def _risk_methods() -> list[str]:
    from core.services.risk_methods import methods

    return list(methods())


def _hazard_levels() -> list[str]:
    from core.services.hazards import level_labels

    return list(level_labels())


def _document_types() -> list[str]:
    from core.services.documents import document_types

    return list(document_types())


def document_type_choice() -> Choices:
    """A document type (文书种类) of the configuration or of a plugin."""
    return dynamic_choices("document_types", _document_types)


def sector_choice() -> Choices:
    """A sector code of an enabled plugin (危化品 hazchem, 消防 fire …)."""
    return dynamic_choices("sectors", _sectors)


def risk_method_choice() -> Choices:
    """A configured risk assessment method (``RISK_METHODS``)."""
    return dynamic_choices("risk_methods", _risk_methods)


def hazard_level_choice() -> Choices:
    """A configured hidden-danger level (``HAZARD_LEVELS``)."""
    return dynamic_choices("hazard_levels", _hazard_levels)


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


def nullable_as(model: Any) -> Callable[[type[Schema]], type[Schema]]:
    """Class decorator of an output schema that dumps a model's columns: each field named like a nullable column
    is declared nullable (``allow_none``), so the OpenAPI document says ``nullable: true`` exactly where the answer
    can hold null (issue 14: nulls in fields the document called non-nullable)."""

    def decorate(schema: type[Schema]) -> type[Schema]:
        columns = model.__table__.columns
        for name, field in schema._declared_fields.items():
            if name in columns and columns[name].nullable:
                field.allow_none = True
        return schema

    return decorate
