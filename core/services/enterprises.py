"""Enterprise records (R-A2): list, read, create, update, with scope, permissions, audit and plugin data."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload
from stdnum.cn import uscc as stdnum_uscc

from core.models import Agency, Enterprise, EnterpriseSector, Jurisdiction, JurisdictionLevel
from core.models.base import utcnow
from core.plugins import plugins
from core.schemas.enterprise import SUPERVISION_FIELDS
from core.services import audit
from core.services.actors import Actor
from core.services.base import Page, check_version, keyset_page
from core.services.errors import NotFound, PermissionDenied, ValidationFailed
from core.services.permissions import can, require
from core.services.scope import ensure_enterprise_visible, enterprise_clause, scope_of

#: Plain columns copied from validated input onto the model.
_COLUMNS = [
    "name", "uscc", "address", "longitude", "latitude", "jurisdiction_id", "grid_id", "industry_code",
    "industry_name", "legal_representative", "actual_controller", "principal_name", "principal_phone",
    "safety_manager_name", "safety_manager_phone", "employee_count", "is_high_risk", "is_above_scale",
    "is_key_industry", "is_small_micro", "supervising_agency_id", "supervision_level", "standardization_status",
    "standardization_grade", "insurance_company", "insurance_start", "insurance_end", "credit_class", "is_active",
]
_FLAGS = ["is_high_risk", "is_above_scale", "is_key_industry", "is_small_micro", "is_active"]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def enterprise_query(session: Session, actor: Actor, filters: dict[str, Any]) -> Select:
    """The scoped, filtered SELECT of enterprises behind the list, the API and the export.

    ``filters`` are the loaded :class:`~core.schemas.enterprise.EnterpriseFilterIn` values. A jurisdiction
    filter outside the actor's scope simply matches nothing (the scope clause is always applied).
    """
    require(actor, "enterprise.view")
    stmt = select(Enterprise).where(enterprise_clause(actor))
    q = (filters.get("q") or "").strip()
    if q:
        pattern = f"%{_escape_like(q)}%"
        # A USCC is matched exactly after the same normalisation as on input (spaces, dashes, case).
        stmt = stmt.where(or_(Enterprise.name.like(pattern, escape="\\"), Enterprise.uscc == stdnum_uscc.compact(q).upper()))
    if filters.get("jurisdiction_id"):
        node = session.get(Jurisdiction, filters["jurisdiction_id"])
        stmt = stmt.where(Enterprise.scope_path.like((node.path if node else "/none/") + "%"))
    if filters.get("sector"):
        stmt = stmt.where(
            Enterprise.id.in_(select(EnterpriseSector.enterprise_id).where(EnterpriseSector.sector == filters["sector"]))
        )
    for flag in _FLAGS:
        if filters.get(flag) is not None:
            stmt = stmt.where(getattr(Enterprise, flag) == filters[flag])
    return stmt


def list_enterprises(
    session: Session, actor: Actor, filters: dict[str, Any], *, after: int | None = None, size: int = 20
) -> Page[Enterprise]:
    """One keyset page of the enterprises the actor sees, newest first, with relations loaded in bulk."""
    stmt = enterprise_query(session, actor, filters).options(
        selectinload(Enterprise.jurisdiction), selectinload(Enterprise.grid), selectinload(Enterprise.sectors),
        selectinload(Enterprise.supervising_agency),
    )
    return keyset_page(session, stmt, Enterprise.id, after=after, size=size)


def get_enterprise(session: Session, actor: Actor, enterprise_id: int) -> Enterprise:
    """The enterprise, or :class:`NotFound` when it does not exist or is out of scope."""
    require(actor, "enterprise.view")
    return ensure_enterprise_visible(actor, session.get(Enterprise, enterprise_id))


def _check_references(session: Session, actor: Actor, ent: Enterprise, errors: dict[str, list[str]],
                      taken: set[str]) -> None:
    """Reference, scope and uniqueness checks. ``taken``: the USCCs registered to *other* enterprises, looked
    up in bulk by the caller (one query per batch instead of one per enterprise)."""
    node = session.get(Jurisdiction, ent.jurisdiction_id) if ent.jurisdiction_id else None
    scope = scope_of(actor)
    if node is None:
        errors.setdefault("jurisdiction_id", []).append("所属辖区不存在")
    elif node.level == JurisdictionLevel.GRID:
        errors.setdefault("jurisdiction_id", []).append("所属辖区不能是网格，请在“所在网格”中选择网格")
    elif scope.enterprise_id is None and not scope.covers_path(node.path):
        errors.setdefault("jurisdiction_id", []).append("所属辖区不在您的管辖范围内")
    if ent.grid_id is not None:
        grid = session.get(Jurisdiction, ent.grid_id)
        if grid is None or grid.level != JurisdictionLevel.GRID:
            errors.setdefault("grid_id", []).append("所选网格不存在")
        elif node is not None and not grid.path.startswith(node.path):
            errors.setdefault("grid_id", []).append("所选网格不属于所属辖区")
    if ent.supervising_agency_id is not None and session.get(Agency, ent.supervising_agency_id) is None:
        errors.setdefault("supervising_agency_id", []).append("监管主体不存在")
    if ent.uscc and ent.uscc in taken:
        errors.setdefault("uscc", []).append("该统一社会信用代码已登记")


def validate_sectors(items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Validate sector tags against the enabled plugins and their data schemas.

    Returns ``(cleaned items, errors)``; errors are keyed by the item's index as marshmallow does for lists.
    """
    registry = plugins()
    cleaned, errors = [], {}
    seen: set[str] = set()
    for i, item in enumerate(items):
        code = item["sector"]
        info = registry.sectors.get(code)
        if info is None:
            errors[i] = {"sector": [f"领域 {code} 未启用"]}
            continue
        if code in seen:
            errors[i] = {"sector": [f"领域 {info.name} 重复"]}
            continue
        seen.add(code)
        bad = [a for a in item.get("activities", []) if info.activities and a not in info.activities]
        if bad:
            errors[i] = {"activities": [f"{info.name}领域的类别应为：{'、'.join(info.activities)}"]}
            continue
        data = item.get("data") or {}
        spec = registry.enterprise_fields.get(code)
        if spec is not None:
            try:
                data = spec.schema().dump(spec.schema().load(data))
            except ValidationError as exc:
                errors[i] = {"data": exc.messages}
                continue
        cleaned.append({"sector": code, "activities": list(item.get("activities", [])), "data": data})
    return cleaned, errors


def _apply_sectors(ent: Enterprise, items: list[dict[str, Any]]) -> None:
    """Replace the rows of enabled sectors; rows of sectors whose plugin is disabled are kept as they are."""
    enabled = plugins().sectors
    existing = {row.sector: row for row in ent.sectors}
    wanted = {item["sector"]: item for item in items}
    for code, row in existing.items():
        if code in enabled and code not in wanted:
            ent.sectors.remove(row)
    for code, item in wanted.items():
        row = existing.get(code)
        if row is None:
            ent.sectors.append(EnterpriseSector(sector=code, activities=item["activities"], data=item["data"]))
        else:
            row.activities, row.data = item["activities"], item["data"]


def _sector_snapshot(ent: Enterprise) -> list[dict[str, Any]]:
    return [{"sector": s.sector, "activities": list(s.activities or []), "data": s.data} for s in ent.sectors]


def _finish(session: Session, actor: Actor, ent: Enterprise, data: dict[str, Any], taken: set[str]) -> None:
    """Set derived columns, validate references and sector data, raise all errors at once."""
    errors: dict[str, Any] = {}
    _check_references(session, actor, ent, errors, taken)
    cleaned = None
    if "sectors" in data:
        cleaned, sector_errors = validate_sectors(data["sectors"] or [])
        if sector_errors:
            errors["sectors"] = sector_errors
    if errors:
        raise ValidationFailed(errors)
    if cleaned is not None:
        _apply_sectors(ent, cleaned)
    node = session.get(Jurisdiction, ent.grid_id or ent.jurisdiction_id)
    ent.scope_path = node.path


def create_enterprise(session: Session, actor: Actor, data: dict[str, Any]) -> Enterprise:
    """Create an enterprise from loaded :class:`~core.schemas.enterprise.EnterpriseIn` data.

    Raises :class:`ValidationFailed` with every field error at once (references, uniqueness, sector data).
    """
    created, errors = create_enterprises(session, actor, [data])
    if errors:
        raise ValidationFailed(errors[0])
    return created[0]


def _record_created(session: Session, actor: Actor, ent: Enterprise, sectors: list[dict[str, Any]]) -> None:
    audit.record(session, actor, "create", "enterprise", ent.id, summary=f"新增企业 {ent.name}",
                 after={**audit.snapshot(ent, _COLUMNS), "sectors": sectors})


def create_enterprises(
    session: Session, actor: Actor, items: list[dict[str, Any]], *, batch_size: int = 500
) -> tuple[list[Enterprise], dict[int, dict[str, Any]]]:
    """Create many enterprises (bulk import): for each item the same permission, validation, scope check and
    audit entry as :func:`create_enterprise`, but with one USCC lookup and one flush per batch, not per item.

    Returns the created enterprises and the errors of the refused items keyed by their index in ``items``.
    Valid items are created even when others are refused: the caller decides whether to roll back.
    """
    require(actor, "enterprise.create")
    created: list[Enterprise] = []
    errors: dict[int, dict[str, Any]] = {}
    for start in range(0, len(items), batch_size):
        chunk = items[start:start + batch_size]
        usccs = [d["uscc"] for d in chunk if d.get("uscc")]
        taken = set(session.scalars(select(Enterprise.uscc).where(Enterprise.uscc.in_(usccs))))
        pending: list[tuple[Enterprise, list[dict[str, Any]]]] = []
        with session.no_autoflush:
            for index, data in enumerate(chunk, start=start):
                ent = Enterprise(**{k: data.get(k) for k in _COLUMNS if k in data})
                try:
                    _finish(session, actor, ent, data, taken)
                except ValidationFailed as exc:
                    errors[index] = exc.errors
                    continue
                taken.add(ent.uscc)  # a repeated code later in the same batch is refused like a registered one
                pending.append((ent, _sector_snapshot(ent)))
                session.add(ent)
        session.flush()
        for ent, sectors in pending:
            _record_created(session, actor, ent, sectors)
            created.append(ent)
    session.flush()
    return created, errors


def update_enterprise(session: Session, actor: Actor, enterprise_id: int, data: dict[str, Any]) -> Enterprise:
    """Apply a partial update (loaded with ``partial=True``); ``data['version']`` must be the edited version.

    Enterprise users may update their own record except :data:`SUPERVISION_FIELDS`; sending a changed value
    for one of those is refused with 403 naming the fields. Out of scope → :class:`NotFound`; stale version →
    :class:`Conflict`; invalid data → :class:`ValidationFailed`.
    """
    updated, errors = update_enterprises(session, actor, [(enterprise_id, data)])
    if errors:
        raise ValidationFailed(errors[0])
    return updated[0]


def _apply_update(
    session: Session, actor: Actor, enterprise_id: int, data: dict[str, Any], owners: dict[str, int]
) -> tuple[Enterprise, dict[str, Any], dict[str, Any]]:
    """Check and apply an update without flushing; returns the enterprise and the audit diff (before, after).

    ``owners`` maps the USCCs of the batch to the ids of the enterprises holding them (looked up in bulk).
    """
    ent = get_enterprise(session, actor, enterprise_id)
    require(actor, "enterprise.update")
    check_version(ent, data.get("version"), "该企业信息")
    changed_supervision = [k for k in SUPERVISION_FIELDS if k in data and getattr(ent, k) != data[k]]
    if changed_supervision and not can(actor, "enterprise.update_supervision"):
        raise PermissionDenied("以下信息只能由监管部门修改：" + "、".join(sorted(changed_supervision)))
    before = {**audit.snapshot(ent, _COLUMNS), "sectors": _sector_snapshot(ent)}
    with session.no_autoflush:
        for key in _COLUMNS:
            if key in data:
                setattr(ent, key, data[key])
        taken = {ent.uscc} if owners.get(ent.uscc, ent.id) != ent.id else set()
        try:
            _finish(session, actor, ent, data, taken)
        except ValidationFailed:
            session.expire(ent)  # leave nothing half-applied in the identity map
            raise
    after = {**audit.snapshot(ent, _COLUMNS), "sectors": _sector_snapshot(ent)}
    b, a = audit.diff(before, after)
    if "sectors" in b or "sectors" in a:
        # Sector data lives in child rows: touch the enterprise so that its version moves on too, or two
        # concurrent edits of only the sector data would both pass the version check.
        ent.updated_at = utcnow()
    return ent, b, a


def update_enterprises(
    session: Session, actor: Actor, items: list[tuple[int, dict[str, Any]]], *, batch_size: int = 500
) -> tuple[list[Enterprise], dict[int, dict[str, Any]]]:
    """Apply many updates ``(enterprise id, data)`` (bulk import): for each item the same permission, version,
    scope and validation checks and audit entry as :func:`update_enterprise`, but with one USCC lookup and one
    flush per batch, not per item.

    Returns the updated enterprises and the validation errors of the refused items keyed by their index in
    ``items``; :class:`NotFound`, :class:`PermissionDenied` and :class:`Conflict` refuse the whole call as
    they refuse a single update. The caller decides whether to roll back.
    """
    updated: list[Enterprise] = []
    errors: dict[int, dict[str, Any]] = {}
    for start in range(0, len(items), batch_size):
        chunk = items[start:start + batch_size]
        usccs = [d["uscc"] for _, d in chunk if d.get("uscc")]
        owners = dict(session.execute(select(Enterprise.uscc, Enterprise.id).where(Enterprise.uscc.in_(usccs))).all())
        for index, (enterprise_id, data) in enumerate(chunk, start=start):
            try:
                ent, b, a = _apply_update(session, actor, enterprise_id, data, owners)
            except ValidationFailed as exc:
                errors[index] = exc.errors
                continue
            if "uscc" in b and owners.get(b["uscc"]) == ent.id:
                del owners[b["uscc"]]  # the old code is free again
            owners[ent.uscc] = ent.id
            if a:
                audit.record(session, actor, "update", "enterprise", ent.id, summary=f"修改企业 {ent.name}",
                             before=b, after=a)
            updated.append(ent)
        session.flush()
    return updated, errors


def visible_enterprise_ids(session: Session, actor: Actor, ids: list[int]) -> set[int]:
    """Which of ``ids`` the actor may see (for bulk operations)."""
    if not ids:
        return set()
    return set(session.scalars(select(Enterprise.id).where(Enterprise.id.in_(ids), enterprise_clause(actor))))


__all__ = [
    "NotFound",
    "create_enterprise",
    "create_enterprises",
    "enterprise_query",
    "get_enterprise",
    "list_enterprises",
    "update_enterprise",
    "update_enterprises",
    "validate_sectors",
    "visible_enterprise_ids",
]
