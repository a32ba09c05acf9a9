"""Jurisdiction boundaries for 一张图 (issue 17 item 4): validated GeoJSON geometry per node, and a bulk import.

A boundary is stored as a bare GeoJSON geometry (Polygon or MultiPolygon, WGS-84 longitude/latitude) in
``jurisdictions.boundary``; the map page draws it with Leaflet. Validation keeps the map usable and the database
small: only polygon types, closed rings of at least four positions, every position inside China's extent, and a cap
on the number of positions (a district outline simplified for display has a few thousand; a survey-grade file with
hundreds of thousands would make every map request slow).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Jurisdiction
from core.services import audit
from core.services.actors import Actor
from core.services.errors import ValidationFailed
from core.services.permissions import require
from core.services.scope import jurisdiction_clause

#: China's extent (longitude 73–136°E, latitude 3–54°N): a position outside is a swapped lat/lng or a projected
#: (metres) coordinate, both common mistakes in exported files.
LON_RANGE = (73.0, 136.0)
LAT_RANGE = (3.0, 54.0)
#: Positions per boundary; simplify larger outlines before importing (e.g. mapshaper -simplify).
MAX_POSITIONS = 20_000
#: Import file size.
MAX_FILE_BYTES = 20 * 1024 * 1024
GEOMETRY_TYPES = ("Polygon", "MultiPolygon")


def _ring_errors(ring: Any, where: str) -> tuple[list[str], int]:
    if not isinstance(ring, list) or len(ring) < 4:
        return [f"{where}：环至少需要 4 个坐标点（首尾相同）"], 0
    for pos in ring:
        if (not isinstance(pos, list) or len(pos) < 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                           for v in pos[:2])):
            return [f"{where}：坐标须为 [经度, 纬度] 数字对"], 0
        lon, lat = pos[0], pos[1]
        if not (LON_RANGE[0] <= lon <= LON_RANGE[1] and LAT_RANGE[0] <= lat <= LAT_RANGE[1]):
            return [(f"{where}：坐标 [{lon:g}, {lat:g}] 超出我国范围（经度 73–136，纬度 3–54；"
                     "请确认为 WGS-84 经纬度且顺序为 [经度, 纬度]）")], 0
    if ring[0][:2] != ring[-1][:2]:
        return [f"{where}：环未闭合（首尾坐标须相同）"], 0
    return [], len(ring)


def validate_geometry(geometry: Any) -> dict[str, Any]:
    """Return a clean copy of ``geometry`` (only ``type`` and 2-D ``coordinates``) or raise ValidationFailed."""
    if isinstance(geometry, dict) and geometry.get("type") == "Feature":
        geometry = geometry.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") not in GEOMETRY_TYPES:
        got = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
        raise ValidationFailed({"boundary": [f"边界类型须为 Polygon 或 MultiPolygon，收到 {got}"]})
    coords = geometry.get("coordinates")
    if not isinstance(coords, list) or not coords:
        raise ValidationFailed({"boundary": ["边界缺少坐标（coordinates）"]})
    polygons = [coords] if geometry["type"] == "Polygon" else coords
    if not polygons:
        raise ValidationFailed({"boundary": ["边界缺少坐标（coordinates）"]})
    errors: list[str] = []
    total = 0
    for pi, polygon in enumerate(polygons, 1):
        if not isinstance(polygon, list) or not polygon:
            errors.append(f"第 {pi} 个多边形没有环")
            continue
        for ri, ring in enumerate(polygon, 1):
            errs, n = _ring_errors(ring, f"第 {pi} 个多边形第 {ri} 个环")
            errors += errs
            total += n
        if len(errors) >= 5:
            break
    if not errors and total > MAX_POSITIONS:
        errors.append(f"边界坐标点过多（{total} 个，上限 {MAX_POSITIONS}）；请先简化边界再导入")
    if errors:
        raise ValidationFailed({"boundary": errors[:5]})
    clean = [[[[float(p[0]), float(p[1])] for p in ring] for ring in polygon] for polygon in polygons]
    return {"type": geometry["type"], "coordinates": clean[0] if geometry["type"] == "Polygon" else clean}


def set_boundary(session: Session, actor: Actor, node: Jurisdiction, geometry: Any | None, *,
                 schematic: bool = False) -> Jurisdiction:
    """Set (or with None clear) a node's boundary, validated and audited. The caller commits."""
    require(actor, "jurisdiction.manage")
    clean = validate_geometry(geometry) if geometry is not None else None
    had = node.boundary is not None
    node.boundary = clean
    node.boundary_schematic = bool(schematic) if clean is not None else False
    audit.record(session, actor, "update", "jurisdiction", node.id,
                 summary=f"{'更新' if had else '设置'}辖区边界 {node.name}" if clean else f"清除辖区边界 {node.name}",
                 after={"boundary_type": clean["type"] if clean else None, "boundary_schematic": node.boundary_schematic,
                        "boundary_positions": positions(clean) if clean else 0})
    return node


def positions(geometry: dict[str, Any]) -> int:
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return sum(len(ring) for polygon in polygons for ring in polygon)


@dataclass
class ImportReport:
    matched: list[tuple[str, Jurisdiction]] = field(default_factory=list)  # (feature label, node)
    unmatched: list[str] = field(default_factory=list)                       # feature labels
    invalid: list[tuple[str, str]] = field(default_factory=list)             # (feature label, message)

    @property
    def ok(self) -> bool:
        return not self.invalid


def import_boundaries(session: Session, actor: Actor, raw: bytes, *, schematic: bool = False) -> ImportReport:
    """Import a GeoJSON FeatureCollection: each feature is matched to a node by property ``code`` (行政区划代码)
    first, else by ``name`` when exactly one visible node has that name. All or nothing: when any matched
    feature's geometry is invalid nothing is set (the report lists why). Unmatched features are reported, not
    fatal (a provincial file covers more than one city's tree). The caller commits when ``report.ok``."""
    require(actor, "jurisdiction.manage")
    if len(raw) > MAX_FILE_BYTES:
        raise ValidationFailed({"file": [f"文件过大（上限 {MAX_FILE_BYTES // (1024 * 1024)} MB）"]})
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationFailed({"file": [f"不是有效的 GeoJSON（UTF-8 编码的 JSON）：{exc}"]}) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" or not isinstance(
            data.get("features"), list):
        raise ValidationFailed({"file": ["GeoJSON 须为 FeatureCollection（含 features 数组）"]})
    nodes = list(session.scalars(select(Jurisdiction).where(jurisdiction_clause(actor))))
    by_code = {n.code: n for n in nodes if n.code}
    by_name: dict[str, list[Jurisdiction]] = {}
    for n in nodes:
        by_name.setdefault(n.name, []).append(n)
    report = ImportReport()
    pending: list[tuple[Jurisdiction, dict[str, Any]]] = []
    for i, feature in enumerate(data["features"], 1):
        props = (feature.get("properties") if isinstance(feature, dict) else None) or {}
        code = str(props.get("code") or "").strip()
        name = str(props.get("name") or "").strip()
        label = f"第 {i} 个要素（{' '.join(x for x in (code, name) if x) or '无 code/name'}）"
        node = by_code.get(code) if code else None
        if node is None and name and len(by_name.get(name, [])) == 1:
            node = by_name[name][0]
        if node is None:
            reason = "同名辖区不止一个，请用 code" if name and len(by_name.get(name, [])) > 1 else "未找到对应辖区"
            report.unmatched.append(f"{label}：{reason}")
            continue
        try:
            pending.append((node, validate_geometry(feature.get("geometry"))))
            report.matched.append((label, node))
        except ValidationFailed as exc:
            report.invalid.append((label, "；".join(exc.errors["boundary"])))
    if report.ok:
        for node, geometry in pending:
            set_boundary(session, actor, node, geometry, schematic=schematic)
    return report
