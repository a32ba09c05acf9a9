"""Helpers shared by the field-inspection tests (执法检查 on site, R-E3…R-E5): a second certified inspector of
翔安局, signature PNGs drawn with Pillow, and an enforcement run of 测试E1 taken to any stage."""

from __future__ import annotations

import io
from datetime import date, timedelta

from PIL import Image, ImageDraw
from sqlalchemy import select

from core.models import InspectionAnswer, InspectionRun, StoredChecklistItem
from core.services import inspections, signatures, users
from core.services.actors import SYSTEM
from core.services.attachments import Upload

GPS = {"lat": 24.61234, "lng": 118.24567, "accuracy_m": 12.0}
PHOTO = Upload(data=b"\x89PNG\r\n\x1a\n" + b"f" * 40, content_type="image/png", filename="现场.png")


def make_insp2(session, world, username: str = "xa_insp2", **extra):
    """A second 翔安局 inspector with a valid 执法证 (XA-003), display name 李执法."""
    data = {"username": username, "display_name": "李执法", "password": "secret-password-1",
            "roles": ["inspector"], "jurisdiction_id": world.nodes["翔安区"], "agency_id": world.agencies["翔安局"],
            "cert_number": "XA-003", "cert_valid_until": date.today() + timedelta(days=365), **extra}
    user = users.save_user(session, SYSTEM, data)
    session.flush()
    return user


def signature_png(text_width: int = 220, blank: bool = False, size=(300, 120), white: bool = False) -> bytes:
    """A PNG like the one signature.js sends: dark strokes on a transparent (or white) canvas."""
    img = Image.new("RGBA", size, (255, 255, 255, 255) if white else (0, 0, 0, 0))
    if not blank:
        draw = ImageDraw.Draw(img)
        draw.line([(20, 80), (60, 30), (100, 90), (140, 35), (20 + text_width, 70)], fill=(20, 20, 20, 255),
                  width=4)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def start(session, world, co, username: str = "xa_insp", **extra) -> InspectionRun:
    data = {"kind": "enforcement", "enterprise_id": world.enterprises["E1"], "checklists": ["fake-basic"],
            "co_inspector_id": co.id, "place": "储罐区及中控室", "onsite_name": "王现场", "onsite_title": "安全主任",
            **GPS, **extra}
    run = inspections.start_run(session, world.user(session, username), data)
    session.flush()
    return run


def actor(session, world, who):
    """A world user by name, or the user itself."""
    return world.user(session, who) if isinstance(who, str) else who


def item_id(session, run, code: str) -> int:
    return session.scalar(select(StoredChecklistItem.id).where(
        StoredChecklistItem.checklist_id == run.checklists[0].checklist_id, StoredChecklistItem.code == code))


def answer(session, world, run, code, value=None, username="xa_insp", uploads=None, **extra):
    iid = item_id(session, run, code)
    existing = session.scalar(select(InspectionAnswer).where(InspectionAnswer.run_id == run.id,
                                                             InspectionAnswer.item_id == iid))
    row = inspections.save_answer(session, actor(session, world, username), run.id, {
        "item_id": iid, "value": value, "version": existing.version if existing else None, **extra},
        uploads=uploads)
    session.flush()
    return row


def answer_all(session, world, run, username="xa_insp"):
    """Every item answered: 1.1 fails (with photo and comment, major), 2.1 fails (with comment), others pass."""
    answer(session, world, run, "1.1", "no", username, uploads=[PHOTO], comment="报警器未安装", **GPS)
    answer(session, world, run, "1.2", "1.0", username)
    answer(session, world, run, "2.1", "no", username, comment="台账缺失")
    answer(session, world, run, "2.2", None, username, uploads=[PHOTO])


def sign_all(session, world, run, co, username="xa_insp"):
    lead = actor(session, world, username)
    signatures.sign(session, lead, run.id, {"role": "inspector", **GPS}, signature_png())
    signatures.sign(session, co, run.id, {"role": "inspector", "gps_missing": "denied"}, signature_png(180))
    signatures.sign(session, lead, run.id, {"role": "enterprise", "name": "王现场", "title": "安全主任", **GPS},
                    signature_png(150))
    session.flush()
