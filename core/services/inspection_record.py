"""现场检查记录 (R-E4): the record of a completed enforcement run, after the 2016 national template.

Issued through :func:`core.services.documents._issue` (numbering ``（翔）应急检记〔2026〕1号``, immutability, SHA-256,
verification code, the embedded signatures and the ``document_issued`` step too). The fields come from the run: 被检查单位, 地址, 法定代表人（负责人）, 联系电话, 检查场所, 检查时间
(start and end, in Chinese date format), the two inspectors and their 执法证号, 检查情况 (the checklist results and
each finding with its rule references) and the enterprise's on-site person; the three signatures are embedded as
images. One record per run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Document, DocumentStatus, InspectionRun
from core.services import citations, documents, field, inspections
from core.services.actors import Actor
from core.services.errors import Conflict, PermissionDenied, ValidationFailed
from core.services.hazards import CHINA, MAJOR

DOC_TYPE = "inspection_record"


def _local(value: datetime) -> datetime:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(CHINA)


def time_parts(value: datetime | None) -> dict[str, int] | None:
    """Year, month, day, hour and minute in China time (the template fills them in one by one)."""
    if value is None:
        return None
    t = _local(value)
    return {"year": t.year, "month": t.month, "day": t.day, "hour": t.hour, "minute": t.minute}


def findings(view: inspections.RunView, cited: dict[str, citations.Citation]) -> list[dict[str, Any]]:
    """The failing items, in checklist order, with their legal basis and the registered hazard.

    Rule references are printed as citations (title, 文号, the source's item numbering, the verified wording) and
    never as internal codes; a reference that cannot be resolved is left out rather than printed raw (issue 15)."""
    out = []
    for iv in view.items:
        if not iv.failed:
            continue
        refs = [ref for ref, _text, _verified in iv.basis]
        rule = iv.on_fail.get("rule")
        if rule and rule not in refs:
            refs.append(rule)
        basis = []
        for ref in refs:
            if ref in cited:
                c = cited[ref]
                basis.append(f"{c.text}：{c.quote.rstrip('。；;. ')}" if c.quote else c.text)
            elif ref.startswith("《"):  # a law cited in the checklist as written (《…法》第十六条)
                basis.append(ref)
        out.append({"checklist": iv.checklist.title, "code": iv.item.code, "question": iv.item.question,
                    "comment": iv.answer.comment or "", "basis": basis, "hazard_id": iv.answer.hazard_id,
                    "major": iv.on_fail.get("level") == MAJOR})
    return out


def cited_refs(view: inspections.RunView) -> list[str]:
    """Every rule reference of the failing items (basis and the on-fail rule), for :func:`citations.citations`."""
    refs = {ref for iv in view.items if iv.failed for ref, _t, _v in iv.basis}
    refs |= {iv.on_fail["rule"] for iv in view.items if iv.failed and iv.on_fail.get("rule")}
    return sorted(refs)


def record_data(session: Session, actor: Actor, run: InspectionRun) -> dict[str, Any]:
    """The filled fields of the record (primitive values only, as every document context)."""
    view = inspections.load_run(session, actor, run.id)
    enterprise = run.enterprise
    inspectors = field.inspectors_of(session, run)
    made = {h.id: h for h in inspections.created_hazards(session, actor, run)}
    found = findings(view, citations.citations(session, cited_refs(view)))
    for f in found:
        hazard = made.get(f["hazard_id"])
        if hazard is not None:
            f["major"] = hazard.level == MAJOR
    # 法定代表人, else the 主要负责人; the platform does not know the legal representative's job title (left blank).
    if enterprise.legal_representative:
        person, person_title = enterprise.legal_representative, ""
    else:
        person, person_title = enterprise.principal_name or "", "主要负责人" if enterprise.principal_name else ""
    summary = run.summary or {}
    return {
        "enterprise": {"name": enterprise.name, "address": enterprise.address or "", "person": person,
                       "person_title": person_title,
                       "phone": enterprise.principal_phone or enterprise.safety_manager_phone or ""},
        "place": run.place or enterprise.address or "",
        "start": time_parts(run.started_at), "end": time_parts(run.completed_at),
        "agency_name": "",  # set by the caller from the issuing agency
        "inspectors": [{"name": u.display_name, "cert_number": u.cert_number or ""} for u in inspectors],
        "checklists": [f"{cv.checklist.title}（{cv.checklist.version}）" for cv in view.checklists],
        "counts": {k: summary.get(k, 0) for k in ("total", "passed", "failed", "na")},
        "findings": found,
        "onsite": {"name": run.onsite_name or "", "title": run.onsite_title or ""},
        "run_id": run.id,
    }


def existing_record(session: Session, run_id: int) -> Document | None:
    return session.scalar(select(Document).where(Document.inspection_run_id == run_id,
                                                 Document.doc_type == DOC_TYPE,
                                                 Document.status == DocumentStatus.ISSUED.value))


def issue_record(session: Session, actor: Actor, run_id: int) -> Document:
    """Issue the 现场检查记录 of a completed enforcement run (one per run; 409 when it exists)."""
    agency = documents._issuing_agency(session, actor)
    run = inspections.get_run(session, actor, run_id)
    if run.kind != "enforcement":
        raise ValidationFailed({"run_id": ["只有执法检查可以制作现场检查记录"]})
    if not run.is_completed:
        raise Conflict("检查完成（双方签名并结束检查）后才能制作现场检查记录")
    existing = existing_record(session, run.id)
    if existing is not None:
        raise Conflict(f"本次检查已制作现场检查记录 {existing.number}")
    inspectors = field.inspectors_of(session, run)
    if any(u.agency_id != agency.id for u in inspectors):
        raise PermissionDenied("现场检查记录由实施检查的执法机关制作")
    on = _local(run.completed_at).date()
    signers = documents._signers(session, agency, [u.id for u in inspectors], on)
    data = record_data(session, actor, run)
    data["agency_name"] = agency.name
    data["agency"] = {"name": agency.name}
    data["signers"] = [{"name": u.display_name, "cert_number": u.cert_number or ""} for u in signers]
    # With the run's id, _issue embeds the drawn signatures (data["signatures"] keeps their SHA-256, the PDF the
    # pictures) and records the "document_issued" step in the run's full-process record.
    doc = documents._issue(session, actor, agency, run.enterprise, DOC_TYPE, on, signers, data, [],
                           inspection_run_id=run.id)
    return doc
