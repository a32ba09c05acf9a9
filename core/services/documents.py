"""执法文书 (R-E3…R-E5): numbering, issuing and verifying 责令限期整改指令书 and 整改复查意见书.

* Numbers: 机关简称 + 文书代字 + year + sequence (``（翔）应急责改〔2026〕12号``), 代字 per type from
  ``DOCUMENT_TYPES``. :func:`next_sequence` increments one counter row per (agency, type, year) with
  ``UPDATE … RETURNING`` in the issuing transaction: the row stays locked until commit on PostgreSQL (SQLite
  serialises writers), and a rolled-back issue rolls its number back too, so numbers are gap-free.
* Signers: at least two 执法人员 of the issuing agency, each with a 执法证 valid on the document date.
* Immutable: the filled fields and the PDF (rendered once, stored content-addressed, SHA-256 recorded) never
  change; a correction is a new document that supersedes the old one (both kept).
* Closed loop: a 指令书 is the 下达整改 of the hazards it lists (``hazard_flow`` ``assign`` with its deadline);
  a 复查意见书 is their 复查 (``review_pass`` / ``review_fail`` with the new deadline).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.models import (
    Agency,
    Document,
    DocumentCounter,
    DocumentHazard,
    DocumentStatus,
    Enterprise,
    Hazard,
    HazardState,
    Role,
    User,
)
from core.models.base import utcnow
from core.pdf import PDF_MIMETYPE, render_pdf
from core.services import audit, hazard_flow
from core.services.actors import Actor
from core.services.attachments import Upload, store
from core.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.services.hazards import today
from core.services.permissions import require
from core.services.scope import ensure_enterprise_visible, path_clause, scope_of

ORDER = "rectification_order"
REVIEW = "review_opinion"
PASSED, FAILED = "passed", "failed"
_VERIFY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off paper


def type_config(doc_type: str) -> dict[str, str]:
    types = current_app.config["DOCUMENT_TYPES"]
    if doc_type not in types:
        raise ValidationFailed({"doc_type": [f"未知的文书种类 {doc_type}"]})
    return types[doc_type]


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
    return "".join(secrets.choice(_VERIFY_ALPHABET) for _ in range(10))


def _issuing_agency(session: Session, actor: Actor) -> Agency:
    require(actor, "document.issue")
    agency = session.get(Agency, actor.agency_id) if getattr(actor, "agency_id", None) else None
    if agency is None:
        raise PermissionDenied("您不属于任何执法机关，不能制作执法文书")
    return agency


def _signers(session: Session, agency: Agency, signer_ids: list[int], on: date) -> list[User]:
    ids = list(dict.fromkeys(signer_ids or []))
    if len(ids) < 2:
        raise ValidationFailed({"signer_ids": ["执法文书须由两名以上执法人员签名"]})
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}
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


def _signer_data(signers: list[User]) -> list[dict[str, str]]:
    return [{"name": u.display_name, "cert_number": u.cert_number or ""} for u in signers]


def _agency_data(agency: Agency) -> dict[str, str]:
    return {"name": agency.name, "people_government": agency.people_government or "",
            "court": agency.court or "", "parent_name": agency.parent.name if agency.parent else ""}


def _enterprise_data(enterprise: Enterprise) -> dict[str, str]:
    return {"name": enterprise.name, "address": enterprise.address or "",
            "legal_representative": enterprise.legal_representative or "",
            "principal_name": enterprise.principal_name or ""}


def _issue(session: Session, actor: Actor, agency: Agency, enterprise: Enterprise, doc_type: str, on: date,
           signers: list[User], data: dict[str, Any], hazard_links: list[DocumentHazard],
           related: Document | None = None, supersedes: Document | None = None) -> Document:
    """Number, render, store and record a document (the common tail of every issue)."""
    sequence = next_sequence(session, agency.id, doc_type, on.year)
    number = format_number(agency, doc_type, on.year, sequence)
    code = _verify_code()
    data = audit._jsonable({**data, "number": number, "verify_code": code, "date": on,
                            "type_name": type_config(doc_type)["name"]})
    pdf = render_pdf(f"pdf/doc_{doc_type}.html", doc=data)
    upload = Upload(data=pdf, content_type=PDF_MIMETYPE, filename=f"{number}.pdf")
    doc = Document(agency_id=agency.id, enterprise_id=enterprise.id, scope_path=enterprise.scope_path,
                   doc_type=doc_type, number=number, year=on.year, sequence=sequence,
                   status=DocumentStatus.ISSUED.value, issued_on=on, issued_by_id=actor.id,
                   signer_ids=[u.id for u in signers], data=data, pdf_sha256=upload.sha256, verify_code=code,
                   related_id=related.id if related else None, supersedes_id=supersedes.id if supersedes else None,
                   hazard_links=hazard_links)
    session.add(doc)
    if supersedes is not None:
        supersedes.status = DocumentStatus.SUPERSEDED.value
    session.flush()
    store(session, actor, upload, "document", doc.id)
    audit.record(session, actor, "issue", "document", doc.id, summary=f"签发{data['type_name']} {number}",
                 after={"number": number, "enterprise_id": enterprise.id, "pdf_sha256": upload.sha256,
                        "signer_ids": doc.signer_ids, "supersedes_id": doc.supersedes_id})
    session.flush()
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


def issue_order(session: Session, actor: Actor, data: dict[str, Any]) -> Document:
    """责令限期整改指令书 from registered hazards of one enterprise.

    ``data``: enterprise_id, items [{hazard_id, deadline?, version}], deadline (for items without their own),
    signer_ids, on (document date, default today), supersedes_id (correction of an earlier 指令书).
    Each hazard is 下达整改 (``assign``) with its deadline through :mod:`core.services.hazard_flow`."""
    agency = _issuing_agency(session, actor)
    enterprise = ensure_enterprise_visible(actor, session.get(Enterprise, data.get("enterprise_id")))
    on = data.get("on") or today()
    signers = _signers(session, agency, data.get("signer_ids") or [], on)
    supersedes = _superseded(session, actor, data.get("supersedes_id"), ORDER, enterprise)
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
        if supersedes is None or hazard.state == HazardState.REGISTERED:
            if hazard.state != HazardState.REGISTERED:
                errors.append(f"隐患 {hazard.id} 当前状态为“{hazard.state_label}”，已下达过整改，不能再列入指令书")
                continue
            hazard_flow.perform(session, actor, hazard.id, "assign", {
                "version": item.get("version", hazard.version),
                "responsible_name": enterprise.principal_name or enterprise.name,
                "deadline": deadline, "deadline_kind": "calendar", "comment": "责令限期整改"}, on=on)
        problems.append({"no": position, "hazard_id": hazard.id, "location": hazard.location or "",
                         "description": hazard.description, "deadline": deadline})
        links.append(DocumentHazard(hazard_id=hazard.id, position=position, deadline=deadline))
    if errors:
        raise ValidationFailed({"items": errors})
    doc_data = {"agency": _agency_data(agency), "enterprise": _enterprise_data(enterprise),
                "problems": problems, "signers": _signer_data(signers),
                "supersedes_number": supersedes.number if supersedes else None}
    return _issue(session, actor, agency, enterprise, ORDER, on, signers, doc_data, links, supersedes=supersedes)


def issue_review(session: Session, actor: Actor, data: dict[str, Any]) -> Document:
    """整改复查意见书 for a 指令书: ``data`` = order_id, results [{hazard_id, passed, new_deadline?, version}],
    signer_ids, on, opinion (free text). Every hazard of the 指令书 needs a result; each must await 复查
    (the enterprise reported it rectified). Passed → ``review_pass``; failed → ``review_fail`` with the new
    deadline, which returns it to 整改中."""
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
    results = {r["hazard_id"]: r for r in data.get("results") or []}
    ordered = [link for link in order.hazard_links]
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
    return _issue(session, actor, agency, enterprise, REVIEW, on, signers, doc_data, links, related=order)


def get_document(session: Session, actor: Actor, document_id: Any) -> Document:
    """A document the actor may see (enterprise users: those addressed to them), else :class:`NotFound`."""
    require(actor, "document.view")
    doc = session.get(Document, document_id) if isinstance(document_id, int) else None
    if doc is None:
        raise NotFound()
    ensure_enterprise_visible(actor, doc.enterprise)
    return doc


def list_documents(session: Session, actor: Actor, doc_type: str | None = None, enterprise_id: int | None = None,
                   date_from: date | None = None, date_to: date | None = None, limit: int = 500) -> list[Document]:
    """Documents in the actor's scope (enterprise users: addressed to them), newest first, filtered."""
    require(actor, "document.view")
    scope = scope_of(actor)
    stmt = select(Document)
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
    return list(session.scalars(stmt.order_by(Document.id.desc()).limit(limit)))


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


def signer_options(session: Session, agency: Agency, on: date | None = None) -> list[User]:
    """执法人员 of the agency whose 执法证 is valid on ``on`` (today): who may sign."""
    on = on or today()
    rows = session.scalars(select(User).where(User.agency_id == agency.id, User.is_active.is_(True),
                                              User.cert_valid_until >= on).order_by(User.id))
    return [u for u in rows if u.has_role(Role.INSPECTOR, Role.REGULATOR) and u.cert_valid_on(on)]


def pdf_bytes(document: Document) -> bytes:
    """The stored PDF as issued (checked against the recorded SHA-256)."""
    from core.services.attachments import storage_path

    data = storage_path(document.pdf_sha256).read_bytes()
    if hashlib.sha256(data).hexdigest() != document.pdf_sha256:
        raise Conflict(f"文书 {document.number} 的 PDF 文件与签发时记录的校验值不符，请联系管理员")
    return data
