"""The jurisdiction tree (R-A1) and enforcement agencies."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, aliased

from core.models import Agency, Enterprise, Jurisdiction, JurisdictionLevel, User
from core.services import audit
from core.services.actors import Actor
from core.services.base import check_version
from core.services.document_texts import agency_problems
from core.services.errors import Conflict, NotFound, ValidationFailed
from core.services.permissions import require
from core.services.scope import ensure_jurisdiction_visible, jurisdiction_clause

_FIELDS = ["parent_id", "level", "name", "code"]


def list_jurisdictions(session: Session, actor: Actor) -> list[Jurisdiction]:
    """Every node the actor sees, in tree order (parents before children, siblings by id)."""
    require(actor, "jurisdiction.view")
    return list(session.scalars(select(Jurisdiction).where(jurisdiction_clause(actor)).order_by(Jurisdiction.path)))


def get_jurisdiction(session: Session, actor: Actor, node_id: int) -> Jurisdiction:
    require(actor, "jurisdiction.view")
    return ensure_jurisdiction_visible(actor, session.get(Jurisdiction, node_id))


def _check_placement(session: Session, node: Jurisdiction, errors: dict[str, list[str]]) -> Jurisdiction | None:
    level = JurisdictionLevel(node.level)
    if node.parent_id is None:
        if level != JurisdictionLevel.PROVINCE and session.scalar(select(func.count(Jurisdiction.id))):
            errors.setdefault("parent_id", []).append("除省级外，辖区必须有上级")
        return None
    parent = session.get(Jurisdiction, node.parent_id)
    if parent is None:
        errors.setdefault("parent_id", []).append("上级辖区不存在")
        return None
    if node.id is not None and parent.path.startswith(node.path):
        errors.setdefault("parent_id", []).append("不能把辖区移到它自己的下级")
    elif JurisdictionLevel(parent.level).rank >= level.rank:
        errors.setdefault("level", []).append(f"{level.label}不能设在{parent.level_label}“{parent.name}”之下")
    return parent


def _check_code(session: Session, node: Jurisdiction, errors: dict[str, list[str]]) -> None:
    if node.code:
        clash = session.scalar(select(Jurisdiction.id).where(Jurisdiction.code == node.code, Jurisdiction.id != node.id))
        if clash is not None:
            errors.setdefault("code", []).append("该行政区划代码已被使用")


def _check_children(session: Session, node: Jurisdiction, errors: dict[str, list[str]]) -> None:
    """A node's (new) level must stay above the levels of its children."""
    level = JurisdictionLevel(node.level)
    child_levels = session.scalars(
        select(Jurisdiction.level).where(Jurisdiction.parent_id == node.id).distinct()
    )
    clash = sorted({JurisdictionLevel(c) for c in child_levels if JurisdictionLevel(c).rank <= level.rank},
                   key=lambda c: c.rank)
    if clash:
        errors.setdefault("level", []).append(f"“{node.name}”下有{clash[0].label}级辖区，不能改为{level.label}")


def _check_enterprise_refs(session: Session, node: Jurisdiction, parent: Jurisdiction | None,
                           errors: dict[str, list[str]]) -> None:
    """Keep enterprises consistent: a node enterprises belong to cannot become a grid, and a move must not take
    an enterprise's grid cell out from under the enterprise's jurisdiction."""
    if node.level == JurisdictionLevel.GRID:
        n = session.scalar(select(func.count()).where(Enterprise.jurisdiction_id == node.id))
        if n:
            errors.setdefault("level", []).append(f"有 {n} 家企业以“{node.name}”为所属辖区，不能改为网格")
    if node.id is None or parent is None or parent.path + f"{node.id}/" == node.path:
        return
    grid = aliased(Jurisdiction)
    rows = session.execute(
        select(Enterprise.id, Jurisdiction.path)
        .join(Jurisdiction, Enterprise.jurisdiction_id == Jurisdiction.id)
        .join(grid, Enterprise.grid_id == grid.id)
        .where(grid.path.like(node.path + "%"))
    ).all()
    stranded = [eid for eid, jpath in rows if not (jpath.startswith(node.path) or parent.path.startswith(jpath))]
    if stranded:
        errors.setdefault("parent_id", []).append(
            f"移动后有 {len(stranded)} 家企业的网格将不在其所属辖区内，请先调整这些企业的所属辖区或网格")


def create_jurisdiction(session: Session, actor: Actor, data: dict[str, Any]) -> Jurisdiction:
    """Create a node under ``data['parent_id']``; its level must be below the parent's."""
    require(actor, "jurisdiction.manage")
    node = Jurisdiction(**{k: data.get(k) for k in _FIELDS})
    errors: dict[str, list[str]] = {}
    with session.no_autoflush:
        parent = _check_placement(session, node, errors)
        _check_code(session, node, errors)
    if errors:
        raise ValidationFailed(errors)
    session.add(node)
    session.flush()  # the id is part of the path
    node.path = (parent.path if parent else "/") + f"{node.id}/"
    session.flush()
    audit.record(session, actor, "create", "jurisdiction", node.id, summary=f"新增辖区 {node.name}",
                 after=audit.snapshot(node, _FIELDS + ["path"]))
    return node


def update_jurisdiction(session: Session, actor: Actor, node_id: int, data: dict[str, Any]) -> Jurisdiction:
    """Rename, recode or move a node. A move rewrites the paths of its subtree and of the enterprises in it
    (行政区划调整), in two set-based UPDATEs."""
    require(actor, "jurisdiction.manage")
    node = get_jurisdiction(session, actor, node_id)
    check_version(node, data.get("version"), "该辖区")
    before = audit.snapshot(node, _FIELDS + ["path"])
    errors: dict[str, list[str]] = {}
    with session.no_autoflush:
        for key in _FIELDS:
            if key in data:
                setattr(node, key, data[key])
        parent = _check_placement(session, node, errors)
        _check_code(session, node, errors)
        _check_children(session, node, errors)
        _check_enterprise_refs(session, node, parent, errors)
        if errors:
            session.expire(node)
            raise ValidationFailed(errors)
    old_path = node.path
    new_path = (parent.path if parent else "/") + f"{node.id}/"
    session.flush()
    if new_path != old_path:
        tail = func.substr(Jurisdiction.path, len(old_path) + 1)
        session.execute(update(Jurisdiction).where(Jurisdiction.path.like(old_path + "%"))
                        .values(path=new_path + tail), execution_options={"synchronize_session": False})
        session.execute(update(Enterprise).where(Enterprise.scope_path.like(old_path + "%"))
                        .values(scope_path=new_path + func.substr(Enterprise.scope_path, len(old_path) + 1)),
                        execution_options={"synchronize_session": False})
        session.expire_all()
    node = session.get(Jurisdiction, node_id)
    b, a = audit.diff(before, audit.snapshot(node, _FIELDS + ["path"]))
    if a:
        audit.record(session, actor, "update", "jurisdiction", node_id, summary=f"修改辖区 {node.name}",
                     before=b, after=a)
    return session.get(Jurisdiction, node_id)


def delete_jurisdiction(session: Session, actor: Actor, node_id: int, version: int | None) -> None:
    """Delete a leaf that nothing refers to; anything else is refused (409) so that no data is orphaned."""
    require(actor, "jurisdiction.manage")
    node = get_jurisdiction(session, actor, node_id)
    check_version(node, version, "该辖区")
    in_use = [
        ("下级辖区", select(func.count()).where(Jurisdiction.parent_id == node.id)),
        ("企业", select(func.count()).where((Enterprise.jurisdiction_id == node.id) | (Enterprise.grid_id == node.id))),
        ("用户", select(func.count()).where(User.jurisdiction_id == node.id)),
        ("执法机关", select(func.count()).where(Agency.jurisdiction_id == node.id)),
    ]
    used = [f"{n} 个{label}" for label, stmt in in_use if (n := session.scalar(stmt))]
    if used:
        raise Conflict(f"辖区“{node.name}”仍有{'、'.join(used)}，不能删除")
    audit.record(session, actor, "delete", "jurisdiction", node.id, summary=f"删除辖区 {node.name}",
                 before=audit.snapshot(node, _FIELDS + ["path"]))
    session.delete(node)
    session.flush()


# --- agencies ---------------------------------------------------------------------------------------------

_AGENCY_FIELDS = ["name", "short_name", "jurisdiction_id", "parent_id", "people_government", "court"]


def list_agencies(session: Session, actor: Actor) -> list[Agency]:
    """Agencies whose jurisdiction lies in the actor's scope."""
    require(actor, "jurisdiction.view")
    return list(session.scalars(
        select(Agency).join(Agency.jurisdiction).where(jurisdiction_clause(actor)).order_by(Jurisdiction.path, Agency.id)
    ))


def save_agency(session: Session, actor: Actor, data: dict[str, Any], agency_id: int | None = None) -> Agency:
    """Create (``agency_id`` None) or update an agency."""
    require(actor, "agency.manage")
    if agency_id is None:
        agency, before = Agency(), None
    else:
        agency = session.get(Agency, agency_id)
        if agency is None:
            raise NotFound()
        check_version(agency, data.get("version"), "该执法机关")
        before = audit.snapshot(agency, _AGENCY_FIELDS)
    errors: dict[str, list[str]] = {}
    with session.no_autoflush:
        for key in _AGENCY_FIELDS:
            if key in data:
                setattr(agency, key, data[key])
        if session.get(Jurisdiction, agency.jurisdiction_id) is None:
            errors["jurisdiction_id"] = ["管辖辖区不存在"]
        clash = session.scalar(select(Agency.id).where(Agency.name == agency.name, Agency.id != agency.id))
        if clash is not None:
            errors["name"] = ["已有同名执法机关"]
        # What its documents would print (复议机关, court): a wrong value is refused here; an empty one is allowed
        # while an agency is being set up, and then listed by `anjian documents check-agencies`.
        for key, messages in agency_problems(agency.people_government, agency.court).items():
            if getattr(agency, key):
                errors[key] = messages
    if errors:
        if agency_id is not None:
            session.expire(agency)
        raise ValidationFailed(errors)
    session.add(agency)
    session.flush()
    audit.record(session, actor, "create" if before is None else "update", "agency", agency.id,
                 summary=f"{'新增' if before is None else '修改'}执法机关 {agency.name}",
                 before=before, after=audit.snapshot(agency, _AGENCY_FIELDS))
    return agency
