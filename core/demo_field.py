"""Demo 执法检查 (R-E3…R-E5): a completed enforcement run of the demo enterprise in 翔安区 by 黄执法 and 郑执法, with
the position, two findings, the three drawn signatures and its 现场检查记录. Idempotent: nothing when the demo
enterprise already has a 现场检查记录, or when no checklist applies to it (its sector plugin is not enabled)."""

from __future__ import annotations

import io
import random

from sqlalchemy import select

from core.models import Document, User
from core.services import inspection_record, inspections, signatures

#: 翔安区 应急管理局 area (WGS-84), where the demo check took place.
POSITION = {"lat": 24.6371, "lng": 118.2475, "accuracy_m": 18.0}


def _signature(seed: int) -> bytes:
    """A hand-drawn-looking signature: a few random strokes, dark on transparent ground."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    img = Image.new("RGBA", (480, 160), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    x = 30
    for _ in range(4):
        points = [(x, rng.randint(60, 120))]
        for _ in range(5):
            x += rng.randint(10, 26)
            points.append((x, rng.randint(30, 130)))
        draw.line(points, fill=(20, 20, 40, 255), width=4, joint="curve")
        x += 18
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def seed_demo_field(session, enterprise) -> Document | None:
    """Run the demo check on ``enterprise`` and issue its record; the caller commits."""
    lead = session.scalar(select(User).where(User.username == "xa_inspector1"))
    co = session.scalar(select(User).where(User.username == "xa_inspector2"))
    if lead is None or co is None or enterprise is None:
        return None
    if session.scalar(select(Document.id).where(Document.enterprise_id == enterprise.id,
                                                Document.doc_type == inspection_record.DOC_TYPE)):
        return None
    checklists = inspections.applicable_checklists(enterprise)
    if not checklists:
        return None
    run = inspections.start_run(session, lead, {
        "kind": "enforcement", "enterprise_id": enterprise.id, "checklists": [checklists[0].code],
        "co_inspector_id": co.id, "place": "储罐区、装卸区及中控室", "onsite_name": "蔡总", "onsite_title": "总经理",
        **POSITION})
    view = inspections.load_run(session, lead, run.id)
    failures = 0
    for iv in view.items:
        item = iv.item
        if not iv.needs_answer:
            continue
        value, comment = None, None
        if item.answer_type in ("yes_no", "yes_no_na"):
            value = item.pass_when or "yes"
            if failures < 2 and iv.on_fail.get("hazard") and not iv.on_fail.get("photo_required"):
                value, comment = ("no" if value == "yes" else "yes"), "现场检查发现不符合要求，已当场告知企业"
                failures += 1
        elif item.answer_type == "number":
            bounds = item.pass_when if isinstance(item.pass_when, dict) else {}
            value = str(bounds.get("min", bounds.get("max", 0)))
        else:
            value = "正常"
        inspections.save_answer(session, lead, run.id, {"item_id": item.id, "value": value, "comment": comment,
                                                        **POSITION})
    session.flush()
    signatures.sign(session, lead, run.id, {"role": "inspector", **POSITION}, _signature(1))
    signatures.sign(session, co, run.id, {"role": "inspector", **POSITION}, _signature(2))
    signatures.sign(session, lead, run.id, {"role": "enterprise", "name": "蔡总", "title": "总经理", **POSITION},
                    _signature(3))
    session.flush()
    run = inspections.complete_run(session, lead, run.id, run.version, POSITION)
    session.flush()
    return inspection_record.issue_record(session, lead, run.id)
