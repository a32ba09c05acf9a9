"""Data scope (R-A4): every query a service runs for an actor is filtered through here.

* admin and :data:`SYSTEM`: everything;
* enterprise users: their own enterprise;
* government users (regulator, inspector, grid worker): the subtree of their jurisdiction node (a grid worker's
  node is a grid cell, so they see that cell only);
* anyone else (no enterprise, no jurisdiction): nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, true

from core.models import Enterprise, Jurisdiction, Role
from core.services.actors import Actor
from core.services.errors import NotFound


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    #: Materialised path prefix of the actor's jurisdiction node (``/1/4/``).
    path_prefix: str | None = None
    enterprise_id: int | None = None

    def covers_path(self, path: str) -> bool:
        if self.everything:
            return True
        return self.path_prefix is not None and path.startswith(self.path_prefix)


def scope_of(actor: Actor) -> Scope:
    if actor.has_role(Role.ADMIN):
        return Scope(everything=True)
    if actor.has_role(Role.ENTERPRISE_MANAGER, Role.ENTERPRISE_PRINCIPAL) and actor.enterprise_id:
        return Scope(enterprise_id=actor.enterprise_id)
    if actor.jurisdiction is not None:
        return Scope(path_prefix=actor.jurisdiction.path)
    return Scope()


def path_clause(column, scope: Scope) -> ColumnElement[bool]:
    """SQL for "``column`` (a materialised path) lies in the scope's subtree"."""
    if scope.everything:
        return true()
    if scope.path_prefix is None:
        return false()
    # The prefix is made of digits and slashes only, so it needs no LIKE escaping.
    return column.like(scope.path_prefix + "%")


def enterprise_clause(actor: Actor) -> ColumnElement[bool]:
    """Filter for :class:`Enterprise` rows the actor may see."""
    scope = scope_of(actor)
    if scope.enterprise_id is not None:
        return Enterprise.id == scope.enterprise_id
    return path_clause(Enterprise.scope_path, scope)


def jurisdiction_clause(actor: Actor) -> ColumnElement[bool]:
    """Filter for :class:`Jurisdiction` nodes the actor may see: their subtree (enterprise users: none)."""
    scope = scope_of(actor)
    if scope.enterprise_id is not None:
        return false()
    return path_clause(Jurisdiction.path, scope)


def ensure_enterprise_visible(actor: Actor, enterprise: Enterprise | None) -> Enterprise:
    """Return ``enterprise`` if the actor may see it, else raise :class:`NotFound` (never 403: no leak)."""
    if enterprise is None:
        raise NotFound()
    scope = scope_of(actor)
    if scope.enterprise_id is not None:
        if enterprise.id != scope.enterprise_id:
            raise NotFound()
    elif not scope.covers_path(enterprise.scope_path):
        raise NotFound()
    return enterprise


def ensure_jurisdiction_visible(actor: Actor, node: Jurisdiction | None) -> Jurisdiction:
    if node is None or scope_of(actor).enterprise_id is not None or not scope_of(actor).covers_path(node.path):
        raise NotFound()
    return node
