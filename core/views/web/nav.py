"""The main menu, assembled from entries that page modules register when they are imported.

A module adds its pages with :func:`add`; ``base.html`` shows the entries the user may see (:func:`menu`), in
``order``, gathered under their group (a drop-down on wide screens, a heading in the phone menu). Keeping the
menu as data lets features (and plugin blueprints) add pages without editing the layout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    #: Permission name (core.services.permissions) the user needs to see the entry; None: every user.
    permission: str | None
    order: int
    #: "all", "government" (users without an enterprise) or "enterprise" (enterprise users only).
    audience: str = "all"
    #: Key of :data:`GROUPS` the entry is shown under; None: a top-level entry.
    group: str | None = None


#: Menu groups: key → (label, order). A group the user sees one entry of is shown as that entry alone.
GROUPS: dict[str, tuple[str, int]] = {
    "hazards": ("隐患治理", 20),
    "risks": ("双重预防", 30),
    "inspections": ("检查", 40),
    "standardization": ("标准化", 50),
    "admin": ("系统管理", 80),
}


@dataclass
class MenuGroup:
    label: str
    items: list[NavItem] = field(default_factory=list)


ITEMS: list[NavItem] = []


def add(endpoint: str, label: str, permission: str | None, order: int, audience: str = "all",
        group: str | None = None) -> None:
    if group is not None and group not in GROUPS:
        raise ValueError(f"unknown menu group {group!r}")
    if not any(i.endpoint == endpoint for i in ITEMS):
        ITEMS.append(NavItem(endpoint, label, permission, order, audience, group))
        ITEMS.sort(key=lambda i: i.order)


def menu(can: Callable[[str], bool], is_enterprise_user: bool) -> list[NavItem | MenuGroup]:
    """The entries a user sees, in order: top-level items and groups (by the group's order)."""
    def visible(item: NavItem) -> bool:
        return ((item.permission is None or can(item.permission))
                and (item.audience == "all" or (item.audience == "enterprise") == is_enterprise_user))

    entries: list[tuple[int, Any]] = []
    groups: dict[str, MenuGroup] = {}
    for item in filter(visible, ITEMS):
        if item.group is None:
            entries.append((item.order, item))
            continue
        if item.group not in groups:
            label, order = GROUPS[item.group]
            groups[item.group] = MenuGroup(label)
            entries.append((order, groups[item.group]))
        groups[item.group].items.append(item)
    out: list[NavItem | MenuGroup] = []
    for _, entry in sorted(entries, key=lambda e: e[0]):
        out.append(entry.items[0] if isinstance(entry, MenuGroup) and len(entry.items) == 1 else entry)
    return out
