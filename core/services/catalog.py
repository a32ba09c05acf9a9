"""Storing and reading the catalog (R-P2): the plugins' rule sets and checklists, each version kept for good.

:func:`sync_catalog` (``anjian catalog sync``, run by ``scripts/run`` and ``seed-demo``) writes every checklist
version (code, version) the plugins ship that is not stored yet, and refuses a shipped version whose content differs
from the stored one: a published version is never rewritten, a change needs a new version. A rule set has no version
in its YAML (its code names the edition); a change of its content (e.g. more items verified) is stored as the next
``revision`` beside the earlier ones. The read functions serve the catalog pages and the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from core.catalog.registry import Catalog, Checklist, RuleSet, thaw
from core.models import StoredChecklist, StoredChecklistItem, StoredRuleItem, StoredRuleSet
from core.services import audit
from core.services.actors import SYSTEM, Actor
from core.services.errors import Conflict, NotFound, ValidationFailed
from core.services.permissions import require

CHANGED_MESSAGE = "已发布的检查表/判定标准版本内容被修改，请提高版本号"


@dataclass
class SyncReport:
    #: (code, revision) of rule set rows written
    rule_sets: list[tuple[str, int]] = field(default_factory=list)
    #: (code, version) of checklist rows written
    checklists: list[tuple[str, str]] = field(default_factory=list)
    unchanged: int = 0

    @property
    def added(self) -> int:
        return len(self.rule_sets) + len(self.checklists)


def _store_rule_set(session: Session, rs: RuleSet, revision: int) -> StoredRuleSet:
    row = StoredRuleSet(code=rs.code, revision=revision, sector=rs.sector, title=rs.title,
                        document_number=rs.document_number, issuer=rs.issuer, kind=rs.kind,
                        effective_from=rs.effective_from, superseded_by=rs.superseded_by, text_status=rs.text_status,
                        content=thaw(rs.content), sha256=rs.sha256)
    row.items = [StoredRuleItem(number=i.number, ref=i.ref, position=n, text=i.text, verified=i.verified,
                                title=i.title) for n, i in enumerate(rs.items)]
    session.add(row)
    return row


def store_checklist(session: Session, checklist: Checklist) -> StoredChecklist:
    """Insert one checklist version (the caller made sure (code, version) is new)."""
    row = StoredChecklist(code=checklist.code, version=checklist.version, sector=checklist.sector,
                          title=checklist.title, content=thaw(checklist.content), sha256=checklist.sha256)
    row.items = [StoredChecklistItem(code=i.code, section=i.section, position=n, question=i.question,
                                     answer_type=i.answer, pass_when=thaw(i.pass_when),
                                     on_fail=thaw(i.on_fail) if i.on_fail is not None else None,
                                     basis=thaw(i.basis), points=i.points)
                 for n, i in enumerate(checklist.items)]
    session.add(row)
    return row


def sync_catalog(session: Session, catalog: Catalog | None = None, actor: Actor = SYSTEM) -> SyncReport:
    """Store the versions of ``catalog`` (default: the current app's plugins) that are not stored yet. Flushes."""
    require(actor, "catalog.manage")
    if catalog is None:
        from core.plugins import plugins

        catalog = plugins().catalog
    report = SyncReport()
    latest: dict[str, StoredRuleSet] = {}
    for row in session.scalars(select(StoredRuleSet).order_by(StoredRuleSet.code, StoredRuleSet.revision)):
        latest[row.code] = row
    for code in sorted(catalog.rule_sets):
        rs = catalog.rule_sets[code]
        stored = latest.get(code)
        if stored is not None and stored.sha256 == rs.sha256:
            report.unchanged += 1
            continue
        revision = stored.revision + 1 if stored else 1
        row = _store_rule_set(session, rs, revision)
        session.flush()
        audit.record(session, actor, "create", "rule_set", row.id,
                     summary=f"入库判定标准 {rs.code}（{rs.document_number}）第 {revision} 版内容",
                     after={"code": rs.code, "revision": revision, "sha256": rs.sha256})
        report.rule_sets.append((code, revision))

    stored_lists = {(c.code, c.version): c for c in session.scalars(select(StoredChecklist))}
    changed = []
    for key in sorted(catalog.checklists):
        checklist = catalog.checklists[key]
        stored = stored_lists.get(key)
        if stored is not None:
            if stored.sha256 != checklist.sha256:
                changed.append(f"检查表 {checklist.code} 版本 {checklist.version}（{checklist.file or '导入'}）")
            else:
                report.unchanged += 1
            continue
        row = store_checklist(session, checklist)
        session.flush()
        audit.record(session, actor, "create", "checklist", row.id,
                     summary=f"入库检查表 {checklist.code} 版本 {checklist.version}",
                     after={"code": checklist.code, "version": checklist.version, "sha256": checklist.sha256})
        report.checklists.append(key)
    if changed:
        raise Conflict(f"{CHANGED_MESSAGE}：{'；'.join(changed)}")
    return report


# --- reading --------------------------------------------------------------------------------------------------------

def list_rule_sets(session: Session, actor: Actor) -> list[StoredRuleSet]:
    """The newest revision of every stored rule set, by sector and code."""
    require(actor, "catalog.view")
    newest = (select(StoredRuleSet.code, func.max(StoredRuleSet.revision).label("rev"))
              .group_by(StoredRuleSet.code).subquery())
    return list(session.scalars(
        select(StoredRuleSet).join(newest, (StoredRuleSet.code == newest.c.code)
                                   & (StoredRuleSet.revision == newest.c.rev))
        .order_by(StoredRuleSet.sector, StoredRuleSet.effective_from, StoredRuleSet.code)))


def get_rule_set(session: Session, actor: Actor, code: str) -> StoredRuleSet:
    require(actor, "catalog.view")
    row = session.scalar(select(StoredRuleSet).where(StoredRuleSet.code == code)
                         .order_by(StoredRuleSet.revision.desc()).options(selectinload(StoredRuleSet.items)).limit(1))
    if row is None:
        raise NotFound("判定标准不存在")
    return row


def list_checklists(session: Session, actor: Actor) -> list[StoredChecklist]:
    """Every stored checklist version, by sector, code and storage order (newest version last)."""
    require(actor, "catalog.view")
    return list(session.scalars(select(StoredChecklist).options(selectinload(StoredChecklist.items))
                                .order_by(StoredChecklist.sector, StoredChecklist.code, StoredChecklist.id)))


def get_checklist(session: Session, actor: Actor, code: str, version: str) -> StoredChecklist:
    require(actor, "catalog.view")
    row = session.scalar(select(StoredChecklist).where(StoredChecklist.code == code,
                                                       StoredChecklist.version == version)
                         .options(selectinload(StoredChecklist.items)))
    if row is None:
        raise NotFound("检查表不存在")
    return row


def rule_texts(session: Session, refs: list[str]) -> dict[str, StoredRuleItem]:
    """ref → the rule item of the newest stored revision (for showing a basis with its text)."""
    if not refs:
        return {}
    rows = session.scalars(select(StoredRuleItem).join(StoredRuleItem.rule_set)
                           .where(StoredRuleItem.ref.in_(set(refs))).order_by(StoredRuleSet.revision))
    return {row.ref: row for row in rows}


# --- XLSForm import ---------------------------------------------------------------------------------------------------

def import_xlsform(session: Session, data: bytes, sector: str, actor: Actor = SYSTEM) -> StoredChecklist:
    """Store an XLSForm checklist as a NEW version of ``sector``; an existing (code, version) is refused.

    The checklist is validated like a plugin's (schemas, and every rule basis against the enabled plugins' rule
    sets). Flushes; the caller commits.
    """
    from core.catalog.registry import CatalogError, validate_catalog
    from core.catalog.xlsform import XLSFormError
    from core.catalog.xlsform import import_xlsform as read_xlsform
    from core.plugins import plugins

    require(actor, "catalog.manage")
    registry = plugins()
    try:
        raw = read_xlsform(data)
    except XLSFormError as exc:
        raise ValidationFailed({"file": [str(exc)]}) from None
    raw["sector"] = sector
    raw["_file"] = f"XLSForm {raw.get('code') or ''} {raw.get('version') or ''}".strip()
    try:
        catalog = validate_catalog([thaw(rs.content) for rs in registry.rule_sets.values()], [raw],
                                   sectors=registry.sectors)
    except CatalogError as exc:
        raise ValidationFailed({"file": exc.problems}) from None
    (checklist,) = catalog.checklists.values()
    key = (checklist.code, checklist.version)
    exists = session.scalar(select(StoredChecklist.id).where(StoredChecklist.code == checklist.code,
                                                             StoredChecklist.version == checklist.version))
    if exists is not None or key in registry.checklists:
        raise Conflict(f"检查表 {checklist.code} 版本 {checklist.version} 已存在：导入须使用新的版本号")
    other_sector = session.scalar(select(StoredChecklist.sector).where(StoredChecklist.code == checklist.code).limit(1))
    if other_sector is not None and other_sector != sector:
        raise Conflict(f"检查表 {checklist.code} 属于领域 {other_sector}，不能导入到 {sector}")
    row = store_checklist(session, checklist)
    session.flush()
    audit.record(session, actor, "import", "checklist", row.id,
                 summary=f"导入检查表 {checklist.code} 版本 {checklist.version}（XLSForm）",
                 after={"code": checklist.code, "version": checklist.version, "sha256": checklist.sha256})
    return row
