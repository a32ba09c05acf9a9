"""Schemas of the catalog data that plugins ship as YAML (docs/rules_and_checklists.md is the contract).

They check one mapping on its own (types, required fields, allowed values, per-item rules); what needs the whole
catalog (unique codes, a ``rule:`` basis that resolves, ``superseded_by`` …) is checked by
:func:`core.catalog.registry.validate_catalog`. Loading returns plain, JSON-ready dicts (dates as ISO strings are
left to the caller); ``_file`` — added by :func:`core.catalog.load_yaml_files` — is the only extra key accepted.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from marshmallow import RAISE, Schema, ValidationError, post_load, pre_load, validates_schema

from core.models.hazard import HAZARD_CATEGORIES
from core.schemas.base import Bool, Date, Dict, Int, List, Nested, Str, in_range, length, one_of

RULE_SET_KINDS = {"major_hazard": "重大事故隐患判定", "duty": "法定义务/检查依据", "catalogue": "目录"}
TEXT_STATUSES = {"verified": "已核实", "partial": "部分", "pending": "待录入"}
ANSWER_TYPES = {"yes_no": "是/否", "yes_no_na": "是/否/不适用", "number": "数值", "text": "文字", "photo": "照片"}
LEVELS = {"general": "一般", "major": "重大"}
#: ``behaviour`` (the wording of an early draft of the format) is accepted and stored as ``human``.
CATEGORY_ALIASES = {"behaviour": "human", "behavior": "human"}

RULE_SET_CODE = re.compile(r"^[a-z][a-z0-9_]*-\d{4}-[a-z0-9][a-z0-9.-]*$")
CHECKLIST_CODE = re.compile(r"^[a-z][a-z0-9_]*-[a-z0-9][a-z0-9.-]*$")
#: ``<rule set code>#<number>``
RULE_REF = re.compile(r"^(?P<code>[^#\s]+)#(?P<number>\S.*)$")


def _text(max_len: int, **kwargs: Any) -> Str:
    return Str(validate=length(max_len, 1), **kwargs)


class _Strict(Schema):
    """Unknown keys are errors (a misspelt key must not be silently dropped)."""

    class Meta:
        unknown = RAISE

    error_messages: ClassVar[dict[str, str]] = {"unknown": "未知字段（格式见 docs/rules_and_checklists.md）",
                                                "type": "应为映射（键值对象）"}


class _WithFile(_Strict):
    file = Str(data_key="_file", load_default=None)


def _version_message(value: Any) -> str:
    return "应为文本" + ("（YAML 中请加引号，例如 \"2026.1\"）" if isinstance(value, (int, float)) else "")


# --- rule sets -----------------------------------------------------------------------------------------------------

class RuleItemSchema(_Strict):
    number = _text(40, required=True)
    text = _text(4000, required=True)
    verified = Bool(required=True)
    title = Str(validate=length(100), load_default=None)
    interpretation = Str(validate=length(4000), load_default=None)
    tags = List(_text(40), load_default=list)

    @pre_load
    def _number_as_text(self, data: Any, **kwargs: Any) -> Any:
        # YAML reads `number: 1` as an int; the source's numbering is text ("1", "6.1", "第三条(一)").
        if isinstance(data, dict) and isinstance(data.get("number"), int) and not isinstance(data["number"], bool):
            data = {**data, "number": str(data["number"])}
        return data


class RuleSetSchema(_WithFile):
    code = _text(80, required=True)
    sector = _text(40, required=True)
    title = _text(300, required=True)
    document_number = _text(200, required=True)
    issuer = _text(200, required=True)
    kind = Str(required=True, validate=one_of(RULE_SET_KINDS))
    published_on = Date(load_default=None)
    effective_from = Date(required=True)
    superseded_by = Str(validate=length(80, 1), load_default=None)
    text_status = Str(required=True, validate=one_of(TEXT_STATUSES))
    source_urls = List(_text(1000), load_default=list)
    notes = Str(validate=length(8000), load_default=None)
    items = List(Nested(RuleItemSchema), load_default=list)

    @validates_schema
    def _rules(self, data: dict[str, Any], **kwargs: Any) -> None:
        code, sector, status, items = data["code"], data["sector"], data["text_status"], data["items"]
        if not RULE_SET_CODE.match(code) or not code.startswith(sector + "-"):
            raise ValidationError(f"应为 <领域代码>-<年份>-<文号或简称>，小写字母、数字、点和连字符，"
                                  f"例如 {sector}-2017-121", "code")
        if status == "pending" and items:
            raise ValidationError("text_status 为 pending（条文未录入）的判定标准不能有条目", "items")
        if status != "pending" and not items:
            raise ValidationError(f"text_status 为 {status} 的判定标准至少应有一个条目（条文未录入时标为 pending）",
                                  "items")
        if status != "pending" and not data["source_urls"]:
            raise ValidationError("应注明条文出处（至少一个网址）", "source_urls")
        if status == "verified":
            unverified = [i["number"] for i in items if not i["verified"]]
            if unverified:
                raise ValidationError(f"标为 verified 的判定标准中有未核实条目（{'、'.join(unverified)}）："
                                      f"应标为 partial", "text_status")
        seen: set[str] = set()
        for item in items:
            if item["number"] in seen:
                raise ValidationError(f"条目编号 {item['number']} 重复", "items")
            seen.add(item["number"])
        if data["superseded_by"] == code:
            raise ValidationError("不能被自身替代", "superseded_by")


# --- checklists ----------------------------------------------------------------------------------------------------

class AppliesToSchema(_Strict):
    activities = List(_text(40), load_default=list)
    object_types = List(_text(80), load_default=list)


class BasisSchema(_Strict):
    rule = Str(validate=length(200, 1))
    law = Str(validate=length(300, 1))

    error_messages: ClassVar[dict[str, str]] = {
        **_Strict.error_messages, "type": "应为映射：rule: <判定标准代码>#<条目编号> 或 law: 《法规》第X条"}

    @validates_schema
    def _one(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("rule" in data) == ("law" in data):
            raise ValidationError("每条依据应有且只有 rule 或 law 之一")
        if "rule" in data and not RULE_REF.match(data["rule"]):
            raise ValidationError("应为 <判定标准代码>#<条目编号>，例如 hazchem-2017-121#5", "rule")


class OnFailSchema(_Strict):
    hazard = Bool(required=True)
    level = Str(validate=one_of(LEVELS), load_default=None)
    category = Str(validate=one_of(list(HAZARD_CATEGORIES) + list(CATEGORY_ALIASES)), load_default=None)
    rule = Str(validate=length(200, 1), load_default=None)
    photo_required = Bool(load_default=False)
    comment_required = Bool(load_default=False)

    @validates_schema
    def _major(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("level") == "major" and not data.get("rule"):
            raise ValidationError("level 为 major 时应给出 rule（使之构成重大事故隐患的判定标准条目）", "rule")
        if data.get("rule") and not RULE_REF.match(data["rule"]):
            raise ValidationError("应为 <判定标准代码>#<条目编号>，例如 hazchem-2017-121#5", "rule")
        if data.get("hazard") and not data.get("category"):
            raise ValidationError("生成隐患时应给出隐患类别（human / thing / management / environment）", "category")

    @post_load
    def _alias(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if data.get("category") in CATEGORY_ALIASES:
            data["category"] = CATEGORY_ALIASES[data["category"]]
        return data


class ChecklistItemSchema(_Strict):
    code = _text(40, required=True)
    question = _text(1000, required=True)
    guidance = Str(validate=length(4000), load_default=None)
    answer = Str(required=True, validate=one_of(ANSWER_TYPES))
    pass_when = Str(load_default=None)  # replaced in pre_load for numbers; checked in _answer
    basis = List(Nested(BasisSchema), required=True, validate=length(100, 1))
    on_fail = Nested(OnFailSchema, load_default=None)
    points = Int(load_default=0, validate=in_range(min=0))

    @pre_load
    def _normalise(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if isinstance(data.get("code"), (int, float)) and not isinstance(data["code"], bool):
            data["code"] = str(data["code"])
        pw = data.get("pass_when")
        # Unquoted yes/no in YAML 1.1 are booleans.
        if isinstance(pw, bool):
            data["pass_when"] = "yes" if pw else "no"
        elif isinstance(pw, dict):
            data["_range"] = pw
            data.pop("pass_when")
        return data

    _range = Dict(data_key="_range", load_default=None)

    @validates_schema
    def _answer(self, data: dict[str, Any], **kwargs: Any) -> None:
        answer, pw, rng = data["answer"], data.get("pass_when"), data.get("_range")
        if answer in ("yes_no", "yes_no_na"):
            if rng is not None or pw not in ("yes", "no"):
                raise ValidationError("是/否题应写明合格答案：\"yes\" 或 \"no\"", "pass_when")
        elif answer == "number":
            if pw is not None:
                raise ValidationError("数值题的合格条件应为 {min: …, max: …}", "pass_when")
            if rng is not None:
                if not rng or set(rng) - {"min", "max"} or not all(
                        isinstance(v, (int, float)) and not isinstance(v, bool) for v in rng.values()):
                    raise ValidationError("数值题的合格条件应为 {min: 数值, max: 数值}（至少其一）", "pass_when")
                if "min" in rng and "max" in rng and rng["min"] > rng["max"]:
                    raise ValidationError("min 不能大于 max", "pass_when")
        elif pw is not None or rng is not None:
            raise ValidationError(f"{ANSWER_TYPES[answer]}题没有合格条件，不应填写 pass_when", "pass_when")
        has_pass = pw is not None or rng is not None
        if data.get("on_fail") is not None and not has_pass:
            raise ValidationError("没有合格条件（pass_when）的条目不会不合格，不应填写 on_fail", "on_fail")
        if has_pass and data.get("on_fail") is None:
            raise ValidationError("有合格条件的条目应写明不合格时的处理（on_fail）", "on_fail")

    @post_load
    def _shape(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        rng = data.pop("_range", None)
        if rng is not None:
            data["pass_when"] = dict(rng)
        return data


class SectionSchema(_Strict):
    code = _text(40, required=True)
    title = _text(200, required=True)
    items = List(Nested(ChecklistItemSchema), required=True, validate=length(1000, 1))

    @pre_load
    def _code_as_text(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("code"), (int, float)) and not isinstance(data["code"], bool):
            data = {**data, "code": str(data["code"])}
        return data


class ChecklistSchema(_WithFile):
    code = _text(80, required=True)
    version = Str(required=True, validate=length(40, 1))
    sector = _text(40, required=True)
    title = _text(300, required=True)
    description = Str(validate=length(4000), load_default=None)
    applies_to = Nested(AppliesToSchema, load_default=lambda: {"activities": [], "object_types": []})
    scored = Bool(load_default=False)
    sections = List(Nested(SectionSchema), required=True, validate=length(200, 1))

    @validates_schema
    def _rules(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not CHECKLIST_CODE.match(data["code"]):
            raise ValidationError("应为 <领域代码>-<简称>，小写字母、数字、点和连字符，例如 hazchem-basic", "code")
        if not data["scored"]:
            scored = [i["code"] for s in data["sections"] for i in s["items"] if i["points"]]
            if scored:
                raise ValidationError(f"未计分的检查表（scored: false）中有条目设置了分值：{'、'.join(scored[:5])}",
                                      "scored")


def load_rule_set(raw: dict[str, Any]) -> dict[str, Any]:
    """The validated rule set (raises ValidationError with the schema's nested messages)."""
    return RuleSetSchema().load(raw)


def load_checklist(raw: dict[str, Any]) -> dict[str, Any]:
    """The validated checklist. A version written as a YAML number gets a hint to quote it."""
    try:
        return ChecklistSchema().load(raw)
    except ValidationError as exc:
        version = raw.get("version") if isinstance(raw, dict) else None
        messages = exc.messages
        if isinstance(messages, dict) and "version" in messages and isinstance(version, (int, float)):
            messages = {**messages, "version": [_version_message(version)]}
            raise ValidationError(messages) from None
        raise
