"""Checklist inspections (检查记录, R-P2, R-H1): which checklists apply, runs, answers saved one by one, completion.

A run is performer-agnostic: its ``kind`` says who performs it (企业自查 by the enterprise's staff, 执法检查 by an
inspector, 网格巡查 by a grid worker) and so which permission is needed and under which source the hidden dangers
of its failing answers are registered. Answers are saved item by item (autosave; each answer has its own version,
a stale one is refused with 409); a completed run is read-only. Completing turns every failing answer whose
``on_fail.hazard`` is set into a hidden danger through :func:`core.services.hazards.register_hazard`, where the
sector plugin's ``classify_hazard`` decides 一般/重大 and names the rule item.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, selectinload

from core.catalog.registry import Checklist
from core.models import (
    Attachment,
    Enterprise,
    Hazard,
    HazardTransition,
    InspectionAnswer,
    InspectionRun,
    InspectionRunChecklist,
    RunStatus,
    StoredChecklist,
    StoredChecklistItem,
    StoredRuleItem,
    TaskCheck,
)
from core.models.base import utcnow
from core.models.inspection import RUN_KINDS
from core.plugins import plugins
from core.services import audit, hazards
from core.services.actors import Actor
from core.services.attachments import Upload, store
from core.services.base import Page, check_version, keyset_page
from core.services.catalog import rule_texts, store_checklist
from core.services.errors import Conflict, NotFound, ValidationFailed
from core.services.permissions import can, require
from core.services.scope import ensure_enterprise_visible, path_clause, scope_of

PHOTO_OWNER = "inspection_answer"
#: kind → (permission to perform it, hazard source of its findings)
KINDS: dict[str, tuple[str, str]] = {
    "self_check": ("inspection.self_check", "self_check"),
    "enforcement": ("inspection.enforce", "inspection"),
    "grid_patrol": ("inspection.patrol", "grid_patrol"),
}
ANSWER_VALUES = {"yes": "是", "no": "否", "na": "不适用"}
MAX_TEXT = 2000


# --- which checklists apply -----------------------------------------------------------------------------------------

def applicable_checklists(enterprise: Enterprise, object_type: str | None = None) -> list[Checklist]:
    """The newest version of every checklist of the enabled plugins that applies to ``enterprise``.

    A checklist applies when the enterprise carries its sector tag and, if the checklist names activities
    (``applies_to.activities``), one of them is among the enterprise's activities in that sector. With an
    ``object_type``, only checklists naming that type (or none) apply.
    """
    registry = plugins()
    result: list[Checklist] = []
    for tag in enterprise.sectors:
        if tag.sector not in registry.sectors:
            continue
        for checklist in registry.catalog.current_checklists(tag.sector):
            activities = set(checklist.applies_to.get("activities", ()))
            if activities and not activities & set(tag.activities or ()):
                continue
            types = set(checklist.applies_to.get("object_types", ()))
            if object_type and types and object_type not in types:
                continue
            result.append(checklist)
    return result


def _stored_rows(session: Session, actor: Actor, checklists: list[Checklist]) -> list[StoredChecklist]:
    """The stored rows of these checklist versions; a version not synced yet is stored now (as sync would)."""
    codes = {c.code for c in checklists}
    stored = {(r.code, r.version): r for r in session.scalars(
        select(StoredChecklist).where(StoredChecklist.code.in_(codes)))}
    rows = []
    for checklist in checklists:
        row = stored.get((checklist.code, checklist.version))
        if row is None:
            row = store_checklist(session, checklist)
            session.flush()
            audit.record(session, actor, "create", "checklist", row.id,
                         summary=f"入库检查表 {checklist.code} 版本 {checklist.version}（开始检查时）",
                         after={"code": checklist.code, "version": checklist.version, "sha256": checklist.sha256})
        rows.append(row)
    return rows


# --- runs: scope, list, start ---------------------------------------------------------------------------------------

def run_clause(actor: Actor) -> ColumnElement[bool]:
    """Filter for the runs the actor may see (the enterprise scope rule)."""
    scope = scope_of(actor)
    if scope.enterprise_id is not None:
        return InspectionRun.enterprise_id == scope.enterprise_id
    return path_clause(InspectionRun.scope_path, scope)


def list_runs(session: Session, actor: Actor, filters: dict[str, Any], *, after: int | None = None,
              size: int = 20) -> Page[InspectionRun]:
    """One keyset page of the visible runs, newest first, with enterprises and checklists loaded in bulk."""
    require(actor, "inspection.view")
    stmt = select(InspectionRun).where(run_clause(actor)).options(
        selectinload(InspectionRun.enterprise),
        selectinload(InspectionRun.checklists).selectinload(InspectionRunChecklist.checklist))
    for key in ("enterprise_id", "status", "kind"):
        if filters.get(key):
            stmt = stmt.where(getattr(InspectionRun, key) == filters[key])
    return keyset_page(session, stmt, InspectionRun.id, after=after, size=size, total_cap=10_000)


def get_run(session: Session, actor: Actor, run_id: int) -> InspectionRun:
    """The run, or :class:`NotFound` when missing or outside the actor's scope."""
    require(actor, "inspection.view")
    run = session.get(InspectionRun, run_id)
    if run is None:
        raise NotFound()
    scope = scope_of(actor)
    if scope.enterprise_id is not None:
        if run.enterprise_id != scope.enterprise_id:
            raise NotFound()
    elif not scope.covers_path(run.scope_path):
        raise NotFound()
    return run


def can_perform(actor: Actor, run: InspectionRun) -> bool:
    """True when the actor may answer and complete this (visible) run: it is a draft and the actor holds the
    permission of its kind."""
    return not run.is_completed and can(actor, KINDS[run.kind][0])


def start_run(session: Session, actor: Actor, data: dict[str, Any]) -> InspectionRun:
    """Start a run on a visible enterprise with the chosen applicable checklists (``checklists``: codes).

    ``kind`` (default ``self_check``) decides the permission; enterprise users start on their own enterprise.
    ``task_id``: a risk-register inspection task of that enterprise the run performs (its next due check).
    """
    kind = data.get("kind") or "self_check"
    if kind not in KINDS:
        raise ValidationFailed({"kind": ["检查类型应为：" + "、".join(RUN_KINDS.values())]})
    require(actor, KINDS[kind][0])
    if kind == "enforcement":
        # Two certified inspectors, GPS or the reason there is none, the place and the on-site person.
        from core.services import field

        return field.start_enforcement(session, actor, data)
    return create_run(session, actor, data, kind)


def create_run(session: Session, actor: Actor, data: dict[str, Any], kind: str) -> InspectionRun:
    """The common part of starting a run of any kind (checked by :func:`start_run` or
    :func:`core.services.field.start_enforcement`)."""
    enterprise_id = data.get("enterprise_id") or actor.enterprise_id
    enterprise = ensure_enterprise_visible(actor, session.get(Enterprise, enterprise_id) if enterprise_id else None)
    task = None
    if data.get("task_id"):
        from core.services import risks

        task = risks.get_task(session, actor, data["task_id"])
        if task.enterprise_id != enterprise.id:
            raise ValidationFailed({"task_id": ["排查任务不属于该企业"]})
    applicable = {c.code: c for c in applicable_checklists(enterprise, data.get("object_type"))}
    codes = list(dict.fromkeys(data.get("checklists") or []))
    if not codes:
        raise ValidationFailed({"checklists": ["请至少选择一张适用的检查表"]})
    unknown = [c for c in codes if c not in applicable]
    if unknown:
        raise ValidationFailed({"checklists": [f"检查表 {'、'.join(unknown)} 不适用于该企业"]})
    rows = _stored_rows(session, actor, [applicable[c] for c in codes])
    run = InspectionRun(enterprise_id=enterprise.id, scope_path=enterprise.scope_path, kind=kind,
                        object_type=data.get("object_type"), object_ref=data.get("object_ref"),
                        task_id=task.id if task else None, started_by_id=actor.id,
                        started_by_name=actor.display_name, started_at=utcnow(), status=RunStatus.DRAFT.value)
    run.checklists = [InspectionRunChecklist(checklist_id=row.id, position=n) for n, row in enumerate(rows)]
    session.add(run)
    session.flush()
    audit.record(session, actor, "create", "inspection_run", run.id,
                 summary=f"开始{run.kind_label}：{enterprise.name}（{'、'.join(r.title for r in rows)}）",
                 after={"enterprise_id": enterprise.id, "kind": kind, "task_id": run.task_id,
                        "checklists": [f"{r.code}@{r.version}" for r in rows]})
    return run


# --- the run's content, loaded set-wise ------------------------------------------------------------------------------

@dataclass
class ItemView:
    item: StoredChecklistItem
    checklist: StoredChecklist
    guidance: str | None
    answer: InspectionAnswer | None
    photos: list[Attachment]
    #: (ref or law text, rule text or None, verified or None)
    basis: list[tuple[str, str | None, bool | None]]

    @property
    def ref(self) -> str:
        return f"{self.checklist.code}/{self.item.code}"

    @property
    def value(self) -> str | None:
        return self.answer.value if self.answer else None

    @property
    def failed(self) -> bool:
        return self.answer is not None and self.answer.passed is False

    @property
    def na(self) -> bool:
        return self.answer is not None and self.answer.value == "na"

    @property
    def answered(self) -> bool:
        if self.item.answer_type == "photo":
            return bool(self.photos)
        return self.answer is not None and self.answer.value not in (None, "")

    @property
    def needs_answer(self) -> bool:
        """Items with a pass condition must be answered before completing."""
        return self.item.pass_when is not None

    @property
    def on_fail(self) -> dict[str, Any]:
        return self.item.on_fail or {}

    def missing_on_failure(self) -> list[str]:
        """What a failing answer still lacks: "说明" and/or "照片"."""
        if not self.failed:
            return []
        missing = []
        if self.on_fail.get("comment_required") and not (self.answer.comment or "").strip():
            missing.append("说明")
        if self.on_fail.get("photo_required") and not self.photos:
            missing.append("照片")
        return missing


@dataclass
class SectionView:
    code: str
    title: str
    items: list[ItemView] = field(default_factory=list)


@dataclass
class ChecklistView:
    checklist: StoredChecklist
    sections: list[SectionView]

    @property
    def items(self) -> list[ItemView]:
        return [i for s in self.sections for i in s.items]

    @property
    def scored(self) -> bool:
        return bool(self.checklist.content.get("scored"))


@dataclass
class RunView:
    run: InspectionRun
    checklists: list[ChecklistView]

    @property
    def items(self) -> list[ItemView]:
        return [i for c in self.checklists for i in c.items]


def load_run(session: Session, actor: Actor, run_id: int) -> RunView:
    """The run with its checklists, items, answers, photos and basis texts in a fixed number of queries."""
    run = get_run(session, actor, run_id)
    links = list(session.scalars(select(InspectionRunChecklist).where(InspectionRunChecklist.run_id == run.id)
                                 .options(selectinload(InspectionRunChecklist.checklist))
                                 .order_by(InspectionRunChecklist.position)))
    checklist_ids = [link.checklist_id for link in links]
    items = list(session.scalars(select(StoredChecklistItem).where(StoredChecklistItem.checklist_id.in_(checklist_ids))
                                 .order_by(StoredChecklistItem.checklist_id, StoredChecklistItem.position)))
    answers = {a.item_id: a for a in session.scalars(select(InspectionAnswer).where(InspectionAnswer.run_id == run.id))}
    photos: dict[int, list[Attachment]] = defaultdict(list)
    if answers:
        for row in session.scalars(select(Attachment).where(
                Attachment.owner_type == PHOTO_OWNER,
                Attachment.owner_id.in_([a.id for a in answers.values()])).order_by(Attachment.id)):
            photos[row.owner_id].append(row)
    refs = sorted({b["rule"] for i in items for b in i.basis if "rule" in b})
    texts = _rule_texts(session, refs)
    by_checklist: dict[int, list[StoredChecklistItem]] = defaultdict(list)
    for item in items:
        by_checklist[item.checklist_id].append(item)
    views = []
    for link in links:
        checklist = link.checklist
        content_sections = checklist.content.get("sections", [])
        guidance = {i["code"]: i.get("guidance") for s in content_sections for i in s.get("items", [])}
        sections = {s["code"]: SectionView(s["code"], s["title"]) for s in content_sections}
        for item in by_checklist[checklist.id]:
            answer = answers.get(item.id)
            basis = []
            for b in item.basis:
                if "rule" in b:
                    text = texts.get(b["rule"])
                    basis.append((b["rule"], text[0] if text else None, text[1] if text else None))
                else:
                    basis.append((b["law"], None, None))
            section = sections.setdefault(item.section, SectionView(item.section, item.section))
            section.items.append(ItemView(item, checklist, guidance.get(item.code), answer,
                                          photos.get(answer.id, []) if answer else [], basis))
        views.append(ChecklistView(checklist, [s for s in sections.values() if s.items]))
    return RunView(run, views)


def _rule_texts(session: Session, refs: list[str]) -> dict[str, tuple[str, bool]]:
    """ref → (text, verified): the stored text (what the run was judged with) or the enabled plugins' catalog."""
    stored: dict[str, StoredRuleItem] = rule_texts(session, refs)
    out = {ref: (row.text, row.verified) for ref, row in stored.items()}
    registry = plugins()
    for ref in refs:
        if ref not in out:
            found = registry.rule_item(ref)
            if found:
                out[ref] = (found[0].text, found[0].verified)
    return out


# --- counting ---------------------------------------------------------------------------------------------------------

def _counts(items: list[ItemView]) -> dict[str, Any]:
    answered = [i for i in items if i.answered]
    counts: dict[str, Any] = {
        "total": len(items), "answered": len(answered),
        "passed": sum(1 for i in answered if i.answer and i.answer.passed is True),
        "failed": sum(1 for i in answered if i.failed), "na": sum(1 for i in answered if i.na),
    }
    counts["unanswered"] = counts["total"] - counts["answered"]
    return counts


def _score(items: list[ItemView]) -> tuple[int, int, float | None]:
    """(earned, possible, score 0–100): points of passed items over points of the items not answered n/a."""
    possible = sum(i.item.points for i in items if i.item.points and not i.na)
    earned = sum(i.item.points for i in items if i.item.points and i.answer and i.answer.passed is True)
    return earned, possible, (round(earned * 100 / possible, 1) if possible else None)


def progress(view: RunView) -> dict[str, Any]:
    """Counts over all items of the run, per checklist, and the scores of scored checklists."""
    result = _counts(view.items)
    result["checklists"] = []
    earned_all = possible_all = 0
    for cv in view.checklists:
        entry = {"code": cv.checklist.code, "version": cv.checklist.version, "title": cv.checklist.title,
                 **_counts(cv.items), "score": None}
        if cv.scored:
            earned, possible, entry["score"] = _score(cv.items)
            earned_all += earned
            possible_all += possible
        result["checklists"].append(entry)
    result["score"] = round(earned_all * 100 / possible_all, 1) if possible_all else None
    return result


# --- answers ----------------------------------------------------------------------------------------------------------

def _clean_value(item: StoredChecklistItem, raw: Any) -> str | None:
    """The stored form of an answer for the item's type, or :class:`ValidationFailed` on ``value``."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    kind = item.answer_type
    text = str(raw).strip()
    if kind in ("yes_no", "yes_no_na"):
        allowed = ("yes", "no", "na") if kind == "yes_no_na" else ("yes", "no")
        if text not in allowed:
            choices = "、".join(f"“{ANSWER_VALUES[v]}”" for v in allowed)
            raise ValidationFailed({"value": [f"请选择{choices}"]})
        return text
    if kind == "number":
        if isinstance(raw, bool):
            raise ValidationFailed({"value": ["应为数值"]})
        try:
            number = float(text)
        except ValueError:
            raise ValidationFailed({"value": ["应为数值"]}) from None
        if not math.isfinite(number):
            raise ValidationFailed({"value": ["应为数值"]})
        return text if len(text) <= 40 else repr(number)
    if kind == "text":
        if len(text) > MAX_TEXT:
            raise ValidationFailed({"value": [f"不能超过 {MAX_TEXT} 个字"]})
        return text
    # photo: the answer is the photos themselves
    return None


def evaluate(item: StoredChecklistItem, value: str | None) -> bool | None:
    """Whether ``value`` passes the item's ``pass_when`` (None: unanswered, 不适用 or no pass condition)."""
    pw = item.pass_when
    if value is None or pw is None or value == "na":
        return None
    if item.answer_type in ("yes_no", "yes_no_na"):
        return value == pw
    if item.answer_type == "number" and isinstance(pw, dict):
        number = float(value)
        return ("min" not in pw or number >= pw["min"]) and ("max" not in pw or number <= pw["max"])
    return None


def ensure_performer(actor: Actor, run: InspectionRun) -> InspectionRun:
    """Raise unless the actor may change this visible run: 403 without the permission of its kind, 409 when the
    run is completed (read-only)."""
    require(actor, KINDS[run.kind][0])
    if run.is_completed:
        raise Conflict("该检查已完成，不能再修改")
    return run


def ensure_answerable(session: Session, actor: Actor, run: InspectionRun) -> InspectionRun:
    """:func:`ensure_performer`, and for an enforcement run also unsigned: once signed, what was signed stays
    as it is until the signatures are withdrawn (409)."""
    ensure_performer(actor, run)
    if run.kind == "enforcement":
        from core.services import signatures

        signatures.ensure_unsigned(session, run)
    return run


def _editable(session: Session, actor: Actor, run_id: int) -> InspectionRun:
    return ensure_performer(actor, get_run(session, actor, run_id))


def save_answer(session: Session, actor: Actor, run_id: int, data: dict[str, Any],
                uploads: list[Upload] | None = None) -> InspectionAnswer:
    """Save (insert or update) the answer to one item of a draft run: ``item_id``, ``value``, ``comment``,
    ``version`` (the answer's version the client saw; required when the answer exists — 409 when stale) and
    photos. The value is checked against the item's answer type and ``passed`` computed from ``pass_when``.
    On an enforcement run the step also enters the full-process record, with the position in ``data``
    (``lat``/``lng``/``accuracy_m`` or ``gps_missing``) when the device gave one."""
    run = ensure_answerable(session, actor, get_run(session, actor, run_id))
    item = session.scalar(select(StoredChecklistItem).join(
        InspectionRunChecklist, InspectionRunChecklist.checklist_id == StoredChecklistItem.checklist_id).where(
        InspectionRunChecklist.run_id == run.id, StoredChecklistItem.id == data.get("item_id")))
    if item is None:
        raise NotFound("检查表条目不存在")
    value = _clean_value(item, data.get("value"))
    comment = (data.get("comment") or "").strip() or None
    if comment and len(comment) > MAX_TEXT:
        raise ValidationFailed({"comment": [f"说明不能超过 {MAX_TEXT} 个字"]})
    answer = session.scalar(select(InspectionAnswer).where(InspectionAnswer.run_id == run.id,
                                                           InspectionAnswer.item_id == item.id))
    before = None
    if answer is None:
        if data.get("version") not in (None, 0):
            raise Conflict("该条答案已被删除或不存在，请刷新后重试")
        answer = InspectionAnswer(run_id=run.id, item_id=item.id)
        session.add(answer)
    else:
        check_version(answer, data.get("version"), f"条目 {item.code} 的答案")
        before = {"value": answer.value, "comment": answer.comment}
    if item.answer_type == "photo":
        has_photos = bool(uploads) or (answer.id is not None and session.scalar(
            select(func.count()).select_from(Attachment).where(Attachment.owner_type == PHOTO_OWNER,
                                                               Attachment.owner_id == answer.id)))
        value = "photo" if has_photos else None
    answer.value = value
    answer.passed = evaluate(item, value)
    answer.comment = comment
    answer.answered_by_id = actor.id
    answer.answered_at = utcnow()
    session.flush()
    for upload in uploads or []:
        store(session, actor, upload, PHOTO_OWNER, answer.id)
    session.flush()
    audit.record(session, actor, "answer", "inspection_run", run.id,
                 summary=f"检查记录 {run.id} 条目 {item.code}：{ANSWER_VALUES.get(value or '', value or '（清空）')}",
                 before=before, after={"item_id": item.id, "value": value, "comment": comment,
                                       "photos": len(uploads or [])})
    if run.kind == "enforcement":
        from core.services import field

        field.record_answer(session, actor, run, item, answer, uploads or [], data)
    return answer


def get_photo(session: Session, actor: Actor, run_id: int, attachment_id: int) -> Attachment:
    """A photo of an answer of a visible run (NotFound when it belongs to anything else)."""
    run = get_run(session, actor, run_id)
    row = session.get(Attachment, attachment_id)
    if row is None or row.owner_type != PHOTO_OWNER:
        raise NotFound()
    owner_run = session.scalar(select(InspectionAnswer.run_id).where(InspectionAnswer.id == row.owner_id))
    if owner_run != run.id:
        raise NotFound()
    return row


# --- completing -------------------------------------------------------------------------------------------------------

def _codes(items: list[ItemView], limit: int = 12) -> str:
    codes = [i.ref if len({x.checklist.code for x in items}) > 1 else i.item.code for i in items]
    return "、".join(codes[:limit]) + (f" 等 {len(codes)} 条" if len(codes) > limit else "")


def hazard_description(iv: ItemView) -> str:
    """The hidden danger a failing answer describes, as a statement that reads well in a 执法文书: the text of the
    rule item the item cites when it is known (e.g. 「特种作业人员未持证上岗。」), else the checklist item that was
    not met; then where it comes from and what the inspector saw."""
    rule = iv.on_fail.get("rule")
    text = next((t for ref, t, _ in iv.basis if ref == rule and t), None) if rule else None
    # A checklist number is not a statutory article: it is named as the checklist's 检查项 (issue 15 item 5).
    where = f"《{iv.checklist.title}》检查项 {iv.item.code}"
    question = iv.item.question.rstrip("。？?")
    head = f"{text.rstrip('。')}（{where}）" if text else f"{where}不合格：{question}"
    return f"{head}。现场情况：{iv.answer.comment}" if iv.answer.comment else head


def run_date(run: InspectionRun) -> date:
    started = run.started_at if run.started_at.tzinfo else run.started_at.replace(tzinfo=UTC)
    return started.astimezone(hazards.CHINA).date()


def completion_problems(view: RunView) -> list[str]:
    """Why the run cannot be completed yet: unanswered items, failing items lacking their 说明/照片 (empty: ready)."""
    unanswered = [i for i in view.items if i.needs_answer and not i.answered]
    if unanswered:
        return [f"尚有 {len(unanswered)} 条未作答：{_codes(unanswered)}"]
    problems = []
    for what in ("说明", "照片"):
        lacking = [i for i in view.items if what in i.missing_on_failure()]
        if lacking:
            problems.append(f"以下不合格条目须填写{what}：{_codes(lacking)}" if what == "说明"
                            else f"以下不合格条目须拍照上传：{_codes(lacking)}")
    return problems


def complete_run(session: Session, actor: Actor, run_id: int, version: int | None,
                 position: dict[str, Any] | None = None) -> InspectionRun:
    """Complete a draft run: every item with a pass condition answered, failing answers with their required
    说明/照片; each failing answer with ``on_fail.hazard`` becomes a hidden danger (classified by the sector's
    plugin), the summary is stored and the run becomes read-only. A run made for a risk-register task records
    that task's check. ``version`` is the run's (409 when stale).

    An enforcement run also needs the signatures of both inspectors and of the enterprise's on-site person and
    its end position (``position``: ``lat``/``lng``/``accuracy_m`` or ``gps_missing``); its findings and the
    completion enter the full-process record (:mod:`core.services.field`)."""
    run = _editable(session, actor, run_id)
    check_version(run, version, "该检查记录")
    view = load_run(session, actor, run_id)
    problems = completion_problems(view)
    if problems:
        raise ValidationFailed({"_schema": problems}, "；".join(problems))
    if run.kind == "enforcement":
        from core.services import field

        field.before_complete(session, actor, run, position or {})

    found_on = run_date(run)
    source = KINDS[run.kind][1]
    made: list[Hazard] = []
    for iv in view.items:
        if not iv.failed or not iv.on_fail.get("hazard"):
            continue
        description = hazard_description(iv)
        hazard = hazards.register_hazard(session, actor, {
            "enterprise_id": run.enterprise_id, "description": description[:2000],
            "category": iv.on_fail.get("category") or "management", "level": iv.on_fail.get("level") or "general",
            "source": source, "sector": iv.checklist.sector, "checklist_item": iv.ref,
            "rule_item": iv.on_fail.get("rule"), "object_type": run.object_type, "object_ref": run.object_ref,
            "found_on": found_on})
        if iv.photos:
            step_id = session.scalar(select(HazardTransition.id).where(HazardTransition.hazard_id == hazard.id)
                                     .order_by(HazardTransition.id).limit(1))
            for photo in iv.photos:  # files are content-addressed: the hazard's evidence points at the same bytes
                session.add(Attachment(owner_type="hazard", owner_id=hazard.id, transition_id=step_id,
                                       filename=photo.filename, content_type=photo.content_type, size=photo.size,
                                       sha256=photo.sha256, uploaded_by_id=photo.uploaded_by_id))
        iv.answer.hazard_id = hazard.id
        made.append(hazard)

    summary = progress(view)
    summary["hazards"] = {"general": sum(1 for h in made if h.level != hazards.MAJOR),
                          "major": sum(1 for h in made if h.level == hazards.MAJOR),
                          "ids": [h.id for h in made]}
    run.summary = summary
    run.status = RunStatus.COMPLETED.value
    run.completed_at = utcnow()
    run.completed_by_id = actor.id
    session.flush()
    if run.task_id:
        _record_task_check(session, actor, run, found_on, made)
    if run.kind == "enforcement":
        from core.services import field

        field.after_complete(session, actor, run, view, made)
    audit.record(session, actor, "complete", "inspection_run", run.id,
                 summary=f"完成{run.kind_label}：合格 {summary['passed']}，不合格 {summary['failed']}，"
                         f"生成隐患 {len(made)} 条（重大 {summary['hazards']['major']}）",
                 after={"summary": {k: v for k, v in summary.items() if k != "checklists"}})
    return run


def _record_task_check(session: Session, actor: Actor, run: InspectionRun, done_on: date,
                       made: list[Hazard]) -> None:
    from core.models import InspectionTask
    from core.services.risks import next_due_after

    task = session.get(InspectionTask, run.task_id)
    if task is None or not task.is_active:
        return
    session.add(TaskCheck(task_id=task.id, due_date=task.next_due, done_on=done_on, done_by_id=actor.id,
                          passed=not run.summary["failed"], note=f"按检查记录 {run.id} 完成",
                          hazard_id=made[0].id if made else None))
    before = {"next_due": task.next_due, "last_done": task.last_done}
    task.next_due = next_due_after(task.next_due, task.period, done_on)
    task.last_done = done_on
    session.flush()
    audit.record(session, actor, "check", "inspection_task", task.id,
                 summary=f"排查（检查记录 {run.id}）：{task.content[:50]}", before=before,
                 after={"next_due": task.next_due, "last_done": task.last_done})


def created_hazards(session: Session, actor: Actor, run: InspectionRun) -> list[Hazard]:
    """The hidden dangers a completed run registered, in item order (one query)."""
    ids = (run.summary or {}).get("hazards", {}).get("ids") or []
    if not ids:
        return []
    rows = {h.id: h for h in session.scalars(select(Hazard).where(Hazard.id.in_(ids), hazards.hazard_clause(actor)))}
    return [rows[i] for i in ids if i in rows]
