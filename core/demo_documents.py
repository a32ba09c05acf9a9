"""Demo 执法文书 (R-O2): the 挂牌督办通知书 of the demo enterprise's 重大事故隐患 that 翔安区 listed and that is still
being rectified, issued by the listing regulator on the listing day. Idempotent: nothing when it exists."""

from __future__ import annotations

from sqlalchemy import select

from core.models import Document, HazardState, HazardSupervision, User
from core.services import documents


def seed_demo_documents(session) -> Document | None:
    """Issue the notice unless the demo has no such listing or the notice exists already. The caller commits."""
    regulator = session.scalar(select(User).where(User.username == "xa_regulator"))
    if regulator is None:
        return None
    listings = session.scalars(select(HazardSupervision).where(
        HazardSupervision.agency_id == regulator.agency_id, HazardSupervision.level == "county",
        HazardSupervision.lifted_at.is_(None)).order_by(HazardSupervision.id))
    for listing in listings:
        if listing.hazard.state != HazardState.RECTIFYING:
            continue
        if documents.notices_of_listing(session, listing):
            return None
        result = documents.issue_notice(session, regulator, {"supervision_id": listing.id,
                                                             "on": listing.listed_at.date()})
        return result if isinstance(result, Document) else None
    return None
