"""The main menu, assembled from entries that page modules register when they are imported.

A module adds its pages with :func:`add`; ``base.html`` shows the entries whose permission the user holds, in
``order``. Keeping the menu as data lets features (and plugin blueprints) add pages without editing the layout.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    #: Permission name (core.services.permissions) the user needs to see the entry; None: every user.
    permission: str | None
    order: int
    #: "all", "government" (users without an enterprise) or "enterprise" (enterprise users only).
    audience: str = "all"


ITEMS: list[NavItem] = []


def add(endpoint: str, label: str, permission: str | None, order: int, audience: str = "all") -> None:
    if not any(i.endpoint == endpoint for i in ITEMS):
        ITEMS.append(NavItem(endpoint, label, permission, order, audience))
        ITEMS.sort(key=lambda i: i.order)
