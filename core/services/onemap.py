"""一张图 (issue 17 item 4): the data behind the jurisdiction map — child boundaries and enterprises by risk grade.

One node is shown at a time (the actor's own jurisdiction by default): the outlines of its child nodes, and either
every enterprise in it as a point, or, above ``MAP_MAX_POINTS`` enterprises (a city has tens of thousands), counts
per child node computed in SQL with the child's centroid, so the browser never receives more than a few thousand
features. Each mode is a count, one grouped query over the enterprises and one over their open 重大隐患 (plus one
for the child nodes): no query per enterprise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from core.models import Enterprise, EnterpriseSector, Hazard, Jurisdiction, RiskGrade, RiskPoint
from core.models.hazard import HazardState, HazardSupervision
from core.services.actors import Actor
from core.services.permissions import require
from core.services.risks import GRADE_ORDER
from core.services.scope import ensure_jurisdiction_visible, enterprise_clause, jurisdiction_clause

_RANK = {g.value: 4 - i for i, g in enumerate(GRADE_ORDER)}  # major 4 … low 1; 0: no risk point assessed
_BY_RANK = {r: g for g, r in _RANK.items()}
#: The grade key of an enterprise with no active risk point (shown grey: 未辨识).
NO_GRADE = "none"
GRADE_KEYS = [g.value for g in GRADE_ORDER] + [NO_GRADE]
GRADE_LABELS = {**{g.value: g.label for g in GRADE_ORDER}, NO_GRADE: "未辨识风险"}
#: One character per grade for the marker face, so that the grade reads without colour (colour-blind users,
#: grey-scale print): 红 重 / 橙 较 / 黄 般 / 蓝 低.
GRADE_SHORT = {RiskGrade.MAJOR.value: "重", RiskGrade.LARGE.value: "较", RiskGrade.GENERAL.value: "般",
               RiskGrade.LOW.value: "低", NO_GRADE: "无"}
GRADE_COLOURS = {**{g.value: g.colour for g in GRADE_ORDER}, NO_GRADE: "grey"}


@dataclass
class MapData:
    node: Jurisdiction | None
    children: list[Jurisdiction]
    #: "points": ``enterprises`` filled; "aggregate": ``areas`` filled (counts per child node).
    mode: str
    total: int
    enterprises: list[dict[str, Any]] = field(default_factory=list)
    areas: list[dict[str, Any]] = field(default_factory=list)
    #: Enterprises in the view without coordinates (points mode): listed, not drawn.
    unplaced: int = 0
    max_points: int = 0

    @property
    def outlined(self) -> list[Jurisdiction]:
        """The node and its children that have a boundary (the node's own is drawn as the frame)."""
        return [n for n in ([self.node] if self.node is not None else []) + self.children if n.boundary]

    @property
    def schematic(self) -> bool:
        return any(n.boundary_schematic for n in self.outlined)

    def as_json(self) -> dict[str, Any]:
        def feature(n: Jurisdiction) -> dict[str, Any]:
            return {"type": "Feature", "geometry": n.boundary,
                    "properties": {"id": n.id, "name": n.name, "level": n.level, "schematic": n.boundary_schematic}}

        outlined = self.outlined
        return {
            "node": {"id": self.node.id, "name": self.node.name} if self.node is not None else None,
            "mode": self.mode, "total": self.total, "max_points": self.max_points, "unplaced": self.unplaced,
            "grades": [{"key": k, "label": GRADE_LABELS[k], "short": GRADE_SHORT[k], "colour": GRADE_COLOURS[k]}
                       for k in GRADE_KEYS],
            "boundaries": {"type": "FeatureCollection", "features": [feature(n) for n in outlined]},
            "parent_id": self.node.id if self.node is not None else None,
            "schematic": self.schematic,
            "enterprises": self.enterprises,
            # Counts per child node: the map's content in aggregate mode (the page's tables use them in both).
            "areas": self.areas if self.mode == "aggregate" else [],
        }


def centroid(geometry: dict[str, Any] | None) -> tuple[float, float] | None:
    """(lat, lng) of a polygon's area centroid (its largest polygon for a MultiPolygon; outer ring only), or None."""
    if not geometry:
        return None
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    best = None
    for polygon in polygons:
        ring = polygon[0]
        a = cx = cy = 0.0
        for (x0, y0), (x1, y1) in pairwise(ring):
            cross = x0 * y1 - x1 * y0
            a += cross
            cx += (x0 + x1) * cross
            cy += (y0 + y1) * cross
        if a and (best is None or abs(a) > abs(best[0])):
            best = (a, cx / (3 * a), cy / (3 * a))
    return (round(best[2], 6), round(best[1], 6)) if best else None


def _node_and_children(session: Session, actor: Actor, node_id: int | None) -> tuple[Jurisdiction | None, list]:
    if node_id:
        node = ensure_jurisdiction_visible(actor, session.get(Jurisdiction, node_id))
    else:
        node = getattr(actor, "jurisdiction", None)
    if node is not None:
        children = session.scalars(select(Jurisdiction).where(Jurisdiction.parent_id == node.id)
                                   .order_by(Jurisdiction.id))
    else:  # the whole platform (an administrator without a jurisdiction): the top-level nodes
        children = session.scalars(select(Jurisdiction).where(Jurisdiction.parent_id.is_(None), jurisdiction_clause(actor))
                                   .order_by(Jurisdiction.id))
    return node, list(children)


def _filters(node: Jurisdiction | None, actor: Actor, sector: str | None) -> list:
    clauses = [enterprise_clause(actor), Enterprise.is_active.is_(True)]
    if node is not None:
        clauses.append(Enterprise.scope_path.like(node.path + "%"))
    if sector:
        clauses.append(Enterprise.id.in_(select(EnterpriseSector.enterprise_id).where(EnterpriseSector.sector == sector)))
    return clauses


def _grade_subquery(prefix: str | None):
    rank = case(*((RiskPoint.grade == g, r) for g, r in _RANK.items()), else_=0)
    stmt = select(RiskPoint.enterprise_id.label("eid"), func.max(rank).label("rank")).where(
        RiskPoint.is_active.is_(True)).group_by(RiskPoint.enterprise_id)
    if prefix:
        stmt = stmt.where(RiskPoint.scope_path.like(prefix + "%"))
    return stmt.subquery("grades")


def _open_majors(session: Session, where: list) -> dict[int, tuple[str, int, int]]:
    """Enterprise id → (scope path, open 重大隐患 (not 销号), how many of them are under a current 挂牌督办), for
    the enterprises of the view that have any. A separate grouped query over the hazards: they are few, and an
    outer join of their aggregate onto every enterprise costs more than the whole enterprise scan (SQLite)."""
    listed = select(HazardSupervision.hazard_id).where(HazardSupervision.lifted_at.is_(None))
    rows = session.execute(
        select(Hazard.enterprise_id, Enterprise.scope_path, func.count(Hazard.id),
               func.sum(case((Hazard.id.in_(listed), 1), else_=0)))
        .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
        .where(Hazard.level == "major", Hazard.state != HazardState.CLOSED.value, *where)
        .group_by(Hazard.enterprise_id, Enterprise.scope_path)).all()
    return {eid: (path, int(n), int(listed_n or 0)) for eid, path, n, listed_n in rows}


def _empty_area(node: Jurisdiction) -> dict[str, Any]:
    centre = centroid(node.boundary)
    return {"id": node.id, "name": node.name, "lat": centre[0] if centre else None, "lng": centre[1] if centre else None,
            "counts": dict.fromkeys(GRADE_KEYS, 0), "total": 0, "majors": 0, "supervised": 0}


def _has_major_source(data: Any) -> bool:
    return bool(isinstance(data, dict) and data.get("major_hazard_sources"))


def map_data(session: Session, actor: Actor, *, node_id: int | None = None, sector: str | None = None,
             max_points: int = 2000, enterprise_url=lambda eid: None) -> MapData:
    """The map of one node (default: the actor's jurisdiction), see the module docstring (R-O1)."""
    require(actor, "risk.supervise")
    node, children = _node_and_children(session, actor, node_id)
    prefix = node.path if node is not None else None
    where = _filters(node, actor, sector)
    total = session.scalar(select(func.count(Enterprise.id)).where(*where)) or 0
    grades = _grade_subquery(prefix)
    rank = func.coalesce(grades.c.rank, 0)
    majors = _open_majors(session, where)
    child_ids = {c.id for c in children}
    skip = len(prefix) if prefix else 1

    def child_of(path: str) -> int | None:
        """The child node a scope path lies under: its segment after the node's own path."""
        segment = path[skip:].split("/", 1)[0]
        return int(segment) if segment.isdigit() and int(segment) in child_ids else None

    if total <= max_points:
        hazchem = EnterpriseSector.__table__.alias("hazchem")
        rows = session.execute(
            select(Enterprise.id, Enterprise.name, Enterprise.latitude, Enterprise.longitude, Enterprise.scope_path,
                   rank, hazchem.c.data)
            .outerjoin(grades, grades.c.eid == Enterprise.id)
            .outerjoin(hazchem, and_(hazchem.c.enterprise_id == Enterprise.id, hazchem.c.sector == "hazchem"))
            .where(*where).order_by(rank, Enterprise.id)).all()
        points, unplaced = [], 0
        areas = {c.id: _empty_area(c) for c in children}
        for eid, name, lat, lng, path, r, data in rows:
            if lat is None or lng is None:
                unplaced += 1
            grade = _BY_RANK.get(r, NO_GRADE)
            _, n_major, n_listed = majors.get(eid, (path, 0, 0))
            points.append({"id": eid, "name": name, "lat": lat, "lng": lng, "grade": grade, "majors": n_major,
                           "supervised": n_listed > 0, "major_source": _has_major_source(data),
                           "url": enterprise_url(eid)})
            cid = child_of(path)
            if cid is not None:
                area = areas[cid]
                area["counts"][grade] += 1
                area["total"] += 1
                area["majors"] += n_major
                area["supervised"] += int(n_listed > 0)
        return MapData(node, children, "points", total, enterprises=points, unplaced=unplaced, max_points=max_points,
                       areas=[a for a in areas.values() if a["total"]])

    # Grouped by the enterprises' own scope path (one row per grid cell or town and grade: a few thousand at
    # city scale, not one per enterprise), each path then credited to its child node. A path-prefix join against
    # the child nodes would do it in SQL but costs a LIKE per enterprise and child.
    rows = session.execute(
        select(Enterprise.scope_path, rank, func.count(Enterprise.id), func.sum(Enterprise.latitude),
               func.sum(Enterprise.longitude), func.count(Enterprise.latitude))
        .outerjoin(grades, grades.c.eid == Enterprise.id)
        .where(*where).group_by(Enterprise.scope_path, rank)).all()
    by_child = {c.id: {**_empty_area(c), "_lat": 0.0, "_lng": 0.0, "_located": 0} for c in children}
    for path, r, n, lat, lng, located in rows:
        cid = child_of(path)
        if cid is None:
            continue  # attached to the node itself, not to one of its children
        area = by_child[cid]
        area["counts"][_BY_RANK.get(r, NO_GRADE)] += int(n)
        area["total"] += int(n)
        if located:  # sums over the located enterprises: the fallback centre is their mean position
            area["_lat"] += float(lat)
            area["_lng"] += float(lng)
            area["_located"] += int(located)
    for path, n_major, n_listed in majors.values():
        cid = child_of(path)
        if cid is not None:
            by_child[cid]["majors"] += n_major
            by_child[cid]["supervised"] += int(n_listed > 0)
    areas = []
    for c in children:
        area = by_child[c.id]
        located, lat, lng = area.pop("_located"), area.pop("_lat"), area.pop("_lng")
        if not area["total"]:
            continue
        if area["lat"] is None and located:
            area["lat"], area["lng"] = round(lat / located, 6), round(lng / located, 6)
        areas.append(area)
    return MapData(node, children, "aggregate", total, areas=areas, max_points=max_points)
