"""The validated catalog: every rule set and checklist the enabled plugins ship, checked as a whole.

:func:`validate_catalog` runs the schemas on every mapping, then the checks that need the whole catalog, collects
every problem and raises one :class:`CatalogError` whose message names the file, the item and the field of each
(``plugins/hazchem/checklists/basic.yaml 条目 3.2 字段 basis[0].rule: …``). The result is immutable.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

from marshmallow import ValidationError

from core.catalog.schemas import RULE_REF, TEXT_STATUSES, load_checklist, load_rule_set


class CatalogError(RuntimeError):
    """Plugin catalog data is invalid; ``problems`` lists one line per problem (file, item, field, message)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("插件的判定标准/检查表数据有误：\n" + "\n".join(f"  - {p}" for p in problems))


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def canonical_json(content: Mapping[str, Any]) -> str:
    return json.dumps(thaw(content), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def content_sha256(content: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a rule set's or checklist's content (what makes a version)."""
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RuleItem:
    rule_set_code: str
    number: str
    text: str
    verified: bool
    title: str | None = None
    interpretation: str | None = None
    tags: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        """``<rule set code>#<number>``: what ``Hazard.rule_item`` stores and ``classify_hazard`` returns."""
        return f"{self.rule_set_code}#{self.number}"


@dataclass(frozen=True)
class RuleSet:
    code: str
    sector: str
    title: str
    document_number: str
    issuer: str
    kind: str
    effective_from: date
    text_status: str
    items: tuple[RuleItem, ...]
    published_on: date | None = None
    superseded_by: str | None = None
    source_urls: tuple[str, ...] = ()
    notes: str | None = None
    file: str | None = None
    #: The validated mapping without ``_file``: what is stored and hashed.
    content: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), compare=False, repr=False)

    @property
    def text_status_label(self) -> str:
        return TEXT_STATUSES[self.text_status]

    @property
    def sha256(self) -> str:
        return content_sha256(self.content)

    def item(self, number: str) -> RuleItem | None:
        return next((i for i in self.items if i.number == number), None)


@dataclass(frozen=True)
class ChecklistItem:
    checklist_code: str
    section: str
    code: str
    question: str
    answer: str
    basis: tuple[Mapping[str, str], ...]
    pass_when: Any = None
    on_fail: Mapping[str, Any] | None = None
    guidance: str | None = None
    points: int = 0

    @property
    def ref(self) -> str:
        """``<checklist code>/<item code>``, e.g. ``hazchem-basic/3.2`` (``Finding.checklist_item``)."""
        return f"{self.checklist_code}/{self.code}"

    @property
    def rule_refs(self) -> tuple[str, ...]:
        return tuple(b["rule"] for b in self.basis if "rule" in b)


@dataclass(frozen=True)
class ChecklistSection:
    code: str
    title: str
    items: tuple[ChecklistItem, ...]


@dataclass(frozen=True)
class Checklist:
    code: str
    version: str
    sector: str
    title: str
    sections: tuple[ChecklistSection, ...]
    description: str | None = None
    applies_to: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    scored: bool = False
    file: str | None = None
    content: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), compare=False, repr=False)

    @property
    def items(self) -> tuple[ChecklistItem, ...]:
        return tuple(i for s in self.sections for i in s.items)

    @property
    def sha256(self) -> str:
        return content_sha256(self.content)

    def item(self, code: str) -> ChecklistItem | None:
        return next((i for i in self.items if i.code == code), None)


@dataclass(frozen=True)
class ApplicableRuleSet:
    """The edition to judge with on a day, and why when it is not simply the one in force."""

    rule_set: RuleSet
    note: str = ""


def _version_key(version: str) -> tuple:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in version.replace("-", ".").split("."))


@dataclass(frozen=True)
class Catalog:
    rule_sets: Mapping[str, RuleSet] = field(default_factory=lambda: MappingProxyType({}))
    #: (code, version) → checklist
    checklists: Mapping[tuple[str, str], Checklist] = field(default_factory=lambda: MappingProxyType({}))

    def rule_item(self, ref: str) -> tuple[RuleItem, RuleSet] | None:
        """Look up ``<rule set code>#<number>`` (e.g. ``hazchem-2017-121#5``): the item and its set, or None."""
        match = RULE_REF.match(ref or "")
        if not match:
            return None
        rule_set = self.rule_sets.get(match["code"])
        item = rule_set.item(match["number"]) if rule_set else None
        return (item, rule_set) if item else None

    def checklist(self, code: str, version: str | None = None) -> Checklist | None:
        """A checklist version, or the newest version of ``code`` when ``version`` is None."""
        if version is not None:
            return self.checklists.get((code, version))
        versions = [c for (c_code, _), c in self.checklists.items() if c_code == code]
        return max(versions, key=lambda c: _version_key(c.version)) if versions else None

    def current_checklists(self, sector: str | None = None) -> list[Checklist]:
        """The newest version of every checklist (of one sector), by code."""
        codes = sorted({c.code for c in self.checklists.values() if sector is None or c.sector == sector})
        return [c for c in (self.checklist(code) for code in codes) if c is not None]

    def editions(self, code: str) -> list[RuleSet]:
        """Every edition linked to ``code`` through ``superseded_by``, oldest first."""
        if code not in self.rule_sets:
            return []
        predecessors = {rs.superseded_by: rs.code for rs in self.rule_sets.values() if rs.superseded_by}
        first = code
        seen = {first}
        while first in predecessors and predecessors[first] not in seen:
            first = predecessors[first]
            seen.add(first)
        chain = [self.rule_sets[first]]
        while chain[-1].superseded_by in self.rule_sets and chain[-1].superseded_by not in {c.code for c in chain}:
            chain.append(self.rule_sets[chain[-1].superseded_by])
        return chain

    def applicable_rule_set(self, code: str, day: date) -> ApplicableRuleSet | None:
        """The edition of the rule set ``code`` (any edition's code) to judge a finding of ``day`` with.

        The edition in force: ``effective_from`` ≤ day and not superseded by an edition in force on that day. When
        that edition's text is not loaded (``pending``), the newest earlier edition with text is used and the note
        says so. None when no edition is in force on ``day``.
        """
        chain = self.editions(code)
        in_force = [rs for rs in chain if rs.effective_from <= day]
        if not in_force:
            return None
        current = in_force[-1]
        if current.text_status != "pending":
            return ApplicableRuleSet(current)
        with_text = [rs for rs in in_force if rs.text_status != "pending"]
        if not with_text:
            return ApplicableRuleSet(current, f"{current.title}（{current.document_number}）条文尚未录入，且无可用的旧版")
        used = with_text[-1]
        return ApplicableRuleSet(
            used, f"现行版本 {current.document_number}（{current.effective_from.isoformat()} 起施行）条文尚未录入，"
                  f"按 {used.document_number} 判定")


# --- validation ----------------------------------------------------------------------------------------------------

def _flatten(messages: Any, path: tuple = ()) -> Iterable[tuple[tuple, str]]:
    if isinstance(messages, dict):
        for key, sub in messages.items():
            yield from _flatten(sub, path + (key,))
    elif isinstance(messages, list):
        for m in messages:
            if isinstance(m, (dict, list)):
                yield from _flatten(m, path)
            else:
                yield path, str(m)
    else:
        yield path, str(messages)


def _get(raw: Any, key: Any) -> Any:
    try:
        return raw[key]
    except (KeyError, IndexError, TypeError):
        return None


def _where(file: str, raw: Any, path: tuple) -> str:
    """``<file> [分组 x] [条目 y] 字段 a.b[0].c`` for an error path into ``raw``."""
    label, rest, node, i = [], [], raw, 0
    while i < len(path):
        key = path[i]
        if key in ("items", "sections") and i + 1 < len(path) and isinstance(path[i + 1], int):
            child = _get(_get(node, key), path[i + 1])
            ident = _get(child, "number" if key == "items" and isinstance(child, dict) and "number" in child else "code")
            noun = "分组" if key == "sections" else "条目"
            label.append(f"{noun} {ident if ident not in (None, '') else f'第{path[i + 1] + 1}个'}")
            node, rest, i = child, [], i + 2
            continue
        if key == "_schema":
            i += 1
            continue
        if isinstance(key, int):
            rest.append(f"[{key}]")
        else:
            rest.append(("." if rest else "") + ("_range" == key and "pass_when" or str(key)))
        node = _get(node, key)
        i += 1
    if len(label) > 1:  # item codes are unique within a checklist: its section need not be named
        label = label[-1:]
    where = " ".join([file, *label])
    return f"{where} 字段 {''.join(rest)}" if rest else where


def _file_of(raw: Any, kind: str, index: int) -> str:
    file = raw.get("_file") if isinstance(raw, dict) else None
    if file:
        return str(file)
    code = raw.get("code") if isinstance(raw, dict) else None
    return f"{kind} {code or f'第{index + 1}个'}"


def _build_rule_set(data: dict[str, Any]) -> RuleSet:
    file = data.pop("file", None)
    items = tuple(RuleItem(rule_set_code=data["code"], number=i["number"], text=i["text"], verified=i["verified"],
                           title=i.get("title"), interpretation=i.get("interpretation"), tags=tuple(i.get("tags", ())))
                  for i in data["items"])
    return RuleSet(code=data["code"], sector=data["sector"], title=data["title"],
                   document_number=data["document_number"], issuer=data["issuer"], kind=data["kind"],
                   effective_from=data["effective_from"], text_status=data["text_status"], items=items,
                   published_on=data.get("published_on"), superseded_by=data.get("superseded_by"),
                   source_urls=tuple(data.get("source_urls", ())), notes=data.get("notes"), file=file,
                   content=_freeze(thaw(data)))


def _build_checklist(data: dict[str, Any]) -> Checklist:
    file = data.pop("file", None)
    sections = tuple(
        ChecklistSection(code=s["code"], title=s["title"], items=tuple(
            ChecklistItem(checklist_code=data["code"], section=s["code"], code=i["code"], question=i["question"],
                          answer=i["answer"], basis=_freeze(i["basis"]), pass_when=_freeze(i.get("pass_when")),
                          on_fail=_freeze(i.get("on_fail")), guidance=i.get("guidance"), points=i.get("points", 0))
            for i in s["items"]))
        for s in data["sections"])
    applies = data.get("applies_to") or {}
    return Checklist(code=data["code"], version=data["version"], sector=data["sector"], title=data["title"],
                     sections=sections, description=data.get("description"),
                     applies_to=MappingProxyType({k: tuple(v) for k, v in applies.items()}),
                     scored=data.get("scored", False), file=file, content=_freeze(thaw(data)))


def validate_catalog(rule_sets: Iterable[Mapping[str, Any]], checklists: Iterable[Mapping[str, Any]],
                     sectors: Iterable[str] | None = None) -> Catalog:
    """Validate the plugins' raw mappings one by one and as a whole; return the immutable :class:`Catalog`.

    ``sectors``, when given, are the loaded sector codes: a mapping's ``sector`` must be one of them. Raises
    :class:`CatalogError` listing every problem found.
    """
    problems: list[str] = []
    known_sectors = set(sectors) if sectors is not None else None
    loaded_sets: list[tuple[str, dict, RuleSet]] = []
    loaded_lists: list[tuple[str, dict, Checklist]] = []

    for kind, raws, loader, builder, out in (
            ("判定标准", list(rule_sets), load_rule_set, _build_rule_set, loaded_sets),
            ("检查表", list(checklists), load_checklist, _build_checklist, loaded_lists)):
        for index, raw in enumerate(raws):
            file = _file_of(raw, kind, index)
            if not isinstance(raw, Mapping):
                problems.append(f"{file}: 应为映射（YAML mapping）")
                continue
            raw = dict(raw)
            try:
                data = loader(raw)
            except ValidationError as exc:
                problems.extend(f"{_where(file, raw, path)}: {msg}" for path, msg in _flatten(exc.messages))
                continue
            if known_sectors is not None and data["sector"] not in known_sectors:
                problems.append(f"{file} 字段 sector: 领域 {data['sector']!r} 没有启用的插件")
            out.append((file, raw, builder(data)))

    by_code: dict[str, RuleSet] = {}
    for file, _, rs in loaded_sets:
        if rs.code in by_code:
            problems.append(f"{file} 字段 code: 判定标准代码 {rs.code} 重复（另见 {by_code[rs.code].file}）")
            continue
        by_code[rs.code] = rs
    for file, _, rs in loaded_sets:
        if rs.superseded_by and rs.superseded_by not in by_code:
            problems.append(f"{file} 字段 superseded_by: 找不到判定标准 {rs.superseded_by}")

    def check_ref(ref: str, where: str, major: bool = False) -> None:
        match = RULE_REF.match(ref)
        rs = by_code.get(match["code"]) if match else None
        if rs is None:
            problems.append(f"{where}: 找不到判定标准 {match['code'] if match else ref}（{ref}）")
        elif rs.item(match["number"]) is None:
            problems.append(f"{where}: 判定标准 {rs.code} 中没有条目 {match['number']}（{ref}）")
        elif major and rs.kind != "major_hazard":
            problems.append(f"{where}: level 为 major 时 rule 应为重大事故隐患判定标准的条目，{rs.code} 的类型为 {rs.kind}")

    by_version: dict[tuple[str, str], Checklist] = {}
    for file, _, cl in loaded_lists:
        key = (cl.code, cl.version)
        if key in by_version:
            problems.append(f"{file} 字段 version: 检查表 {cl.code} 的版本 {cl.version} 重复（另见 {by_version[key].file}）")
            continue
        by_version[key] = cl
        seen: set[str] = set()
        for item in cl.items:
            where = f"{file} 条目 {item.code}"
            if item.code in seen:
                problems.append(f"{where} 字段 code: 条目编号在检查表中重复")
            seen.add(item.code)
            for n, basis in enumerate(item.basis):
                if "rule" in basis:
                    check_ref(basis["rule"], f"{where} 字段 basis[{n}].rule")
            if item.on_fail and item.on_fail.get("rule"):
                check_ref(item.on_fail["rule"], f"{where} 字段 on_fail.rule",
                          major=item.on_fail.get("level") == "major")
    owners = {c.code: c.sector for c in by_version.values()}
    for file, _, cl in loaded_lists:
        if owners.get(cl.code) != cl.sector:
            problems.append(f"{file} 字段 sector: 检查表 {cl.code} 的各版本应属于同一领域")

    if problems:
        raise CatalogError(problems)
    return Catalog(rule_sets=MappingProxyType(by_code), checklists=MappingProxyType(by_version))
