"""执法文书 (R-E3…R-E5, R-O2): numbering, issuing and verifying 责令限期整改指令书, 整改复查意见书, 挂牌督办通知书,
the document types of plugins, 法制审核 before issue, and the batch download as one merged PDF.

* Types: the core's in ``DOCUMENT_TYPES`` (config: name and 文书代字, optional ``legal_review``), then those of the
  plugins (``register_document_types``: fields, template in the plugin's template folder). :func:`document_types`
  merges both; a code clash stops the start-up (core/plugins.py).
* Numbers: 机关简称 + 文书代字 + year + sequence (``（翔）应急责改〔2026〕12号``). :func:`next_sequence` increments
  one counter row per (agency, type, year) with ``UPDATE … RETURNING`` in the issuing transaction: the row stays
  locked until commit on PostgreSQL (SQLite serialises writers), and a rolled-back issue rolls its number back
  too, so numbers are gap-free.
* Signers: at least two 执法人员 of the issuing agency, each with a 执法证 valid on the document date (a type may
  need none: the 挂牌督办通知书 is the listing agency's notice). A document issued with an ``inspection_run_id``
  embeds the signatures drawn during that inspection (:func:`core.services.signatures.run_signatures`) and adds
  a "document_issued" step to its full-process record (:func:`core.services.field.record_event`).
* Immutable: the filled fields and the PDF (rendered once, stored content-addressed, SHA-256 recorded) never
  change; a correction is a new document that supersedes the old one (both kept).
* Closed loop: a 指令书 is the 下达整改 of the hazards it lists (``hazard_flow`` ``assign`` with its deadline);
  a 复查意见书 is their 复查 (``review_pass`` / ``review_fail`` with the new deadline).
* 法制审核 (R-E5, 重大执法决定法制审核): a type flagged ``legal_review`` (config) or ``needs_legal_review``
  (plugin) is not issued on request. The request is checked completely (a dry run of the issue inside a
  savepoint, rolled back: nothing changes, no number is used) and kept as a :class:`LegalReview` with the
  requester. A 监管人员 of the same agency holding ``document.legal_review`` (not the requester) approves it —
  the document is issued then, in the requester's name, with the next number, and points back to the review —
  or returns it with reasons. Decision, reviewer and time are on the review, shown on the document's page and
  in the audit log (``legal_approve`` / ``legal_return``).
* 挂牌督办通知书: issued from an active 县区/市/省 listing (``hazard_flow`` action ``list``) by a 监管人员 of the
  listing agency. **No verified national template exists** for it (see /work/shared/regulations.md C.9 and the
  verified notes on document templates): its wording is neutral platform text from ``SUPERVISION_NOTICE_TEXT``
  (config, replaced per deployment), it cites no legal article, and its 文书代字 is a configurable default.
"""

from __future__ import annotations

import hashlib
import io
import secrets
from contextvars import ContextVar
from datetime import date
from typing import Any

from flask import current_app
from marshmallow import EXCLUDE
from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from core.models import (
    Agency,
    Document,
    DocumentCounter,
    DocumentHazard,
    DocumentSigner,
    DocumentStatus,
    Enterprise,
    Hazard,
    HazardState,
    HazardSupervision,
    InspectionRun,
    LegalReview,
    LegalReviewStatus,
    Role,
    User,
)
from core.models.base import utcnow
from core.pdf import PDF_MIMETYPE, render_pdf
from core.schemas.base import DATE_MAX, DATE_MIN
from core.services import audit, citations, document_texts, hazard_flow
from core.services.actors import Actor
from core.services.attachments import Upload, store
from core.services.base import Page, check_version, keyset_page
from core.services.document_texts import agency_problems, appeal_clause
from core.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.services.hazards import MAJOR, get_hazard, today
from core.services.permissions import require
from core.services.scope import ensure_enterprise_visible, path_clause, scope_of

RECORD = "inspection_record"
ORDER = "rectification_order"
REVIEW = "review_opinion"
NOTICE = "supervision_notice"
PASSED, FAILED = "passed", "failed"
VERIFY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off paper
_NO_SIGNERS = {NOTICE}  # core types issued by the agency without personal signatures
#: The review being approved while its document is issued (so that the issue is not sent to review again).
_APPROVING: ContextVar[LegalReview | None] = ContextVar("anjian_approving_legal_review", default=None)
SUPERVISION_LEVEL_LABELS = {"enterprise": "企业", "county": "县（区）", "city": "市", "province": "省"}


# --- types and numbers ------------------------------------------------------------------------------------------

def document_types() -> dict[str, dict[str, Any]]:
    """Every document type, code → {name, code (文书代字), template, legal_review, fields, min_signers, sector,
    plugin}: the core's (config ``DOCUMENT_TYPES``) first, then the plugins'."""
    from core.plugins import plugins

    out: dict[str, dict[str, Any]] = {}
    for code, cfg in current_app.config["DOCUMENT_TYPES"].items():
        out[code] = {"name": cfg["name"], "code": cfg["code"], "template": cfg.get("template") or f"pdf/doc_{code}.html",
                     "legal_review": bool(cfg.get("legal_review")), "fields": (),
                     "min_signers": 0 if code in _NO_SIGNERS else 2, "sector": None, "plugin": None}
    registry = plugins()
    for code, dt in registry.document_types.items():
        out[code] = {"name": dt.name, "code": dt.number_code, "template": dt.template,
                     "legal_review": dt.needs_legal_review, "fields": dt.fields, "min_signers": dt.min_signers,
                     "sector": dt.sector, "plugin": registry.document_type_plugin[code]}
    return out


def type_config(doc_type: str) -> dict[str, Any]:
    types = document_types()
    if doc_type not in types:
        raise ValidationFailed({"doc_type": [f"未知的文书种类 {doc_type}"]})
    return types[doc_type]


def plugin_types() -> dict[str, dict[str, Any]]:
    """The document types that plugins added (issued through the generic form / API)."""
    return {code: t for code, t in document_types().items() if t["plugin"]}


def format_number(agency: Agency, doc_type: str, year: int, sequence: int) -> str:
    return f"（{agency.short_name}）{type_config(doc_type)['code']}〔{year}〕{sequence}号"


def next_sequence(session: Session, agency_id: int, doc_type: str, year: int) -> int:
    """The next number of (agency, type, year), taken inside the caller's transaction (see module doc)."""
    table = DocumentCounter.__table__
    stmt = (update(table)
            .where(table.c.agency_id == agency_id, table.c.doc_type == doc_type, table.c.year == year)
            .values(last_sequence=table.c.last_sequence + 1)
            .returning(table.c.last_sequence))
    value = session.execute(stmt).scalar()
    if value is not None:
        return value
    try:
        with session.begin_nested():
            session.execute(table.insert().values(agency_id=agency_id, doc_type=doc_type, year=year,
                                                  last_sequence=1))
        return 1
    except IntegrityError:
        # Another transaction created the row first; its lock makes this UPDATE wait for its commit.
        return session.execute(stmt).scalar_one()


def _verify_code() -> str:
    return "".join(secrets.choice(VERIFY_ALPHABET) for _ in range(10))


# --- common parts -----------------------------------------------------------------------------------------------

def _issuing_agency(session: Session, actor: Actor) -> Agency:
    require(actor, "document.issue")
    agency = session.get(Agency, actor.agency_id) if getattr(actor, "agency_id", None) else None
    if agency is None:
        raise PermissionDenied("您不属于任何执法机关，不能制作执法文书")
    return agency


def _signers(session: Session, agency: Agency, signer_ids: list[int], on: date, minimum: int = 2) -> list[User]:
    ids = list(dict.fromkeys(signer_ids or []))
    if len(ids) < minimum:
        raise ValidationFailed({"signer_ids": ["执法文书须由两名以上执法人员签名" if minimum == 2
                                               else f"执法文书须由{minimum}名以上执法人员签名"]})
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    errors = []
    for uid in ids:
        user = users.get(uid)
        if user is None or user.agency_id != agency.id or not user.has_role(Role.INSPECTOR, Role.REGULATOR):
            errors.append(f"签名人（编号 {uid}）不是{agency.name}的执法人员")
        elif not user.cert_number:
            errors.append(f"{user.display_name}未登记执法证，不能在执法文书上签名")
        elif not user.cert_valid_on(on):
            errors.append(f"{user.display_name}的执法证（{user.cert_number}）已于 {user.cert_valid_until} 过期，"
                          "不能在执法文书上签名")
    if errors:
        raise ValidationFailed({"signer_ids": errors})
    return [users[uid] for uid in ids]


def _signer_data(signers: list[User]) -> list[dict[str, Any]]:
    return [{"user_id": u.id, "name": u.display_name, "cert_number": u.cert_number or ""} for u in signers]


def _agency_data(agency: Agency) -> dict[str, str]:
    return {"name": agency.name, "people_government": agency.people_government or "",
            "court": agency.court or "", "parent_name": agency.parent.name if agency.parent else ""}


def _enterprise_data(enterprise: Enterprise) -> dict[str, str]:
    return {"name": enterprise.name, "address": enterprise.address or "",
            "legal_representative": enterprise.legal_representative or "",
            "principal_name": enterprise.principal_name or ""}


def _inspection_run(session: Session, actor: Actor, run_id: int | None, enterprise: Enterprise) -> int | None:
    """The inspection a document comes from (its signatures are embedded): it must be of the same enterprise."""
    if run_id is None:
        return None
    run = session.get(InspectionRun, run_id)
    if run is None or run.enterprise_id != enterprise.id:
        raise ValidationFailed({"inspection_run_id": [f"检查记录 {run_id} 不是对{enterprise.name}的检查"]})
    return run.id


def _signatures(session: Session, run_id: int) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The inspection's drawn signatures: (metadata kept in the document's data, sha256 → image data URI)."""
    from core.services.signatures import run_signatures

    meta, images = [], {}
    for sig in run_signatures(session, run_id):
        meta.append({"role": sig.role, "user_id": sig.user_id, "name": sig.name, "cert_number": sig.cert_number,
                     "signed_at": sig.signed_at, "sha256": sig.sha256})
        images[sig.sha256] = sig.data_uri
    return meta, images


def _issue(session: Session, actor: Actor, agency: Agency, enterprise: Enterprise, doc_type: str, on: date,
           signers: list[User], data: dict[str, Any], hazard_links: list[DocumentHazard],
           related: Document | None = None, supersedes: Document | None = None, *,
           inspection_run_id: int | None = None) -> Document:
    """Number, render, store and record a document (the common tail of every issue).

    With ``inspection_run_id`` the run's full-process record gets a "document_issued" step, and a 现场检查记录
    embeds the run's drawn signatures (they were given for it; other documents are signed for themselves). Inside an approval of 法制审核 the document points to the review."""
    sequence = next_sequence(session, agency.id, doc_type, on.year)
    number = format_number(agency, doc_type, on.year, sequence)
    code = _verify_code()
    config = type_config(doc_type)
    images: dict[str, str] = {}
    extra: dict[str, Any] = {}
    if inspection_run_id is not None and doc_type == RECORD:
        # The signatures drawn on the phone at the end of an inspection are given for its 现场检查记录 only: a
        # 指令书 or 复查意见书 of the same run is signed for itself (issue 15 item 3), on the printed document,
        # so its signature lines stay empty rather than carry pictures signed before it existed.
        extra["signatures"], images = _signatures(session, inspection_run_id)
    data = audit._jsonable({**data, **extra, "number": number, "verify_code": code, "date": on,
                            "type_name": config["name"]})
    # The images go to the template only (``doc.signature_images``: sha256 → data URI); the stored data keeps
    # their SHA-256, the stored PDF the pictures.
    pdf = render_pdf(config["template"], doc={**data, "signature_images": images})
    upload = Upload(data=pdf, content_type=PDF_MIMETYPE, filename=f"{number}.pdf")
    review = _APPROVING.get()
    doc = Document(agency_id=agency.id, enterprise_id=enterprise.id, scope_path=enterprise.scope_path,
                   doc_type=doc_type, number=number, year=on.year, sequence=sequence,
                   status=DocumentStatus.ISSUED.value, issued_on=on, issued_by_id=actor.id,
                   signer_ids=[u.id for u in signers], data=data, pdf_sha256=upload.sha256, verify_code=code,
                   related_id=related.id if related else None, supersedes_id=supersedes.id if supersedes else None,
                   inspection_run_id=inspection_run_id, legal_review_id=review.id if review else None,
                   hazard_links=hazard_links,
                   signer_rows=[DocumentSigner(user_id=u.id, position=i) for i, u in enumerate(signers, start=1)])
    session.add(doc)
    if supersedes is not None:
        supersedes.status = DocumentStatus.SUPERSEDED.value
    session.flush()
    store(session, actor, upload, "document", doc.id)
    audit.record(session, actor, "issue", "document", doc.id, summary=f"签发{data['type_name']} {number}",
                 after={"number": number, "enterprise_id": enterprise.id, "pdf_sha256": upload.sha256,
                        "signer_ids": doc.signer_ids, "supersedes_id": doc.supersedes_id,
                        "inspection_run_id": inspection_run_id, "legal_review_id": doc.legal_review_id})
    session.flush()
    if inspection_run_id is not None:
        from core.services.field import record_event

        record_event(session, inspection_run_id, actor, "document_issued",
                     detail={"number": number, "doc_type": doc_type, "document_id": doc.id},
                     attachment_shas=[upload.sha256])
    return doc


def _superseded(session: Session, actor: Actor, supersedes_id: int | None, doc_type: str,
                enterprise: Enterprise) -> Document | None:
    if supersedes_id is None:
        return None
    old = get_document(session, actor, supersedes_id)
    if old.doc_type != doc_type or old.enterprise_id != enterprise.id:
        raise ValidationFailed({"supersedes_id": ["更正文书须与原文书种类相同、对象相同"]})
    if old.status != DocumentStatus.ISSUED.value:
        raise Conflict(f"文书 {old.number} 已被更正，不能再次更正")
    return old


# --- the issue paths --------------------------------------------------------------------------------------------

def issue_order(session: Session, actor: Actor, data: dict[str, Any]) -> Document | LegalReview:
    """责令限期整改指令书 from registered hazards of one enterprise.

    ``data``: enterprise_id, items [{hazard_id, deadline?, version}], deadline (for items without their own),
    signer_ids, on (document date, default today), supersedes_id (correction of an earlier 指令书),
    inspection_run_id (the inspection it was issued in: its signatures are embedded).
    Each hazard is 下达整改 (``assign``) with its deadline through :mod:`core.services.hazard_flow`.
    Returns the document, or the pending :class:`LegalReview` when the type needs 法制审核."""
    return _route(session, actor, ORDER, data)


def _build_order(session: Session, actor: Actor, data: dict[str, Any]) -> Document:
    agency = _issuing_agency(session, actor)
    # The 复议/诉讼 sentence names the agency's 复议机关 and court: an agency that would print a blank or a wrong
    # one cannot issue (its administrator fixes the agency; `anjian documents check-agencies` lists them).
    misconfigured = agency_problems(agency.people_government, agency.court)
    if misconfigured:
        raise ValidationFailed({"agency": [f"执法机关“{agency.name}”：{m}" for ms in misconfigured.values() for m in ms]})
    enterprise = ensure_enterprise_visible(actor, session.get(Enterprise, data.get("enterprise_id")))
    on = data.get("on") or today()
    signers = _signers(session, agency, data.get("signer_ids") or [], on)
    supersedes = _superseded(session, actor, data.get("supersedes_id"), ORDER, enterprise)
    run_id = _inspection_run(session, actor, data.get("inspection_run_id"), enterprise)
    items = data.get("items") or []
    if not items:
        raise ValidationFailed({"items": ["请至少选择一项隐患"]})
    problems, links, errors = [], [], []
    for position, item in enumerate(items, start=1):
        hazard = session.get(Hazard, item["hazard_id"])
        if hazard is None or hazard.enterprise_id != enterprise.id:
            errors.append(f"隐患 {item['hazard_id']} 不属于{enterprise.name}")
            continue
        deadline = item.get("deadline") or data.get("deadline")
        if deadline is None:
            errors.append(f"请填写隐患 {hazard.id} 的整改期限")
            continue
        if deadline < on:
            errors.append(f"隐患 {hazard.id} 的整改期限不能早于文书日期")
            continue
        if item.get("version") is not None:  # acted on since the form was filled (or by a concurrent issue): 409
            check_version(hazard, item["version"], f"隐患 {hazard.id} ")
        if supersedes is None or hazard.state == HazardState.REGISTERED:
            if hazard.state != HazardState.REGISTERED:
                errors.append(f"隐患 {hazard.id} 当前状态为“{hazard.state_label}”，已下达过整改，不能再列入指令书")
                continue
            hazard_flow.perform(session, actor, hazard.id, "assign", {
                "version": item.get("version", hazard.version),
                "responsible_name": enterprise.principal_name or enterprise.name,
                "deadline": deadline, "deadline_kind": "calendar", "comment": "责令限期整改"}, on=on, ordered=True)
        problems.append({"no": position, "hazard_id": hazard.id, "location": hazard.location or "",
                         "description": hazard.description, "deadline": deadline,
                         "major": hazard.level == MAJOR, "rule_item": hazard.rule_item})
        links.append(DocumentHazard(hazard_id=hazard.id, position=position, deadline=deadline))
    if errors:
        raise ValidationFailed({"items": errors})
    agency_data = _agency_data(agency)
    doc_data = {"agency": agency_data, "enterprise": _enterprise_data(enterprise),
                "problems": _cite_problems(session, problems), "signers": _signer_data(signers),
                "appeal": appeal_clause(agency_data, on),
                **_major_clauses(problems, data.get("measures") or [], on),
                "supersedes_number": supersedes.number if supersedes else None}
    return _issue(session, actor, agency, enterprise, ORDER, on, signers, doc_data, links, supersedes=supersedes,
                  inspection_run_id=run_id)


def _cite_problems(session: Session, problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each problem with the citation of the rule it was judged 重大 by (never the internal reference)."""
    cited = citations.citations(session, [p["rule_item"] for p in problems if p["rule_item"]])
    return [{**{k: v for k, v in p.items() if k != "rule_item"},
             "basis": cited[p["rule_item"]].text if p["rule_item"] in cited else ""} for p in problems]


def major_measures() -> dict[str, str]:
    """The measures a 指令书 may order for 重大事故隐患 (config ``ORDER_MAJOR_MEASURES``), code → wording."""
    return dict(current_app.config["ORDER_MAJOR_MEASURES"])


def _major_clauses(problems: list[dict[str, Any]], measures: list[str], on: date) -> dict[str, Any]:
    """The 重大 sentence and the measures sentence of a 指令书 (none without 重大事故隐患); the measures are
    checked against the configured ones and need a 重大事故隐患 to apply to."""
    known = major_measures()
    unknown = [m for m in measures if m not in known]
    if unknown:
        raise ValidationFailed({"measures": [f"未知的措施 {'、'.join(unknown)}；取值应为以下之一："
                                             + "、".join(f"{code}（{label}）" for code, label in known.items())]})
    majors = "、".join(str(p["no"]) for p in problems if p["major"])
    if not majors:
        if measures:
            raise ValidationFailed({"measures": ["所列隐患中没有重大事故隐患，不能责令采取重大事故隐患的措施"]})
        return {"major_clause": None, "measures_clause": None}
    chosen = "；".join(known[m] for m in dict.fromkeys(measures))
    return {"major_clause": document_texts.filled(document_texts.MAJOR, on, {"items": majors}),
            "measures_clause": document_texts.filled(document_texts.MEASURES, on,
                                                     {"items": majors, "measures": chosen}) if measures else None,
            "measures": list(dict.fromkeys(measures))}


def issue_review(session: Session, actor: Actor, data: dict[str, Any]) -> Document | LegalReview:
    """整改复查意见书 for a 指令书: ``data`` = order_id, results [{hazard_id, passed, new_deadline?, version}],
    signer_ids, on, opinion (free text), inspection_run_id. Every hazard of the 指令书 needs a result; each must
    await 复查 (the enterprise reported it rectified). Passed → ``review_pass``; failed → ``review_fail`` with
    the new deadline, which returns it to 整改中. Returns the document, or the pending :class:`LegalReview`."""
    return _route(session, actor, REVIEW, data)


def _build_review(session: Session, actor: Actor, data: dict[str, Any]) -> Document:
    agency = _issuing_agency(session, actor)
    order = get_document(session, actor, data.get("order_id"))
    if order.doc_type != ORDER:
        raise ValidationFailed({"order_id": ["整改复查意见书须针对一份责令限期整改指令书"]})
    if order.status != DocumentStatus.ISSUED.value:
        raise Conflict(f"指令书 {order.number} 已被更正文书替代，请针对更正后的指令书复查")
    enterprise = order.enterprise
    on = data.get("on") or today()
    if on < order.issued_on:
        raise ValidationFailed({"on": ["复查日期不能早于指令书日期"]})
    signers = _signers(session, agency, data.get("signer_ids") or [], on)
    run_id = _inspection_run(session, actor, data.get("inspection_run_id"), enterprise)
    results = {r["hazard_id"]: r for r in data.get("results") or []}
    ordered = list(order.hazard_links)
    missing = [link.hazard_id for link in ordered if link.hazard_id not in results]
    extra = [hid for hid in results if hid not in {link.hazard_id for link in ordered}]
    errors = []
    if missing:
        errors.append("请填写指令书中每一项隐患的复查结果（缺：" + "、".join(f"第{link.position}项" for link in ordered
                                                           if link.hazard_id in missing) + "）")
    if extra:
        errors.append("隐患 " + "、".join(map(str, extra)) + " 不在该指令书中")
    if errors:
        raise ValidationFailed({"results": errors})
    passed, failed, links = [], [], []
    for link in ordered:
        result = results[link.hazard_id]
        hazard = session.get(Hazard, link.hazard_id)
        if hazard.state != HazardState.PENDING_REVIEW:
            errors.append(f"第{link.position}项隐患当前状态为“{hazard.state_label}”，企业尚未报告整改完成，不能复查")
            continue
        if result.get("passed"):
            hazard_flow.perform(session, actor, hazard.id, "review_pass", {
                "version": result.get("version", hazard.version), "comment": "整改复查：已整改合格"}, on=on)
            passed.append({"no": link.position, "description": hazard.description})
            links.append(DocumentHazard(hazard_id=hazard.id, position=link.position, result=PASSED))
        else:
            new_deadline = result.get("new_deadline")
            if new_deadline is None or new_deadline < on:
                errors.append(f"第{link.position}项未整改合格，请填写不早于复查日期的新整改期限")
                continue
            if link.deadline and new_deadline < link.deadline:
                # A failed 复查 cannot shorten the term the 指令书 gave (issue 15 item 7).
                errors.append(f"第{link.position}项的新整改期限不能早于指令书规定的原整改期限"
                              f"（{link.deadline.year}年{link.deadline.month}月{link.deadline.day}日）")
                continue
            hazard_flow.perform(session, actor, hazard.id, "review_fail", {
                "version": result.get("version", hazard.version), "comment": "整改复查：未整改合格",
                "deadline": new_deadline}, on=on)
            failed.append({"no": link.position, "description": hazard.description, "deadline": new_deadline})
            links.append(DocumentHazard(hazard_id=hazard.id, position=link.position, deadline=new_deadline,
                                        result=FAILED))
    if errors:
        raise ValidationFailed({"results": errors})
    doc_data = {"agency": _agency_data(agency), "enterprise": _enterprise_data(enterprise),
                "order": {"number": order.number, "date": order.issued_on, "type_name": order.data["type_name"]},
                "passed": passed, "failed": failed, "opinion": (data.get("opinion") or "").strip(),
                "signers": _signer_data(signers)}
    return _issue(session, actor, agency, enterprise, REVIEW, on, signers, doc_data, links, related=order,
                  inspection_run_id=run_id)


def issue_notice(session: Session, actor: Actor, data: dict[str, Any]) -> Document | LegalReview:
    """挂牌督办通知书 for an active 县区/市/省 挂牌督办 of a 重大事故隐患 (``data``: supervision_id, on,
    supersedes_id), by a 监管人员 of the listing agency: 督办单位, the hazard, 整改责任单位, 整改期限 (the listing's
    督办期限), 督办责任领导 and 督办要求 (the listing's requirements, else its comment). Neutral wording from
    ``SUPERVISION_NOTICE_TEXT`` (no verified national template; module doc)."""
    return _route(session, actor, NOTICE, data)


def notice_listing(session: Session, actor: Actor, supervision_id: Any) -> tuple[Agency, HazardSupervision]:
    """The listing a notice is made for, checked: visible, active, 县区 level or above, and the actor a
    监管人员 of the listing agency. Raises NotFound / Conflict / PermissionDenied."""
    agency = _issuing_agency(session, actor)
    listing = session.get(HazardSupervision, supervision_id) if isinstance(supervision_id, int) else None
    if listing is None:
        raise NotFound()
    get_hazard(session, actor, listing.hazard_id)  # out of scope → 404
    if listing.level == "enterprise" or listing.agency_id is None:
        raise Conflict("企业自行挂牌的隐患没有督办机关，不制作挂牌督办通知书")
    if listing.lifted_at is not None:
        raise Conflict("该挂牌督办已摘牌，不能再制作通知书")
    if listing.agency_id != agency.id or not actor.has_role(Role.REGULATOR):
        raise PermissionDenied(f"挂牌督办通知书由挂牌督办机关（{listing.agency.name}）的监管人员制作")
    return agency, listing


def notices_of_listing(session: Session, listing: HazardSupervision) -> list[Document]:
    """The valid 挂牌督办通知书 already issued for a listing."""
    docs = session.scalars(select(Document).join(DocumentHazard).where(
        DocumentHazard.hazard_id == listing.hazard_id, Document.doc_type == NOTICE,
        Document.status == DocumentStatus.ISSUED.value).order_by(Document.id))
    return [d for d in docs if d.data.get("supervision", {}).get("id") == listing.id]


def _listing_requirements(listing: HazardSupervision) -> str:
    if listing.requirements:
        return listing.requirements
    steps = [t for t in listing.hazard.transitions if t.action == "list" and (t.data or {}).get("level") == listing.level]
    return (steps[-1].comment or "") if steps else ""


def _build_notice(session: Session, actor: Actor, data: dict[str, Any]) -> Document:
    agency, listing = notice_listing(session, actor, data.get("supervision_id"))
    hazard = listing.hazard
    enterprise = hazard.enterprise
    supersedes = _superseded(session, actor, data.get("supersedes_id"), NOTICE, enterprise)
    existing = [d for d in notices_of_listing(session, listing) if supersedes is None or d.id != supersedes.id]
    if existing:
        raise Conflict(f"该挂牌督办已制作通知书 {existing[0].number}；如需更正，请制作更正文书")
    on = data.get("on") or today()
    text = current_app.config["SUPERVISION_NOTICE_TEXT"]
    doc_data = {
        "agency": _agency_data(agency), "enterprise": _enterprise_data(enterprise), "signers": [],
        "supervision": {"id": listing.id, "level": listing.level,
                        "level_label": SUPERVISION_LEVEL_LABELS.get(listing.level, listing.level),
                        "listed_on": listing.listed_at.date(), "due_date": listing.due_date,
                        "leader_name": listing.leader_name, "requirements": _listing_requirements(listing)},
        "hazard": {"id": hazard.id, "description": hazard.description, "location": hazard.location or "",
                   "level_label": "重大事故隐患", "found_on": hazard.found_at.date()},
        "text": {"intro": text["intro"], "closing": text["closing"]},
        "supersedes_number": supersedes.number if supersedes else None,
    }
    link = DocumentHazard(hazard_id=hazard.id, position=1, deadline=listing.due_date)
    return _issue(session, actor, agency, enterprise, NOTICE, on, [], doc_data, [link], supersedes=supersedes)


def issue_typed(session: Session, actor: Actor, data: dict[str, Any]) -> Document | LegalReview:
    """A document of a plugin's type (``register_document_types``): ``data`` = doc_type, enterprise_id, fields
    {name: value} checked against the type's fields, signer_ids (as many as the type needs), on, supersedes_id,
    inspection_run_id. Returns the document, or the pending :class:`LegalReview` when the type needs 法制审核."""
    doc_type = data.get("doc_type") or ""
    if not type_config(doc_type)["plugin"]:
        raise ValidationFailed({"doc_type": ["该文书种类不是插件文书，请在其专门的页面制作"]})
    return _route(session, actor, doc_type, data)


def check_fields(specs: tuple[Any, ...], values: dict[str, Any]) -> dict[str, str]:
    """A plugin type's fill-ins, validated against its :class:`~core.plugin_types.DocumentField` specs."""
    out, errors = {}, {}
    for spec in specs:
        raw = values.get(spec.name)
        value = raw.strip() if isinstance(raw, str) else ("" if raw is None else str(raw))
        if not value:
            if spec.required:
                errors[spec.name] = [f"请填写“{spec.label}”"]
            out[spec.name] = ""
            continue
        if spec.kind == "date":
            try:
                day = date.fromisoformat(value)
            except ValueError:
                errors[spec.name] = [f"“{spec.label}”应为日期（格式 YYYY-MM-DD）"]
                continue
            if not DATE_MIN <= day <= DATE_MAX:
                errors[spec.name] = [f"“{spec.label}”应在 {DATE_MIN.isoformat()} 到 {DATE_MAX.isoformat()} 之间"]
                continue
            value = day.isoformat()
        elif len(value) > spec.max_length:
            errors[spec.name] = [f"“{spec.label}”不能超过 {spec.max_length} 个字符"]
            continue
        out[spec.name] = value
    unknown = sorted(set(values) - {s.name for s in specs})
    if unknown:
        errors["_unknown"] = ["未知的填写项：" + "、".join(unknown)]
    if errors:
        raise ValidationFailed({"fields": errors})
    return out


def _build_typed(session: Session, actor: Actor, data: dict[str, Any]) -> Document:
    doc_type = data["doc_type"]
    config = type_config(doc_type)
    agency = _issuing_agency(session, actor)
    enterprise = ensure_enterprise_visible(actor, session.get(Enterprise, data.get("enterprise_id")))
    on = data.get("on") or today()
    errors: dict[str, Any] = {}
    signers: list[User] = []
    fields: dict[str, str] = {}
    try:  # report the fill-ins and the signers together
        fields = check_fields(config["fields"], data.get("fields") or {})
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if config["min_signers"]:
        try:
            signers = _signers(session, agency, data.get("signer_ids") or [], on, minimum=config["min_signers"])
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    supersedes = _superseded(session, actor, data.get("supersedes_id"), doc_type, enterprise)
    run_id = _inspection_run(session, actor, data.get("inspection_run_id"), enterprise)
    doc_data = {"agency": _agency_data(agency), "enterprise": _enterprise_data(enterprise),
                "signers": _signer_data(signers), "fields": fields,
                "supersedes_number": supersedes.number if supersedes else None}
    return _issue(session, actor, agency, enterprise, doc_type, on, signers, doc_data, [], supersedes=supersedes,
                  inspection_run_id=run_id)


_BUILDERS = {ORDER: _build_order, REVIEW: _build_review, NOTICE: _build_notice}


def _builder(doc_type: str):
    return _BUILDERS.get(doc_type) or _build_typed


# --- 法制审核 ---------------------------------------------------------------------------------------------------

def _route(session: Session, actor: Actor, doc_type: str, data: dict[str, Any]) -> Document | LegalReview:
    """Issue now, or — for a type that needs 法制审核 — check the request by a dry run and keep it for review."""
    build = _builder(doc_type)
    if not type_config(doc_type)["legal_review"] or _APPROVING.get() is not None:
        return build(session, actor, data)
    savepoint = session.begin_nested()
    try:
        doc = build(session, actor, data)
        agency_id, enterprise = doc.agency_id, doc.enterprise
        enterprise_id, scope_path, enterprise_name = enterprise.id, enterprise.scope_path, enterprise.name
        type_name = doc.data["type_name"]
    finally:
        savepoint.rollback()  # the dry run changes nothing and takes no number
    review = LegalReview(agency_id=agency_id, enterprise_id=enterprise_id, scope_path=scope_path, doc_type=doc_type,
                         request=audit._jsonable(data), summary=f"{type_name}：{enterprise_name}"[:500],
                         status=LegalReviewStatus.PENDING.value, requested_by_id=actor.id)
    session.add(review)
    session.flush()
    audit.record(session, actor, "legal_review_request", "legal_review", review.id,
                 summary=f"送法制审核：{review.summary}", after={"doc_type": doc_type, "enterprise_id": enterprise_id})
    session.flush()
    return review


def needs_legal_review(doc_type: str) -> bool:
    return bool(type_config(doc_type)["legal_review"])


def get_legal_review(session: Session, actor: Actor, review_id: Any) -> LegalReview:
    """A 法制审核 request of the actor's agency (issuers and reviewers), else :class:`NotFound`."""
    require(actor, "document.issue")
    review = session.get(LegalReview, review_id) if isinstance(review_id, int) else None
    if review is None or review.agency_id != getattr(actor, "agency_id", None):
        raise NotFound()
    ensure_enterprise_visible(actor, review.enterprise)
    return review


def list_legal_reviews(session: Session, actor: Actor, status: str | None = LegalReviewStatus.PENDING.value,
                       limit: int = 200) -> list[LegalReview]:
    """The 法制审核 requests of the actor's agency in scope, newest first (default: those pending)."""
    require(actor, "document.issue")
    stmt = select(LegalReview).where(LegalReview.agency_id == getattr(actor, "agency_id", None),
                                     path_clause(LegalReview.scope_path, scope_of(actor)))
    if status:
        stmt = stmt.where(LegalReview.status == status)
    return list(session.scalars(stmt.order_by(LegalReview.id.desc()).limit(limit)))


def decide_legal_review(session: Session, actor: Actor, review_id: int, data: dict[str, Any]) -> LegalReview:
    """法制审核 decision: ``data`` = version, approve (bool), opinion (required when returned).

    Approve: the document is issued now from the kept request, in the requester's name, with the next number
    (every check of the issue runs again: a hazard changed since the request gives 409/422 and nothing is
    issued). Return: nothing is issued; the reasons go back to the requester. The reviewer may not decide on
    their own request."""
    review = get_legal_review(session, actor, review_id)  # another agency's request: 404 before anything else
    require(actor, "document.legal_review")
    check_version(review, data.get("version"), "该送审文书")
    if review.status != LegalReviewStatus.PENDING.value:
        raise Conflict(f"该送审文书已审核（{review.status_label}）")
    if review.requested_by_id == actor.id:
        raise PermissionDenied("不能审核自己送审的文书，请由本机关其他法制审核人员审核")
    opinion = (data.get("opinion") or "").strip() or None
    review.decided_by_id, review.decided_at, review.opinion = actor.id, utcnow(), opinion
    if data.get("approve"):
        from core.schemas.document import request_schema

        requester = session.get(User, review.requested_by_id)
        request = request_schema(review.doc_type)(unknown=EXCLUDE).load(review.request)
        token = _APPROVING.set(review)
        try:
            doc = _builder(review.doc_type)(session, requester, request)
        finally:
            _APPROVING.reset(token)
        review.status = LegalReviewStatus.APPROVED.value
        session.flush()
        audit.record(session, actor, "legal_approve", "document", doc.id,
                     summary=f"法制审核通过：{doc.number}", after={"legal_review_id": review.id, "opinion": opinion,
                                                           "requested_by_id": review.requested_by_id})
    else:
        if not opinion or len(opinion) < 2:
            raise ValidationFailed({"opinion": ["退回须写明理由"]})
        review.status = LegalReviewStatus.RETURNED.value
        session.flush()
        audit.record(session, actor, "legal_return", "legal_review", review.id,
                     summary=f"法制审核退回：{review.summary}", after={"opinion": opinion})
    session.flush()
    return review


# --- reading ----------------------------------------------------------------------------------------------------

def get_document(session: Session, actor: Actor, document_id: Any) -> Document:
    """A document the actor may see (enterprise users: those addressed to them), else :class:`NotFound`."""
    require(actor, "document.view")
    doc = session.get(Document, document_id) if isinstance(document_id, int) else None
    if doc is None:
        raise NotFound()
    ensure_enterprise_visible(actor, doc.enterprise)
    return doc


def _documents_stmt(actor: Actor, doc_type: str | None = None, enterprise_id: int | None = None,
                    date_from: date | None = None, date_to: date | None = None, inspector_id: int | None = None,
                    hazard_id: int | None = None, q: str | None = None, unreceived: bool | None = None):
    require(actor, "document.view")
    scope = scope_of(actor)
    # Lists show each document's enterprise and agency: loaded in bulk, not one query per row (R-N1).
    stmt = select(Document).options(selectinload(Document.enterprise), selectinload(Document.agency))
    stmt = stmt.where(Document.enterprise_id == scope.enterprise_id) if scope.enterprise_id is not None \
        else stmt.where(path_clause(Document.scope_path, scope))
    if doc_type:
        stmt = stmt.where(Document.doc_type == doc_type)
    if enterprise_id:
        stmt = stmt.where(Document.enterprise_id == enterprise_id)
    if date_from:
        stmt = stmt.where(Document.issued_on >= date_from)
    if date_to:
        stmt = stmt.where(Document.issued_on <= date_to)
    if inspector_id:
        stmt = stmt.where(exists().where(DocumentSigner.document_id == Document.id,
                                         DocumentSigner.user_id == inspector_id))
    if hazard_id:
        stmt = stmt.where(exists().where(DocumentHazard.document_id == Document.id,
                                         DocumentHazard.hazard_id == hazard_id))
    if unreceived:
        # 待签收: issued and in force, not yet received by the enterprise (a superseded one needs no receipt).
        stmt = stmt.where(Document.status == DocumentStatus.ISSUED.value, Document.received_at.is_(None))
    if q:
        # 文书编号 or the enterprise's name: a search, because a city has tens of thousands of enterprises.
        pattern = "%" + q.replace("\\", "").replace("%", "").replace("_", "") + "%"
        stmt = stmt.where(or_(Document.number.like(pattern), exists().where(
            Enterprise.id == Document.enterprise_id, Enterprise.name.like(pattern))))
    return stmt


def list_documents(session: Session, actor: Actor, doc_type: str | None = None, enterprise_id: int | None = None,
                   date_from: date | None = None, date_to: date | None = None, inspector_id: int | None = None,
                   hazard_id: int | None = None, q: str | None = None, limit: int = 500) -> list[Document]:
    """Documents in the actor's scope (enterprise users: addressed to them), newest first, filtered (type,
    enterprise, date range, a signing inspector, a hazard they list, ``q``: number or enterprise name)."""
    stmt = _documents_stmt(actor, doc_type, enterprise_id, date_from, date_to, inspector_id, hazard_id, q)
    return list(session.scalars(stmt.order_by(Document.id.desc()).limit(limit)))


def document_page(session: Session, actor: Actor, filters: dict[str, Any], after: int | None = None,
                  size: int = 20) -> Page:
    """One keyset page of :func:`list_documents` (``after``: the previous page's ``next_after``)."""
    keys = ("doc_type", "enterprise_id", "date_from", "date_to", "inspector_id", "hazard_id", "q", "unreceived")
    stmt = _documents_stmt(actor, **{k: filters.get(k) for k in keys})
    return keyset_page(session, stmt, Document.id, after=after, size=size)


def documents_stmt(actor: Actor, **filters: Any):
    """The scoped, filtered SELECT behind the document list (filters as :func:`list_documents`), for reports that
    count documents the way the list shows them."""
    return _documents_stmt(actor, **filters)


def unreceived_stmt(actor: Actor):
    """The documents in the actor's scope awaiting the enterprise's receipt: the 文书待签收 queue, the same
    rows as the list filtered ``unreceived``."""
    return _documents_stmt(actor, unreceived=True)


def count_for_enterprise(session: Session, actor: Actor, enterprise_id: int) -> int:
    """How many documents of an enterprise the actor sees (for the enterprise page)."""
    stmt = _documents_stmt(actor, enterprise_id=enterprise_id)
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def batch_documents(session: Session, actor: Actor, filters: dict[str, Any]) -> list[Document]:
    """The documents of a batch download (ZIP or one merged PDF), oldest first; refused above the configured
    maximum (``DOCUMENT_BATCH_MAX``, 200) so that one request never assembles an unbounded file."""
    most = current_app.config["DOCUMENT_BATCH_MAX"]
    docs = list_documents(session, actor, **filters, limit=most + 1)
    if not docs:
        raise ValidationFailed({"batch": ["没有符合条件的文书"]}, "没有符合条件的文书")
    if len(docs) > most:
        message = f"符合条件的文书超过 {most} 份，请缩小筛选范围后再批量下载"
        raise ValidationFailed({"batch": [message]}, message)
    return list(reversed(docs))


def merged_pdf(documents: list[Document]) -> bytes:
    """The stored PDFs of ``documents`` (each checked against its SHA-256) as one PDF, in the given order, with
    one bookmark per document (its number)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for doc in documents:
        writer.append(PdfReader(io.BytesIO(pdf_bytes(doc))), outline_item=doc.number)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def change_document(session: Session, actor: Actor, document_id: int, changes: dict[str, Any]) -> None:
    """Issued documents are immutable: always refused (a correction is a new, superseding document)."""
    doc = get_document(session, actor, document_id)
    raise Conflict(f"文书 {doc.number} 已签发，不能修改；如需更正，请制作新的文书替代原文书")


def acknowledge(session: Session, actor: Actor, document_id: int) -> Document:
    """签收: the enterprise confirms receipt (recorded once; the document itself does not change)."""
    require(actor, "document.receive")
    doc = get_document(session, actor, document_id)
    if doc.received_at is None:
        doc.received_at, doc.received_by_id = utcnow(), actor.id
        audit.record(session, actor, "receive", "document", doc.id, summary=f"签收文书 {doc.number}")
        session.flush()
    return doc


def verify(session: Session, code: str, pdf: bytes | None = None) -> tuple[Document | None, bool | None]:
    """Look a document up by its verification code; with ``pdf`` bytes also say whether they are the issued PDF."""
    doc = session.scalar(select(Document).where(Document.verify_code == (code or "").strip().upper()))
    if doc is None or pdf is None:
        return doc, None
    return doc, hashlib.sha256(pdf).hexdigest() == doc.pdf_sha256


# --- what the forms offer ---------------------------------------------------------------------------------------

def order_form_data(session: Session, actor: Actor, enterprise_id: int | None) -> tuple[Agency, Enterprise, list[Hazard]]:
    """What the 指令书 form offers: the issuing agency, the enterprise and its hazards awaiting 下达整改."""
    agency = _issuing_agency(session, actor)
    enterprise = ensure_enterprise_visible(actor, session.get(Enterprise, enterprise_id) if enterprise_id else None)
    hazards = list(session.scalars(select(Hazard).where(Hazard.enterprise_id == enterprise.id,
                                                        Hazard.state == HazardState.REGISTERED.value)
                                   .order_by(Hazard.id)))
    return agency, enterprise, hazards


def review_form_data(session: Session, actor: Actor, order_id: int) -> tuple[Agency, Document, list[Hazard]]:
    """What the 复查意见书 form offers: the 指令书 and its hazards (in the 指令书's order)."""
    agency = _issuing_agency(session, actor)
    order = get_document(session, actor, order_id)
    if order.doc_type != ORDER:
        raise NotFound()
    hazards = [session.get(Hazard, link.hazard_id) for link in order.hazard_links]
    return agency, order, hazards


def typed_form_data(session: Session, actor: Actor, doc_type: str, enterprise_id: int) -> tuple[Agency, Enterprise, dict[str, Any]]:
    """What the form of a plugin's document type offers: the agency, the enterprise and the type."""
    agency = _issuing_agency(session, actor)
    config = plugin_types().get(doc_type)
    if config is None:
        raise NotFound()
    enterprise = ensure_enterprise_visible(actor, session.get(Enterprise, enterprise_id))
    return agency, enterprise, config


def signer_options(session: Session, agency: Agency, on: date | None = None) -> list[User]:
    """执法人员 of the agency whose 执法证 is valid on ``on`` (today): who may sign."""
    on = on or today()
    rows = session.scalars(select(User).where(User.agency_id == agency.id, User.is_active.is_(True),
                                              User.cert_valid_until >= on).order_by(User.id))
    return [u for u in rows if u.has_role(Role.INSPECTOR, Role.REGULATOR) and u.cert_valid_on(on)]


class DocumentIntegrityError(Conflict):
    """The stored PDF of an issued document is missing or its bytes no longer hash to what was recorded at
    issue (changed on disk, restored from a wrong backup …). Views answer 409 and audit ``integrity_failure``."""

    def __init__(self, document: Document, problem: str, found_sha256: str | None):
        super().__init__(f"文书 {document.number} 的存档 PDF {problem}，与签发时记录的校验值不符，"
                         "已记录并停止提供下载，请联系管理员从备份恢复")
        self.document = document
        self.problem = problem
        self.found_sha256 = found_sha256


INTEGRITY_FAILURE = "integrity_failure"


def _stored_pdf(document: Document) -> tuple[bytes | None, str | None]:
    """(bytes, problem): the stored PDF and None when it is intact, else what is wrong ("缺失"/"已被改动")."""
    from core.services.attachments import storage_path

    path = storage_path(document.pdf_sha256)
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        return None, "缺失"
    if hashlib.sha256(data).hexdigest() != document.pdf_sha256:
        return data, "已被改动"
    return data, None


def integrity_problem(document: Document) -> str | None:
    """None when the stored PDF is the one issued; else what is wrong (for the public verification page)."""
    return _stored_pdf(document)[1]


def pdf_bytes(document: Document) -> bytes:
    """The stored PDF as issued, checked against the recorded SHA-256 on every read; raises
    :class:`DocumentIntegrityError` when it is missing or changed (never serves other bytes under the name)."""
    data, problem = _stored_pdf(document)
    if problem is not None:
        raise DocumentIntegrityError(document, problem, hashlib.sha256(data).hexdigest() if data else None)
    return data


def record_integrity_failure(session: Session, actor: Actor, exc: DocumentIntegrityError) -> None:
    """Audit a failed integrity check (the caller commits: the refused request's own work is rolled back)."""
    doc = exc.document
    audit.record(session, actor, INTEGRITY_FAILURE, "document", doc.id,
                 summary=f"文书 {doc.number} 存档 PDF {exc.problem}",
                 before={"pdf_sha256": doc.pdf_sha256}, after={"found_sha256": exc.found_sha256, "problem": exc.problem})
