"""Safety-production standardization (安全生产标准化) criteria as versioned data (R-S1).

The core ships the GB/T 33000-2016 element tree (8 一级要素 with their 二级要素 as scored items) and the GB/T
33000-2025 edition as far as its text is known (``criteria/*.yaml``); sector plugins add their industry criteria
through the ``register_assessment_criteria`` hook. Everything is validated here with marshmallow schemas
(format: docs/standardization.md) and kept immutable; an assessment copies the items it is built from, so a later
data change never rewrites an assessment.

Editions overlap in time. :func:`assessable_edition` picks the edition to assess with on a day: the newest one in
force whose text is loaded (``text_status`` not ``pending``), and says so when a newer edition is in force but
pending.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from core.catalog import load_yaml_files
from core.schemas.base import one_of

TEXT_STATUSES = {"verified": "条文已核实", "partial": "部分核实", "pending": "已实施，条文未载入"}
SCORE_SOURCES = {"standard": "标准原文", "conventional": "平台约定默认值", "none": "无"}


class _Strict(Schema):
    class Meta:
        unknown = RAISE

    error_messages: ClassVar[dict[str, str]] = {"unknown": "未知字段", "type": "数据格式无效"}


class CriteriaItemSchema(_Strict):
    """One scored item (a 二级要素 of the core tree, or a sector's 评分项)."""

    code = fields.String(required=True)
    text = fields.String(required=True)
    #: Standard score (标准分), > 0.
    score = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False, error="标准分应大于 0"))
    verified = fields.Boolean(required=True)
    #: Clause number in the standard, only when seen in a source.
    clause = fields.String(load_default=None, allow_none=True)
    evidence = fields.String(load_default="")
    deduction_rules = fields.String(load_default="")
    #: 否决项: failing it means 未达标 whatever the score.
    veto = fields.Boolean(load_default=False)
    #: Sector items only: the core element (一级要素 code) they belong to.
    element = fields.String(load_default=None, allow_none=True)
    #: A rule item (``<rule set code>#<number>``) the item checks; a hazard registered from the item cites it, so the
    #: sector's ``classify_hazard`` decides its level (a failed 重大隐患 veto item becomes a 重大隐患).
    rule_item = fields.String(load_default=None, allow_none=True)


class CriteriaElementSchema(_Strict):
    code = fields.String(required=True)
    name = fields.String(required=True)
    verified = fields.Boolean(required=True)
    items = fields.List(fields.Nested(CriteriaItemSchema), load_default=list)


class CriteriaSetSchema(_Strict):
    """A core edition (``elements``) or a sector's criteria (``sector``, ``extends``, ``items`` with ``element``)."""

    code = fields.String(required=True)
    title = fields.String(required=True)
    standard = fields.String(required=True)
    issuer = fields.String(load_default=None, allow_none=True)
    effective_from = fields.Date(required=True)
    superseded_by = fields.String(load_default=None, allow_none=True)
    replaces = fields.List(fields.String(), load_default=list)
    text_status = fields.String(required=True, validate=one_of(TEXT_STATUSES))
    score_source = fields.String(required=True, validate=one_of(SCORE_SOURCES))
    source = fields.String(required=True)
    #: Sector criteria: the plugin's sector code and the core edition whose elements its items join.
    sector = fields.String(load_default=None, allow_none=True)
    extends = fields.String(load_default=None, allow_none=True)
    elements = fields.List(fields.Nested(CriteriaElementSchema), load_default=list)
    items = fields.List(fields.Nested(CriteriaItemSchema), load_default=list)
    _file = fields.String(load_default=None, data_key="_file")

    @validates_schema
    def _shape(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("sector"):
            if data["elements"]:
                raise ValidationError("行业评分细则不能定义一级要素，请用 items 的 element 挂到核心要素上", "elements")
            if not data.get("extends"):
                raise ValidationError("行业评分细则须用 extends 指明所依附的核心版本", "extends")
            for i, item in enumerate(data["items"]):
                if not item.get("element"):
                    raise ValidationError({i: {"element": ["行业评分项须指明所属一级要素"]}}, "items")
        else:
            if data["items"]:
                raise ValidationError("核心版本的评分项应写在 elements 的 items 中", "items")
            if not data["elements"]:
                raise ValidationError("核心版本至少要有一个一级要素", "elements")
            if data["text_status"] != "pending" and not any(e["items"] for e in data["elements"]):
                raise ValidationError("条文已载入的版本须有评分项", "elements")
        codes = [i["code"] for e in data["elements"] for i in e["items"]] + [i["code"] for i in data["items"]]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValidationError(f"评分项代码重复：{'、'.join(dupes)}", "items")


class CriteriaError(RuntimeError):
    """Criteria data that does not validate; the message names the file (or plugin), the set and the fields."""


@dataclass(frozen=True)
class Item:
    code: str
    text: str
    score: float
    verified: bool
    element: str
    evidence: str = ""
    deduction_rules: str = ""
    veto: bool = False
    clause: str | None = None
    rule_item: str | None = None
    #: Code of the criteria set the item comes from (core edition or sector criteria).
    source: str = ""
    sector: str | None = None


@dataclass(frozen=True)
class Element:
    code: str
    name: str
    verified: bool
    items: tuple[Item, ...] = ()


@dataclass(frozen=True)
class CriteriaSet:
    code: str
    title: str
    standard: str
    effective_from: date
    text_status: str
    score_source: str
    source: str
    issuer: str | None = None
    superseded_by: str | None = None
    replaces: tuple[str, ...] = ()
    sector: str | None = None
    extends: str | None = None
    elements: tuple[Element, ...] = ()
    #: Sector criteria only.
    items: tuple[Item, ...] = ()

    @property
    def is_loaded(self) -> bool:
        return self.text_status != "pending"

    @property
    def text_status_label(self) -> str:
        return TEXT_STATUSES[self.text_status]

    @property
    def item_count(self) -> int:
        return sum(len(e.items) for e in self.elements) + len(self.items)


@dataclass(frozen=True)
class EditionChoice:
    """The edition to assess with on a day, and why (shown on the assessment)."""

    criteria: CriteriaSet
    note: str = ""


@dataclass
class Criteria:
    """All validated criteria: core editions by code and sector criteria by code."""

    editions: dict[str, CriteriaSet] = field(default_factory=dict)
    sector_sets: dict[str, CriteriaSet] = field(default_factory=dict)

    def for_sectors(self, edition: str, sectors: list[str]) -> list[CriteriaSet]:
        """Sector criteria that extend ``edition`` for the given sector codes (in ``sectors`` order)."""
        return [s for code in sectors for s in self.sector_sets.values() if s.sector == code and s.extends == edition]


def _build(data: dict[str, Any]) -> CriteriaSet:
    sector = data.get("sector")

    def item(raw: dict[str, Any], element: str) -> Item:
        return Item(code=raw["code"], text=raw["text"], score=float(raw["score"]), verified=raw["verified"],
                    element=element, evidence=raw["evidence"], deduction_rules=raw["deduction_rules"],
                    veto=raw["veto"], clause=raw["clause"], rule_item=raw["rule_item"], source=data["code"],
                    sector=sector)

    elements = tuple(Element(e["code"], e["name"], e["verified"], tuple(item(i, e["code"]) for i in e["items"]))
                     for e in data["elements"])
    return CriteriaSet(
        code=data["code"], title=data["title"], standard=data["standard"], effective_from=data["effective_from"],
        text_status=data["text_status"], score_source=data["score_source"], source=data["source"],
        issuer=data["issuer"], superseded_by=data["superseded_by"], replaces=tuple(data["replaces"]),
        sector=sector, extends=data["extends"], elements=elements,
        items=tuple(item(i, i["element"]) for i in data["items"]))


def validate_criteria(core_sets: list[dict[str, Any]], sector_sets: list[dict[str, Any]],
                      sectors: Any = ()) -> Criteria:
    """Validate every mapping; raise :class:`CriteriaError` listing all problems (file, set code, fields)."""
    out = Criteria()
    problems: list[str] = []
    schema = CriteriaSetSchema()
    for kind, raws in (("core", core_sets), ("sector", sector_sets)):
        for raw in raws:
            where = (raw.get("_file") or raw.get("code") if isinstance(raw, dict) else None) or str(raw)[:60]
            try:
                data = schema.load(raw)
            except ValidationError as exc:
                problems.append(f"{where}: {exc.messages}")
                continue
            if kind == "sector" and not data.get("sector"):
                problems.append(f"{where}: 插件提供的评分细则须有 sector 字段")
                continue
            if kind == "core" and data.get("sector"):
                problems.append(f"{where}: 核心版本不能有 sector 字段")
                continue
            target = out.editions if kind == "core" else out.sector_sets
            if data["code"] in out.editions or data["code"] in out.sector_sets:
                problems.append(f"{where}: 评分标准代码 {data['code']} 重复")
                continue
            target[data["code"]] = _build(data)
    for s in out.sector_sets.values():
        core = out.editions.get(s.extends or "")
        if core is None:
            problems.append(f"{s.code}: extends 指向不存在的核心版本 {s.extends}")
            continue
        elements = {e.code for e in core.elements}
        for it in s.items:
            if it.element not in elements:
                problems.append(f"{s.code}: 评分项 {it.code} 的一级要素 {it.element} 不在 {core.standard} 中")
        core_codes = {i.code for e in core.elements for i in e.items}
        clash = sorted(core_codes & {i.code for i in s.items})
        if clash:
            problems.append(f"{s.code}: 评分项代码与核心版本重复：{'、'.join(clash)}")
        if sectors and s.sector not in sectors:
            problems.append(f"{s.code}: 领域 {s.sector} 未注册")
    if problems:
        raise CriteriaError("安全生产标准化评分标准数据有误：\n" + "\n".join(problems))
    return out


def core_criteria() -> list[dict[str, Any]]:
    """The core editions shipped in ``core/standardization/criteria``."""
    return load_yaml_files("core.standardization", "criteria")


def assessable_edition(criteria: Criteria, day: date) -> EditionChoice:
    """The newest core edition in force on ``day`` whose text is loaded; the note names a newer pending one."""
    in_force = sorted((c for c in criteria.editions.values() if c.effective_from <= day),
                      key=lambda c: c.effective_from, reverse=True)
    loaded = [c for c in in_force if c.is_loaded]
    if not loaded:
        loaded = sorted((c for c in criteria.editions.values() if c.is_loaded), key=lambda c: c.effective_from)
        if not loaded:
            raise CriteriaError("没有可用于自评的安全生产标准化评分标准")
    chosen = loaded[0]
    pending = [c for c in in_force if not c.is_loaded and c.effective_from > chosen.effective_from]
    note = ""
    if pending:
        newer = pending[0]
        note = (f"{newer.standard}《{newer.title}》已于 {newer.effective_from.isoformat()} 实施，但平台尚未载入其条文；"
                f"本次自评按 {chosen.standard}《{chosen.title}》进行。")
    return EditionChoice(chosen, note)
