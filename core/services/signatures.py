"""Hand-drawn signatures on an enforcement run (R-E3, R-E4): both inspectors and the enterprise's on-site person.

* Each inspector signs for himself, logged in on his own device, and only while his 执法证 is valid (an expired
  certificate is refused with a message naming it and nothing changes).
* The enterprise's on-site person (被检查单位现场负责人) signs on an inspector's device; the name is required.
* A signature is a PNG drawn on the page (core/static/js/signature.js): checked by its first bytes, at most
  200 KB, not blank; stored once in the attachment store under its SHA-256.
* Signing needs every item answered (what is signed is complete); once anyone signed, the answers are locked
  until the signatures are withdrawn; completing needs all three (:func:`missing_signatures`).
* :func:`run_signatures` gives the images to the documents (现场检查记录, 指令书, 复查意见书) as data URIs.
"""

from __future__ import annotations

import base64
import io
import warnings
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.models import InspectionRun, InspectionSignature
from core.models.base import utcnow
from core.models.inspection import SIGNATURE_ROLES
from core.services import audit, field, inspections
from core.services.actors import Actor
from core.services.attachments import Upload, sniff, storage_path, store
from core.services.errors import Conflict, PermissionDenied, ValidationFailed
from core.services.hazards import today
from core.services.permissions import require

OWNER = "inspection_signature"
MAX_BYTES = 200 * 1024
MAX_SIDE = 3000
#: Fewer dark pixels than this and the pad was left (nearly) empty.
MIN_INK_PIXELS = 40


@dataclass(frozen=True)
class SignatureImage:
    role: str  # "inspector" | "enterprise"
    user_id: int | None
    name: str
    cert_number: str | None
    signed_at: datetime
    sha256: str
    data_uri: str  # "data:image/png;base64,…"


def check_png(data: bytes, field_name: str = "image") -> Upload:
    """A signature image as an :class:`Upload`, or :class:`ValidationFailed` on ``field_name``: PNG by its
    first bytes, at most 200 KB, readable, not blank."""
    from PIL import Image

    def refuse(message: str) -> ValidationFailed:
        return ValidationFailed({field_name: [message]})

    if not data:
        raise refuse("没有收到签名图片")
    if len(data) > MAX_BYTES:
        raise refuse(f"签名图片不能超过 {MAX_BYTES // 1024} KB")
    if sniff(data) != "image/png":
        raise refuse("签名图片须为 PNG 格式")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if max(image.size) > MAX_SIDE:
                raise refuse(f"签名图片的边长不能超过 {MAX_SIDE} 像素")
            image.load()
    except ValidationFailed:
        raise
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombWarning,
            Image.DecompressionBombError):
        raise refuse("签名图片已损坏，无法读取") from None
    # Ink = pixels darker than light grey once laid on white paper (the pad draws dark strokes on transparent or
    # white ground).
    paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
    paper.alpha_composite(image.convert("RGBA"))
    grey = paper.convert("L")
    ink = sum(grey.histogram()[:160])
    if ink < MIN_INK_PIXELS:
        raise refuse("签名是空白的，请在签名框内签名")
    return Upload(data=data, content_type="image/png", filename="signature.png")


def _signatures(session: Session, run_id: int) -> list[InspectionSignature]:
    return list(session.scalars(select(InspectionSignature).where(InspectionSignature.run_id == run_id)
                                .order_by(InspectionSignature.id)))


def ensure_unsigned(session: Session, run: InspectionRun) -> None:
    """409 when the run carries signatures: what was signed may not change under them."""
    if session.scalar(select(InspectionSignature.id).where(InspectionSignature.run_id == run.id).limit(1)):
        raise Conflict("检查情况已签名确认，不能再修改；如需修改，请先撤销签名")


def missing_signatures(session: Session, run: InspectionRun) -> list[str]:
    """Who still has to sign an enforcement run ("检查人员 张三", "被检查单位现场负责人")."""
    rows = _signatures(session, run.id)
    signed = {r.user_id for r in rows if r.role == "inspector"}
    missing = [f"检查人员 {u.display_name}" for u in field.inspectors_of(session, run) if u.id not in signed]
    if not run.co_inspector_id:
        missing.append("第二名检查人员")
    if not any(r.role == "enterprise" for r in rows):
        missing.append(SIGNATURE_ROLES["enterprise"])
    return missing


def signable(session: Session, actor: Actor, run_id: int) -> InspectionRun:
    """The draft enforcement run ``run_id`` if the actor is one of its two inspectors (404/403/409 otherwise)."""
    run = inspections.get_run(session, actor, run_id)
    require(actor, "inspection.enforce")
    if run.kind != "enforcement":
        raise Conflict("只有执法检查需要在检查记录上签名")
    if run.is_completed:
        raise Conflict("该检查已完成，签名不能再改变")
    if not field.is_inspector_of_run(actor, run):
        raise PermissionDenied("只有本次检查的两名执法人员可以办理签名")
    return run


def sign(session: Session, actor: Actor, run_id: int, data: dict[str, Any], png: bytes) -> InspectionSignature:
    """Sign an enforcement run. ``data``: role (inspector: the actor signs for himself; enterprise: the on-site
    person signs on the actor's device, with ``name`` and ``title``), the position (``lat``/``lng``/
    ``accuracy_m`` or ``gps_missing``). A new signature of the same person replaces the earlier one."""
    run = signable(session, actor, run_id)
    role = data.get("role")
    if role not in SIGNATURE_ROLES:
        raise ValidationFailed({"role": ["应为 inspector（检查人员）或 enterprise（被检查单位现场负责人）"]})
    errors: dict[str, list[str]] = {}
    name = title = cert = None
    if role == "inspector":
        problem = field.certificate_problem(actor, today(), "签名")
        if problem:
            raise ValidationFailed({"role": [problem]}, problem)
        name, cert = actor.display_name, actor.cert_number
    else:
        name = field._text(data, "name", field.MAX_NAME, "现场负责人姓名", errors)
        title = field._text(data, "title", field.MAX_NAME, "现场负责人职务", errors)
        if not name and "name" not in errors:
            errors["name"] = ["请填写被检查单位现场负责人的姓名"]
    try:
        position = field.position_from(data, required=False)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    try:
        upload = check_png(png)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    problems = inspections.completion_problems(inspections.load_run(session, actor, run.id))
    if problems:
        message = "请先完成全部检查条目再签名：" + "；".join(problems)
        raise ValidationFailed({"_schema": [message]}, message)
    replaced = select(InspectionSignature.id).where(InspectionSignature.run_id == run.id,
                                                    InspectionSignature.role == role)
    if role == "inspector":
        replaced = replaced.where(InspectionSignature.user_id == actor.id)
    old_ids = list(session.scalars(replaced))
    if old_ids:
        session.execute(delete(InspectionSignature).where(InspectionSignature.id.in_(old_ids)))
    sig = InspectionSignature(run_id=run.id, role=role, user_id=actor.id if role == "inspector" else None,
                              name=name, title=title, cert_number=cert, signed_at=utcnow(),
                              sha256=upload.sha256, lat=position.lat, lng=position.lng,
                              accuracy_m=position.accuracy_m)
    session.add(sig)
    if role == "enterprise":
        run.onsite_name, run.onsite_title = name, title or run.onsite_title
    session.flush()
    store(session, actor, Upload(upload.data, "image/png", f"签名-{name}.png"), OWNER, sig.id)
    field.record_event(session, run.id, actor, "sign", detail={
        "role": role, "role_label": SIGNATURE_ROLES[role], "name": name, "title": title, "cert_number": cert,
        "replaces": len(old_ids)}, lat=position.lat, lng=position.lng, accuracy_m=position.accuracy_m,
        gps_missing=position.missing, attachment_shas=[upload.sha256])
    audit.record(session, actor, "sign", "inspection_run", run.id,
                 summary=f"{SIGNATURE_ROLES[role]} {name} 签名（检查记录 {run.id}）",
                 after={"role": role, "name": name, "cert_number": cert, "sha256": upload.sha256})
    return sig


def withdraw(session: Session, actor: Actor, run_id: int) -> int:
    """Withdraw every signature of a draft enforcement run (to correct what was signed); returns how many."""
    run = signable(session, actor, run_id)
    rows = _signatures(session, run.id)
    if not rows:
        return 0
    session.execute(delete(InspectionSignature).where(InspectionSignature.run_id == run.id))
    field.record_event(session, run.id, actor, "signatures_withdrawn",
                       detail={"names": [r.name for r in rows], "count": len(rows)})
    audit.record(session, actor, "unsign", "inspection_run", run.id,
                 summary=f"撤销检查记录 {run.id} 的 {len(rows)} 个签名",
                 before={"signatures": [{"role": r.role, "name": r.name, "sha256": r.sha256} for r in rows]})
    session.flush()
    return len(rows)


def _data_uri(sha256: str) -> str:
    path = storage_path(sha256)
    data = path.read_bytes() if path.exists() else b""
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def run_signatures(session: Session, run_id: int) -> list[SignatureImage]:
    """The run's signatures with their images: the inspectors first (the one who started the run, then the
    second), then the enterprise's on-site person. No scope check: callers hold a visible run or document."""
    run = session.get(InspectionRun, run_id)
    if run is None:
        return []
    order = {uid: n for n, uid in enumerate(i for i in (run.started_by_id, run.co_inspector_id) if i)}

    def key(row: InspectionSignature) -> tuple[int, int, int]:
        return (0 if row.role == "inspector" else 1, order.get(row.user_id, 9), row.id)

    return [SignatureImage(role=r.role, user_id=r.user_id, name=r.name, cert_number=r.cert_number,
                           signed_at=r.signed_at, sha256=r.sha256, data_uri=_data_uri(r.sha256))
            for r in sorted(_signatures(session, run_id), key=key)]


def signature_rows(session: Session, actor: Actor, run_id: int) -> list[InspectionSignature]:
    """The signature rows of a visible run (for pages and the API), inspectors first."""
    run = inspections.get_run(session, actor, run_id)
    rows = _signatures(session, run.id)
    order = {uid: n for n, uid in enumerate(i for i in (run.started_by_id, run.co_inspector_id) if i)}
    return sorted(rows, key=lambda r: (0 if r.role == "inspector" else 1, order.get(r.user_id, 9), r.id))
