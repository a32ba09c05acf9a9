"""``anjian bench-data``: the benchmark city is deterministic and has the promised shape (R-N1, issue 8).

Run with tiny numbers on the test database (SQLite, or PostgreSQL in CI where the bulk path uses COPY). The test
world is not bench data, so every run here needs ``force``.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select

from core.benchdata import PLACEHOLDER_SHA256, BenchDataRefused, Sizes, existing_data, generate
from core.models import (
    Document,
    DocumentHazard,
    Enterprise,
    EnterpriseSector,
    Hazard,
    HazardPlan,
    HazardSupervision,
    HazardTransition,
    InspectionRun,
    RiskPoint,
    User,
)
from core.services.document_texts import appeal_clause

TINY = Sizes(enterprises=60, hazards=3000, risk_points=40, inspections=50, documents=60)
DAY = date(2026, 6, 30)


def _generate(session, seed: int = 7):
    return generate(session, TINY, seed=seed, today=DAY, force=True)


def _bench_hazards(session, first_enterprise: int):
    return list(session.scalars(select(Hazard).where(Hazard.enterprise_id >= first_enterprise).order_by(Hazard.id)))


def _snapshot(session, first_enterprise: int) -> list[tuple]:
    """Generated rows as values that do not depend on ids the services hand out (jurisdictions, users)."""
    ents = [(e.id, e.name, e.uscc, e.address, e.employee_count, e.is_high_risk, e.sector_codes)
            for e in session.scalars(select(Enterprise).where(Enterprise.id >= first_enterprise)
                                     .order_by(Enterprise.id))]
    hazards = [(h.id, h.enterprise_id, h.description, h.category, h.level, h.source, h.state, h.found_at,
                h.deadline, h.closed_at, h.responsible_name) for h in _bench_hazards(session, first_enterprise)]
    steps = list(session.execute(select(HazardTransition.hazard_id, HazardTransition.action, HazardTransition.at)
                                 .join(Hazard).where(Hazard.enterprise_id >= first_enterprise)
                                 .order_by(HazardTransition.id)))
    docs = list(session.execute(select(Document.number, Document.enterprise_id, Document.issued_on,
                                       Document.verify_code).where(Document.enterprise_id >= first_enterprise)
                                .order_by(Document.id)))
    return [tuple(ents), tuple(hazards), tuple(steps), tuple(docs)]


def _first_new_enterprise(session) -> int:
    return max(session.scalars(select(Enterprise.id))) + 1


def test_refuses_a_database_with_other_data(session):
    """R-N1: bench-data never mixes its city into real data unless told to."""
    assert "非基准数据" in existing_data(session)
    with pytest.raises(BenchDataRefused, match="--force"):
        generate(session, TINY, seed=1, today=DAY)
    assert session.scalar(select(Enterprise).where(Enterprise.name.like("厦门%有限公司"))) is None


def test_same_seed_same_city_other_seed_other_city(session):
    """R-N1: deterministic for a seed (and reference day)."""
    first = _first_new_enterprise(session)
    outer = session.begin_nested()
    _generate(session, seed=7)
    one = _snapshot(session, first)
    outer.rollback()
    outer = session.begin_nested()
    _generate(session, seed=7)
    two = _snapshot(session, first)
    outer.rollback()
    _generate(session, seed=8)
    other = _snapshot(session, first)
    assert len(one[1]) == TINY.hazards
    assert one == two
    assert one[1] != other[1]


def test_counts_relations_and_distributions(session):
    """R-N1: the promised rows, every hazard with its enterprise and a timeline ending in its state, a realistic
    mix of states, levels, sources and overdue ones, documents over their own enterprise's hazards."""
    first = _first_new_enterprise(session)
    report = _generate(session)
    assert report.counts["enterprises"] == TINY.enterprises
    assert report.counts["hazards"] == TINY.hazards
    assert report.counts["risk_points"] == TINY.risk_points
    assert report.counts["inspection_runs"] == TINY.inspections
    assert 0 < report.counts["documents"] <= TINY.documents

    ents = {e.id: e for e in session.scalars(select(Enterprise).where(Enterprise.id >= first))}
    assert len(ents) == TINY.enterprises
    assert len({e.uscc for e in ents.values()}) == TINY.enterprises
    sectors = list(session.scalars(select(EnterpriseSector).where(EnterpriseSector.enterprise_id >= first)))
    assert {s.enterprise_id for s in sectors} == set(ents)
    assert {s.sector for s in sectors} == {"hazchem", "fire", "roadtransport", "specialequip"}
    assert len({e.jurisdiction_id for e in ents.values()}) > 10  # spread over towns of several districts

    hazards = _bench_hazards(session, first)
    assert len(hazards) == TINY.hazards
    assert all(h.enterprise_id in ents and h.scope_path == ents[h.enterprise_id].scope_path for h in hazards)
    steps: dict[int, list[HazardTransition]] = {}
    for t in session.scalars(select(HazardTransition).join(Hazard).where(Hazard.enterprise_id >= first)
                             .order_by(HazardTransition.id)):
        steps.setdefault(t.hazard_id, []).append(t)
    for h in hazards:
        timeline = steps[h.id]
        assert timeline[0].action == "register" and timeline[0].from_state is None
        assert timeline[-1].to_state == h.state, (h.id, [t.action for t in timeline], h.state)
        assert all(a.to_state == b.from_state for a, b in itertools.pairwise(timeline))
        assert [t.at for t in timeline] == sorted(t.at for t in timeline)
        if h.state == "closed":
            assert h.closed_at is not None and h.closed_at >= h.found_at

    states = Counter(h.state for h in hazards)
    assert {"registered", "rectifying", "pending_review", "closed"} <= set(states)
    assert 0.85 < states["closed"] / len(hazards) < 0.99
    sources = Counter(h.source for h in hazards)
    assert sources.most_common(1)[0][0] == "self_check" and len(sources) == 5
    assert Counter(h.category for h in hazards).keys() == {"thing", "management", "human", "environment"}
    majors = [h for h in hazards if h.level == "major"]
    assert 0 < len(majors) < len(hazards) * 0.01
    plans = set(session.scalars(select(HazardPlan.hazard_id).where(HazardPlan.hazard_id.in_([h.id for h in majors]))))
    assert plans == {h.id for h in majors}
    assert session.scalar(select(HazardSupervision).where(HazardSupervision.hazard_id.in_([h.id for h in majors]))) \
        is not None or len(majors) < 5
    assert any(h.is_overdue(DAY) for h in hazards)
    years = Counter(h.found_at.year for h in hazards)
    assert len(years) >= 5 and years[2026] > years[2022]  # five years, busier lately

    points = list(session.scalars(select(RiskPoint).where(RiskPoint.enterprise_id >= first)))
    assert all(p.scope_path == ents[p.enterprise_id].scope_path and p.measures for p in points)
    assert {p.grade for p in points} >= {"major", "large", "general", "low"} - {"major"}
    runs = list(session.scalars(select(InspectionRun).where(InspectionRun.enterprise_id >= first)))
    assert all(r.scope_path == ents[r.enterprise_id].scope_path for r in runs)
    assert Counter(r.status for r in runs)["completed"] > len(runs) * 0.9

    docs = list(session.scalars(select(Document).where(Document.enterprise_id >= first).order_by(Document.id)))
    assert len({d.number for d in docs}) == len(docs) and all(d.pdf_sha256 == PLACEHOLDER_SHA256 for d in docs)
    by_id = {h.id: h for h in hazards}
    for d in docs:
        links = list(session.scalars(select(DocumentHazard).where(DocumentHazard.document_id == d.id)))
        assert links and all(by_id[link.hazard_id].enterprise_id == d.enterprise_id for link in links)
        assert all(by_id[link.hazard_id].source in ("inspection", "campaign") for link in links)
        assert len(d.signer_ids) == 2
        if d.doc_type == "review_opinion":
            order = session.get(Document, d.related_id)
            assert order.doc_type == "rectification_order" and order.issued_on <= d.issued_on
        else:  # the clause of the law in force on its date, as documents.issue_order stores it (bench/run.py renders it)
            assert d.data["appeal"] == appeal_clause(d.data["agency"], d.issued_on)
    assert {d.doc_type for d in docs} == {"rectification_order", "review_opinion"}
    assert session.scalar(select(User).where(User.username == "bench_city")) is not None


def test_command_refuses_then_generates_with_force(runner, session):
    """R-N1: the command says why it refuses and what it made."""
    refused = runner.invoke(args=["bench-data", "--enterprises", "5", "--hazards", "50"])
    assert refused.exit_code != 0 and "非基准数据" in refused.output
    made = runner.invoke(args=["bench-data", "--enterprises", "5", "--hazards", "50", "--risk-points", "3",
                               "--inspections", "4", "--documents", "3", "--force", "--today", "2026-06-30"])
    assert made.exit_code == 0, made.output
    assert "hazards 50" in made.output and "用时" in made.output
    assert "已有基准数据" in existing_data(session)
