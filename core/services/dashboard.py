"""Figures for the home pages. More indicators (hazards, inspections) join as their modules land."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Enterprise, EnterpriseSector, Role
from core.services.actors import Actor
from core.services.permissions import require
from core.services.scope import enterprise_clause

GOVERNMENT_OR_ADMIN = (Role.ADMIN, Role.REGULATOR, Role.INSPECTOR, Role.GRID_WORKER)


@dataclass
class EnterpriseSummary:
    total: int = 0
    high_risk: int = 0
    above_scale: int = 0
    key_industry: int = 0
    small_micro: int = 0
    by_sector: dict[str, int] = field(default_factory=dict)


def enterprise_summary(session: Session, actor: Actor) -> EnterpriseSummary:
    """Counts of the enterprises in the actor's scope, in two queries whatever the size."""
    require(actor, "enterprise.view")
    scoped = enterprise_clause(actor)
    row = session.execute(
        select(
            func.count(Enterprise.id),
            func.count(Enterprise.id).filter(Enterprise.is_high_risk.is_(True)),
            func.count(Enterprise.id).filter(Enterprise.is_above_scale.is_(True)),
            func.count(Enterprise.id).filter(Enterprise.is_key_industry.is_(True)),
            func.count(Enterprise.id).filter(Enterprise.is_small_micro.is_(True)),
        ).where(scoped, Enterprise.is_active.is_(True))
    ).one()
    by_sector = dict(session.execute(
        select(EnterpriseSector.sector, func.count())
        .join(Enterprise, Enterprise.id == EnterpriseSector.enterprise_id)
        .where(scoped, Enterprise.is_active.is_(True))
        .group_by(EnterpriseSector.sector)
    ).all())
    return EnterpriseSummary(*row, by_sector=by_sector)
