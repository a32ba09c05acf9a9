"""Who acts: a logged-in :class:`~core.models.User`, or :data:`SYSTEM` for CLI jobs and migrations."""

from __future__ import annotations

from typing import Union

from core.models import Role, User


class SystemActor:
    """The platform itself (seed, import from the CLI, scheduled reminders). Has every right; audit shows it
    as ``system``. Views never pass it: only CLI commands and tests do."""

    id = None
    username = "system"
    display_name = "系统"
    roles = frozenset({Role.ADMIN})
    enterprise_id = None
    jurisdiction_id = None
    jurisdiction = None
    agency_id = None

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))


SYSTEM = SystemActor()
Actor = Union[User, SystemActor]
